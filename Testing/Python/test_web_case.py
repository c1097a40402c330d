"""The case side of the browser planner on the sample: AI segmentation with progress, landmarks, jump-to-point.

Real server (``surgical-planner serve``), Debian chromium through Playwright.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from playwright.sync_api import Page, expect
from web_harness import chromium_browser, open_page, running_planner, screenshot_dir, view_pixels

IMAGES = screenshot_dir()


def segment_names(page: Page) -> list[str]:
    return [row.locator("td").first.inner_text() for row in page.get_by_test_id("segments-table").locator("tbody tr").all()]


@pytest.fixture(scope="module")
def sample_page():
    with running_planner() as planner, chromium_browser() as browser:
        yield open_page(browser, planner.url)


def test_segmentation_runs_in_the_page_with_progress_and_replaces_the_bones(sample_page):
    page = sample_page
    expect(page.get_by_test_id("seg-device-note")).to_contain_text("cpu")  # no GPU on CI: said, not hidden
    reference = segment_names(page)
    assert "femur_left" in reference and len(reference) == 10

    page.get_by_test_id("seg-model").click()
    page.get_by_role("option", name="bone_ct_small").click()
    page.get_by_test_id("run-segmentation").click()
    expect(page.get_by_test_id("seg-progress")).to_be_visible(timeout=10_000)  # shown while it runs
    expect(page.get_by_test_id("run-segmentation")).to_be_disabled()
    expect(page.get_by_test_id("seg-message")).to_contain_text("bone_ct_small", timeout=120_000)
    expect(page.get_by_test_id("seg-progress")).to_have_count(0)

    request = "Right THA, 70 y/o woman, avoid LLD over 4 mm"
    page.get_by_role("textbox", name="Request").fill(request)
    page.get_by_test_id("seg-model").click()
    page.get_by_role("option", name="classical").click()
    page.get_by_test_id("run-segmentation").click()
    expect(page.get_by_test_id("seg-message")).to_contain_text("classical on cpu", timeout=120_000)
    found = segment_names(page)
    # The classical fallback's own bones replaced the reference ones (one table, no duplicates).
    assert {"hip_left", "hip_right", "femur_left", "femur_right"} <= set(found)
    assert len(found) == len(set(found))
    expect(page.get_by_role("textbox", name="Request")).to_have_value(request)  # the surgeon's words outlive new bones
    page.screenshot(path=IMAGES / "web_case_segmentation.png")


def test_landmarks_table_and_jump_to_point(sample_page):
    page = sample_page
    page.get_by_test_id("detect-landmarks").click()
    table = page.get_by_test_id("landmarks-table")
    expect(table).to_be_visible(timeout=120_000)
    expect(page.get_by_test_id("landmarks-message")).to_contain_text("landmarks found")
    head = table.locator("tr[data-name='femoral_head_center_left']")
    confidence = float(head.get_by_test_id("landmark-confidence").inner_text())
    assert 0.0 < confidence <= 1.0
    expect(head.get_by_test_id("landmark-edited")).to_have_text("")
    # The sample stops below the hips: knee landmarks are listed as missing, not invented.
    expect(table.locator("tr[data-name='femur_knee_center_left']").get_by_test_id("landmark-confidence")).to_have_text("missing")

    axial = page.locator("img.image-display-area").nth(1)
    shown = view_pixels(axial)
    table.locator("tr[data-name='ASIS_left']").click()
    at_asis = wait_until_changed(axial, shown)
    head.click()
    wait_until_changed(axial, at_asis)  # 77 mm lower: another axial slice


def wait_until_changed(view, before: np.ndarray, timeout_s: float = 30.0) -> np.ndarray:
    """The view's pixels once they differ clearly from ``before`` (the server re-renders and streams it)."""
    deadline = time.monotonic() + timeout_s
    while True:
        pixels = view_pixels(view)
        if pixels.shape == before.shape and np.abs(pixels.astype(int) - before.astype(int)).mean() > 5:
            return pixels
        assert time.monotonic() < deadline, "the slice views did not move to the landmark"
        time.sleep(0.25)
