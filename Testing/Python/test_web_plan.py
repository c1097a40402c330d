"""The plan in the browser planner: propose, read the metrics, edit the cup, undo, sign, download, autosave.

Real server (``surgical-planner serve``), Debian chromium through Playwright, pixels of the streamed 3D view.
Screenshots go to screenshot_dir() (docs/images when regenerating the docs: see web_harness).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Page, expect
from web_harness import (
    screenshot_dir,
    THREED_VIEW_IMAGE,
    arrow_grip,
    drag_in_view,
    handle_patches,
    bone_fraction,
    chromium_browser,
    implant_fraction,
    running_planner,
    view_pixels,
    wait_for_view,
)

IMAGES = screenshot_dir()
REQUEST = "Total hip arthroplasty, left, 12 mm press-fit stem, avoid leg length discrepancy > 5 mm"
SESSION_LOAD_TIMEOUT_MS = 120_000
SHOWS_IMPLANTS = 0.002  # share of the 3D view; the proposed plan on the sample covers about ten times more


@pytest.fixture(scope="module")
def plans_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("web-plans")


@pytest.fixture(scope="module")
def page(plans_dir):
    with running_planner("--plans-dir", str(plans_dir)) as planner, chromium_browser() as browser:
        page = browser.new_page()
        page.goto(planner.url + "/", timeout=SESSION_LOAD_TIMEOUT_MS)
        yield page


def metric(page: Page, key: str):
    """The metrics table's row of ``key``: (value cell, status cell)."""
    row = page.get_by_test_id("metrics-table").locator(f"tr[data-key='{key}']")
    return row.get_by_test_id("metric-value"), row.get_by_test_id("metric-status")


def set_field(page: Page, testid: str, value: str) -> None:
    field = page.get_by_test_id(testid).locator("input")
    field.fill(value)
    field.press("Tab")


def saved_plan(plans_dir: Path) -> dict:
    (session_dir,) = plans_dir.iterdir()
    return json.loads((session_dir / "tha_plan.json").read_text())


