"""``surgical-planner audit verify LOG``, ``sign-off PLAN_DIR --surgeon NAME`` and ``deidentify IN OUT``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .audit import AuditLog, verify
from .deidentify import KEY_ENVIRONMENT, Pseudonymizer, deidentify_folder
from .signoff import sign

AUDIT_FILE = "audit.jsonl"


def register(subparsers: argparse._SubParsersAction) -> None:
    audit = subparsers.add_parser("audit", help="check the audit trail")
    actions = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    check = actions.add_parser("verify", help="detect edited, removed or reordered lines in an audit log")
    check.add_argument("log", help=f"the audit log (PLAN_DIR/{AUDIT_FILE})")
    check.set_defaults(run=run_verify)

    signoff = subparsers.add_parser("sign-off", help="sign a plan as the responsible surgeon")
    signoff.add_argument("plan_file", help="the plan file to sign (e.g. PLAN_DIR/tha_plan.json)")
    signoff.add_argument("--surgeon", required=True, help="full name of the signing surgeon")
    signoff.set_defaults(run=run_sign)

    deid = subparsers.add_parser("deidentify", help="DICOM PS3.15 Basic Profile de-identification of a folder")
    deid.add_argument("source", help="folder of DICOM files")
    deid.add_argument("output", help=f"new folder to write (pseudonyms keyed by {KEY_ENVIRONMENT} when set)")
    deid.set_defaults(run=run_deidentify)


def run_verify(args: argparse.Namespace) -> int:
    result = verify(Path(args.log))
    if result.ok:
        print(f"{args.log}: intact, {result.lines} events, head {result.head}")
        return 0
    print(f"{args.log}: TAMPERED ({len(result.problems)} problem(s))", file=sys.stderr)
    for problem in result.problems:
        print(f"  {problem}", file=sys.stderr)
    return 1


def run_sign(args: argparse.Namespace) -> int:
    plan_file = Path(args.plan_file)
    record = sign(plan_file, args.surgeon, AuditLog(plan_file.parent / AUDIT_FILE))
    print(f"{plan_file} signed by {record.surgeon} at {record.signed_at}")
    return 0


def run_deidentify(args: argparse.Namespace) -> int:
    try:
        written = deidentify_folder(Path(args.source), Path(args.output), Pseudonymizer.from_environment())
    except FileExistsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {len(written)} de-identified file(s) to {args.output}")
    return 0
