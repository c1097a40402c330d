"""A synthetic lumbar column (L1-L5, plus unlabelled T11-T12) stacked on a real sacrum.

No lumbar vertebra meshes exist in the shared data; there are two expert-corrected single-vertebra
masks (VerSe subject verse004: L4 and L5). Each level is one of those two shapes, scaled to
textbook proportions (upper levels slightly smaller), randomly mirrored and jittered, and placed
along a lordotic curve starting at the S1 endplate of the subject's sacrum. The model therefore
learns L1-L5 from two real vertebra shapes: that limit is stated in the manifest.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nibabel
import numpy as np
from scipy import ndimage

VERSE_MASKS = {
    "L4": "sub-verse004_vert-23-seg-vert_msk.nii.gz",
    "L5": "sub-verse004_vert-24-seg-vert_msk.nii.gz",
}
# Relative size per level (cranial levels are smaller); T11/T12 are context, never labelled.
LEVEL_SCALE = {"L5": 1.0, "L4": 1.0, "L3": 0.97, "L2": 0.94, "L1": 0.91, "T12": 0.87, "T11": 0.83}
LEVELS_UPWARD = ("L5", "L4", "L3", "L2", "L1", "T12", "T11")
BODY_DEPTH_MM = 35.0  # anterior part of a vertebra mask taken as the vertebral body


@dataclass(frozen=True)
class VertebraShape:
    mask: np.ndarray  # [z, y, x] RAS-aligned, isotropic
    spacing_mm: float

    def body_bottom(self) -> np.ndarray:
        """(x, y, z) index of the inferior endplate centre of the vertebral body."""
        zyx = np.argwhere(self.mask)
        anterior = zyx[zyx[:, 1] >= zyx[:, 1].max() - BODY_DEPTH_MM / self.spacing_mm]
        bottom = anterior[anterior[:, 0] <= anterior[:, 0].min() + 2]
        return bottom.mean(axis=0)[::-1]


def load_vertebra_shapes(masks_dir: Path, spacing_mm: float) -> dict[str, VertebraShape]:
    """The VerSe masks reoriented to RAS and resampled to isotropic ``spacing_mm``."""
    shapes = {}
    for level, file_name in VERSE_MASKS.items():
        image = nibabel.as_closest_canonical(nibabel.load(str(masks_dir / file_name)))
        xyz = np.asarray(image.dataobj) > 0.5
        zoom = np.asarray(image.header.get_zooms()[:3], dtype=float) / spacing_mm
        resampled = ndimage.zoom(xyz.astype(np.float32), zoom, order=1) > 0.5
        shapes[level] = VertebraShape(np.ascontiguousarray(resampled.transpose(2, 1, 0)), spacing_mm)
    return shapes


def s1_endplate(sacrum: np.ndarray, spacing_mm: float) -> np.ndarray:
    """(x, y, z) index of the S1 endplate centre: the top of the sacrum's anterior (body) part, near the midline.

    The superior articular processes reach higher than the endplate but lie posteriorly, hence the
    anterior restriction.
    """
    zyx = np.argwhere(sacrum)
    mid_x = np.median(zyx[:, 2])
    central = zyx[np.abs(zyx[:, 2] - mid_x) <= 15.0 / spacing_mm]
    upper = central[central[:, 0] >= np.percentile(central[:, 0], 75)]
    body = upper[upper[:, 1] >= upper[:, 1].max() - 25.0 / spacing_mm]
    top = body[body[:, 0] >= body[:, 0].max() - 2]
    return top.mean(axis=0)[::-1]


def add_lumbar_column(
    labels: np.ndarray,
    sacrum_value: int,
    level_values: dict[str, int],
    shapes: dict[str, VertebraShape],
    rng: np.random.Generator,
) -> None:
    """Paint L5..T11 into ``labels`` ([z, y, x], same spacing as ``shapes``) above the sacrum, in place.

    ``level_values`` maps a level ("L1".."L5", "T12", "T11") to the value painted for it.
    """
    spacing = next(iter(shapes.values())).spacing_mm
    # The endplate slopes ~40 degrees: its centre lies ~12 mm anterior and ~10 mm below its top edge.
    anchor = s1_endplate(labels == sacrum_value, spacing) + (np.array([0.0, 12.0, -10.0]) + rng.normal(0.0, 4.0, 3)) / spacing
    # The VerSe masks keep their natural lordotic tilt, so only small extra tilts are added.
    tilt = np.deg2rad(rng.uniform(-5.0, 8.0))
    size = rng.uniform(0.9, 1.12)
    for index, level in enumerate(LEVELS_UPWARD):
        shape = shapes["L5" if level == "L5" or rng.random() < 0.3 else "L4"]
        scale = size * LEVEL_SCALE[level] * rng.uniform(0.96, 1.04)
        axis = np.array([0.0, np.sin(tilt), np.cos(tilt)])  # (x, y, z) up the column
        # Lumbar segment = body (~27 mm) + disc (~9 mm); the first step clears the L5/S1 disc only.
        step_mm = rng.uniform(7.0, 11.0) if index == 0 else rng.uniform(32.0, 38.0) * scale
        anchor = anchor + axis * step_mm / spacing
        mask = shape.mask[:, :, ::-1] if rng.random() < 0.5 else shape.mask
        _paint(labels, mask, shape.body_bottom(), anchor, scale, tilt, level_values[level])
        tilt += np.deg2rad(rng.uniform(-3.0, 3.0))


def _paint(labels: np.ndarray, mask: np.ndarray, bottom_xyz: np.ndarray, anchor_xyz: np.ndarray, scale: float,
           tilt: float, value: int) -> None:
    """Scale ``mask`` about its body bottom, tilt it about x, move that point to ``anchor``, paint."""
    cos_t, sin_t = np.cos(tilt), np.sin(tilt)
    # (z, y, x) index order: "up" (1, 0, 0) turns towards anterior (+y) by ``tilt``.
    forward = np.array([[cos_t, -sin_t, 0.0], [sin_t, cos_t, 0.0], [0.0, 0.0, 1.0]]) * scale
    bottom_zyx, anchor_zyx = np.asarray(bottom_xyz)[::-1], np.asarray(anchor_xyz)[::-1]
    corners = np.array([[a, b, c] for a in (0, mask.shape[0]) for b in (0, mask.shape[1]) for c in (0, mask.shape[2])])
    placed = (corners - bottom_zyx) @ forward.T + anchor_zyx
    low = np.maximum(np.floor(placed.min(axis=0)).astype(int), 0)
    high = np.minimum(np.ceil(placed.max(axis=0)).astype(int) + 1, labels.shape)
    if np.any(high <= low):
        return
    inverse = np.linalg.inv(forward)
    offset = bottom_zyx - inverse @ (anchor_zyx - low)
    warped = ndimage.affine_transform(mask.astype(np.float32), inverse, offset=offset, output_shape=tuple(high - low), order=1)
    region = labels[low[0]:high[0], low[1]:high[1], low[2]:high[2]]
    # Never paint over bone already there (sacrum, the level below): facets interlock, they do not overlap.
    region[(warped > 0.5) & (region == 0)] = value
