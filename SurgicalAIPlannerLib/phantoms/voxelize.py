"""Closed bone meshes -> label map ``Volume`` on any grid (RAS or LPS, any spacing, any crop).

A voxel takes a bone's label when its centre lies inside that bone's surface (VTK's polygon-to-stencil
scan conversion, run in the grid's index space so rotated or LPS grids work the same way).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
from vtkmodules.util import numpy_support
from vtkmodules.vtkCommonCore import vtkPoints
from vtkmodules.vtkImagingStencil import vtkImageStencilToImage, vtkPolyDataToImageStencil

from ..imaging.volume import LPS_TO_RAS, Frame, Volume
from .meshes import BoneMesh


def empty_grid(
    bounds_ras: tuple[np.ndarray, np.ndarray],
    spacing: float | tuple[float, float, float],
    frame: Frame = "RAS",
    dtype: type = np.uint16,
) -> Volume:
    """An axis-aligned zero volume covering the RAS box ``bounds_ras`` (min corner, max corner) at ``spacing`` mm.

    The grid axes follow ``frame`` (i along +x of that frame, ...), as a scanner would store it.
    """
    low, high = (np.asarray(corner, dtype=float) for corner in bounds_ras)
    if np.any(high <= low):
        raise ValueError(f"empty field of view: min {low.round(1)} mm is not below max {high.round(1)} mm (RAS)")
    spacing_ijk = np.broadcast_to(np.asarray(spacing, dtype=float), (3,))
    if np.any(spacing_ijk <= 0):
        raise ValueError(f"spacing must be positive, got {tuple(spacing_ijk)} mm")
    shape_ijk = np.floor((high - low) / spacing_ijk).astype(int) + 1
    flip = LPS_TO_RAS if frame == "LPS" else np.eye(3)
    # In RAS the grid starts at the min corner; in LPS, x and y run the other way, so start at the max x, y.
    origin_ras = np.where(np.diag(flip) < 0, low + (shape_ijk - 1) * spacing_ijk, low)
    return Volume(
        array=np.zeros(tuple(shape_ijk[::-1]), dtype=dtype),
        spacing=tuple(float(s) for s in spacing_ijk),
        origin=tuple(float(x) for x in flip @ origin_ras),
        direction=np.eye(3),
        frame=frame,
    )


def meshes_bounds(meshes: Iterable[BoneMesh], margin_mm: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """RAS box (min, max) around all meshes, grown by ``margin_mm`` on every side."""
    corners = [mesh.bounds() for mesh in meshes]
    if not corners:
        raise ValueError("no meshes given")
    low = np.min([low for low, _ in corners], axis=0) - margin_mm
    high = np.max([high for _, high in corners], axis=0) + margin_mm
    return low, high


def voxelize(meshes: Iterable[BoneMesh], grid: Volume, values: Mapping[str, int]) -> Volume:
    """A label map on ``grid``'s geometry: each mesh named in ``values`` painted with its value.

    Meshes not named in ``values`` are left out. Where two bones overlap, the later one wins.
    """
    ras_to_index = np.linalg.inv(grid.ijk_to_ras())
    labels = np.zeros(grid.array.shape, dtype=np.uint16)
    for mesh in meshes:
        value = values.get(mesh.name)
        if value is None:
            continue
        if not 0 < value <= np.iinfo(np.uint16).max:
            raise ValueError(f"label value {value} for {mesh.name!r} is outside 1..65535")
        _paint(labels, _inside_mask(mesh, ras_to_index, labels.shape), value)
    return Volume(labels, grid.spacing, grid.origin, np.asarray(grid.direction), grid.frame)


def _paint(labels: np.ndarray, inside: tuple[tuple[slice, ...], np.ndarray] | None, value: int) -> None:
    if inside is not None:
        region, mask = inside
        labels[region][mask] = value


def _inside_mask(mesh: BoneMesh, ras_to_index: np.ndarray, shape_kji: tuple[int, int, int]):
    """(slices into the grid, boolean mask) of voxels whose centres lie inside ``mesh``; None if outside the grid."""
    index_points = mesh.points @ ras_to_index[:3, :3].T + ras_to_index[:3, 3]
    size_ijk = np.array(shape_kji[::-1])
    low = np.maximum(np.floor(index_points.min(axis=0)).astype(int), 0)
    high = np.minimum(np.ceil(index_points.max(axis=0)).astype(int), size_ijk - 1)
    if np.any(high < low):
        return None
    polydata = mesh.to_polydata()
    points = vtkPoints()
    points.SetData(numpy_support.numpy_to_vtk(np.ascontiguousarray(index_points), deep=True))
    polydata.SetPoints(points)

    stencil = vtkPolyDataToImageStencil()
    stencil.SetInputData(polydata)
    stencil.SetOutputOrigin(0.0, 0.0, 0.0)
    stencil.SetOutputSpacing(1.0, 1.0, 1.0)
    stencil.SetOutputWholeExtent(low[0], high[0], low[1], high[1], low[2], high[2])
    to_image = vtkImageStencilToImage()
    to_image.SetInputConnection(stencil.GetOutputPort())
    to_image.SetInsideValue(1)
    to_image.SetOutsideValue(0)
    to_image.SetOutputScalarTypeToUnsignedChar()
    to_image.Update()
    extent_size = high - low + 1
    mask = numpy_support.vtk_to_numpy(to_image.GetOutput().GetPointData().GetScalars())
    mask = mask.reshape(tuple(extent_size[::-1])).astype(bool)
    region = tuple(slice(lo, hi + 1) for lo, hi in zip(low[::-1], high[::-1]))
    return region, mask
