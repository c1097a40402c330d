"""Position rules shared by the model path and the classical fallback (canonical RAS grid, [z, y, x]).

- Sides: the patient's left is RAS x below the midline; the midline is the median x of sacrum and
  vertebra voxels, or x = 0 (the scanner isocentre, near the body midline on most scans) without them.
- Lumbar levels: the column is cut at intervertebral discs (minima of vertebral-body area along z)
  and counted L5, L4, ... L1 upwards from the sacrum; levels above L1 (T12, T11) are left unlabelled.
  Each vertebra's posterior elements go with the body they are joined to through bone without turning
  cranially (an arch hangs from its pedicles).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from scipy import ndimage, signal

from .labels import BY_NAME

log = logging.getLogger(__name__)
FLOOD_STEP_HU = 50.0  # the levels of flood_by_intensity: finer than a joint space's dip below its cortices
VERTEBRA_PITCH_MM = 35.0  # lumbar body (~27 mm) + disc (~9 mm)
LUMBAR_VALUES = tuple(BY_NAME[f"vertebrae_L{i}"].value for i in range(1, 6))
ABOVE_L1 = 255  # T12 and up while the levels grow; not a project label, cleared afterwards

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
    front = _body_front(column)
    area = ndimage.gaussian_filter1d(column[:, front:, :].sum(axis=(1, 2)).astype(float), 1.0)
    minima, _ = signal.find_peaks(-area, distance=max(1, int(0.6 * VERTEBRA_PITCH_MM / spacing_mm)))
    return [int(m) for m in minima]


def _body_front(column: np.ndarray) -> int:
    """First y index of the column's anterior half, where the vertebral bodies are."""
    ys = np.nonzero(column)[1]
    return int(np.median(ys)) if len(ys) else 0


def label_lumbar_levels(
    labels: np.ndarray, column: np.ndarray, z_mm: np.ndarray, s1_top: float, spacing_mm: float,
    rivals: tuple[int, ...] = (), above_disc: Callable[[float], np.ndarray] | None = None,
) -> None:
    """L5, L4, ... L1 upwards from ``s1_top`` (mm), in place.

    The bodies are cut at the discs (or one pitch apart where a disc is not seen). The posterior elements
    hang lower than their body (a spinous process reaches the next body's level), so an axial cut would give
    them to the vertebra below: instead they go to the body they are joined to through bone, by growing the
    bodies through the rest of ``column`` along paths that never turn cranially. Pedicle, lamina, spinous and
    inferior articular processes all lie level with or below their own pedicles; the vertebra below reaches
    them only upwards, through its superior articular process and the facet joint, which touch at 3 mm
    (unrestricted growth gave each level's lower arch to the level below: on the sample 126-225 voxels per
    level). ``rivals`` are label values already in ``labels`` that compete, unrestricted, for the column's
    voxels (the classical fallback's hip bones and sacrum beside L5). ``column`` starts above S1. ``above_disc``
    maps a disc's height (mm) to where the grid lies above that disc (the classical fallback's tilted disc planes);
    by default the cut is axial.
    """
    discs = [z_mm[d] for d in disc_slices(column, spacing_mm) if z_mm[d] > s1_top + 0.5 * VERTEBRA_PITCH_MM]
    bounds = [s1_top] + discs
    z = z_mm[:, None, None]
    bodies = column.copy()
    bodies[:, : _body_front(column), :] = False
    lower_bounds = [np.ones_like(column)] + [_above_bound(bounds, index, z, above_disc) for index in range(1, 6)]
    for level in range(5, 0, -1):
        labels[bodies & lower_bounds[5 - level] & ~lower_bounds[6 - level]] = BY_NAME[f"vertebrae_L{level}"].value
    labels[bodies & lower_bounds[5]] = ABOVE_L1
    region = column & ~bodies
    competing = (*LUMBAR_VALUES, ABOVE_L1, *rivals)
    grow_into(labels, region, np.isin(labels, competing) & ~region, caudal_only=(*LUMBAR_VALUES, ABOVE_L1))
    unreached = region & (labels == 0)  # bone that hangs from no body, e.g. above the top body in view
    grow_into(labels, unreached, np.isin(labels, competing) & ~unreached)
    labels[labels == ABOVE_L1] = 0


