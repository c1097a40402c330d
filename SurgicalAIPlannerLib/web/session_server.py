"""One browser session's server process: ``python -m SurgicalAIPlannerLib.web.session_server --port N [--case P]``.

The launcher (``surgical-planner serve``) starts one of these per browser session, so each session has its own
MRML scene, views and render windows (Slicer's displayable-manager factories are process-wide singletons, so
two scenes cannot share one process). trame's own options apply: ``--host``, ``--port``, ``--timeout`` (seconds
without a connected browser before the process exits).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from trame.app import get_server

from .launcher import DEFAULT_PLANS_DIR, READY_LINE


def session_plan_dir(plans_dir: Path) -> Path:
    """This session's own folder: start time and process id, so concurrent sessions never share one."""
    return plans_dir / f"session-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    logging.getLogger("SurgicalAIPlannerLib").setLevel(logging.INFO)
    # No X server here: ask VTK for EGL directly instead of trying X first (Mesa renders without a GPU).
    os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    from .app import PlannerWebApp

    server = get_server(client_type="vue3")
    server.cli.add_argument("--case", help="CT to open (DICOM folder or image file); the bundled sample when absent")
    server.cli.add_argument("--plans-dir", default=str(DEFAULT_PLANS_DIR),
                            help="folder that receives one sub-folder of autosaved plan files per session")
    server.cli.add_argument("--pacs-url", default="", help="DICOMweb base URL of the PACS the page searches and pulls from")
    args, _ = server.cli.parse_known_args()
    app = PlannerWebApp(server, session_plan_dir(Path(args.plans_dir)), args.pacs_url)
    if args.case:
        app.open_case(args.case)
    else:
        app.open_sample()
    # The launcher waits for this line before sending the browser here.
    server.controller.on_server_ready.add(lambda **_: print(READY_LINE, flush=True))
    server.start(open_browser=False, show_connection_info=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
