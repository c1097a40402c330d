"""Every export of one plan with --deidentify, then a scan of every file written (DICOM, FHIR, report
HTML and PDF text, audit log) and of the console output for the source's identifying values."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pypdfium2
import pytest

from export_fixtures import DICOM_CT_BONES, SEG_ALGORITHM_VERSION, dicom_ct_labels_file, plan_dir, read_datasets  # noqa: F401
from integration_fixtures import (ct_series_with_uids, fhir_server, find_phi, phi_values)  # noqa: F401
from SurgicalAIPlannerLib.cli import main
from SurgicalAIPlannerLib.export.dicom_seg import Algorithm, build_segmentation
from SurgicalAIPlannerLib.export.dicom_sr import build_measurement_report
from SurgicalAIPlannerLib.export.plan_summary import load_plan_summary
from SurgicalAIPlannerLib.governance.audit import verify
from SurgicalAIPlannerLib.imaging import load_ct, load_labelmap


def pdf_text(path: Path) -> str:
    return " ".join(page.get_textpage().get_text_range() for page in pypdfium2.PdfDocument(str(path)))


def test_every_deidentified_export_is_free_of_phi(plan_dir, ct_series_with_uids, dicom_ct_labels_file,
                                                 sample_labels_file, fhir_server, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("SURGICAL_PLANNER_DEID_KEY", "e2e-key")
    ct_option = ["--ct", str(ct_series_with_uids), "--deidentify"]
    assert main(["report", str(plan_dir), "--segmentation", str(sample_labels_file), *ct_option]) == 0
    assert main(["export-fhir", str(plan_dir), "--server", fhir_server.base_url,
                 "--dicomweb-url", "https://pacs.example.org/dicom-web", *ct_option]) == 0

    deidentified = plan_dir / "exports" / "dicom-ct"
    assert main(["deidentify", str(ct_series_with_uids), str(deidentified)]) == 0
    sources = read_datasets(deidentified)
    ct, labels = load_ct(deidentified), load_labelmap(dicom_ct_labels_file)
    seg = build_segmentation(sources, ct, labels, DICOM_CT_BONES, Algorithm("TotalSegmentator", SEG_ALGORITHM_VERSION))
    sr = build_measurement_report(load_plan_summary(plan_dir), sources)
    seg.save_as(plan_dir / "exports" / "seg.dcm")
    sr.save_as(plan_dir / "exports" / "sr.dcm")
    console = capsys.readouterr()

    files = sorted(p for p in plan_dir.rglob("*") if p.is_file() and p.suffix != ".mrb")
    assert {p.name for p in files} >= {"report.html", "report.pdf", "fhir-bundle.json", "seg.dcm", "sr.dcm", "audit.jsonl"}
    values = phi_values(ct_series_with_uids)
    text_of = lambda path: pdf_text(path) if path.suffix == ".pdf" else path.read_bytes()  # noqa: E731
    assert find_phi(files, values, text_of) == []
    console_file = tmp_path / "console.txt"
    console_file.write_text(console.out + console.err)
    assert find_phi([console_file], values) == []

    bundle = json.loads((plan_dir / "exports" / "fhir-bundle.json").read_text())
    patient = bundle["entry"][0]["resource"]
    assert patient["identifier"][0]["system"] == "urn:surgical-planner:pseudonym" and "name" not in patient
    study = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ImagingStudy")
    assert study["identifier"][0]["value"] == f"urn:oid:{sources[0].StudyInstanceUID}"
    assert seg.PatientID == sources[0].PatientID == patient["identifier"][0]["value"]
    assert "DRAFT" in pdf_text(plan_dir / "exports" / "report.pdf")
    assert pydicom.dcmread(plan_dir / "exports" / "sr.dcm").CompletionFlag == "PARTIAL"
    assert verify(plan_dir / "audit.jsonl").ok

    # The scan does find identity where it is: the same report without --deidentify names the patient.
    assert main(["report", str(plan_dir), "--ct", str(ct_series_with_uids)]) == 0
    hits = find_phi([plan_dir / "exports" / "report.pdf"], values, text_of)
    assert any("SPL-PID-48213" in hit for hit in hits)


def test_export_fhir_refuses_a_plan_without_dicom_study(plan_dir, fhir_server, capsys):
    assert main(["export-fhir", str(plan_dir), "--server", fhir_server.base_url]) == 2
    assert "not a DICOM CT, so there is no study to reference" in capsys.readouterr().err
