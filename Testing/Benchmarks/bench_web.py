"""`make bench-web`: the browser planner's start-up time and memory, measured through a real browser.

- serve → first 3D frame: from starting ``surgical-planner serve`` until Debian's chromium shows bone pixels in
  the page's 3D view (launcher start, session process start with the sample loaded, first streamed frame).
- open page → first 3D frame: the same for a further session on a running server.
- memory per open session: resident memory of each session process while its page is open (``/sessions``),
  and of the launcher.
Prints the figures and ends with one line of JSON.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from urllib.request import urlopen

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "Testing" / "Python"))

from web_harness import THREED_VIEW_IMAGE, bone_fraction, chromium_browser, running_planner, wait_for_view  # noqa: E402

from SurgicalAIPlannerLib.web.launcher import resident_memory_mib  # noqa: E402

SERVE_RUNS = 2
OPEN_SESSIONS = 3


def shows_bone(rgb) -> bool:
    return bone_fraction(rgb) > 0.15


def open_until_first_frame(browser, url: str) -> float:
    """Seconds from asking for the page until its 3D view shows bone."""
    started = time.monotonic()
    page = browser.new_page()
    page.goto(url + "/", timeout=180_000)
    wait_for_view(page, THREED_VIEW_IMAGE, shows_bone, timeout_s=180)
    return time.monotonic() - started


def serve_to_first_frame() -> float:
    with running_planner() as planner, chromium_browser() as browser:
        page = browser.new_page()
        page.goto(planner.url + "/", timeout=180_000)
        wait_for_view(page, THREED_VIEW_IMAGE, shows_bone, timeout_s=180)
        return time.monotonic() - planner.started_at


def sessions_memory() -> dict:
    with running_planner() as planner, chromium_browser() as browser:
        page_times = [open_until_first_frame(browser, planner.url) for _ in range(OPEN_SESSIONS)]
        with urlopen(planner.url + "/sessions") as answer:
            sessions = json.load(answer)
        return {"page_to_first_frame_s": page_times, "session_rss_mib": [row["rss_mib"] for row in sessions],
                "launcher_rss_mib": resident_memory_mib(planner.process.pid)}


def main() -> int:
    serve_times = [serve_to_first_frame() for _ in range(SERVE_RUNS)]
    memory = sessions_memory()
    figures = {
        "serve_to_first_3d_frame_s": round(statistics.median(serve_times), 2),
        "serve_to_first_3d_frame_runs_s": [round(t, 2) for t in serve_times],
        "open_page_to_first_3d_frame_s": round(statistics.median(memory["page_to_first_frame_s"]), 2),
        "open_sessions": len(memory["session_rss_mib"]),
        "session_rss_mib_median": round(statistics.median(memory["session_rss_mib"]), 1),
        "session_rss_mib": memory["session_rss_mib"],
        "launcher_rss_mib": round(memory["launcher_rss_mib"], 1),
    }
    print(f"serve -> first 3D frame in the browser: {figures['serve_to_first_3d_frame_s']} s "
          f"(median of {SERVE_RUNS}: {figures['serve_to_first_3d_frame_runs_s']})")
    print(f"open page -> first 3D frame (server running): {figures['open_page_to_first_3d_frame_s']} s")
    print(f"memory per open session (RSS, {figures['open_sessions']} open): median {figures['session_rss_mib_median']} MiB "
          f"{figures['session_rss_mib']}; launcher {figures['launcher_rss_mib']} MiB")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
