"""Offscreen pictures for the report: 3D views of given surfaces and an axial CT slice with bone overlay.

3D: VTK renders offscreen (Mesa EGL here) with multisampling off, since Mesa drops translucent actors
from multisampled windows. Views are the standard anatomical ones in RAS: the camera looks from the
patient's front (anterior), from the patient's left or right side (lateral) and from above (superior).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import vtk
from PIL import Image
from vtk.util.numpy_support import vtk_to_numpy

from ..imaging import Volume

# Camera direction (from the focal point towards the camera) and view-up, in RAS.
VIEWS = {
    "anterior": ((0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
    "left lateral": ((-1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
    "right lateral": ((1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
    "superior": ((0.0, 0.0, 1.0), (0.0, 1.0, 0.0)),
}
BACKGROUND = (1.0, 1.0, 1.0)
BONE_WINDOW_HU = (-400.0, 1200.0)


@dataclass(frozen=True)
class SurfaceItem:
    """One surface to draw: bone, plane or implant; points in RAS mm."""

    name: str
    polydata: vtk.vtkPolyData
    color: tuple[float, float, float]
    opacity: float = 1.0


def bone_polydata(labels: Volume, value: int) -> vtk.vtkPolyData:
    """Smooth surface of label ``value`` in RAS mm (empty when the label is absent)."""
    # One voxel of background all round closes surfaces cut by the field of view, so normals can be
    # oriented outwards consistently (lighting needs that); the index shift is undone in the transform.
    mask = np.pad((labels.array == value).astype(np.uint8), 1)
    image = vtk.vtkImageData()
    k, j, i = mask.shape
    image.SetDimensions(i, j, k)
    flat = np.ascontiguousarray(mask).ravel()
    scalars = vtk.util.numpy_support.numpy_to_vtk(flat, deep=True, array_type=vtk.VTK_UNSIGNED_CHAR)
    image.GetPointData().SetScalars(scalars)
    surface = vtk.vtkDiscreteFlyingEdges3D()
    surface.SetInputData(image)
    surface.SetValue(0, 1)
    smooth = vtk.vtkWindowedSincPolyDataFilter()
    smooth.SetInputConnection(surface.GetOutputPort())
    smooth.SetNumberOfIterations(15)
    smooth.SetPassBand(0.05)
    smooth.NormalizeCoordinatesOn()
    to_ras = vtk.vtkTransform()
    unpad = np.eye(4)
    unpad[:3, 3] = -1.0
    to_ras.SetMatrix((labels.ijk_to_ras() @ unpad).ravel().tolist())
    transform = vtk.vtkTransformPolyDataFilter()
    transform.SetInputConnection(smooth.GetOutputPort())
    transform.SetTransform(to_ras)
    normals = vtk.vtkPolyDataNormals()
    normals.SetInputConnection(transform.GetOutputPort())
    normals.AutoOrientNormalsOn()
    normals.Update()
    return normals.GetOutput()


def render_views(items: list[SurfaceItem], views: tuple[str, ...] = ("anterior", "left lateral", "superior"),
                 size: tuple[int, int] = (560, 480)) -> dict[str, bytes]:
    """PNG bytes per view name."""
    if not items:
        raise ValueError("nothing to render: no surfaces given")
    renderer = vtk.vtkRenderer()
    renderer.SetBackground(*BACKGROUND)
    for item in items:
        mapper = vtk.vtkPolyDataMapper()
        mapper.SetInputData(item.polydata)
        mapper.ScalarVisibilityOff()  # the item's colour, not a lookup of whatever scalars the mesh carries
        actor = vtk.vtkActor()
        actor.SetMapper(mapper)
        actor.GetProperty().SetColor(*item.color)
        actor.GetProperty().SetOpacity(item.opacity)
        renderer.AddActor(actor)
    window = vtk.vtkRenderWindow()
    window.SetOffScreenRendering(1)
    window.SetMultiSamples(0)
    window.SetSize(*size)
    window.AddRenderer(renderer)
    pictures = {}
    for view in views:
        direction, up = VIEWS[view]
        camera = renderer.GetActiveCamera()
        camera.SetFocalPoint(0.0, 0.0, 0.0)
        camera.SetPosition(*direction)
        camera.SetViewUp(*up)
        renderer.ResetCamera()
        camera.Zoom(1.15)
        renderer.ResetCameraClippingRange()
        window.Render()
        pictures[view] = _png_of(window)
    window.Finalize()
    return pictures


def _png_of(window: vtk.vtkRenderWindow) -> bytes:
    grab = vtk.vtkWindowToImageFilter()
    grab.SetInput(window)
    grab.ReadFrontBufferOff()
    grab.Update()
    image = grab.GetOutput()
    width, height, _ = image.GetDimensions()
    pixels = vtk_to_numpy(image.GetPointData().GetScalars()).reshape(height, width, -1)[::-1, :, :3]
    return _png(pixels)


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def axial_slice_picture(ct: Volume, labels: Volume | None = None, k: int | None = None,
                        colors: dict[int, tuple[float, float, float]] | None = None) -> tuple[bytes, int]:
    """PNG of axial slice ``k`` (default: the middle one) in radiological display (patient's right on the
    image's left, anterior up), bone window, labels blended in colour; returns (PNG, k)."""
    ras = ct.in_frame("RAS")
    k = ct.array.shape[0] // 2 if k is None else k
    low, high = BONE_WINDOW_HU
    gray = np.clip((ct.array[k].astype(float) - low) / (high - low), 0.0, 1.0)
    rgb = np.repeat(gray[..., None], 3, axis=2)
    if labels is not None and colors:
        for value, color in colors.items():
            mask = labels.array[k] == value
            rgb[mask] = 0.45 * rgb[mask] + 0.55 * np.asarray(color)
    # Orient rows/columns so that +i points to the image's right for patient-left and +j down for posterior.
    i_axis, j_axis = np.asarray(ras.direction)[:, 0], np.asarray(ras.direction)[:, 1]
    if i_axis[0] > 0:   # i runs towards patient right: flip so patient right is on the image's left
        rgb = rgb[:, ::-1]
    if j_axis[1] > 0:   # j runs towards anterior: flip so anterior is up
        rgb = rgb[::-1, :]
    return _png((rgb * 255).round()), k
