"""AI bone segmentation: MONAI bundle inference, a classical fallback and an optional TotalSegmentator backend.

    from SurgicalAIPlannerLib.segmentation import segment
    result = segment(load_ct(path))            # shipped model, device auto
    result.labels                              # label map on the CT's grid, values from label_table()

``result_to_segmentation_node`` (segmentation.scene) turns a result into a Slicer segmentation node.
"""

from .bundle import BundleError, ModelBundle, installed_bundles, load_bundle
from .device import DeviceError, choose_device
from .engine import SegmentationResult, segment
from .labels import BONES, label_table

__all__ = [
    "BONES",
    "BundleError",
    "DeviceError",
    "ModelBundle",
    "SegmentationResult",
    "choose_device",
    "installed_bundles",
    "label_table",
    "load_bundle",
    "segment",
]
