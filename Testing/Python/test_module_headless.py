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
