"""Parametric surfaces (vtkPolyData, mm, implant coordinates) of catalog implants, to judge fit and coverage in 3D.

Cup: opening faces +z, centre of the hemisphere at the origin. Head: sphere at the origin.
Stem: origin where stem and neck axes meet, +z proximal, +x medial (see ``catalog.Stem``).
"""

from __future__ import annotations

import math

import numpy as np
import vtk
from vtk.util import numpy_support

from .catalog import Cup, Head, Stem

RESOLUTION = 48


def cup_polydata(cup: Cup, liner_inner_diameter_mm: float | None = None) -> vtk.vtkPolyData:
    """Hemispherical shell: outer dome, bearing surface of the liner and the flat rim between them."""
    inner = (liner_inner_diameter_mm or min(cup.liner_inner_diameters_mm)) / 2.0
    parts = [_hemisphere(cup.outer_radius_mm), _hemisphere(inner)]
    rim = vtk.vtkDiskSource()
    rim.SetInnerRadius(inner)
    rim.SetOuterRadius(cup.outer_radius_mm)
    rim.SetCircumferentialResolution(RESOLUTION)
    parts.append(rim)
    return _append(parts)


def head_polydata(head: Head) -> vtk.vtkPolyData:
    sphere = vtk.vtkSphereSource()
    sphere.SetRadius(head.diameter_mm / 2.0)
    sphere.SetThetaResolution(RESOLUTION)
    sphere.SetPhiResolution(RESOLUTION // 2)
    sphere.Update()
    return sphere.GetOutput()


def stem_polydata(stem: Stem) -> vtk.vtkPolyData:
    """Body lofted through elliptic sections of the catalog widths (AP depth 60 % of ML width) plus the neck."""
    levels = [(level.level_mm, level.width_mm) for level in stem.canal_widths_mm]
    top_width = levels[0][1]
    sections = [(-15.0, top_width * 0.8), *levels, (stem.length_below_origin_mm, levels[-1][1] * 0.6)]
    body = _loft([(np.array([0.0, 0.0, -level]), width / 2.0, 0.3 * width) for level, width in sections],
                 np.eye(3))
    neck = _neck(stem)
    return _append([body, neck])


def _neck(stem: Stem) -> vtk.vtkPolyData:
    """Neck from the stem axis to the head centre, tapering to a 12/14-like trunnion."""
    direction = np.array(stem.neck_direction)
    length = stem.origin_to_head_mm
    # Rotation whose z axis is the neck direction (neck lies in the x-z plane, so y stays y).
    rotation = np.column_stack([np.cross([0.0, 1.0, 0.0], direction), [0.0, 1.0, 0.0], direction])
    stations = [(0.0, 7.0), (length - stem.neck_length_mm, 6.0), (length - 4.0, 6.5), (length, 5.5)]
    return _loft([(direction * distance, radius, radius) for distance, radius in stations], rotation)


def _hemisphere(radius: float) -> vtk.vtkAlgorithm:
    sphere = vtk.vtkSphereSource()
    sphere.SetRadius(radius)
    sphere.SetThetaResolution(RESOLUTION)
    sphere.SetPhiResolution(RESOLUTION // 2)
    sphere.SetStartPhi(90.0)  # phi is measured from +z: 90..180 keeps the dome below the opening
    sphere.SetEndPhi(180.0)
    return sphere


def _loft(sections: list[tuple[np.ndarray, float, float]], rotation: np.ndarray) -> vtk.vtkPolyData:
    """Closed tube through elliptic sections (centre, semi-axis along local x, along local y) in a frame."""
    angles = np.linspace(0.0, 2.0 * math.pi, RESOLUTION, endpoint=False)
    rings = [(rotation @ np.array([a * np.cos(angles), b * np.sin(angles), np.zeros_like(angles)])).T + centre
             for centre, a, b in sections]
    points = np.vstack(rings + [sections[0][0], sections[-1][0]])
    cells = []
    count = RESOLUTION
    for ring in range(len(rings) - 1):
        for k in range(count):
            a, b = ring * count + k, ring * count + (k + 1) % count
            cells += [(a, b, b + count), (a, b + count, a + count)]
    first_cap, last_cap = len(points) - 2, len(points) - 1
    last_ring = (len(rings) - 1) * count
    for k in range(count):
        cells.append((first_cap, (k + 1) % count, k))
        cells.append((last_cap, last_ring + k, last_ring + (k + 1) % count))
    return _polydata(points, cells)


def _polydata(points: np.ndarray, triangles: list[tuple[int, int, int]]) -> vtk.vtkPolyData:
    polydata = vtk.vtkPolyData()
    vtk_points = vtk.vtkPoints()
    vtk_points.SetData(numpy_support.numpy_to_vtk(np.ascontiguousarray(points, dtype=float), deep=True))
    polydata.SetPoints(vtk_points)
    connectivity = np.hstack([np.full((len(triangles), 1), 3), np.asarray(triangles)]).astype(np.int64).ravel()
    cell_array = vtk.vtkCellArray()
    cell_array.ImportLegacyFormat(numpy_support.numpy_to_vtkIdTypeArray(connectivity, deep=True))
    polydata.SetPolys(cell_array)
    return polydata


def _append(parts: list) -> vtk.vtkPolyData:
    append = vtk.vtkAppendPolyData()
    for part in parts:
        if isinstance(part, vtk.vtkPolyData):
            append.AddInputData(part)
        else:
            append.AddInputConnection(part.GetOutputPort())
    normals = vtk.vtkPolyDataNormals()
    normals.SetInputConnection(append.GetOutputPort())
    normals.Update()
    return normals.GetOutput()
