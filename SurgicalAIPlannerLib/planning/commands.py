"""``surgical-planner plan CT --procedure tha --side left --request "…" --output-dir DIR``: a THA plan, headless.

Writes DIR/tha_plan.json (the plan, schema ``surgical-planner/tha-plan/1``) and DIR/tha_plan.mrb (the scene:
CT, bone segmentation, implant models under their transforms, neck-cut plane, plan document).
"""

from __future__ import annotations

import argparse
import getpass
import json
from pathlib import Path

import numpy as np

from ..imaging.label_table import read_label_table
from ..landmarks.model import Landmark
from ..resources import sample_label_table_path
from .frames import SIDES
from .plan_io import landmark_from_dict
from .request import DeterministicParser, RequestParser, check_against_case
from .request_llm import OpenAICompatibleParser

PLAN_BONES = ("hip_left", "hip_right", "femur_left", "femur_right", "sacrum")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("plan", help="plan a procedure from a CT and a written request (headless)")
    parser.add_argument("ct", help="CT: DICOM folder, .nii/.nii.gz, .nrrd or .mha")
    parser.add_argument("--procedure", choices=["tha"], default="tha", help="procedure (only tha so far)")
    parser.add_argument("--side", choices=list(SIDES), help="operated side (may instead be given in the request)")
    parser.add_argument("--request", required=True, help="the written planning request")
    parser.add_argument("--output-dir", required=True, help="where tha_plan.json and tha_plan.mrb are written")
    parser.add_argument("--segmentation", help="bone label map on the CT's grid (default: run `segment` on the CT)")
    parser.add_argument("--label-table", help="value,name CSV of --segmentation (default: TotalSegmentator v2 'total')")
    parser.add_argument("--landmarks", help="JSON list of landmarks (plan JSON format) replacing detected ones by name")
    parser.add_argument("--catalog", action="append", default=[], help="extra implant catalog JSON (repeatable)")
    parser.add_argument("--llm-url", help="OpenAI-compatible endpoint for request parsing (optional)")
    parser.add_argument("--llm-model", help="model name at --llm-url")
    parser.set_defaults(run=run_plan)


def request_parser(args: argparse.Namespace) -> RequestParser:
    if args.llm_url:
        if not args.llm_model:
            raise ValueError("--llm-url needs --llm-model")
        return OpenAICompatibleParser(args.llm_url, args.llm_model)
    return OpenAICompatibleParser.from_environment() or DeterministicParser()


def run_plan(args: argparse.Namespace) -> int:
    from ..governance.audit import AuditLog
    from ..governance.commands import AUDIT_FILE
    from ..implants.catalog import load_catalog
    from ..session import PlannerSession

    parsed = request_parser(args).parse(args.request)  # a malformed request fails before any heavy work
    check_against_case(parsed.request, procedure="tha", side=args.side)  # so does a side conflict with --side
    catalog = load_catalog(args.catalog)  # and so does a bad catalog file
    # Every step (load, AI runs, proposal, later sign-off and exports) goes into the plan's audit trail.
    audit = AuditLog(Path(args.output_dir) / AUDIT_FILE)
    planner = PlannerSession(audit=audit, user=f"surgical-planner plan ({getpass.getuser()})")
    planner.load_ct(args.ct)
    if args.segmentation:
        table = read_label_table(args.label_table or sample_label_table_path())
        planner.load_segmentation(args.segmentation, {v: n for v, n in table.items() if n in PLAN_BONES}, "Bones")
    else:
        planner.segment()
    planner.detect_landmarks(overrides=_landmark_overrides(args.landmarks))
    session = planner.propose_tha_plan(parsed, args.side, catalog=catalog)
    print("Request, as understood:")
    for line in parsed.summary_lines():
        print(f"  {line}")
    paths = planner.save_plan(args.output_dir, str(Path(args.ct).resolve()))
    _print_summary(session, paths)
    return 0


def _landmark_overrides(override_path: str | None) -> list[Landmark]:
    """Landmarks from a JSON list (plan JSON format) that replace detected ones by name."""
    if not override_path:
        return []
    path = Path(override_path)
    try:
        return [landmark_from_dict(entry) for entry in json.loads(path.read_text(encoding="utf-8"))]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: not a landmark list ({error})") from None


def _print_summary(session, paths: dict[str, Path]) -> None:
    implants = session.implants
    print(f"THA plan, {session.anatomy.side} side:")
    print(f"  cup {implants.cup.id} ({implants.cup.outer_diameter_mm:g} mm), head {implants.head.id}, stem {implants.stem.id}")
    for decision in session.decisions:
        print(f"  - {decision.key}: {decision.value} — {decision.reason}")
    print("Metrics:")
    for m in session.metrics:
        value = "n/a" if np.isnan(m.value) else f"{m.value:.1f} {m.unit}"
        flag = "" if m.status in ("ok", "info") else f"  [{m.status.upper()}]"
        print(f"  {m.label}: {value}{flag}")
    print("Warnings: " + ("; ".join(session.warnings) if session.warnings else "none"))
    print(f"Plan JSON: {paths['plan_json']}")
    print(f"Scene:     {paths['scene']}")
