"""PlannerSession's landmark nodes on the sample CT: one set in the scene, a table for the faces, edits flagged and kept."""

from __future__ import annotations

import numpy as np

from SurgicalAIPlannerLib.scene import new_headless_context
from SurgicalAIPlannerLib.session import PlannerSession


def fiducial_nodes(session: PlannerSession) -> int:
    return session.scene.GetNumberOfNodesByClass("vtkMRMLMarkupsFiducialNode")


def test_landmarks_detected_again_replace_the_old_nodes_and_keep_the_surgeons_corrections():
    session = PlannerSession(new_headless_context())
    session.load_sample()
    session.detect_landmarks()
    first = fiducial_nodes(session)
    assert first >= 2  # pelvis and hip, lumbar spine at least

    rows = {row["name"]: row for row in session.landmark_table()}
    head = rows["femoral_head_center_left"]
    assert head["region"] == "Pelvis and hip" and head["present"] and 0.0 < head["confidence"] <= 1.0
    assert not head["user_edited"]
    missing = [row for row in rows.values() if not row["present"]]
    assert missing and all(row["note"].startswith("missing: ") for row in missing)  # the sample has no knees

    node = next(n for n in session.landmark_nodes.nodes.values() if n.GetName().endswith("Pelvis and hip"))
    index = next(i for i in range(node.GetNumberOfControlPoints())
                 if node.GetNthControlPointLabel(i) == "femoral_head_center_left")
    moved = np.array(node.GetNthControlPointPosition(index)) + [0.0, 0.0, 2.0]
    node.SetNthControlPointPosition(index, *moved)
    edited = next(row for row in session.landmark_table() if row["name"] == "femoral_head_center_left")
    assert edited["user_edited"] and edited["method"] == "user"

    session.detect_landmarks()
    assert fiducial_nodes(session) == first  # replaced, not added beside the old ones
    kept = next(r for r in session.landmark_table() if r["name"] == "femoral_head_center_left")
    assert kept["user_edited"]  # the surgeon's correction outlives the re-detection
    assert np.allclose(session.landmarks.position("femoral_head_center_left"), moved)

    session.load_sample()  # a new segmentation: its landmarks are still to be detected
    assert fiducial_nodes(session) == 0 and session.landmark_table() == []
