"""The browser planner in a real browser: ``surgical-planner serve`` + Debian chromium (Playwright).

Screenshots of the page go to screenshot_dir() (docs/images when regenerating the docs: see web_harness).
"""

from __future__ import annotations

import json
import subprocess
import sys
from urllib.parse import urlparse
from urllib.request import urlopen

import pytest
from playwright.sync_api import Page, expect
from web_harness import (
    screenshot_dir,
    REPO_ROOT,
    THREED_VIEW_IMAGE,
    bone_fraction,
    chromium_browser,
    running_planner,
    wait_for_view,
)

IMAGES = screenshot_dir()
SAMPLE_BONES = 10
SESSION_LOAD_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def planner():
    with running_planner() as running:
        yield running


@pytest.fixture
def browser():
    with chromium_browser() as context:
        yield context


def open_session(browser, planner) -> Page:
    page = browser.new_page()
    page.goto(planner.url + "/", timeout=SESSION_LOAD_TIMEOUT_MS)
    return page


def segment_rows(page: Page):
    return page.get_by_test_id("segments-table").locator("tbody tr")


def test_page_opens_on_the_sample_and_the_3d_view_shows_bone(planner, browser, sample_ct_file):
    page = open_session(browser, planner)
    expect(page.get_by_test_id("case-name")).to_contain_text("sample", timeout=30_000)
    expect(segment_rows(page)).to_have_count(SAMPLE_BONES)
    expect(page.get_by_test_id("segments-table")).to_contain_text("hip_left")

    pixels = wait_for_view(page, THREED_VIEW_IMAGE, lambda rgb: bone_fraction(rgb) > 0.15)
    assert pixels.shape[0] > 300 and pixels.shape[1] > 300, "the 3D view is too small to read"
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.locator(THREED_VIEW_IMAGE).screenshot(path=IMAGES / "web_3d_view.png")
    page.screenshot(path=IMAGES / "web_planner_page.png")


def test_each_browser_session_has_its_own_scene(planner, browser, sample_ct_file):
    first, second = open_session(browser, planner), open_session(browser, planner)
    ports = {urlparse(page.url).port for page in (first, second)}
    assert len(ports) == 2, f"both pages went to one session: {first.url}, {second.url}"
    with urlopen(planner.url + "/sessions") as answer:
        live = {row["port"]: row for row in json.load(answer)}
    assert ports <= set(live), f"sessions {sorted(live)} do not list the pages' {sorted(ports)}"
    assert all(row["rss_mib"] > 100 for row in live.values())

    for page in (first, second):
        wait_for_view(page, THREED_VIEW_IMAGE, lambda rgb: bone_fraction(rgb) > 0.15)
    # A CT without bone segments, uploaded through the first page, replaces only the first page's scene.
    first.locator("input[type=file]").first.set_input_files(sample_ct_file)
    expect(first.get_by_test_id("case-name")).to_have_text(sample_ct_file.name, timeout=60_000)
    expect(segment_rows(first)).to_have_count(0)
    wait_for_view(first, THREED_VIEW_IMAGE, lambda rgb: bone_fraction(rgb) < 0.005)

    expect(segment_rows(second)).to_have_count(SAMPLE_BONES)
    assert bone_fraction(wait_for_view(second, THREED_VIEW_IMAGE, lambda rgb: True)) > 0.15


def test_serve_refuses_a_missing_case(tmp_path):
    missing = tmp_path / "no_such_ct.nii.gz"
    result = subprocess.run([sys.executable, "-m", "SurgicalAIPlannerLib", "serve", "--case", str(missing)],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert str(missing) in result.stderr
