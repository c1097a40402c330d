"""``surgical-planner demo`` (``make demo``): the main job on the bundled sample CT.

Loads the sample pelvis CT with its reference bone labels into a headless Slicer scene, detects the
landmarks, proposes a left total hip arthroplasty from a written request, and writes the plan JSON and
the scene bundle. Prints what was loaded, the key plan figures, and where the outputs are.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

MIDLINE_MM = 15.0
SAMPLE_REQUEST = ("Total hip arthroplasty, left, 68-year-old male, severe osteoarthritis, Crowe type II dysplasia, "
                  "12 mm press-fit stem, avoid leg length discrepancy > 5 mm, propose osteotomy site and ream angles")
KEY_METRICS = ("cup_inclination", "cup_anteversion", "cup_coverage", "leg_length_discrepancy", "global_offset_change",
               "neck_cut_height")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="plan a left hip replacement on the bundled sample CT, headless")
    parser.add_argument("--output-dir", default="output/demo", help="where the plan JSON and scene bundle are written")
    parser.add_argument("--request", default=SAMPLE_REQUEST, help="the written planning request")
    parser.set_defaults(run=run_demo)


def side_of(x_ras: float) -> str:
    """Patient side of a RAS x coordinate (RAS: +x is the patient's right)."""
    if abs(x_ras) < MIDLINE_MM:
        return "midline"
    return "patient's left" if x_ras < 0 else "patient's right"


def run_demo(args: argparse.Namespace) -> int:
    from .governance.audit import AuditLog
    from .governance.commands import AUDIT_FILE
    from .session import PlannerSession

    session = PlannerSession(audit=AuditLog(Path(args.output_dir) / AUDIT_FILE), user="surgical-planner demo")
    session.load_sample()
    _print_loaded(session)
    landmarks = session.detect_landmarks()
    found = sum(1 for landmark in landmarks if landmark.present)
    print(f"Landmarks: {found} of {len(landmarks.landmarks)} found; missing ones say why (e.g. femoral shaft out of view).")
    plan = session.propose_tha_plan(args.request)
    paths = session.save_plan(args.output_dir)
    _print_plan(plan, paths)
    return 0


def _print_loaded(session) -> None:
    from .scene import segment_voxel_counts

    ct, labels = session.ct, session.labels
    i, j, k = ct.shape_ijk
    print(f"CT: {ct.source} — {i}x{j}x{k} voxels at {ct.spacing[0]:g} mm, HU {ct.array.min()}..{ct.array.max()}")
    print("Bones (reference labels: TotalSegmentator v2 output, not manual truth), RAS frame:")
    voxel_ml = float(np.prod(labels.spacing)) / 1000.0
    values = {name: value for value, name in session.label_names.items()}
    for name, count in sorted(segment_voxel_counts(session.segmentation_node).items()):
        centroid = labels.ras_of_index(np.argwhere(labels.array == values[name])[:, ::-1]).mean(axis=0)
        print(f"  {name:<14} {count * voxel_ml:7.1f} ml  centroid x = {centroid[0]:+7.1f} mm ({side_of(centroid[0])})")


def _print_plan(plan, paths: dict[str, Path]) -> None:
    print("Request, as understood:")
    for line in plan.parsed.summary_lines():
        print(f"  {line}")
    implants = plan.implants
    print(f"Proposed plan ({plan.anatomy.side} hip): cup {implants.cup.id}, head {implants.head.id}, stem {implants.stem.id}")
    for decision in plan.decisions:
        print(f"  - {decision.key}: {decision.value} — {decision.reason}")
    print("Key figures:")
    for measurement in plan.metrics:
        if measurement.key in KEY_METRICS:
            value = "n/a" if np.isnan(measurement.value) else f"{measurement.value:.1f} {measurement.unit}"
            print(f"  {measurement.label:<38} {value:>10}  target {measurement.target or '-':<12} {measurement.status}")
    print("Warnings: " + ("; ".join(plan.warnings) if plan.warnings else "none"))
    print(f"Plan JSON: {paths['plan_json']}")
    print(f"Scene:     {paths['scene']}  (open in 3D Slicer)")
    print(f"Audit trail: {Path(paths['plan_json']).parent / 'audit.jsonl'} (check it with: surgical-planner audit verify)")
    print(f"Next: surgical-planner sign-off {paths['plan_json']} --surgeon NAME; "
          f"surgical-planner report {Path(paths['plan_json']).parent}")
