"""Detected landmarks against reference landmarks: per-landmark distance (mm) and, for axes, angle (degrees);
and a label mask coarsened to another voxel size, to measure how landmarks move with resolution."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import ndimage

from ..imaging.volume import Volume

from .model import LandmarkSet

# Landmarks that are axes: a point on the line plus extras["direction"]; their point is not anatomical.
AXIS_PREFIXES = ("femoral_neck_axis_", "femoral_shaft_axis_")


@dataclass(frozen=True)
class Comparison:
    name: str
    status: str  # "both", "both missing", "missed" (truth present), "invented" (truth missing)
    error_mm: float | None = None
    angle_deg: float | None = None


def compare(detected: LandmarkSet, reference: LandmarkSet) -> list[Comparison]:
    """One entry per landmark named in either set. For axes, ``error_mm`` is the distance from the reference
    point to the detected line and ``angle_deg`` the angle between the lines; for an acetabulum, ``angle_deg`` is
    the angle between the openings (rim normals) when both have one."""
    rows = []
    for name in sorted(set(detected.landmarks) | set(reference.landmarks)):
        found, truth = name in detected, name in reference
        if not found or not truth:
            status = "both missing" if not found and not truth else ("missed" if truth else "invented")
            rows.append(Comparison(name, status))
            continue
        rows.append(_measured(name, detected, reference))
    return rows


def _measured(name: str, detected: LandmarkSet, reference: LandmarkSet) -> Comparison:
    point, true_point = detected.position(name), reference.position(name)
    found, truth = detected.landmarks[name].extras, reference.landmarks[name].extras
    if not name.startswith(AXIS_PREFIXES):
        # An acetabulum's opening (rim normal) is compared too, when both measured one.
        opening = _angle_deg(found["rim_normal"], truth["rim_normal"], signed=True) \
            if "rim_normal" in found and "rim_normal" in truth else None
        return Comparison(name, "both", float(np.linalg.norm(point - true_point)), opening)
    direction = np.asarray(found["direction"], dtype=float)
    offset = true_point - point
    distance = float(np.linalg.norm(offset - (offset @ direction) * direction))
    return Comparison(name, "both", distance, _angle_deg(direction, truth["direction"], signed=False))


def _angle_deg(a, b, signed: bool) -> float:
    """Angle between two unit vectors; unsigned: between the lines they span (an axis has no sense)."""
    cosine = float(np.asarray(a, dtype=float) @ np.asarray(b, dtype=float))
    return float(np.degrees(np.arccos(np.clip(cosine if signed else abs(cosine), -1.0, 1.0))))


def coarsened(mask: Volume, spacing_mm: float) -> Volume:
    """``mask`` resampled to ``spacing_mm`` voxels (area-weighted: Gaussian pre-filter, voxel-centre sampling, 0.5 threshold)."""
    factor = spacing_mm / np.array(mask.spacing[::-1])
    field = ndimage.gaussian_filter((mask.array > 0).astype(np.float32), factor / 2.5)
    shape = np.floor(np.array(mask.array.shape) / factor).astype(int)
    centres = np.meshgrid(*[np.arange(n) * f + (f - 1) / 2 for n, f in zip(shape, factor)], indexing="ij")
    array = ndimage.map_coordinates(field, [c.ravel() for c in centres], order=1) > 0.5
    origin = mask.ijk_to_frame()[:3, :3] @ ((factor[::-1] - 1) / 2) + np.asarray(mask.origin)
    return replace(mask, array=array.reshape(shape).astype(np.uint16), spacing=(spacing_mm,) * 3, origin=tuple(origin))
