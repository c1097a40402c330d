"""``surgical-planner export-dicom`` end to end: a real plan, the real CT (UID-fixed copy) and its label map,
SEG and SR written into PLAN_DIR/exports, stored at a real Orthanc and read back, audited."""

from __future__ import annotations

import json
from pathlib import Path

import highdicom as hd
import pydicom

from export_fixtures import DICOM_CT_BONES, dicom_ct_labels_file, plan_dir, read_datasets, sr_numbers  # noqa: F401
from integration_fixtures import ORTHANC_PASSWORD, ORTHANC_USER, ct_series_with_uids, orthanc, pacs_credentials  # noqa: F401
from SurgicalAIPlannerLib.cli import main
from SurgicalAIPlannerLib.export.plan_summary import load_plan_summary
from SurgicalAIPlannerLib.governance.audit import verify
from SurgicalAIPlannerLib.pacs import Credentials, PacsClient


def audit_events(plan_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (plan_dir / "audit.jsonl").read_text().splitlines()]


def read_back(orthanc, path: Path) -> pydicom.Dataset:
    local = pydicom.dcmread(path)
    client = PacsClient(orthanc.dicomweb_url, Credentials(ORTHANC_USER, ORTHANC_PASSWORD))
    return client.retrieve_instance(local.StudyInstanceUID, local.SeriesInstanceUID, local.SOPInstanceUID)


def test_export_dicom_writes_pushes_and_audits(plan_dir, ct_series_with_uids, dicom_ct_labels_file, orthanc,
                                               pacs_credentials, capsys):
    events_before = len(audit_events(plan_dir))
    assert main(["export-dicom", str(plan_dir), "--ct", str(ct_series_with_uids), "--segmentation",
                 str(dicom_ct_labels_file), "--pacs", orthanc.dicomweb_url, "--algorithm", "TotalSegmentator",
                 "--algorithm-version", "2 (task total)"]) == 0
    out = capsys.readouterr()
    assert f"stored both at {orthanc.dicomweb_url}" in out.out and ORTHANC_PASSWORD not in out.out + out.err
    exports = plan_dir / "exports"
    assert sorted(p.name for p in exports.iterdir() if p.suffix == ".dcm") == ["measurements.dcm", "segmentation.dcm"]
    assert not [p for p in exports.iterdir() if p.name.startswith(".")]  # no partial files left

    sources = read_datasets(ct_series_with_uids)
    seg = hd.seg.Segmentation.from_dataset(read_back(orthanc, exports / "segmentation.dcm"))
    assert {d.SegmentLabel for d in seg.SegmentSequence} == set(DICOM_CT_BONES.values())
    assert {item.ReferencedSOPInstanceUID for series in seg.ReferencedSeriesSequence
            for item in series.ReferencedInstanceSequence} == {d.SOPInstanceUID for d in sources}
    assert seg.StudyInstanceUID == sources[0].StudyInstanceUID
    algorithm = seg.SegmentSequence[0].SegmentationAlgorithmIdentificationSequence[0]
    assert (algorithm.AlgorithmName, algorithm.AlgorithmVersion) == ("TotalSegmentator", "2 (task total)")

    sr = read_back(orthanc, exports / "measurements.dcm")
    plan = load_plan_summary(plan_dir)
    assert sr.ContentTemplateSequence[0].TemplateIdentifier == "1500"
    assert set(sr_numbers(sr)) == {m.key for m in plan.reportable_measurements} and plan.reportable_measurements
    assert (sr.CompletionFlag, sr.VerificationFlag) == ("PARTIAL", "UNVERIFIED")  # the plan is not signed

    events = audit_events(plan_dir)
    assert len(events) == events_before + 1
    last = events[-1]
    assert last["event"] == "export" and last["actor"] == "surgical-planner export-dicom"
    assert last["details"]["outputs"] == ["segmentation.dcm", "measurements.dcm"]
    assert last["details"]["pushed_to"] == orthanc.dicomweb_url and last["details"]["segments"] == 2
    assert verify(plan_dir / "audit.jsonl").ok


def test_export_dicom_deidentified_carries_only_the_pseudonym(plan_dir, ct_series_with_uids, dicom_ct_labels_file,
                                                              monkeypatch, capsys):
    monkeypatch.setenv("SURGICAL_PLANNER_DEID_KEY", "export-dicom-key")
    assert main(["export-dicom", str(plan_dir), "--ct", str(ct_series_with_uids), "--segmentation",
                 str(dicom_ct_labels_file), "--deidentify"]) == 0
    capsys.readouterr()
    source = pydicom.dcmread(next(ct_series_with_uids.iterdir()), stop_before_pixels=True)
    algorithm = pydicom.dcmread(plan_dir / "exports" / "segmentation.dcm").SegmentSequence[0] \
        .SegmentationAlgorithmIdentificationSequence[0]
    # The plan was made from a label map file: its record names a file, not an algorithm, so it is not copied.
    assert algorithm.AlgorithmName == "unknown segmentation algorithm"
    for name in ("segmentation.dcm", "measurements.dcm"):
        written = pydicom.dcmread(plan_dir / "exports" / name)
        assert str(written.PatientID).startswith("PSN-") and written.PatientID != source.PatientID
        assert written.StudyInstanceUID != source.StudyInstanceUID
        assert str(source.PatientName).encode() not in (plan_dir / "exports" / name).read_bytes()
    assert audit_events(plan_dir)[-1]["details"]["deidentified"] is True


def test_label_map_of_another_ct_writes_nothing(plan_dir, ct_series_with_uids, sample_labels_file, capsys):
    before = (plan_dir / "audit.jsonl").read_bytes()
    exports_before = sorted((plan_dir / "exports").iterdir()) if (plan_dir / "exports").exists() else []
    assert main(["export-dicom", str(plan_dir), "--ct", str(ct_series_with_uids), "--segmentation",
                 str(sample_labels_file)]) == 2
    error = capsys.readouterr().err
    assert f"label map {sample_labels_file} is not on the CT's grid" in error
    assert (plan_dir / "audit.jsonl").read_bytes() == before
    after = sorted((plan_dir / "exports").iterdir()) if (plan_dir / "exports").exists() else []
    assert after == exports_before


def test_refused_push_is_reported_with_the_url(plan_dir, ct_series_with_uids, dicom_ct_labels_file, orthanc,
                                               monkeypatch, capsys):
    monkeypatch.setenv("SURGICAL_PLANNER_PACS_USER", ORTHANC_USER)
    monkeypatch.setenv("SURGICAL_PLANNER_PACS_PASSWORD", "wrong-password")
    assert main(["export-dicom", str(plan_dir), "--ct", str(ct_series_with_uids), "--segmentation",
                 str(dicom_ct_labels_file), "--pacs", orthanc.dicomweb_url]) == 3
    error = capsys.readouterr().err
    assert f"error: {orthanc.dicomweb_url}: " in error and "authentication failed (HTTP 401)" in error
    last = audit_events(plan_dir)[-1]
    assert last["event"] == "export" and last["details"]["pushed_to"] is None
