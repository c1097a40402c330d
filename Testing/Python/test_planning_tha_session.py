"""Interactive THA plan on real MRML nodes: observers, analytic metrics, laterality, persistence."""

from __future__ import annotations

import json

import numpy as np
import pytest
import vtk

from SurgicalAIPlannerLib.implants import load_catalog
from SurgicalAIPlannerLib.landmarks.model import Landmark
from SurgicalAIPlannerLib.planning.cup_angles import CupOrientation
from SurgicalAIPlannerLib.planning.hip_anatomy import AnatomyError, hip_anatomy_from_landmarks
from SurgicalAIPlannerLib.planning.plan_io import (PLAN_SCHEMA, PlanFileError, load_plan_json, load_plan_scene,
                                                   read_plan_json, save_plan)
from SurgicalAIPlannerLib.planning.request import DeterministicParser
from SurgicalAIPlannerLib.planning.tha_session import ThaPlanSession
from SurgicalAIPlannerLib.scene import new_headless_context

EXAMPLE = ("Total hip arthroplasty, {side}, 68-year-old male, severe osteoarthritis, Crowe type II dysplasia, "
           "12 mm press-fit stem, avoid leg length discrepancy > 5 mm, propose osteotomy site and ream angles")


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def planned(landmarks, catalog, side="left", text=EXAMPLE) -> ThaPlanSession:
    parsed = DeterministicParser().parse(text.format(side=side))
    session = ThaPlanSession(new_headless_context(), hip_anatomy_from_landmarks(landmarks, side), catalog,
                             parsed.request, landmarks, parsed)
    session.propose()
    return session


def values(session) -> dict[str, float]:
    return {m.key: m.value for m in session.metrics}


def test_proposal_meets_the_request_and_gives_reasons(analytic_hip_landmarks, catalog):
    session = planned(analytic_hip_landmarks(native_lld_mm=3.0), catalog)
    metrics = values(session)
    assert metrics["cup_inclination"] == pytest.approx(40.0, abs=0.01)
    assert metrics["cup_anteversion"] == pytest.approx(15.0, abs=0.01)
    assert metrics["leg_length_change"] == pytest.approx(3.0, abs=0.01)  # right leg was 3 mm longer
    assert metrics["leg_length_discrepancy"] == pytest.approx(0.0, abs=0.01)
    assert abs(metrics["global_offset_change"]) <= 5.0
    assert session.implants.stem.size_mm == 12 and session.implants.stem.fixation == "press-fit"
    assert session.implants.cup.outer_diameter_mm == 52  # 2 x 25 mm acetabulum + 2 mm reaming
    keys = {d.key for d in session.decisions}
    assert {"cup", "cup_orientation", "cup_center", "stem", "head", "neck_osteotomy", "ream_angles", "reaming_depth"} <= keys
    assert all(d.reason for d in session.decisions)
    assert any("shaft outside the field of view" in d.reason for d in session.decisions)
    assert session.warnings == []


def test_a_closed_joint_socket_is_planned_from_the_head_and_says_so(analytic_hip_landmarks, catalog):
    """Landmark detection gives a socket it could not fit (hip label closed onto the head) the head's centre, with
    no radius: the plan must say where its centre of rotation and cup size come from."""
    landmarks = analytic_hip_landmarks()
    head = landmarks.landmarks["femoral_head_center_left"]
    landmarks.add(Landmark("acetabulum_center_left", head.position_ras, 0.5, "femoral head centre: ...",
                           extras={"closed_joint": True}))
    session = planned(landmarks, catalog)
    reasons = {d.key: d.reason for d in session.decisions}
    assert "hip joint is closed" in reasons["cup_center"]
    assert any("acetabular radius not measured" in d.reason for d in session.decisions if d.key == "anatomy")
    assert session.implants.cup.outer_diameter_mm == 52  # 2 x (24 mm head + 1 mm joint space) + 2 mm reaming
    landmarks.landmarks["acetabulum_center_left"].user_edited = True  # the surgeon placed the socket's centre
    reasons = {d.key: d.reason for d in planned(landmarks, catalog).decisions}
    assert "placed by the user" in reasons["cup_center"]


