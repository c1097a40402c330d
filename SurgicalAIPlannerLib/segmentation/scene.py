"""A segmentation result as a ``vtkMRMLSegmentationNode``: one segment per bone, SNOMED CT terminology, colours."""

from __future__ import annotations

from ..scene.segmentations import labelmap_to_segmentation
from .engine import SegmentationResult
from .labels import BY_NAME, terminology_entry


def result_to_segmentation_node(context, result: SegmentationResult, node_name: str = "Bones", build_surfaces: bool = True):
    names = {value: name for name, value in result.label_table.items()}
    return labelmap_to_segmentation(
        context,
        result.labels,
        names,
        node_name=node_name,
        colors={value: BY_NAME[name].color for value, name in names.items() if name in BY_NAME},
        build_surfaces=build_surfaces,
        terminologies={value: terminology_entry(name) for value, name in names.items() if name in BY_NAME},
    )
