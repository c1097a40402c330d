"""`make demo`'s job: the sample CT planned end to end, outputs written, laterality kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from SurgicalAIPlannerLib.cli import main


def test_demo_plans_the_left_hip_of_the_sample(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["demo", "--output-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "hip_left         355.5 ml  centroid x =   -76.6 mm (patient's left)" in out
    assert "Proposed plan (left hip)" in out
    plan = json.loads((tmp_path / "tha_plan.json").read_text())
    assert plan["side"] == "left"
    cup_translation = plan["transforms"]["cupTransform"]
    assert cup_translation[0][3] < -50  # the cup sits in the patient's left acetabulum (RAS x < 0)
    assert (tmp_path / "tha_plan.mrb").stat().st_size > 10_000
    events = [json.loads(line)["event"] for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert events == ["load", "ai_run", "proposal"]  # CT load, landmark detection, proposal
    assert main(["audit", "verify", str(tmp_path / "audit.jsonl")]) == 0
