"""Label map (Lib volume) -> ``vtkMRMLSegmentationNode`` with one named segment per label."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import slicer
import vtk
from vtk.util import numpy_support

from ..imaging.volume import Volume
from .volumes import volume_to_node


def labelmap_to_segmentation(
    context,
    labels: Volume,
    names: Mapping[int, str],
    node_name: str = "Segmentation",
    colors: Mapping[int, tuple[float, float, float]] | None = None,
    build_surfaces: bool = True,
    terminologies: Mapping[int, str] | None = None,
):
    """Import the labels listed in ``names`` as segments; values not listed are left out.

    ``terminologies`` gives a segment its standard meaning (Slicer terminology string, e.g. SNOMED CT
    coded) by label value.

    Segment names are the label names (e.g. ``hip_left``); find a segment's ID with
    ``segmentation.GetSegmentation().GetSegmentIdBySegmentName(name)``.
    """
    scene = context.scene
    present = set(np.unique(labels.array).tolist())
    wanted = {value: name for value, name in names.items() if value in present}
    kept = np.where(np.isin(labels.array, list(wanted)), labels.array, 0).astype(labels.array.dtype)
    labelmap_node = volume_to_node(scene, replace(labels, array=kept), f"{node_name}_labels", "vtkMRMLLabelMapVolumeNode")
    color_node = _color_table(scene, wanted, colors or {}, f"{node_name}_colors")
    labelmap_node.GetDisplayNode().SetAndObserveColorNodeID(color_node.GetID())

    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", node_name)
    segmentation.CreateDefaultDisplayNodes()
    logic = context.module_logic("Segmentations")
    if not logic.ImportLabelmapToSegmentationNode(labelmap_node, segmentation):
        raise RuntimeError(f"Slicer could not import the label map into segmentation {node_name!r}")
    _name_segments_by_label(segmentation, wanted)
    _describe_segments(segmentation, terminologies or {}, colors or {})
    scene.RemoveNode(labelmap_node)
    scene.RemoveNode(color_node)
    if build_surfaces:
        segmentation.CreateClosedSurfaceRepresentation()
    return segmentation


def _color_table(scene, names: Mapping[int, str], colors: Mapping[int, tuple[float, float, float]], node_name: str):
    table = scene.AddNewNodeByClass("vtkMRMLColorTableNode", node_name)
    table.SetTypeToUser()
    table.SetNumberOfColors(max(names, default=0) + 1)
    table.SetColor(0, "background", 0.0, 0.0, 0.0, 0.0)
    palette = np.random.default_rng(0)
    for value, name in names.items():
        red, green, blue = colors.get(value) or tuple(palette.uniform(0.3, 1.0, 3))
        table.SetColor(value, name, red, green, blue, 1.0)
    return table


def _name_segments_by_label(segmentation, names: Mapping[int, str]) -> None:
    """Name each imported segment after its label value (Slicer generates the segment IDs)."""
    inner = segmentation.GetSegmentation()
    for segment_id in inner.GetSegmentIDs():
        segment = inner.GetSegment(segment_id)
        segment.SetName(names.get(segment.GetLabelValue(), segment.GetName()))


def _describe_segments(segmentation, terminologies: Mapping[int, str], colors: Mapping[int, tuple[float, float, float]]) -> None:
    inner = segmentation.GetSegmentation()
    for segment_id in inner.GetSegmentIDs():
        segment = inner.GetSegment(segment_id)
        value = segment.GetLabelValue()
        if value in terminologies:
            segment.SetTerminology(terminologies[value])
        if value in colors:
            segment.SetColor(*colors[value])


def segment_mask(segmentation, segment_name: str) -> Volume:
    """Binary mask (uint8, RAS frame) of the named segment, on the segmentation's internal labelmap grid."""
    inner = segmentation.GetSegmentation()
    segment_id = inner.GetSegmentIdBySegmentName(segment_name)
    if not segment_id:
        raise KeyError(f"segmentation {segmentation.GetName()!r} has no segment named {segment_name!r}")
    image = slicer.vtkOrientedImageData()
    if not slicer.vtkSlicerSegmentationsModuleLogic.GetSegmentBinaryLabelmapRepresentation(segmentation, segment_id, image):
        raise KeyError(f"segment {segment_name!r} of {segmentation.GetName()!r} has no binary labelmap")
    i, j, k = image.GetDimensions()
    # Segments share labelmap layers, one label value each: keep only this segment's value.
    value = inner.GetSegment(segment_id).GetLabelValue()
    array = numpy_support.vtk_to_numpy(image.GetPointData().GetScalars()).reshape(k, j, i) == value
    matrix = vtk.vtkMatrix4x4()
    image.GetImageToWorldMatrix(matrix)
    ijk_to_ras = np.array([[matrix.GetElement(r, c) for c in range(4)] for r in range(4)])
    # The labelmap's extent need not start at index 0 (a loaded segmentation is cropped to its content).
    first_voxel = ijk_to_ras @ np.array([*image.GetExtent()[::2], 1.0])
    spacing = np.linalg.norm(ijk_to_ras[:3, :3], axis=0)
    return Volume(array=array.astype(np.uint8), spacing=tuple(float(s) for s in spacing),
                  origin=tuple(float(x) for x in first_voxel[:3]), direction=ijk_to_ras[:3, :3] / spacing, frame="RAS")


def segment_voxel_counts(segmentation) -> dict[str, int]:
    """Voxels per segment name, read from the binary labelmap representation."""
    inner = segmentation.GetSegmentation()
    return {
        name: int(np.count_nonzero(segment_mask(segmentation, name).array))
        for name in (inner.GetSegment(segment_id).GetName() for segment_id in inner.GetSegmentIDs())
    }