def test_a_neck_axis_not_measured_is_the_other_side_s_mirrored_and_says_so(analytic_hip_landmarks, catalog):
    """Landmark detection refuses a neck axis it cannot trust (a socket's rim in the femur's label on the sample CT
    put one 69 degrees off, pointing up). The plan takes the other side's, mirrored across the pelvic midplane, and
    cautions that the stem's version follows it; with neither side's, it stops and names both reasons."""
    landmarks = analytic_hip_landmarks()
    measured = hip_anatomy_from_landmarks(landmarks, "left").femur.neck_direction
    head = landmarks.landmarks["femoral_head_center_left"]
    head.extras.pop("neck_axis")
    landmarks.add(Landmark("femoral_neck_axis_left", None, 0.0, "label surface", missing_reason="implausible: ..."))
    anatomy = hip_anatomy_from_landmarks(landmarks, "left")
    np.testing.assert_allclose(anatomy.femur.neck_direction, measured, atol=1e-9)  # the analytic hips are mirror images
    assert anatomy.femur.neck_direction[0] > 0  # the left neck runs to the head towards RAS +x (medially)
    assert any("right neck axis mirrored" in caution and "implausible" in caution for caution in anatomy.cautions)
    assert any("right neck axis mirrored" in note for note in anatomy.notes)
    landmarks.landmarks["femoral_head_center_right"].extras.pop("neck_axis")
    with pytest.raises(AnatomyError, match="neither femoral neck axis"):
        hip_anatomy_from_landmarks(landmarks, "left")


def test_node_changes_update_metrics_through_observers(analytic_hip_landmarks, catalog):
    session = planned(analytic_hip_landmarks(), catalog)
    calls = []
    session.add_listener(lambda s: calls.append(values(s)))
    before = values(session)
    cup = session.nodes["cupTransform"]
    matrix = vtk.vtkMatrix4x4()
    cup.GetMatrixTransformToParent(matrix)
    matrix.SetElement(2, 3, matrix.GetElement(2, 3) + 3.0)  # cup 3 mm superior, set on the node directly
    matrix.SetElement(0, 3, matrix.GetElement(0, 3) - 2.0)  # and 2 mm towards the patient's left = lateral
    cup.SetMatrixTransformToParent(matrix)
    assert len(calls) == 1
    after = calls[-1]
    assert after["cor_shift_superior"] == pytest.approx(3.0, abs=0.01)
    assert after["cor_shift_lateral"] == pytest.approx(2.0, abs=0.01)
    assert after["leg_length_change"] - before["leg_length_change"] == pytest.approx(-3.0, abs=0.01)
    assert after["acetabular_offset_change"] - before["acetabular_offset_change"] == pytest.approx(2.0, abs=0.01)
    assert after["global_offset_change"] - before["global_offset_change"] == pytest.approx(2.0, abs=0.01)

    session.translate_stem([0.0, 0.0, 5.0])  # stem 5 mm proud: leg 5 mm longer, offset unchanged
    assert values(session)["leg_length_change"] - after["leg_length_change"] == pytest.approx(5.0, abs=0.01)
    assert values(session)["femoral_offset_change"] == pytest.approx(after["femoral_offset_change"], abs=0.01)
    assert values(session)["stem_shoulder_to_cut"] != pytest.approx(0.0, abs=0.5)  # the cut plane stayed

    session.set_cup_orientation(CupOrientation(55.0, 30.0))
    assert session.metric("cup_inclination").value == pytest.approx(55.0, abs=0.01)
    assert session.metric("lewinnek_safe_zone").value == 0.0
    assert any("inclination" in w for w in session.warnings) and any("anteversion" in w for w in session.warnings)

    plane = session.nodes["neckCut"]
    center = np.zeros(3)
    plane.GetCenterWorld(center)
    height = session.metric("neck_cut_height").value
    plane.SetCenterWorld(center[0], center[1], center[2] + 4.0)
    assert session.metric("neck_cut_height").value - height == pytest.approx(4.0, abs=0.01)


