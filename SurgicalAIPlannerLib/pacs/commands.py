"""``surgical-planner pacs search|pull|push``: DICOMweb exchange with a PACS.

Credentials come from SURGICAL_PLANNER_PACS_USER + SURGICAL_PLANNER_PACS_PASSWORD or
SURGICAL_PLANNER_PACS_TOKEN, or a config file (--config or SURGICAL_PLANNER_PACS_CONFIG); there is
deliberately no option to give them on the command line, where they would land in shell history.
``pull`` and ``push`` append "pacs_pull"/"pacs_push" events (UIDs and counts only, no patient identity) to
the audit log given by --audit or SURGICAL_PLANNER_AUDIT_LOG; without either nothing is audited.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

from ..governance.audit import AuditLog
from .client import PacsClient, connect_pacs
from .credentials import CredentialsError
from .pull import pull
from .push import PushInputError, push
from .remote import RemoteError, RetryPolicy

AUDIT_ENVIRONMENT = "SURGICAL_PLANNER_AUDIT_LOG"


def register(subparsers: argparse._SubParsersAction) -> None:
    pacs = subparsers.add_parser("pacs", help="search, pull from and push to a PACS over DICOMweb")
    commands = pacs.add_subparsers(dest="pacs_command", required=True, metavar="ACTION")

    search = _with_server_options(commands.add_parser("search", help="find studies (QIDO-RS)"))
    search.add_argument("--patient-id")
    search.add_argument("--study-date", help="YYYYMMDD or a range YYYYMMDD-YYYYMMDD")
    search.add_argument("--modality", help="e.g. CT")
    search.add_argument("--json", action="store_true", help="print JSON instead of a table")
    search.set_defaults(run=run_search)

    pull_parser = _with_server_options(commands.add_parser("pull", help="retrieve a study or series (WADO-RS) and load it"))
    pull_parser.add_argument("--study", required=True, help="StudyInstanceUID")
    pull_parser.add_argument("--series", help="SeriesInstanceUID (default: every series of the study)")
    pull_parser.add_argument("--output", required=True, help="new folder to write; must not exist")
    _with_audit_option(pull_parser).set_defaults(run=run_pull)

    push_parser = _with_server_options(commands.add_parser("push", help="store DICOM files (STOW-RS)"))
    push_parser.add_argument("files", nargs="+", help="DICOM files or folders")
    _with_audit_option(push_parser).set_defaults(run=run_push)


def _with_server_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("url", help="DICOMweb base URL, e.g. https://pacs.example.org/dicom-web")
    parser.add_argument("--config", help="JSON credentials file (mode 600); see docs/integration.md")
    parser.add_argument("--ca-bundle", help="CA certificate(s) to verify the server's TLS certificate with")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each answer (default 30)")
    parser.add_argument("--attempts", type=int, default=4, help="tries per request on transient faults (default 4)")
    return parser


def _with_audit_option(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--audit", metavar="LOG", help=f"audit log to record the transfer in (default: "
                                                       f"${AUDIT_ENVIRONMENT} when set, else none)")
    return parser


def _audit(args: argparse.Namespace, event: str, details: dict) -> None:
    """Record a transfer in --audit or $SURGICAL_PLANNER_AUDIT_LOG (when either is given)."""
    log = args.audit or os.environ.get(AUDIT_ENVIRONMENT)
    if log:
        AuditLog(Path(log)).append(event, f"surgical-planner pacs {event.removeprefix('pacs_')}", details)


def _client(args: argparse.Namespace) -> PacsClient:
    return connect_pacs(args.url, args.config, args.ca_bundle, args.timeout, RetryPolicy(attempts=max(1, args.attempts)))


def _reported(run):
    """Print our errors as one clear line and return a failure status instead of a traceback."""
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except (RemoteError, CredentialsError, PushInputError, FileExistsError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 3
    return wrapper


@_reported
def run_search(args: argparse.Namespace) -> int:
    studies = _client(args).search_studies(args.patient_id, args.study_date, args.modality)
    if args.json:
        print(json.dumps([asdict(s) for s in studies], indent=2))
        return 0
    print(f"{len(studies)} stud{'y' if len(studies) == 1 else 'ies'}")
    for study in studies:
        print(f"{study.study_instance_uid}  patient {study.patient_id or '-'}  date {study.study_date or '-'}  "
              f"{'/'.join(study.modalities) or '-'}  {study.series_count or '?'} series  {study.description}")
    return 0


@_reported
def run_pull(args: argparse.Namespace) -> int:
    def progress(done: int, total: int) -> None:
        print(f"\rretrieved {done}/{total} instances", end="", file=sys.stderr, flush=True)

    result = pull(_client(args), args.study, args.output, args.series, on_instance=progress)
    print(file=sys.stderr)
    _audit(args, "pacs_pull", {"study": args.study, "series": result.instances_per_series,
                               "instances": sum(result.instances_per_series.values())})
    volume = result.volume
    i, j, k = volume.shape_ijk
    print(f"pulled {sum(result.instances_per_series.values())} instance(s) of {len(result.instances_per_series)} "
          f"series into {result.output}")
    print(f"loaded CT {volume.identity.series_instance_uid}: {i} x {j} x {k} voxels, spacing "
          + " x ".join(f"{s:g}" for s in volume.spacing) + f" mm, frame {volume.frame}")
    return 0


@_reported
def run_push(args: argparse.Namespace) -> int:
    result = push(_client(args), args.files)
    _audit(args, "pacs_push", {"studies": list(result.studies), "instances": result.instances})
    print(f"stored {result.instances} instance(s) of {len(result.studies)} study(ies): {', '.join(result.studies)}")
    return 0
