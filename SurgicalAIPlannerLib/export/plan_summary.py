"""What the exports (DICOM SR, FHIR, report) need to know about a plan, independent of the procedure.

``PlanSummary`` is the input type of every export. The hip planner's ``tha_plan.json`` (schema
``surgical-planner/tha-plan/1``) converts with ``summary_from_tha_plan``; other procedures can build a
``PlanSummary`` directly. A plan without a matching sign-off is a draft, and every export says so.

PLAN_DIR, as ``export-fhir`` and ``report`` read it:
- ``tha_plan.json``  the plan (written by ``surgical-planner plan``)
- ``signoff.json``   the surgeon's sign-off (``surgical-planner sign-off``), optional
- ``audit.jsonl``    the audit trail (+ ``audit.jsonl.head``), optional
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ..governance.signoff import SignOff, current_signoff
from ..planning.autoplan import Decision
from ..planning.measurement import Coding, Measurement

PLAN_FILE = "tha_plan.json"
PROCEDURES = {
    # SNOMED CT procedure codes; code 52734007 is "Total replacement of hip" (display: total hip replacement).
    "tha": ("Total hip arthroplasty", Coding("http://snomed.info/sct", "52734007", "Total hip replacement")),
}


@dataclass(frozen=True)
class ModelInfo:
    """A model or algorithm that produced part of the plan; ``accuracy`` is the measured figure, in words."""

    name: str
    version: str
    accuracy: str = ""


@dataclass(frozen=True)
class PlanSummary:
    plan_id: str
    procedure: str
    procedure_code: Coding | None
    side: str
    request_text: str
    understood: tuple[str, ...]
    not_understood: tuple[str, ...]
    measurements: tuple[Measurement, ...]
    decisions: tuple[Decision, ...]
    warnings: tuple[str, ...]
    models: tuple[ModelInfo, ...]
    software: str
    created: str
    sign_off: SignOff | None = None

    @property
    def status(self) -> str:
        return "signed" if self.sign_off else "proposed"

    @property
    def is_draft(self) -> bool:
        return self.sign_off is None

    @property
    def reportable_measurements(self) -> tuple[Measurement, ...]:
        """Measurements with a value (NaN marks one the planner could not measure)."""
        return tuple(m for m in self.measurements if not math.isnan(m.value))


def summary_from_tha_plan(document: dict, plan_id: str, sign_off: SignOff | None = None) -> PlanSummary:
    request = document.get("request", {})
    software = document.get("software", {})
    procedure, code = PROCEDURES.get(document.get("procedure", ""), (str(document.get("procedure", "")), None))
    return PlanSummary(
        plan_id=plan_id,
        procedure=procedure,
        procedure_code=code,
        side=str(document.get("side", "")),
        request_text=str(request.get("request", {}).get("text", "")),
        understood=tuple(f"{u['phrase']} -> {u['meaning']}" for u in request.get("understood", [])),
        not_understood=tuple(request.get("not_understood", [])),
        measurements=tuple(_measurement(m) for m in document.get("metrics", [])),
        decisions=tuple(Decision(str(d["key"]), str(d["value"]), str(d["reason"])) for d in document.get("decisions", [])),
        warnings=tuple(document.get("warnings", [])),
        models=tuple(ModelInfo(str(k), str(v) if not isinstance(v, list) else ", ".join(map(str, v)))
                     for k, v in document.get("models", {}).items()),
        software=f"SurgicalAIPlanner {software.get('SurgicalAIPlannerLib', '')}".strip(),
        created=str(document.get("created", "")),
        sign_off=sign_off,
    )


def load_plan_summary(plan_dir: Path) -> PlanSummary:
    """The plan of ``plan_dir`` (see the module doc for the files), with its sign-off state."""
    from ..planning.plan_io import read_plan_json

    plan_file = plan_dir / PLAN_FILE
    document = read_plan_json(plan_file)
    return summary_from_tha_plan(document, plan_dir.resolve().name, current_signoff(plan_file))


def _measurement(entry: dict) -> Measurement:
    code = entry.get("code")
    value = entry.get("value")
    return Measurement(entry["key"], entry["label"], float("nan") if value is None else float(value), entry["unit"],
                       entry.get("target", ""), entry.get("status", "info"), entry.get("side", ""),
                       Coding(**code) if code else None, entry.get("note", ""))
