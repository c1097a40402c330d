"""Markups JSON that real Slicer (slicer-core) reads, and fiducial nodes that follow the surgeon's edits."""

from __future__ import annotations

import json

import numpy as np
import pytest
import slicer

from SurgicalAIPlannerLib.cli import main
from SurgicalAIPlannerLib.landmarks.markups import MarkupsFileError, read_markups, write_markups
from SurgicalAIPlannerLib.landmarks.model import Landmark, LandmarkSet
from SurgicalAIPlannerLib.landmarks.mrml import LandmarkNodes


def small_set() -> LandmarkSet:
    landmarks = LandmarkSet()
    landmarks.add(Landmark("femoral_head_center_left", np.array([-80.0, 140.0, 125.0]), 0.9, "sphere fit",
                           extras={"radius_mm": 24.0, "neck_axis": np.array([0.6, 0.0, 0.8])}))
    landmarks.add(Landmark("ASIS_right", np.array([114.0, 206.0, 202.0]), 1.0, "extreme point"))
    landmarks.add(Landmark("ankle_center_left", None, missing_reason="the distal tibia_left is outside the field of view"))
    return landmarks


@pytest.mark.parametrize("system", ["LPS", "RAS"])
def test_markups_file_round_trips_and_slicer_reads_it(tmp_path, headless_context, system):
    path = write_markups(small_set(), tmp_path / "points.mrk.json", system)
    document = json.loads(path.read_text())
    point = document["markups"][0]["controlPoints"][0]
    assert document["markups"][0]["coordinateSystem"] == system
    assert point["label"] == "femoral_head_center_left"
    assert point["position"] == ([80.0, -140.0, 125.0] if system == "LPS" else [-80.0, 140.0, 125.0])
    assert "confidence 0.90" in point["description"] and "sphere fit" in point["description"]

    storage = slicer.vtkMRMLMarkupsJsonStorageNode()
    headless_context.scene.AddNode(storage)
    node = storage.AddNewMarkupsNodeFromFile(str(path), "read back")
    assert node.GetNumberOfControlPoints() == 3
    np.testing.assert_allclose(node.GetNthControlPointPosition(0), [-80.0, 140.0, 125.0])  # MRML is RAS
    assert node.GetNthControlPointPositionStatus(2) == slicer.vtkMRMLMarkupsNode.PositionMissing

    again = read_markups(path)
    np.testing.assert_allclose(again.position("ASIS_right"), [114.0, 206.0, 202.0])
    assert again.landmarks["femoral_head_center_left"].extras["radius_mm"] == 24.0
    assert not again.landmarks["ankle_center_left"].present
    assert "field of view" in again.landmarks["ankle_center_left"].missing_reason


def test_bad_markups_files_are_named(tmp_path):
    broken = tmp_path / "broken.mrk.json"
    broken.write_text("{ not json")
    with pytest.raises(MarkupsFileError, match="broken.mrk.json: is not a Slicer markups JSON"):
        read_markups(broken)
    with pytest.raises(MarkupsFileError, match="must end in .mrk.json"):
        write_markups(small_set(), tmp_path / "points.txt")
    assert not list(tmp_path.glob("*.partial"))


def test_moving_a_fiducial_marks_it_user_edited_and_notifies(headless_context):
    landmarks = small_set()
    nodes = LandmarkNodes(headless_context.scene, landmarks, prefix="Edit test")
    assert set(nodes.nodes) == {"Edit test - Pelvis and hip", "Edit test - Ankle"}
    seen = []
    nodes.add_listener(lambda updated, name: seen.append((name, updated.position(name).copy())))
    hip = nodes.nodes["Edit test - Pelvis and hip"]
    assert hip.GetNthControlPointLabel(1) == "ASIS_right"
    hip.SetNthControlPointPosition(1, 110.0, 200.0, 205.0)
    assert seen and seen[-1][0] == "ASIS_right"
    np.testing.assert_allclose(seen[-1][1], [110.0, 200.0, 205.0])
    edited = landmarks.landmarks["ASIS_right"]
    assert edited.user_edited and edited.method == "user"
    assert not landmarks.landmarks["femoral_head_center_left"].user_edited


def test_cli_writes_markups_for_the_sample_ct(tmp_path, sample_ct_file, sample_labels_file, capsys):
    output = tmp_path / "sample.mrk.json"
    assert main(["landmarks", str(sample_ct_file), "--segmentation", str(sample_labels_file), "--output", str(output)]) == 0
    labels = [point["label"] for point in json.loads(output.read_text())["markups"][0]["controlPoints"]]
    assert "femoral_head_center_left" in labels and "ankle_center_right" in labels
    assert "missing: the distal tibia_right is outside the field of view" in capsys.readouterr().out
    assert main(["landmarks", str(sample_ct_file), "--segmentation", str(tmp_path / "none.nii.gz"), "--output", str(output)]) == 2


def test_cli_segments_the_ct_when_no_label_map_is_given_and_says_how(tmp_path, sample_ct_file, capsys):
    """The issue's command takes the label map as an option: without one, the CT is segmented here (here the
    classical fallback, named so the output never hides what produced the bones)."""
    output = tmp_path / "own.mrk.json"
    assert main(["landmarks", str(sample_ct_file), "--model", "classical", "--output", str(output)]) == 0
    printed = capsys.readouterr().out
    assert "segmentation (no --segmentation given): classical on cpu" in printed
    points = {point["label"]: point for point in json.loads(output.read_text())["markups"][0]["controlPoints"]}
    assert points["femoral_head_center_left"]["positionStatus"] == "defined"
    assert points["femoral_head_center_right"]["positionStatus"] == "defined"
    # The left head lies on the patient's left: LPS x > 0 (the file is LPS), the right one at LPS x < 0.
    assert points["femoral_head_center_left"]["position"][0] > 0 > points["femoral_head_center_right"]["position"][0]
    assert main(["landmarks", str(sample_ct_file), "--labels", str(tmp_path / "t.csv"), "--output", str(output)]) == 2
    assert "--labels names the values of --segmentation" in capsys.readouterr().err