def test_head_offset_moves_the_head_along_the_neck(analytic_hip_landmarks, catalog):
    session = planned(analytic_hip_landmarks(), catalog)
    before = session.geometry().head_center
    longer = next(h for h in catalog.heads.values()
                  if h.diameter_mm == session.implants.head.diameter_mm and h.neck_offset_mm == session.implants.head.neck_offset_mm + 3.5)
    session.choose_implants(head_id=longer.id)
    moved = session.geometry().head_center - before
    assert np.linalg.norm(moved) == pytest.approx(3.5, abs=1e-9)
    neck = session.geometry().stem_to_ras[:3, :3] @ np.array(session.implants.stem.neck_direction)
    assert moved @ neck == pytest.approx(3.5, abs=1e-9)


def test_left_and_right_plans_mirror(analytic_hip_landmarks, catalog):
    landmarks = analytic_hip_landmarks()
    left, right = planned(landmarks, catalog, "left"), planned(landmarks, catalog, "right")
    left_values, right_values = values(left), values(right)
    assert left_values.keys() == right_values.keys()
    for key, value in left_values.items():
        assert np.isnan(value) == np.isnan(right_values[key]), key
        if not np.isnan(value):
            assert right_values[key] == pytest.approx(value, abs=1e-6), key
    mirror = np.diag([-1.0, 1.0, 1.0])
    left_geometry, right_geometry = left.geometry(), right.geometry()
    np.testing.assert_allclose(mirror @ left_geometry.cup_center, right_geometry.cup_center, atol=1e-9)
    np.testing.assert_allclose(mirror @ left_geometry.cup_axis, right_geometry.cup_axis, atol=1e-9)
    np.testing.assert_allclose(mirror @ left_geometry.head_center, right_geometry.head_center, atol=1e-9)
    assert left_geometry.cup_center[0] < 0 < right_geometry.cup_center[0]
    assert (left.implants.cup.id, left.implants.stem.id, left.implants.head.id) == \
        (right.implants.cup.id, right.implants.stem.id, right.implants.head.id)


def test_missing_landmarks_are_named(analytic_hip_landmarks):
    landmarks = analytic_hip_landmarks()
    del landmarks.landmarks["ASIS_right"]
    with pytest.raises(AnatomyError, match="ASIS_right"):
        hip_anatomy_from_landmarks(landmarks, "left")
    landmarks = analytic_hip_landmarks()
    del landmarks.landmarks["greater_trochanter_left"]
    with pytest.raises(AnatomyError, match="femoral_shaft_axis_left is missing and so is greater_trochanter_left"):
        hip_anatomy_from_landmarks(landmarks, "left")
    landmarks = analytic_hip_landmarks()
    del landmarks.landmarks["lesser_trochanter_left"]
    femur = hip_anatomy_from_landmarks(landmarks, "left").femur
    # The substitute axis passes through the neck axis at the greater trochanter's x (RAS -156 mm on the left).
    assert femur.shaft_point[0] == pytest.approx(-156.0, abs=1e-9)
    assert np.cross(femur.shaft_point - femur.head_center, femur.neck_direction) == pytest.approx(np.zeros(3), abs=1e-9)
    assert hip_anatomy_from_landmarks(analytic_hip_landmarks(shaft_in_view=True), "left").femur.shaft_source == "shaft axis landmark"


