"""The browser planner's PACS: search and pull a study in the page, errors said in the page.

Real server (``surgical-planner serve --pacs-url``), real Orthanc with authentication, Debian chromium.
"""

from __future__ import annotations

from pathlib import Path

from integration_fixtures import ORTHANC_PASSWORD, ORTHANC_USER, SOURCE_PHI, ct_series_with_uids, orthanc  # noqa: F401
from playwright.sync_api import expect
from web_harness import chromium_browser, open_page, running_planner, screenshot_dir

from SurgicalAIPlannerLib.pacs import Credentials, PacsClient, push

IMAGES = screenshot_dir()


def store_test_study(orthanc_server, series_folder: Path) -> None:
    push(PacsClient(orthanc_server.dicomweb_url, Credentials(ORTHANC_USER, ORTHANC_PASSWORD)), [series_folder])


def test_pull_a_study_from_the_pacs_in_the_page(orthanc, ct_series_with_uids, tmp_path, monkeypatch):
    store_test_study(orthanc, ct_series_with_uids)
    monkeypatch.setenv("SURGICAL_PLANNER_PACS_USER", ORTHANC_USER)  # the serve process's environment, not the page
    monkeypatch.setenv("SURGICAL_PLANNER_PACS_PASSWORD", ORTHANC_PASSWORD)
    plans = tmp_path / "plans"
    with running_planner("--pacs-url", orthanc.dicomweb_url, "--plans-dir", str(plans)) as planner, \
            chromium_browser() as browser:
        page = open_page(browser, planner.url)
        expect(page.get_by_test_id("pacs")).to_contain_text(orthanc.dicomweb_url)
        page.get_by_test_id("pacs-patient-id").locator("input").fill(SOURCE_PHI["PatientID"])
        page.get_by_test_id("pacs-search").click()
        studies = page.get_by_test_id("pacs-studies").locator("tbody tr")
        expect(studies).to_have_count(1, timeout=20_000)
        expect(studies.first).to_contain_text(SOURCE_PHI["PatientID"])

        studies.first.get_by_test_id("pacs-pull").click()
        expect(page.get_by_test_id("pacs-message")).to_contain_text("pulled 20 instances", timeout=60_000)
        expect(page.get_by_test_id("case-name")).to_contain_text("PACS")
        expect(page.get_by_test_id("segments-table").locator("tbody tr")).to_have_count(0)  # a new case: no bones yet
        (session_dir,) = plans.iterdir()
        (pulled,) = (session_dir / "inputs").iterdir()
        assert len(list(pulled.glob("**/*.dcm"))) == 20
        page.screenshot(path=IMAGES / "web_case_pacs.png")


def test_a_wrong_pacs_password_is_said_in_the_page(orthanc, tmp_path, monkeypatch):
    monkeypatch.setenv("SURGICAL_PLANNER_PACS_USER", ORTHANC_USER)
    monkeypatch.setenv("SURGICAL_PLANNER_PACS_PASSWORD", "not-the-password")
    with running_planner("--pacs-url", orthanc.dicomweb_url, "--plans-dir", str(tmp_path)) as planner, \
            chromium_browser() as browser:
        page = open_page(browser, planner.url)
        page.get_by_test_id("pacs-search").click()
        expect(page.get_by_test_id("pacs-error")).to_contain_text("401", timeout=20_000)
        expect(page.get_by_test_id("pacs-studies")).to_have_count(0)
