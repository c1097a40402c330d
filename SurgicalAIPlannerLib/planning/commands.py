"""``surgical-planner plan CT --procedure tha --side left --request "…" --output-dir DIR``: a THA plan, headless.

Writes DIR/tha_plan.json (the plan, schema ``surgical-planner/tha-plan/1``) and DIR/tha_plan.mrb (the scene:
CT, bone segmentation, implant models under their transforms, neck-cut plane, plan document).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ..imaging import Volume
from ..imaging.label_table import read_label_table
from ..landmarks.model import LandmarkSet
from ..resources import sample_label_table_path
from .frames import SIDES
from .hip_anatomy import hip_anatomy_from_landmarks
from .plan_io import landmark_from_dict, save_plan
from .request import DeterministicParser, RequestParser, check_against_case
from .request_llm import OpenAICompatibleParser
from .sampling import measure_canal_profile, mask_of

PLAN_BONES = ("hip_left", "hip_right", "femur_left", "femur_right", "sacrum")
CANAL_HEIGHTS_MM = np.arange(-200.0, 40.0, 2.0)  # along the shaft axis from its reference point


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
    from ..implants.catalog import load_catalog
    from ..landmarks.detect import detect_landmarks
    from ..session import PlannerSession
    from .tha_session import ThaPlanSession

    parsed = request_parser(args).parse(args.request)
    print("Request, as understood:")
    for line in parsed.summary_lines():
        print(f"  {line}")
    catalog = load_catalog(args.catalog)  # bad catalog files fail before any heavy work

    planner = PlannerSession()
    planner.load_ct(args.ct)
    labels, names, segmentation_model = _bone_labels(planner, args)
    sides_present = tuple(s for s in SIDES if {f"hip_{s}", f"femur_{s}"} <= set(names.values()) & _present(labels, names))
    request = check_against_case(parsed.request, procedure=args.procedure, side=args.side, sides_in_image=sides_present,
                                 image_description=planner.ct.identity.series_description)
    side = request.side
    landmarks = _landmarks(detect_landmarks(planner.ct, labels, names), args.landmarks)
    anatomy = hip_anatomy_from_landmarks(landmarks, side)
    canal = measure_canal_profile(planner.ct, anatomy.femur, CANAL_HEIGHTS_MM)
    hip_value = next(value for value, name in names.items() if name == f"hip_{side}")
    session = ThaPlanSession(planner.context, anatomy, catalog, request, landmarks, parsed, mask_of(labels, hip_value), canal)
    session.propose()
    inputs = {"ct": str(Path(args.ct).resolve()), "segmentation": segmentation_model["source"], "bone_segment": f"hip_{side}"}
    paths = save_plan(session, args.output_dir, inputs, {"segmentation": segmentation_model["method"]})
    _print_summary(session, paths)
    return 0


def _bone_labels(planner, args: argparse.Namespace) -> tuple[Volume, dict[int, str], dict[str, str]]:
    """The bone label map (given file, else the segmentation engine) as a segmentation node; value -> name."""
    if args.segmentation:
        table = read_label_table(args.label_table or sample_label_table_path())
        names = {value: name for value, name in table.items() if name in PLAN_BONES}
        planner.load_segmentation(args.segmentation, names, "Bones")
        return planner.labels, names, {"source": str(Path(args.segmentation).resolve()),
                                       "method": "label map file given with --segmentation"}
    from ..scene import labelmap_to_segmentation
    from ..segmentation.engine import segment

    result = segment(planner.ct)
    names = {value: name for name, value in result.label_table.items() if name in PLAN_BONES}
    planner.labels = result.labels
    planner.segmentation_node = labelmap_to_segmentation(planner.context, result.labels, names, "Bones")
    return result.labels, names, {"source": f"segment() on {args.ct}", "method": f"{result.method} on {result.device}"}


def _present(labels: Volume, names: dict[int, str]) -> set[str]:
    values = set(np.unique(labels.array).tolist())
    return {name for value, name in names.items() if value in values}


def _landmarks(detected: LandmarkSet, override_path: str | None) -> LandmarkSet:
    if not override_path:
        return detected
    path = Path(override_path)
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        for entry in entries:
            detected.add(landmark_from_dict(entry))
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: not a landmark list ({error})") from None
    return detected


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
