"""``surgical-planner serve``: the browser planner (``make serve``)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="serve the browser planner; each browser session gets its own scene")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=8080, help="port of the page (default: 8080)")
    parser.add_argument("--case", help="CT to open in each session (DICOM folder or image file); default: the bundled sample")
    parser.add_argument("--idle-timeout", type=int, default=300,
                        help="seconds a session is kept with no browser connected (default: 300)")
    parser.add_argument("--plans-dir", help="folder for the sessions' autosaved plans, one sub-folder per session "
                        "(default: ~/SurgicalAIPlanner/web-plans)")
    parser.add_argument("--pacs-url", default="", help="DICOMweb base URL of a PACS the page may search and pull from; "
                        "credentials from SURGICAL_PLANNER_PACS_USER/_PASSWORD, _TOKEN or _CONFIG (never the page)")
    parser.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from .launcher import DEFAULT_PLANS_DIR, SessionLauncher

    case = Path(args.case).resolve() if args.case else None
    if case is not None and not case.exists():
        raise FileNotFoundError(f"{case}: no such CT file or DICOM folder")
    plans_dir = Path(args.plans_dir).resolve() if args.plans_dir else DEFAULT_PLANS_DIR
    if args.pacs_url:
        from ..pacs.remote import check_url

        check_url(args.pacs_url)  # a malformed URL (or one with credentials in it) stops here, not in the page
    launcher = SessionLauncher(args.host, case, args.idle_timeout, plans_dir, args.pacs_url)
    print(f"Surgical AI Planner: open http://{args.host}:{args.port}/ (one session per page load)", flush=True)
    web.run_app(launcher.web_app(), host=args.host, port=args.port, print=None)
    return 0