def wait_saved(plans_dir: Path, accept, timeout_s: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            document = saved_plan(plans_dir)
            if accept(document):
                return document
        except (ValueError, FileNotFoundError):
            pass  # not written yet
        if time.monotonic() > deadline:
            raise AssertionError("the autosaved plan did not show the change")
        time.sleep(0.2)


def saved_inclination(document: dict) -> float:
    return next(m["value"] for m in document["metrics"] if m["key"] == "cup_inclination")


def test_propose_edit_undo_sign_download(page, plans_dir):
    before = wait_for_view(page, THREED_VIEW_IMAGE, lambda rgb: bone_fraction(rgb) > 0.15)
    assert implant_fraction(before) < SHOWS_IMPLANTS / 10, "implant-coloured pixels before any plan"
    expect(page.get_by_test_id("metrics-table")).to_have_count(0)

    page.get_by_role("textbox", name="Request").fill(REQUEST)
    page.get_by_test_id("propose-plan").click()
    inclination, _ = metric(page, "cup_inclination")
    expect(inclination).to_have_text("40.0 deg", timeout=60_000)
    _, lewinnek = metric(page, "lewinnek_safe_zone")
    expect(lewinnek).to_have_text("ok")
    expect(page.get_by_test_id("plan-understanding")).to_contain_text("12 mm press-fit")
    expect(page.get_by_test_id("plan-decisions")).to_contain_text("GEN-CUP-54")
    expect(page.get_by_test_id("plan-status")).to_contain_text("proposed")
    pixels = wait_for_view(page, THREED_VIEW_IMAGE, lambda rgb: implant_fraction(rgb) > SHOWS_IMPLANTS)
    view_pixels(page.locator(THREED_VIEW_IMAGE), IMAGES / "web_plan_3d_proposed.png")
    assert implant_fraction(pixels) > SHOWS_IMPLANTS

    # The cup inclination through the page's number field: the metrics follow, outside Lewinnek's zone.
    set_field(page, "cup-inclination", "55")
    expect(inclination).to_have_text("55.0 deg", timeout=20_000)
    expect(lewinnek).to_have_text("warning")
    expect(page.get_by_test_id("metrics-table").locator("tr[data-key='lewinnek_safe_zone']")).to_have_class(
        "bg-amber-darken-3")
    assert saved_inclination(wait_saved(plans_dir, lambda d: abs(saved_inclination(d) - 55) < 0.05)) == pytest.approx(55, abs=0.05)
    page.screenshot(path=IMAGES / "web_plan_page.png")
    page.locator("tr[data-key='lewinnek_safe_zone']").scroll_into_view_if_needed()
    page.screenshot(path=IMAGES / "web_plan_metrics.png")

    page.get_by_test_id("undo").click()
    expect(inclination).to_have_text("40.0 deg", timeout=20_000)
    expect(lewinnek).to_have_text("ok")
    expect(page.get_by_test_id("cup-inclination").locator("input")).to_have_value("40")
    page.get_by_test_id("redo").click()
    expect(inclination).to_have_text("55.0 deg", timeout=20_000)

    # Sign-off: named surgeon -> "signed"; the downloaded JSON is the signed plan as shown.
    page.get_by_test_id("surgeon-name").locator("input").fill("Dr. A. Test")
    page.get_by_test_id("sign-plan").click()
    expect(page.get_by_test_id("plan-status")).to_contain_text("signed, signed by Dr. A. Test", timeout=20_000)
    with page.expect_download() as download:
        page.get_by_test_id("download-json").click()
    document = json.loads(Path(download.value.path()).read_text())
    assert saved_inclination(document) == pytest.approx(55, abs=0.05)
    with page.expect_download() as scene:
        page.get_by_test_id("download-mrb").click()
    assert Path(scene.value.path()).read_bytes()[:2] == b"PK"  # .mrb is a zip

    # A change after signing makes the plan "proposed" again (the signature no longer matches the file).
    set_field(page, "cup-anteversion", "20")
    expect(metric(page, "cup_anteversion")[0]).to_have_text("20.0 deg", timeout=20_000)
    expect(page.get_by_test_id("plan-status")).to_have_text("Plan: proposed", timeout=20_000)


def test_implant_choice_from_the_catalog(page):
    """Runs after the test above on the same page: a smaller cup changes the coverage."""
    coverage, _ = metric(page, "cup_coverage")
    expect(coverage).not_to_have_text("")
    shown = coverage.inner_text()
    page.get_by_test_id("cup-id").click()
    page.get_by_role("option", name="GEN-CUP-48").click()
    expect(coverage).not_to_have_text(shown, timeout=20_000)
    expect(page.get_by_test_id("cup-id")).to_contain_text("GEN-CUP-48")


def metric_value(page: Page, key: str) -> float:
    return float(metric(page, key)[0].inner_text().split()[0])


def show_only_handles(page: Page, role: str) -> None:
    """Toggle the page's handle buttons so that only ``role`` (cup, stem, neckCut) shows handles."""
    for button_role in ("cup", "stem", "neckCut"):
        button = page.get_by_test_id(f"handles-{button_role}")
        if ("v-btn--active" in (button.get_attribute("class") or "")) != (button_role == role):
            button.click()


def test_drag_handles_in_the_3d_view(page, plans_dir):
    """Runs after the tests above on the same page (a proposed left THA). Anterior view: the patient's left is
    the screen's right, so a drag of the cup to the screen's left and down is medial and inferior."""
    view = page.locator(THREED_VIEW_IMAGE)
    show_only_handles(page, "cup")
    before = {key: metric_value(page, key) for key in ("cor_shift_lateral", "cor_shift_superior")}
    start, direction = arrow_grip(wait_for_view(page, THREED_VIEW_IMAGE, lambda rgb: handle_patches(rgb, "green")), "green")
    shift = 40 * direction
    undo = page.get_by_test_id("undo")
    expect(undo).to_be_enabled()  # the edits of the tests above
    # While the button is down, undo waits: queued drag steps would otherwise move the cup again after it.
    drag_in_view(page, view, start, shift, while_pressed=lambda: expect(undo).to_be_disabled(timeout=20_000))
    lateral, superior = metric(page, "cor_shift_lateral")[0], metric(page, "cor_shift_superior")[0]
    expect(lateral).not_to_have_text(f"{before['cor_shift_lateral']:.1f} mm", timeout=20_000)
    moved_lateral = metric_value(page, "cor_shift_lateral") - before["cor_shift_lateral"]
    moved_superior = metric_value(page, "cor_shift_superior") - before["cor_shift_superior"]
    if abs(shift[0]) > 10:  # screen right = patient's left = lateral for a left hip
        assert np.sign(moved_lateral) == np.sign(shift[0]), (moved_lateral, shift)
    if abs(shift[1]) > 10:  # screen down = inferior
        assert np.sign(moved_superior) == -np.sign(shift[1]), (moved_superior, shift)
    assert np.hypot(moved_lateral, moved_superior) > 3.0
    view_pixels(view, IMAGES / "web_plan_3d_dragged.png")
    saved = wait_saved(plans_dir, lambda d: abs(next(m["value"] for m in d["metrics"] if m["key"] == "cor_shift_lateral")
                                                 - before["cor_shift_lateral"]) > 1.0)
    assert saved["metrics"]

    undo.click()  # the drag is one undo step; the click waits for the release to re-enable the button
    expect(lateral).to_have_text(f"{before['cor_shift_lateral']:.1f} mm", timeout=20_000)
    expect(superior).to_have_text(f"{before['cor_shift_superior']:.1f} mm")

    # The neck cut moved along its normal by the blue arrow: the cut height follows.
    show_only_handles(page, "neckCut")
    height = metric(page, "neck_cut_height")[0]
    shown = height.inner_text()
    start, direction = arrow_grip(wait_for_view(page, THREED_VIEW_IMAGE, lambda rgb: handle_patches(rgb, "blue")), "blue")
    view_pixels(view, IMAGES / "web_plan_3d_neck_cut_handles.png")
    drag_in_view(page, view, start, 25 * direction)
    expect(height).not_to_have_text(shown, timeout=20_000)


def test_report_is_made_and_downloaded_from_the_page(page):
    """Runs after the tests above: the edited plan is unsigned, so the report says it is a draft."""
    page.get_by_test_id("make-report").click()
    expect(page.get_by_test_id("report-message")).to_contain_text("report written", timeout=180_000)
    expect(page.get_by_test_id("report-message")).to_contain_text("DRAFT")
    with page.expect_download() as report:
        page.get_by_test_id("download-report-pdf").click()
    assert Path(report.value.path()).read_bytes()[:5] == b"%PDF-"
