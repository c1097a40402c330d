"""Fixtures for the hospital-integration tests (PACS, export, governance): real servers and UID-fixed data.

Test modules import what they use: ``from integration_fixtures import orthanc, ct_series_with_uids``.

The shared DICOM series is anonymised with EMPTY Study/Series/SOP Instance UIDs (and an empty
SOPClassUID), so no PACS can file it. ``write_series_with_uids`` makes the documented, deterministic
fix: copies whose UIDs derive from fixed seeds (same UIDs on every run), and whose patient fields carry
made-up identity values (``SOURCE_PHI``), so de-identification tests have something to remove.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import CTImageStorage, generate_uid

from conftest import TOTALSEG_DIR, _existing

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Servers"))
from fhir_server import FhirServer, start_fhir_server  # noqa: E402
from orthanc_server import OrthancServer, start_orthanc  # noqa: E402

ORTHANC_USER = "planner-test"
ORTHANC_PASSWORD = "s3cret-Orthanc-pw-6d1f"

# Made-up identity written into the test copies; no exported file may contain any of these.
SOURCE_PHI = {
    "PatientName": "Probandin^Erika^Maria",
    "PatientID": "SPL-PID-48213",
    "PatientBirthDate": "19530417",
    "AccessionNumber": "ACC7781TEST",
    "ReferringPhysicianName": "Zuweiser^Hans",
    "InstitutionName": "Kantonsspital Testhausen",
    "OperatorsName": "Radiograph^Lea",
}
# Identifying values the source files already carry (not patient fields, still PS3.15 "remove").
SOURCE_SITE_VALUES = ("Petersgraben", "PETCT2")
STUDY_UID = generate_uid(entropy_srcs=["surgical-planner-tests", "example_ct_dicom", "study"])
SERIES_UID = generate_uid(entropy_srcs=["surgical-planner-tests", "example_ct_dicom", "series"])


def write_series_with_uids(source: Path, target: Path, phi: dict[str, str] = SOURCE_PHI) -> list[Path]:
    """Copies of every file in ``source`` with deterministic UIDs and ``phi`` filled in; returns the new files."""
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(p for p in source.iterdir() if p.is_file()):
        dataset = pydicom.dcmread(path)
        sop_uid = generate_uid(entropy_srcs=["surgical-planner-tests", "example_ct_dicom", path.name])
        dataset.SOPClassUID = CTImageStorage
        dataset.SOPInstanceUID = sop_uid
        dataset.StudyInstanceUID = STUDY_UID
        dataset.SeriesInstanceUID = SERIES_UID
        dataset.FrameOfReferenceUID = generate_uid(entropy_srcs=["surgical-planner-tests", "example_ct_dicom", "frame"])
        dataset.file_meta.MediaStorageSOPClassUID = CTImageStorage
        dataset.file_meta.MediaStorageSOPInstanceUID = sop_uid
        for keyword, value in phi.items():
            setattr(dataset, keyword, value)
        out = target / f"{sop_uid}.dcm"
        dataset.save_as(out, enforce_file_format=True)
        written.append(out)
    return written


@pytest.fixture(scope="session")
def ct_series_with_uids(tmp_path_factory) -> Path:
    """The real 20-slice CT series, UID-fixed (see module doc); read-only use, shared by all tests."""
    folder = tmp_path_factory.mktemp("ct_with_uids")
    write_series_with_uids(_existing(TOTALSEG_DIR / "example_ct_dicom"), folder)
    return folder


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory) -> OrthancServer:
    """One real Orthanc per test module (authentication on); tests that stop it use ``own_orthanc``."""
    server = start_orthanc(tmp_path_factory.mktemp("orthanc"), ORTHANC_USER, ORTHANC_PASSWORD)
    yield server
    server.stop()


@pytest.fixture
def own_orthanc(tmp_path) -> OrthancServer:
    server = start_orthanc(tmp_path / "orthanc", ORTHANC_USER, ORTHANC_PASSWORD)
    yield server
    server.stop()


@pytest.fixture
def pacs_credentials(monkeypatch) -> None:
    """The Orthanc account, given the way users give it: through the environment."""
    monkeypatch.setenv("SURGICAL_PLANNER_PACS_USER", ORTHANC_USER)
    monkeypatch.setenv("SURGICAL_PLANNER_PACS_PASSWORD", ORTHANC_PASSWORD)
    monkeypatch.delenv("SURGICAL_PLANNER_PACS_TOKEN", raising=False)


@pytest.fixture(scope="module")
def fhir_server(tmp_path_factory) -> FhirServer:
    server = start_fhir_server(tmp_path_factory.mktemp("fhir"))
    yield server
    server.stop()


def phi_values(source_folder: Path) -> set[str]:
    """What must not appear in any de-identified output: the made-up identity (and each name part), the
    site values, and every data UID of the source files (PS3.15 replaces them)."""
    values = {v for v in SOURCE_PHI.values()} | set(SOURCE_SITE_VALUES)
    values |= {part for v in SOURCE_PHI.values() for part in v.split("^") if len(part) > 3}
    for path in source_folder.iterdir():
        dataset = pydicom.dcmread(path, stop_before_pixels=True)
        dataset.walk(lambda ds, element: values.add(str(element.value))
                     if element.VR == "UI" and element.value and not str(element.value).startswith("1.2.840.10008.")
                     else None)
    return values


def find_phi(paths: list[Path], values: set[str], text_of=lambda path: path.read_bytes()) -> list[str]:
    """'file: value' for every value found in the bytes (or extracted text) of each file."""
    hits = []
    for path in paths:
        content = text_of(path)
        content = content if isinstance(content, bytes) else content.encode()
        hits += [f"{path}: {value}" for value in sorted(values) if value.encode() in content]
    return hits
