"""A segmentation result in a real MRML scene: one segment per bone, SNOMED CT terminology, colours."""

import numpy as np

from SurgicalAIPlannerLib.imaging import load_ct
from SurgicalAIPlannerLib.segmentation.engine import segment
from SurgicalAIPlannerLib.segmentation.labels import BY_NAME
from SurgicalAIPlannerLib.segmentation.scene import result_to_segmentation_node


def test_segments_carry_names_terminology_and_colours(headless_context, sample_ct_file):
    result = segment(load_ct(sample_ct_file), "classical", progress=lambda *_: None)
    node = result_to_segmentation_node(headless_context, result, "ClassicalBones", build_surfaces=False)
    segmentation = node.GetSegmentation()
    present = {int(v) for v in np.unique(result.labels.array)} - {0}
    names = {segmentation.GetSegment(i).GetName() for i in segmentation.GetSegmentIDs()}
    assert names == {bone.name for bone in BY_NAME.values() if bone.value in present}
    hip_left = segmentation.GetSegment(segmentation.GetSegmentIdBySegmentName("hip_left"))
    terminology = hip_left.GetTerminology()
    assert "SCT^29836001^Hip" in terminology and "SCT^7771000^Left" in terminology
    np.testing.assert_allclose(hip_left.GetColor(), BY_NAME["hip_left"].color, atol=1e-6)
