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