def _above_bound(bounds: list[float], index: int, z: np.ndarray,
                 above_disc: Callable[[float], np.ndarray] | None) -> np.ndarray:
    """Where the grid lies above the lower bound of the index-th level above the sacrum: a seen disc (through
    ``above_disc`` when given), or one pitch above the last one seen."""
    if index < len(bounds):
        return above_disc(bounds[index]) if above_disc is not None else z > bounds[index]
    return z > bounds[-1] + (index - len(bounds) + 1) * VERTEBRA_PITCH_MM


def grow_into(labels: np.ndarray, region: np.ndarray, seeds: np.ndarray, caudal_only: tuple[int, ...] = ()) -> None:
    """Grow the labels at ``seeds`` through ``region`` one face-neighbour step at a time, in place.

    Each voxel of ``region`` takes the label that reaches it first through ``region`` (a geodesic nearest
    seed); where two arrive in the same step the higher value wins. Voxels no seed reaches become 0.
    Labels in ``caudal_only`` step sideways and down (to a lower z index: [z, y, x] with z superior), never up.
    """
    box = ndimage.find_objects(region.astype(np.uint8))
    if not box:
        return
    box = tuple(slice(max(s.start - 1, 0), s.stop + 1) for s in box[0])
    labels_box, frontier = labels[box], region[box].copy()
    labels_box[frontier] = 0
    growing = np.where(seeds[box], labels_box, 0).astype(labels.dtype)
    footprint = ndimage.generate_binary_structure(3, 1)
    downwards = footprint.copy()
    downwards[2, 1, 1] = False  # a voxel is not reached from the one below it
    while True:
        if caudal_only:
            restricted = np.isin(growing, caudal_only)
            reached = np.maximum(ndimage.grey_dilation(np.where(restricted, 0, growing), footprint=footprint),
                                 ndimage.grey_dilation(np.where(restricted, growing, 0), footprint=downwards))
        else:
            reached = ndimage.grey_dilation(growing, footprint=footprint)
        reached *= frontier
        new = reached > 0
        if not new.any():
            break
        growing[new] = reached[new]
        labels_box[new] = reached[new]
        frontier &= ~new


def flood_by_intensity(labels: np.ndarray, region: np.ndarray, intensity: np.ndarray,
                       step: float = FLOOD_STEP_HU) -> None:
    """Grow the labels already in ``labels`` through ``region``, brightest voxels first, in place.

    Level by level (``step`` apart, from the brightest voxel of ``region`` down), each label grows through the
    region's voxels at least that bright (``grow_into``); the rest then take the nearest label. Two bones fused
    across a thin dark joint space meet in it: each reaches its own cortex through bright bone before either
    crosses the gap, which is the last to be flooded (a watershed by levels).
    """
    values = intensity[region]
    if not values.size:
        return
    for level in np.arange(values.max(), values.min() - step, -step):
        grow_into(labels, region & (labels == 0) & (intensity >= level), labels > 0)
    grow_into(labels, region & (labels == 0), labels > 0)


def reflood(labels: np.ndarray, region: np.ndarray, seeds: np.ndarray, intensity: np.ndarray) -> None:
    """Name ``region`` of ``labels`` again, in place, by flooding from ``seeds`` (seed values, 0 elsewhere; grown
    in place) brightest first (flood_by_intensity); the region's voxels no seed reaches keep their labels."""
    flood_by_intensity(seeds, region, intensity)
    reached = region & (seeds > 0)
    labels[reached] = seeds[reached]
