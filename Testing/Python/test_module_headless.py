"""The Slicer module file: imports on the headless scene, its Logic drives real nodes, its self-test passes."""

from __future__ import annotations

import importlib
import sys
import unittest
from pathlib import Path

import pytest

import slicer_app_standin

MODULE_DIR = Path(__file__).resolve().parents[2] / "SurgicalAIPlanner"


@pytest.fixture
def module():
    context = slicer_app_standin.install()
    sys.path.insert(0, str(MODULE_DIR))
    try:
        yield importlib.import_module("SurgicalAIPlanner"), context
    finally:
        sys.path.remove(str(MODULE_DIR))
        slicer_app_standin.uninstall()


def test_logic_uses_the_application_scene(module) -> None:
    planner, context = module
    logic = planner.SurgicalAIPlannerLogic()
    assert logic.session.scene is context.scene


def test_module_self_test_passes(module) -> None:
    planner, _ = module
    result = unittest.TextTestRunner(verbosity=0).run(planner.SurgicalAIPlannerTest("runTest"))
    assert result.wasSuccessful(), result.failures + result.errors


def test_parameter_node_remembers_the_loaded_ct(module, dicom_series_dir: Path) -> None:
    planner, context = module
    logic = planner.SurgicalAIPlannerLogic()
    node = logic.loadCT(str(dicom_series_dir))
    assert logic.getParameterNode().inputVolume.GetID() == node.GetID()
    # The parameter node is a real scene node: a second logic instance sees the same state.
    assert planner.SurgicalAIPlannerLogic().getParameterNode().inputVolume.GetID() == node.GetID()
    assert node.GetImageData().GetDimensions() == (512, 512, 20)


def test_module_metadata(module) -> None:
    planner, _ = module

    class Parent:
        pass

    parent = Parent()
    planner.SurgicalAIPlanner(parent)
    assert parent.categories == ["Planning"]
    assert "suggestion" in parent.helpText


def test_missing_packages_are_installed_only_after_consent(module, monkeypatch) -> None:
    """slicer.util's dialog and pip_install need the desktop app; the stand-ins record what the Logic asks of them."""
    import slicer

    planner, _ = module
    logic = planner.SurgicalAIPlannerLogic
    asked, installed = [], []
    monkeypatch.setattr(slicer.util, "pip_install", lambda requirements: installed.append(requirements))
    monkeypatch.setattr(slicer.util, "confirmOkCancelDisplay", lambda text: asked.append(text) or False)
    assert logic.ensureDependencies({"numpy": "numpy"}) is True
    assert asked == [] and installed == []  # nothing missing: no question
    assert logic.ensureDependencies({"absent_pkg_for_test": "absent-pkg==1.0"}) is False
    assert "absent-pkg==1.0" in asked[0] and installed == []  # declined: nothing installed
    monkeypatch.setattr(slicer.util, "confirmOkCancelDisplay", lambda text: True)
    assert logic.ensureDependencies({"absent_pkg_for_test": "absent-pkg==1.0", "numpy": "numpy"}) is True
    assert installed == [["absent-pkg==1.0"]]


def test_implant_pickers_list_each_procedures_catalog(module, tmp_path) -> None:
    planner, _ = module
    logic = planner.SurgicalAIPlannerLogic()
    tha = logic.implantChoices("Total hip arthroplasty")
    assert set(tha) == {"cup", "head", "stem"} and "GEN-CUP-52" in tha["cup"] and "GEN-STEM-STD-12" in tha["stem"]
    screws = logic.implantChoices("Lumbar pedicle screws")
    assert set(screws) == {"screw"} and len(screws["screw"]) == 42 and "GEN-PS-5.5x45" in screws["screw"]
    plates = logic.implantChoices("High tibial osteotomy", "right")
    assert plates == {"plate": ["GEN-HTO-OW-L-R", "GEN-HTO-OW-M-R", "GEN-HTO-OW-S-R"]}

    mine = tmp_path / "mine.json"
    mine.write_text('{"schema": "surgical-planner/implant-catalog/1", "hto_plates": [{"id": "MY-PLATE", '
                    '"wedge": "opening", "side": "either", "length_mm": 100, "proximal_width_mm": 30, '
                    '"thickness_mm": 5, "proximal_holes": 4, "distal_holes": 3}]}')
    logic.addImplantCatalog(str(mine))
    assert "MY-PLATE" in logic.implantChoices("High tibial osteotomy", "left")["plate"]
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema": "surgical-planner/implant-catalog/1", "pedicle_screws": [{"id": "X", "length_mm": 40}]}')
    with pytest.raises(ValueError, match=f"{broken}: pedicle_screws\\[0\\] \\(X\\): missing field 'diameter_mm'"):
        logic.addImplantCatalog(str(broken))
    assert logic.catalogFiles == [str(mine)]  # the broken file was not taken


@pytest.mark.parametrize("procedure", ["High tibial osteotomy", "Lumbar pedicle screws"])
def test_procedures_without_planning_say_so(module, procedure) -> None:
    planner, _ = module
    logic = planner.SurgicalAIPlannerLogic()
    with pytest.raises(NotImplementedError, match=f"{procedure} planning is not available in this version"):
        logic.proposePlan(procedure, "left", "")


def test_landmarks_are_detected_in_the_background_and_can_be_cancelled(module) -> None:
    from SurgicalAIPlannerLib.tasks import TaskCancelled

    planner, _ = module
    logic = planner.SurgicalAIPlannerLogic()
    logic.loadSample()
    cancelled = logic.startLandmarkDetection()
    cancelled.cancel()
    cancelled.wait()
    with pytest.raises(TaskCancelled):
        cancelled.result()
    assert logic.session.landmarks is None  # nothing half-made

    task = logic.startLandmarkDetection()
    task.wait()
    landmarks = logic.finishLandmarkDetection(task)
    assert landmarks.position("femoral_head_center_left")[0] < 0  # the patient's left is RAS -x
    assert any(row[0] == "femoral_head_center_left" for row in logic.landmarkRows())
