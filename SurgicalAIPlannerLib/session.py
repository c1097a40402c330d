"""The planner's workflow on one MRML scene: the one Logic behind the Slicer module, the browser
planner and the Python API. Each step is a plain call; GUI code only collects inputs and shows results.

Frames: nodes are in RAS (MRML); the Lib volumes say their own frame.
"""

from __future__ import annotations

import logging
from pathlib import Path

from .imaging import Volume, load_ct, load_labelmap
from .imaging.label_table import read_label_table
from .resources import sample_ct_path, sample_label_table_path, sample_reference_labels_path
from .scene import SlicerContext, get_slicer_context, labelmap_to_segmentation, save_bundle, volume_to_node

log = logging.getLogger(__name__)

# Bones of the sample CT the planner works on, by their TotalSegmentator names.
SAMPLE_BONES = ("hip_left", "hip_right", "sacrum", "femur_left", "femur_right",
                "vertebrae_L1", "vertebrae_L2", "vertebrae_L3", "vertebrae_L4", "vertebrae_L5")


class PlannerSession:
    """A patient's planning session on a scene (Slicer's own inside the app, a headless one otherwise)."""

    def __init__(self, context: SlicerContext | None = None) -> None:
        self.context = context or get_slicer_context()
        self.ct: Volume | None = None
        self.ct_node = None
        self.segmentation_node = None
        self.labels: Volume | None = None

    @property
    def scene(self):
        return self.context.scene

    def load_ct(self, path: Path | str, series_instance_uid: str | None = None, name: str | None = None):
        """Load a CT (DICOM folder, NIfTI, NRRD, MHA) into a scalar volume node; returns the node."""
        self.ct = load_ct(path, series_instance_uid)
        node_name = name or self.ct.identity.series_description or Path(path).name.split(".")[0]
        self.ct_node = volume_to_node(self.scene, self.ct, node_name)
        log.info("Loaded CT %s as node %s", path, self.ct_node.GetID())
        return self.ct_node

    def load_segmentation(self, path: Path | str, names: dict[int, str], node_name: str = "Bones"):
        """Load a label map file as a segmentation node with one named segment per listed label."""
        labels = load_labelmap(path)
        self.labels = labels
        self.segmentation_node = labelmap_to_segmentation(self.context, labels, names, node_name)
        if self.ct_node is not None:
            self.segmentation_node.SetReferenceImageGeometryParameterFromVolumeNode(self.ct_node)
        return self.segmentation_node

    def load_sample(self, bone_names: tuple[str, ...] = SAMPLE_BONES) -> None:
        """The bundled sample CT and its reference bone labels (TotalSegmentator output, not manual truth)."""
        self.load_ct(sample_ct_path(), name="SampleCT")
        table = read_label_table(sample_label_table_path())
        bones = {value: name for value, name in table.items() if name in bone_names}
        self.load_segmentation(sample_reference_labels_path(), bones, "ReferenceBones")

    def save_scene(self, path: Path | str) -> Path:
        """Save the whole scene as an .mrb bundle (atomic)."""
        return save_bundle(self.context, path)
