"""Position rules shared by the model path and the classical fallback (canonical RAS grid, [z, y, x]).

- Sides: the patient's left is RAS x below the midline; the midline is the median x of sacrum and
  vertebra voxels, or x = 0 (the scanner isocentre, near the body midline on most scans) without them.
- Lumbar levels: the column is cut at intervertebral discs (minima of vertebral-body area along z)
  and counted L5, L4, ... L1 upwards from the sacrum; levels above L1 (T12, T11) are left unlabelled.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy import ndimage, signal

from .labels import BY_NAME

log = logging.getLogger(__name__)
VERTEBRA_PITCH_MM = 35.0  # lumbar body (~27 mm) + disc (~9 mm)

# Bone types a type-level model outputs (channel = index + 1); sides and levels come from the rules here.
BONE_TYPES = ("hip", "sacrum", "femur", "vertebra", "tibia", "fibula", "patella")
TYPE_OF_NAME = {"sacrum": "sacrum", **{f"vertebrae_L{i}": "vertebra" for i in range(1, 6)},
                **{f"{t}_{side}": t for t in ("hip", "femur", "tibia", "fibula", "patella") for side in ("left", "right")}}


def type_lookup() -> np.ndarray:
    """uint8 table: project label value -> bone-type channel (0 for anything else)."""
    lookup = np.zeros(256, np.uint8)
    for name, bone_type in TYPE_OF_NAME.items():
        lookup[BY_NAME[name].value] = BONE_TYPES.index(bone_type) + 1
    return lookup


def midline_x(types: np.ndarray, x_mm: np.ndarray) -> float:
    central = np.isin(types, [BONE_TYPES.index("sacrum") + 1, BONE_TYPES.index("vertebra") + 1])
    xs = np.nonzero(central)[2]
    if len(xs):
        return float(np.median(x_mm[xs]))
    log.info("no sacrum or vertebra in view: taking the scanner isocentre (x = 0 mm) as the midline")
    return 0.0


def assign_sides_and_levels(types: np.ndarray, x_mm: np.ndarray, z_mm: np.ndarray, spacing_mm: float) -> np.ndarray:
    """Project labels from a bone-type map: paired bones split at the midline, vertebrae into L5..L1."""
    labels = np.zeros(types.shape, np.uint8)
    midline = midline_x(types, x_mm)
    left_of_midline = (x_mm < midline)[None, None, :]
    for index, bone_type in enumerate(BONE_TYPES, start=1):
        mask = types == index
        if bone_type == "sacrum":
            labels[mask] = BY_NAME["sacrum"].value
        elif bone_type != "vertebra":
            labels[mask & left_of_midline] = BY_NAME[f"{bone_type}_left"].value
            labels[mask & ~left_of_midline] = BY_NAME[f"{bone_type}_right"].value
    column = types == BONE_TYPES.index("vertebra") + 1
    if column.any():
        start = float(z_mm[np.nonzero(column.any(axis=(1, 2)))[0].min()]) - 1.0
        label_lumbar_levels(labels, column, z_mm, start, spacing_mm)
    return labels


def disc_slices(column: np.ndarray, spacing_mm: float) -> list[int]:
    """Slice indices of intervertebral discs: minima of the column's anterior (body) bone area."""
    ys = np.nonzero(column)[1]
    front = int(np.median(ys)) if len(ys) else 0
    area = ndimage.gaussian_filter1d(column[:, front:, :].sum(axis=(1, 2)).astype(float), 1.0)
    minima, _ = signal.find_peaks(-area, distance=max(1, int(0.6 * VERTEBRA_PITCH_MM / spacing_mm)))
    return [int(m) for m in minima]


def label_lumbar_levels(labels: np.ndarray, column: np.ndarray, z_mm: np.ndarray, s1_top: float, spacing_mm: float) -> None:
    """L5, L4, ... L1 upwards from ``s1_top`` (mm), each from one disc to the next (or one pitch), in place."""
    discs = [z_mm[d] for d in disc_slices(column, spacing_mm) if z_mm[d] > s1_top + 0.5 * VERTEBRA_PITCH_MM]
    bounds = [s1_top] + discs
    z = z_mm[:, None, None]
    for level in range(5, 0, -1):
        index = 5 - level
        low = bounds[index] if index < len(bounds) else bounds[-1] + (index - len(bounds) + 1) * VERTEBRA_PITCH_MM
        high = bounds[index + 1] if index + 1 < len(bounds) else low + VERTEBRA_PITCH_MM
        labels[column & (z > low) & (z <= high)] = BY_NAME[f"vertebrae_L{level}"].value
