"""Bone surfaces as point clouds (RAS mm), from a label map or from meshes, and the weights and axes taken on them.

Every landmark definition works on ``Surface`` objects, so the detector (label map surfaces) and the
phantom truth (mesh vertices) apply literally the same geometry; only the surface source differs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree
from vtkmodules.util import numpy_support
from vtkmodules.vtkCommonDataModel import vtkImageData
from vtkmodules.vtkFiltersCore import vtkFlyingEdges3D

from ..imaging.volume import Volume

# Gaussian smoothing of a binary mask before its 0.5 iso-surface, in voxels: removes the staircase of
# the voxel faces (sub-voxel surface) without shrinking convex parts noticeably.
MASK_SMOOTHING_VOXELS = 0.6


@dataclass(frozen=True)
class Surface:
    """Surface points (N, 3) RAS mm; ``at_edge`` marks points made by the field of view cutting the bone."""

    points: np.ndarray
    at_edge: np.ndarray

    @property
    def cut_by_field_of_view(self) -> bool:
        return bool(self.at_edge.any())

    def real(self) -> np.ndarray:
        """Points on the bone's own surface (not on a field-of-view cut)."""
        return self.points[~self.at_edge]


def mesh_surface(points: np.ndarray) -> Surface:
    return Surface(np.asarray(points, dtype=float), np.zeros(len(points), dtype=bool))


def label_surface(labels: Volume, value: int) -> Surface | None:
    """Sub-voxel surface of label ``value`` (None when absent). Caps where the bone leaves the grid are marked."""
    mask = labels.array == value
    if not mask.any():
        return None
    k_idx, j_idx, i_idx = np.nonzero(mask)
    low = np.array([k_idx.min(), j_idx.min(), i_idx.min()]) - 2
    high = np.array([k_idx.max(), j_idx.max(), i_idx.max()]) + 3
    padded = np.zeros(tuple(high - low), dtype=np.float32)
    source = tuple(slice(max(lo, 0), min(hi, n)) for lo, hi, n in zip(low, high, mask.shape))
    target = tuple(slice(s.start - lo, s.stop - lo) for s, lo in zip(source, low))
    padded[target] = mask[source]
    smooth = ndimage.gaussian_filter(padded, MASK_SMOOTHING_VOXELS)
    kji = _iso_surface(smooth, 0.5) + low
    shape = np.array(mask.shape)
    # A point within a voxel of the grid's first/last slice lies on the cap the field of view cut.
    at_edge = np.any((kji < 0.75) | (kji > shape - 1.75), axis=1)
    return Surface(labels.ras_of_index(kji[:, ::-1]), at_edge)


def _iso_surface(field: np.ndarray, level: float) -> np.ndarray:
    """Vertices (N, 3) as (k, j, i) indices of the ``level`` iso-surface of ``field`` [k, j, i]."""
    image = vtkImageData()
    k, j, i = field.shape
    image.SetDimensions(i, j, k)
    image.GetPointData().SetScalars(numpy_support.numpy_to_vtk(np.ascontiguousarray(field).ravel(), deep=True))
    contour = vtkFlyingEdges3D()
    contour.SetInputData(image)
    contour.SetValue(0, level)
    contour.ComputeNormalsOff()
    contour.ComputeGradientsOff()
    contour.Update()
    points = contour.GetOutput().GetPoints()
    if points is None:
        return np.zeros((0, 3))
    return numpy_support.vtk_to_numpy(points.GetData()).astype(float)[:, ::-1]


def area_weights(at: np.ndarray, cloud: np.ndarray, scale_mm: float) -> np.ndarray:
    """Weight of each point of ``at`` in proportion to the surface area it stands for: 1 / the Gaussian-kernel
    count (scale ``scale_mm``) of the points of ``cloud`` around it (``cloud`` must hold ``at`` and every point
    within 3 ``scale_mm`` of it). Mesh vertices bunch where the mesher refined, iso-surface points far less: an
    average over raw points is pulled towards the denser part, an area-weighted one is not."""
    pairs = cKDTree(at).sparse_distance_matrix(cKDTree(cloud), 3.0 * scale_mm, output_type="ndarray")
    density = np.bincount(pairs["i"], weights=np.exp(-0.5 * (pairs["v"] / scale_mm) ** 2), minlength=len(at))
    return 1.0 / np.maximum(density, 1.0)


def principal_axis(points: np.ndarray) -> np.ndarray:
    """Unit direction of largest spread of ``points``."""
    centred = points - points.mean(axis=0)
    return np.linalg.svd(centred, full_matrices=False)[2][0]
