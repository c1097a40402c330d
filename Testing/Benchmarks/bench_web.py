"""`make bench-web`: the browser planner's start-up time and memory, measured through a real browser.

- serve → first 3D frame: from starting ``surgical-planner serve`` until Debian's chromium shows bone pixels in
  the page's 3D view (launcher start, session process start with the sample loaded, first streamed frame).
- open page → first 3D frame: the same for a further session on a running server.
- memory per open session: resident memory of each session process while its page is open (``/sessions``),
  and of the launcher.
- plan edit round trip: on a proposed plan, from a new cup inclination typed into the page's number field until
  the page's metrics table shows the recomputed inclination (server round trip: state sync, ``set_cup_orientation``,
  MRML observers, metrics, state back), timed inside the browser; median and p95 of ``EDITS`` edits made
  ``IDLE_PAUSE_S`` apart, and of as many made back to back (each then waits for the previous render and autosave).
- drag round trip: the cup's translation arrow (Slicer's interaction handle) pressed in the page's 3D view and
  dragged in ``DRAG_STEPS`` moves of ``DRAG_STEP_PX`` pixels; per move, from the browser's mouse move until the
  page's metrics table shows new values (pointer event to the server, VTK widget, transform node, MRML observers,
  metrics, state back), timed from Python around Playwright (a few ms of its own overhead included).
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

from web_harness import (  # noqa: E402
    THREED_VIEW_IMAGE,
    arrow_grip,
    bone_fraction,
    chromium_browser,
    handle_patches,
    press_on,
    running_planner,
    wait_for_view,
)

from SurgicalAIPlannerLib.web.launcher import resident_memory_mib  # noqa: E402

SERVE_RUNS = 2
OPEN_SESSIONS = 3
EDITS = 20
IDLE_PAUSE_S = 2.0
DRAG_STEPS = 20
DRAG_STEP_PX = 3.0
METRICS_BODY = "[data-testid='metrics-table'] tbody"
REQUEST = "Total hip arthroplasty, left, 12 mm press-fit stem, avoid leg length discrepancy > 5 mm"
# In the page: type an inclination, resolve with the milliseconds until the metrics table shows it.
TIME_EDIT_JS = """async (value) => {
  const input = document.querySelector("[data-testid='cup-inclination'] input");
  const table = document.querySelector("[data-testid='metrics-table'] tbody");
  const expected = value.toFixed(1) + " deg";
  const shown = () => table.querySelector("tr[data-key='cup_inclination'] [data-testid='metric-value']").textContent.trim() === expected;
  const started = performance.now();
  const done = new Promise(resolve => {
    const observer = new MutationObserver(() => { if (shown()) { observer.disconnect(); resolve(performance.now() - started); } });
    observer.observe(table, {subtree: true, childList: true, characterData: true});
  });
  input.value = String(value);
  input.dispatchEvent(new Event("input", {bubbles: true}));
  return await done;
}"""


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


def open_proposed_plan(browser, url: str):
    """A page on a new session with the plan proposed on the sample."""
    page = browser.new_page()
    page.goto(url + "/", timeout=180_000)
    wait_for_view(page, THREED_VIEW_IMAGE, shows_bone, timeout_s=180)
    page.get_by_role("textbox", name="Request").fill(REQUEST)
    page.get_by_test_id("propose-plan").click()
    page.locator("tr[data-key='cup_inclination']").wait_for(timeout=60_000)
    return page


def drag_round_trips() -> list[float]:
    """Milliseconds from each mouse move of a drag on the cup's arrow handle to new values in the metrics table."""
    with running_planner() as planner, chromium_browser() as browser:
        page = open_proposed_plan(browser, planner.url)
        page.get_by_test_id("handles-neckCut").click()  # only the cup's handles: nothing else to grab by mistake
        view = page.locator(THREED_VIEW_IMAGE)
        grip, direction = arrow_grip(wait_for_view(page, THREED_VIEW_IMAGE, lambda rgb: handle_patches(rgb, "green")),
                                     "green")
        x, y = press_on(page, view, grip)
        times = []
        for step in range(1, DRAG_STEPS + 1):
            shown = page.locator(METRICS_BODY).text_content()
            started = time.perf_counter()
            page.mouse.move(x + step * DRAG_STEP_PX * direction[0], y + step * DRAG_STEP_PX * direction[1])
            page.wait_for_function("([selector, old]) => document.querySelector(selector).textContent !== old",
                                   arg=[METRICS_BODY, shown], polling="raf", timeout=20_000)
            times.append(1000 * (time.perf_counter() - started))
        page.mouse.up()
        return times


def plan_edit_round_trips(pause_s: float) -> list[float]:
    """Milliseconds from a cup inclination typed in the page to the metrics table showing it, ``EDITS`` times,
    ``pause_s`` apart (a pause longer than the autosave delay + save lets each edit find the session idle)."""
    with running_planner() as planner, chromium_browser() as browser:
        page = open_proposed_plan(browser, planner.url)
        # Distinct values in and out of Lewinnek's zone, never the one shown (that would be no edit).
        values = [35.0 + 1.5 * (i % 14) + (0.5 if i >= 14 else 0.0) for i in range(EDITS)]
        times = []
        for value in values:
            page.wait_for_timeout(pause_s * 1000)
            times.append(page.evaluate(TIME_EDIT_JS, value))
        return times


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    edits_ms = plan_edit_round_trips(IDLE_PAUSE_S)
    rapid_ms = plan_edit_round_trips(0.0)
    drag_ms = drag_round_trips()
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
        "plan_edit_round_trip_ms_median": round(statistics.median(edits_ms), 1),
        "plan_edit_round_trip_ms_p95": round(percentile(edits_ms, 0.95), 1),
        "plan_edit_round_trip_ms": [round(t, 1) for t in edits_ms],
        "plan_edit_back_to_back_ms_median": round(statistics.median(rapid_ms), 1),
        "plan_edit_back_to_back_ms_p95": round(percentile(rapid_ms, 0.95), 1),
        "drag_move_round_trip_ms_median": round(statistics.median(drag_ms), 1),
        "drag_move_round_trip_ms_p95": round(percentile(drag_ms, 0.95), 1),
        "drag_move_round_trip_ms": [round(t, 1) for t in drag_ms],
    }
    print(f"serve -> first 3D frame in the browser: {figures['serve_to_first_3d_frame_s']} s "
          f"(median of {SERVE_RUNS}: {figures['serve_to_first_3d_frame_runs_s']})")
    print(f"open page -> first 3D frame (server running): {figures['open_page_to_first_3d_frame_s']} s")
    print(f"memory per open session (RSS, {figures['open_sessions']} open): median {figures['session_rss_mib_median']} MiB "
          f"{figures['session_rss_mib']}; launcher {figures['launcher_rss_mib']} MiB")
    print(f"plan edit (cup inclination typed) -> metrics shown in the page: median "
          f"{figures['plan_edit_round_trip_ms_median']} ms, p95 {figures['plan_edit_round_trip_ms_p95']} ms ({EDITS} edits "
          f"{IDLE_PAUSE_S} s apart); back to back: median {figures['plan_edit_back_to_back_ms_median']} ms, "
          f"p95 {figures['plan_edit_back_to_back_ms_p95']} ms")
    print(f"drag of the cup's arrow handle in the 3D view, per mouse move -> new metrics in the page: median "
          f"{figures['drag_move_round_trip_ms_median']} ms, p95 {figures['drag_move_round_trip_ms_p95']} ms "
          f"({DRAG_STEPS} moves of {DRAG_STEP_PX:g} px)")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
