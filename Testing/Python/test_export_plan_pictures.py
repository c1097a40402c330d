"""The report's plan pictures come from the plan's own scene: bones, implants where the plan put them, the cut."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from vtk.util.numpy_support import vtk_to_numpy

from SurgicalAIPlannerLib.cli import main
from SurgicalAIPlannerLib.export.pictures import render_views
from SurgicalAIPlannerLib.export.plan_pictures import plan_surface_items
from SurgicalAIPlannerLib.planning.plan_io import PLAN_SCENE, load_plan_scene


def test_plan_scene_gives_bones_implants_and_neck_cut(tmp_path: Path) -> None:
    assert main(["demo", "--output-dir", str(tmp_path)]) == 0
    plan = load_plan_scene(tmp_path / PLAN_SCENE)
    items = {item.name: item for item in plan_surface_items(plan, ("hip_left", "femur_left"))}
    assert set(items) == {"hip_left", "femur_left", "cup", "stem", "head", "neck cut"}
    cup_bounds = np.array(items["cup"].polydata.GetBounds())
    cup_center = (cup_bounds[::2] + cup_bounds[1::2]) / 2
    # The cup lies in the left acetabulum: on the patient's left (RAS x < 0), inside the left hip bone's box.
    hip_bounds = np.array(items["hip_left"].polydata.GetBounds())
    assert cup_center[0] < -50
    assert np.all(cup_center >= hip_bounds[::2]) and np.all(cup_center <= hip_bounds[1::2])
    # The drawn cup is the planned one, where the plan put it: its outer surface 27 mm (54 mm cup) from the centre.
    points = vtk_to_numpy(items["cup"].polydata.GetPoints().GetData())
    planned_center = plan.geometry().cup_center
    assert np.linalg.norm(points - planned_center, axis=1).max() == pytest.approx(plan.implants.cup.outer_diameter_mm / 2, abs=0.5)
    pictures = render_views(list(items.values()), views=("anterior",), size=(200, 160))
    assert pictures["anterior"].startswith(b"\x89PNG")
