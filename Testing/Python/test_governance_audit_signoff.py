"""Audit trail (hash chain, tamper detection through the CLI) and surgeon sign-off."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from SurgicalAIPlannerLib.cli import main
from SurgicalAIPlannerLib.governance.audit import AuditLog, verify
from SurgicalAIPlannerLib.governance.signoff import current_signoff, sign


@pytest.fixture
def log_with_events(tmp_path) -> Path:
    audit = AuditLog(tmp_path / "audit.jsonl")
    audit.append("load", "planner", {"ct": "ct/", "sha256": "ab" * 32})
    audit.append("ai_run", "planner", {"model": "TotalSegmentator", "version": "2.4.0"})
    audit.append("proposal", "planner", {"cup_inclination_deg": 40.0})
    audit.append("user_change", "Dr. Weber", {"cup_inclination_deg": [40.0, 42.0]})
    audit.append("export", "planner", {"kind": "dicom-sr"})
    return audit.path


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines()


def test_intact_log_verifies(log_with_events, capsys):
    assert main(["audit", "verify", str(log_with_events)]) == 0
    assert "intact, 5 events" in capsys.readouterr().out
    records = [json.loads(line) for line in lines_of(log_with_events)]
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5]
    assert all(r["prev"] == p["hash"] for p, r in zip(records, records[1:]))


def test_edited_line_is_detected(log_with_events, capsys):
    lines = lines_of(log_with_events)
    lines[3] = lines[3].replace("42.0", "45.0")
    log_with_events.write_text("\n".join(lines) + "\n")
    assert main(["audit", "verify", str(log_with_events)]) == 1
    assert "line 4: content was changed (hash mismatch)" in capsys.readouterr().err


def test_removed_middle_line_is_detected(log_with_events):
    lines = lines_of(log_with_events)
    log_with_events.write_text("\n".join(lines[:2] + lines[3:]) + "\n")
    problems = verify(log_with_events).problems
    assert any("line 3: does not follow the line before it" in p for p in problems)


def test_removed_last_line_is_detected_by_the_head(log_with_events, capsys):
    log_with_events.write_text("\n".join(lines_of(log_with_events)[:-1]) + "\n")
    assert main(["audit", "verify", str(log_with_events)]) == 1
    assert "ends at line 4 but its head records line 5" in capsys.readouterr().err


def test_rehashed_edit_still_breaks_the_chain(log_with_events):
    """An editor who recomputes the edited line's own hash still breaks the next line's link."""
    from SurgicalAIPlannerLib.governance.audit import _hash

    lines = lines_of(log_with_events)
    record = json.loads(lines[1])
    record["details"]["version"] = "9.9.9"
    record["hash"] = _hash(record)
    lines[1] = json.dumps(record)
    log_with_events.write_text("\n".join(lines) + "\n")
    assert any("line 3: does not follow" in p for p in verify(log_with_events).problems)


def test_unknown_event_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown audit event 'coffee'"):
        AuditLog(tmp_path / "a.jsonl").append("coffee", "x")


def test_plan_is_proposed_until_signed_and_again_after_a_change(tmp_path, capsys):
    plan = tmp_path / "tha_plan.json"
    plan.write_text(json.dumps({"side": "left", "cup_inclination_deg": 40.0}))
    assert current_signoff(plan) is None
    assert main(["sign-off", str(plan), "--surgeon", "Dr. Anna Weber"]) == 0
    signed = current_signoff(plan)
    assert signed is not None and signed.surgeon == "Dr. Anna Weber"
    events = [json.loads(line) for line in lines_of(tmp_path / "audit.jsonl")]
    assert events[-1]["event"] == "sign_off" and events[-1]["actor"] == "Dr. Anna Weber"
    plan.write_text(json.dumps({"side": "left", "cup_inclination_deg": 45.0}))
    assert current_signoff(plan) is None
    with pytest.raises(ValueError, match="surgeon's name"):
        sign(plan, "  ", AuditLog(tmp_path / "audit.jsonl"))
