"""The headless MRML scene: real module logics, volume/segmentation nodes with exact geometry, .mrb round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import vtk

from SurgicalAIPlannerLib.imaging import load_ct, load_labelmap
from SurgicalAIPlannerLib.scene import (labelmap_to_segmentation, load_bundle, new_headless_context, node_to_volume,
                                        save_bundle, segment_voxel_counts, volume_to_node)
from SurgicalAIPlannerLib.scene.bundle import SceneBundleError
from SurgicalAIPlannerLib.scene.context import HEADLESS_MODULE_LOGICS

BONES = {25: "sacrum", 75: "femur_left", 76: "femur_right", 77: "hip_left", 78: "hip_right", 27: "vertebrae_L5"}
CHOSEN_VOXELS = np.array([[0, 0, 0], [121, 100, 111], [60, 50, 56], [10, 90, 3], [511, 0, 19], [37, 411, 12]])


def _node_ras(node, ijk: np.ndarray) -> np.ndarray:
    matrix = vtk.vtkMatrix4x4()
    node.GetIJKToRASMatrix(matrix)
    return np.array([matrix.MultiplyPoint([*map(float, point), 1.0])[:3] for point in ijk])


def test_module_logics_are_registered() -> None:
    context = new_headless_context()
    for name in HEADLESS_MODULE_LOGICS:
        assert context.module_logic(name).GetMRMLScene() is context.scene
    assert context.scene.GetFirstNodeByClass("vtkMRMLColorTableNode") is not None  # default colours exist
    with pytest.raises(KeyError, match="not registered"):
        context.module_logic("NoSuchModule")


@pytest.mark.parametrize("source", ["sample", "dicom"])
def test_voxel_positions_agree_between_lib_and_node(headless_context, sample_ct_file: Path, dicom_series_dir: Path,
                                                    source: str) -> None:
    volume = load_ct(sample_ct_file if source == "sample" else dicom_series_dir)
    node = volume_to_node(headless_context.scene, volume, f"ct_{source}")
    shape = np.array(volume.shape_ijk) - 1
    voxels = np.minimum(CHOSEN_VOXELS, shape)
    assert np.abs(_node_ras(node, voxels) - volume.ras_of_index(voxels)).max() < 0.01
    # Same voxel values at those indices, read back from the node.
    back = node_to_volume(node)
    for i, j, k in voxels:
        assert back.array[k, j, i] == volume.array[k, j, i]


def test_dicom_lps_is_flipped_to_ras_in_the_node(headless_context, dicom_series_dir: Path) -> None:
    volume = load_ct(dicom_series_dir)
    node = volume_to_node(headless_context.scene, volume, "dicom_ct")
    lps_origin = np.array(volume.origin)
    assert np.allclose(node.GetOrigin(), [-lps_origin[0], -lps_origin[1], lps_origin[2]])


def test_segments_are_named_built_and_survive_the_mrb_round_trip(sample_labels_file: Path, tmp_path: Path) -> None:
    labels = load_labelmap(sample_labels_file)
    context = new_headless_context()
    segmentation = labelmap_to_segmentation(context, labels, BONES, "Bones")
    inner = segmentation.GetSegmentation()
    assert sorted(inner.GetSegment(s).GetName() for s in inner.GetSegmentIDs()) == sorted(BONES.values())
    assert inner.ContainsRepresentation("Closed surface")
    expected = {name: int(np.count_nonzero(labels.array == value)) for value, name in BONES.items()}
    assert segment_voxel_counts(segmentation) == expected

    hip_left_surface = segmentation.GetClosedSurfaceInternalRepresentation(inner.GetSegmentIdBySegmentName("hip_left"))
    assert hip_left_surface.GetNumberOfPoints() > 1000
    assert np.mean(hip_left_surface.GetBounds()[:2]) < -40  # the left hip bone's surface is on the patient's left

    bundle = save_bundle(context, tmp_path / "scene.mrb")
    restored = load_bundle(bundle).scene.GetFirstNodeByName("Bones")
    assert restored is not None
    assert segment_voxel_counts(restored) == expected


def test_failed_save_keeps_the_existing_bundle(tmp_path: Path, sample_labels_file: Path) -> None:
    context = new_headless_context()
    labelmap_to_segmentation(context, load_labelmap(sample_labels_file), {77: "hip_left"}, "Bones")
    bundle = save_bundle(context, tmp_path / "plan.mrb")
    before = bundle.read_bytes()
    with pytest.raises(SceneBundleError, match="must end in .mrb"):
        save_bundle(context, tmp_path / "plan.zip")
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "plan.mrb").mkdir()  # a folder where the file should go: the final rename fails
    with pytest.raises(OSError):
        save_bundle(context, blocked / "plan.mrb")
    assert bundle.read_bytes() == before
    assert not list(blocked.glob(".plan.mrb.*"))  # no partial file left behind


def test_loading_a_broken_bundle_names_it(tmp_path: Path) -> None:
    fake = tmp_path / "fake.mrb"
    fake.write_bytes(b"not a zip archive")
    with pytest.raises(SceneBundleError, match="fake.mrb"):
        load_bundle(fake)
