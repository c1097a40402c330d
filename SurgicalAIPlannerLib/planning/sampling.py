"""Reading image values at RAS points, for live metrics: bone under the cup, width of the femoral canal.

Both are sampled once per node change, so they use precomputed RAS->voxel matrices and plain NumPy indexing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..imaging.volume import Volume
from .frames import FemoralFrame

CORTEX_HU = 600.0  # endosteal boundary: first sample at or above this on the way out of the canal
CANAL_SEARCH_MM = 30.0
CANAL_STEP_MM = 0.5


class VolumeSampler:
    """Values of a volume at RAS points: nearest voxel (masks) or trilinear (CT)."""

    def __init__(self, volume: Volume) -> None:
        self.array = volume.array
        self.ras_to_ijk = np.linalg.inv(volume.ijk_to_ras())

    def indices(self, points_ras: np.ndarray) -> np.ndarray:
        """(N, 3) continuous (k, j, i) indices of RAS points."""
        points = np.atleast_2d(points_ras)
        ijk = points @ self.ras_to_ijk[:3, :3].T + self.ras_to_ijk[:3, 3]
        return ijk[:, ::-1]

    def nearest(self, points_ras: np.ndarray, outside=0) -> np.ndarray:
        kji = np.rint(self.indices(points_ras)).astype(np.int64)
        inside = np.all((kji >= 0) & (kji < np.array(self.array.shape)), axis=1)
        values = np.full(len(kji), outside, dtype=self.array.dtype)
        values[inside] = self.array[tuple(kji[inside].T)]
        return values

    def linear(self, points_ras: np.ndarray) -> np.ndarray:
        """Trilinear values; NaN outside the volume."""
        kji = self.indices(points_ras)
        inside = np.all((kji >= 0) & (kji <= np.array(self.array.shape) - 1), axis=1)
        values = ndimage.map_coordinates(self.array.astype(np.float32), kji.T, order=1, mode="nearest")
        return np.where(inside, values, np.nan)


def mask_of(labels: Volume, value: int) -> Volume:
    """Binary (uint8) mask of one label value, on the label map's grid."""
    return Volume(array=(labels.array == value).astype(np.uint8), spacing=labels.spacing, origin=labels.origin,
                  direction=labels.direction, frame=labels.frame, source=labels.source)


@dataclass(frozen=True)
class CanalProfile:
    """Endosteal mediolateral canal width (mm) along the femoral shaft axis; NaN where not measurable.

    ``heights_mm`` are signed distances along ``FemoralFrame.shaft_direction`` from its ``shaft_point``.
    """

    heights_mm: np.ndarray
    widths_mm: np.ndarray

    def width_at(self, height_mm: float) -> float:
        if not len(self.heights_mm) or not self.heights_mm[0] <= height_mm <= self.heights_mm[-1]:
            return float("nan")
        return float(np.interp(height_mm, self.heights_mm, self.widths_mm))

    def to_dict(self) -> dict:
        return {"heights_mm": [round(float(h), 3) for h in self.heights_mm],
                "widths_mm": [None if np.isnan(w) else round(float(w), 3) for w in self.widths_mm]}

    @classmethod
    def from_dict(cls, data: dict) -> "CanalProfile":
        return cls(np.array(data["heights_mm"], float), np.array([np.nan if w is None else w for w in data["widths_mm"]], float))


def measure_canal_profile(ct: Volume, femur: FemoralFrame, heights_mm: np.ndarray) -> CanalProfile:
    """At each height, walk from the shaft axis medially and laterally until cortical bone (>= CORTEX_HU).

    A height is NaN when the axis point is outside the CT, already in cortex, or no cortex is met within
    ``CANAL_SEARCH_MM`` on either side (e.g. the shaft is outside the field of view).
    """
    sampler = VolumeSampler(ct)
    steps = np.arange(CANAL_STEP_MM, CANAL_SEARCH_MM + CANAL_STEP_MM / 2, CANAL_STEP_MM)
    medial = femur.medial()
    widths = []
    for height in heights_mm:
        centre = femur.shaft_point + height * femur.shaft_direction
        half_widths = [_distance_to_cortex(sampler, centre, direction * medial, steps) for direction in (1.0, -1.0)]
        widths.append(sum(half_widths))
    return CanalProfile(np.asarray(heights_mm, float), np.asarray(widths, float))


def _distance_to_cortex(sampler: VolumeSampler, centre: np.ndarray, direction: np.ndarray, steps: np.ndarray) -> float:
    values = sampler.linear(np.vstack([centre, centre + steps[:, None] * direction]))
    if np.isnan(values).any() or values[0] >= CORTEX_HU:
        return float("nan")
    hits = np.nonzero(values[1:] >= CORTEX_HU)[0]
    return float(steps[hits[0]]) if len(hits) else float("nan")


def fibonacci_hemisphere(count: int) -> np.ndarray:
    """``count`` near-uniform unit vectors on the hemisphere z <= 0 (equal area each): the cup's dome."""
    index = np.arange(count) + 0.5
    z = -index / count
    radius = np.sqrt(1.0 - z * z)
    angle = np.pi * (3.0 - np.sqrt(5.0)) * index
    return np.column_stack([radius * np.cos(angle), radius * np.sin(angle), z])
