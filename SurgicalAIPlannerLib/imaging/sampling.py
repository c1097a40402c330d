"""Sampling a volume at RAS points, and evenly spread ray directions for searches around a point."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import ndimage

from .volume import Volume

PointSampler = Callable[[np.ndarray], np.ndarray]


def sphere_directions(count: int) -> np.ndarray:
    """``count`` unit vectors spread evenly over the sphere (golden-angle spiral), deterministic."""
    index = np.arange(count) + 0.5
    z = 1.0 - 2.0 * index / count
    azimuth = np.pi * (1.0 + np.sqrt(5.0)) * index
    ring = np.sqrt(1.0 - z * z)
    return np.c_[ring * np.cos(azimuth), ring * np.sin(azimuth), z]


def volume_sampler(volume: Volume, order: int) -> PointSampler:
    """Function RAS points (..., 3) -> values of ``volume`` (trilinear for order 1); NaN outside the grid."""
    ras_to_ijk = np.linalg.inv(volume.ijk_to_ras())
    array = volume.array.astype(np.float32)

    def sample(points: np.ndarray) -> np.ndarray:
        flat = points.reshape(-1, 3) @ ras_to_ijk[:3, :3].T + ras_to_ijk[:3, 3]
        values = ndimage.map_coordinates(array, [flat[:, 2], flat[:, 1], flat[:, 0]], order=order,
                                         mode="constant", cval=np.nan)
        return values.reshape(points.shape[:-1])

    return sample
