"""`surgical-planner plan` end to end on the bundled sample CT with its reference label map (real data)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from SurgicalAIPlannerLib.cli import main
from SurgicalAIPlannerLib.planning.plan_io import load_plan_scene, read_plan_json

REQUEST = ("Total hip arthroplasty, left, 68-year-old male, severe osteoarthritis, Crowe type II dysplasia, "
           "12 mm press-fit stem, avoid leg length discrepancy > 5 mm, propose osteotomy site and ream angles")


def run_plan(sample_ct_file, sample_labels_file, output_dir, side="left", request=REQUEST) -> int:
    return main(["plan", str(sample_ct_file), "--procedure", "tha", "--side", side, "--request", request,
                 "--segmentation", str(sample_labels_file), "--output-dir", str(output_dir)])


def test_side_conflict_with_the_request_is_an_error(sample_ct_file, sample_labels_file, tmp_path, capsys):
    assert run_plan(sample_ct_file, sample_labels_file, tmp_path / "out", side="right") == 2
    assert "plan was started for the right side" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_plan_on_the_sample_ct(sample_ct_file, sample_labels_file, tmp_path, capsys):
    output = tmp_path / "plan"
    status = run_plan(sample_ct_file, sample_labels_file, output)
    printed = capsys.readouterr()
    assert status == 0, printed.err
    document = read_plan_json(output / "tha_plan.json")
    metrics = {m["key"]: m for m in document["metrics"]}
    assert document["side"] == "left" and document["request"]["not_understood"] == []
    assert metrics["cup_inclination"]["value"] == pytest.approx(40.0, abs=0.01)
    assert metrics["cup_anteversion"]["value"] == pytest.approx(15.0, abs=0.01)
    assert abs(metrics["leg_length_discrepancy"]["value"]) <= 5.0
    assert 0.0 < metrics["cup_coverage"]["value"] <= 100.0  # real hip bone under the cup
    cup_center = np.asarray(document["transforms"]["cupTransform"])[:3, 3]
    assert cup_center[0] < 0  # the patient's left is RAS -x
    assert any("shaft" in d["reason"] for d in document["decisions"])  # the sample has no femoral shaft
    restored = load_plan_scene(output / "tha_plan.mrb")
    assert restored.metric("cup_coverage").value == pytest.approx(metrics["cup_coverage"]["value"], abs=1e-6)
    assert "Plan JSON:" in printed.out
    json.dumps(document)  # stays plain JSON (no NaN)
