"""Clean-up of a bone label map on the canonical RAS grid: one piece per bone, no holes, sides checked.

Works label by label inside each bone's bounding box, so memory stays near one uint8 copy of the grid.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy import ndimage

from .labels import BY_NAME, BY_VALUE

log = logging.getLogger(__name__)
LONG_BONE_VALUES = {bone.value for bone in BY_VALUE.values() if bone.name.startswith(("femur", "tibia", "fibula"))}


def postprocess(labels: np.ndarray, x_mm: np.ndarray, midline_x_mm: float | None = None,
                sides_by_position: bool = True) -> np.ndarray:
    """``labels`` [z, y, x] (canonical RAS grid), ``x_mm`` the RAS x of each x index. Returns a cleaned copy.

    ``sides_by_position=False`` skips the left/right check against the midline: for a single limb, whose side
    came from its anatomy (the fibula), a midline means nothing.
    """
    cleaned = np.zeros_like(labels)
    boxes = ndimage.find_objects(labels)
    for value, box in enumerate(boxes, start=1):
        if box is None or value not in BY_VALUE:
            continue
        mask = _largest_component(labels[box] == value)
        mask = ndimage.binary_fill_holes(mask)
        if value in LONG_BONE_VALUES:
            mask = fill_axial_sections(mask)
        region = cleaned[box]
        region[mask & (region == 0)] = value
    return check_sides(cleaned, x_mm, midline_x_mm) if sides_by_position else cleaned


def fill_axial_sections(mask: np.ndarray) -> np.ndarray:
    """``mask`` [z, y, x] with the holes of each axial section filled: a long bone's section is solid (cortex
    around marrow) even where the marrow opens to the field of view's edge and so is no cavity in 3D."""
    return np.stack([ndimage.binary_fill_holes(section) for section in mask])


def _largest_component(mask: np.ndarray) -> np.ndarray:
    components, count = ndimage.label(mask)
    if count <= 1:
        return mask
    sizes = np.bincount(components.ravel())
    sizes[0] = 0
    return components == int(np.argmax(sizes))


def estimate_midline(labels: np.ndarray, x_mm: np.ndarray) -> float | None:
    """RAS x of the midline: median x of sacrum and lumbar voxels, else halfway between paired bones."""
    midline_values = [BY_NAME[name].value for name in ("sacrum", *(f"vertebrae_L{i}" for i in range(1, 6)))]
    xs = np.nonzero(np.isin(labels, midline_values))[2]
    if len(xs):
        return float(np.median(x_mm[xs]))
    centres = []
    for bone in BY_VALUE.values():
        if bone.side:
            xs = np.nonzero(labels == bone.value)[2]
            if len(xs):
                centres.append(float(x_mm[xs].mean()))
    return float(np.mean([min(centres), max(centres)])) if len(centres) >= 2 else None


def check_sides(labels: np.ndarray, x_mm: np.ndarray, midline_x_mm: float | None = None) -> np.ndarray:
    """Swap a left/right pair whose centroids lie on the wrong sides (patient left is RAS x < midline)."""
    midline = midline_x_mm if midline_x_mm is not None else estimate_midline(labels, x_mm)
    if midline is None:
        return labels
    for bone in BY_VALUE.values():
        if bone.side != "left":
            continue
        right = BY_NAME[bone.mirror_name]
        left_x, right_x = _centroid_x(labels, bone.value, x_mm), _centroid_x(labels, right.value, x_mm)
        left_wrong = left_x is not None and left_x > midline
        right_wrong = right_x is not None and right_x < midline
        if left_wrong and (right_wrong or right_x is None):
            log.warning("%s and %s were on the wrong sides of the midline (x = %.1f mm): swapped", bone.name, right.name, midline)
            left_mask, right_mask = labels == bone.value, labels == right.value
            labels[left_mask], labels[right_mask] = right.value, bone.value
        elif right_wrong and left_x is None:
            log.warning("%s lay left of the midline (x = %.1f mm): relabelled %s", right.name, midline, bone.name)
            labels[labels == right.value] = bone.value
    return labels


def _centroid_x(labels: np.ndarray, value: int, x_mm: np.ndarray) -> float | None:
    xs = np.nonzero(labels == value)[2]
    return float(x_mm[xs].mean()) if len(xs) else None
