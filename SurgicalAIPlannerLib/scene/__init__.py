"""Real MRML scenes: headless (slicer-core wheel) or Slicer desktop's own, and Lib <-> node conversion."""

from .context import SlicerContext, context_on, get_slicer_context, new_headless_context
from .volumes import volume_to_node, node_to_volume
from .segmentations import labelmap_to_segmentation, segment_voxel_counts
from .bundle import save_bundle, load_bundle

__all__ = [
    "SlicerContext",
    "context_on",
    "get_slicer_context",
    "labelmap_to_segmentation",
    "load_bundle",
    "new_headless_context",
    "node_to_volume",
    "save_bundle",
    "segment_voxel_counts",
    "volume_to_node",
]
