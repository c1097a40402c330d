"""The plan in the browser planner: propose, read the metrics, edit the cup, undo, sign, download, autosave.

Real server (``surgical-planner serve``), Debian chromium through Playwright, pixels of the streamed 3D view.
Screenshots go to screenshot_dir() (docs/images when regenerating the docs: see web_harness).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from web_harness import (
    screenshot_dir,
    THREED_VIEW_IMAGE,
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