def test_without_pubic_tubercles_the_table_frame_stands_in_and_says_so(analytic_hip_landmarks, catalog):
    landmarks = analytic_hip_landmarks()
    landmarks.landmarks["pubic_tubercle_right"] = Landmark("pubic_tubercle_right", None,
                                                           missing_reason="the bone continues beyond the field of view")
    anatomy = hip_anatomy_from_landmarks(landmarks, "left")
    assert anatomy.pelvic_frame_source.startswith("ASIS line")
    (caution,) = anatomy.cautions
    assert "pubic_tubercle_right: the bone continues beyond the field of view" in caution and "pelvic tilt" in caution
    session = planned(landmarks, catalog)
    assert session.warnings[0] == caution  # shown with every metrics update, not only once
    assert session.metric("cup_inclination").value == pytest.approx(40.0, abs=0.01)  # the analytic pelvis is level


def edited_plan(analytic_hip_landmarks, catalog) -> ThaPlanSession:
    session = planned(analytic_hip_landmarks(native_lld_mm=2.0), catalog)
    session.set_cup_orientation(CupOrientation(44.0, 21.0))
    session.move_cup(session.geometry().cup_center + np.array([1.5, -0.5, 2.0]))
    session.translate_stem([0.3, 0.0, -1.2])
    return session


def assert_same_plan(restored: ThaPlanSession, original: ThaPlanSession):
    for role, matrix in original.node_matrices().items():
        np.testing.assert_allclose(restored.node_matrices()[role], matrix, atol=1e-9, err_msg=role)
    original_values, restored_values = values(original), values(restored)
    for key, value in original_values.items():
        assert (np.isnan(value) and np.isnan(restored_values[key])) or restored_values[key] == pytest.approx(value, abs=1e-6), key
    assert restored.warnings == original.warnings
    assert restored.decisions == original.decisions
    assert restored.implants == original.implants
    assert restored.request == original.request


def test_plan_json_restores_exactly(analytic_hip_landmarks, catalog, tmp_path):
    original = edited_plan(analytic_hip_landmarks, catalog)
    paths = save_plan(original, tmp_path / "plan")
    document = read_plan_json(paths["plan_json"])
    assert document["schema"] == PLAN_SCHEMA and document["side"] == "left"
    assert document["implants"]["stem"]["catalog_id"] == original.implants.stem.id
    assert {"created", "modified", "software", "models", "request", "landmarks", "transforms", "metrics", "warnings"} <= set(document)
    restored = load_plan_json(paths["plan_json"], new_headless_context())
    assert_same_plan(restored, original)


def test_plan_scene_restores_exactly_and_stays_live(analytic_hip_landmarks, catalog, tmp_path):
    original = edited_plan(analytic_hip_landmarks, catalog)
    paths = save_plan(original, tmp_path / "plan")
    restored = load_plan_scene(paths["scene"])
    assert_same_plan(restored, original)
    restored.move_cup(restored.geometry().cup_center + np.array([0.0, 0.0, 1.0]))
    assert restored.metric("cor_shift_superior").value == pytest.approx(original.metric("cor_shift_superior").value + 1.0, abs=0.01)


def test_bad_plan_files_are_refused(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(PlanFileError, match="not valid JSON"):
        read_plan_json(broken)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"schema": "something/else"}))
    with pytest.raises(PlanFileError, match="not a THA plan"):
        read_plan_json(other)
    with pytest.raises(PlanFileError, match="no such plan file"):
        read_plan_json(tmp_path / "absent.json")


def test_handles_per_role_show_and_hide(analytic_hip_landmarks, catalog):
    session = planned(analytic_hip_landmarks(), catalog)
    session.show_handles("cup")
    cup = session.nodes["cupTransform"].GetDisplayNode()
    assert cup.GetEditorVisibility() and not cup.GetEditorScalingEnabled()  # rigid: move and turn only
    session.show_handles("neckCut")
    assert session.nodes["neckCut"].GetDisplayNode().GetHandlesInteractive()
    session.show_handles("cup", False)
    assert not cup.GetEditorVisibility()
    session.show_handles("stem")
    assert session.nodes["stemTransform"].GetDisplayNode().GetEditorVisibility()
    with pytest.raises(ValueError, match="no handles for 'head'"):
        session.show_handles("head")
