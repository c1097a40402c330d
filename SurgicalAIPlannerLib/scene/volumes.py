"""Lib ``Volume`` <-> ``vtkMRMLScalarVolumeNode``. MRML works in RAS; the Lib volume says its frame."""

from __future__ import annotations

import numpy as np
import slicer
import vtk
from vtk.util import numpy_support

from ..imaging.volume import LPS_TO_RAS, Volume


def _image_data(array: np.ndarray) -> vtk.vtkImageData:
    """vtkImageData holding ``array`` (k, j, i) with unit spacing; geometry lives on the node."""
    image = vtk.vtkImageData()
    k, j, i = array.shape
    image.SetDimensions(i, j, k)
    scalars = numpy_support.numpy_to_vtk(np.ascontiguousarray(array).ravel(), deep=True)
    image.GetPointData().SetScalars(scalars)
    return image


def set_node_geometry(node, volume: Volume) -> None:
    """Copy spacing, origin and axis directions of ``volume`` (any frame) onto ``node`` in RAS."""
    ras = volume.in_frame("RAS")
    node.SetSpacing(*ras.spacing)
    node.SetOrigin(*ras.origin)
    directions = vtk.vtkMatrix4x4()
    for row in range(3):
        for col in range(3):
            directions.SetElement(row, col, float(ras.direction[row, col]))
    node.SetIJKToRASDirectionMatrix(directions)


def volume_to_node(scene, volume: Volume, name: str, node_class: str = "vtkMRMLScalarVolumeNode"):
    """Add ``volume`` to ``scene`` as a new volume node (scalar or label map) with display node."""
    node = scene.AddNewNodeByClass(node_class, name)
    set_node_geometry(node, volume)
    node.SetAndObserveImageData(_image_data(volume.array))
    node.CreateDefaultDisplayNodes()
    return node


def node_to_volume(node) -> Volume:
    """A Lib volume (RAS frame) holding a copy of the node's voxels and geometry."""
    image = node.GetImageData()
    i, j, k = image.GetDimensions()
    array = numpy_support.vtk_to_numpy(image.GetPointData().GetScalars()).reshape(k, j, i).copy()
    directions = vtk.vtkMatrix4x4()
    node.GetIJKToRASDirectionMatrix(directions)
    direction = np.array([[directions.GetElement(r, c) for c in range(3)] for r in range(3)])
    return Volume(
        array=array,
        spacing=tuple(float(x) for x in node.GetSpacing()),
        origin=tuple(float(x) for x in node.GetOrigin()),
        direction=direction,
        frame="RAS",
    )


__all__ = ["LPS_TO_RAS", "node_to_volume", "set_node_geometry", "volume_to_node"]
