"""The panel's PACS and export steps through the module Logic, against the real Orthanc and FHIR servers.

The hospital's CT is the bundled sample pelvis written as a DICOM series (the shared DICOM CT shows only two
vertebrae, so no hip can be planned on it): it is stored in Orthanc, found with ``searchPacs``, pulled with
``pullFromPacs``, planned, then exported as DICOM SEG + SR to Orthanc and as a FHIR transaction.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import highdicom as hd
import pydicom
import pytest
import requests
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from export_fixtures import sr_numbers
from integration_fixtures import (ORTHANC_PASSWORD, ORTHANC_USER, SOURCE_PHI, ct_series_with_uids, fhir_server,  # noqa: F401
                                  orthanc, pacs_credentials)
from test_module_headless import module  # noqa: F401
from SurgicalAIPlannerLib.export.dicom_export import StoreFailed
from SurgicalAIPlannerLib.export.plan_summary import load_plan_summary
from SurgicalAIPlannerLib.governance.audit import verify
from SurgicalAIPlannerLib.imaging import load_ct
from SurgicalAIPlannerLib.pacs import Credentials, PacsClient, push
from SurgicalAIPlannerLib.resources import sample_ct_path
from SurgicalAIPlannerLib.session import SAMPLE_BONES
from SurgicalAIPlannerLib.tasks import TaskCancelled

REQUEST = "Total hip arthroplasty, left, 12 mm press-fit stem"


def uid(name: str) -> str:
    return generate_uid(entropy_srcs=["surgical-planner-tests", "sample-ct-as-dicom", name])


@pytest.fixture(scope="module")
def sample_ct_dicom(tmp_path_factory, ct_series_with_uids) -> Path:
    """The sample CT's voxels and geometry as an uncompressed DICOM CT series; patient, study and equipment
    attributes from the shared series' (UID-fixed) first file."""
    template = pydicom.dcmread(next(iter(sorted(ct_series_with_uids.iterdir()))))
    for keyword in ("PixelData", "ReferencedImageSequence", "SourceImageSequence"):
        if keyword in template:
            delattr(template, keyword)
    volume = load_ct(sample_ct_path()).in_frame("LPS")
    direction, spacing, origin = volume.direction, volume.spacing, volume.origin
    folder = tmp_path_factory.mktemp("sample_ct_dicom")
    for k, plane in enumerate(volume.array):
        dataset = copy.deepcopy(template)
        position = [round(float(o + k * spacing[2] * d), 4) for o, d in zip(origin, direction[:, 2])]
        dataset.update({"StudyInstanceUID": uid("study"), "SeriesInstanceUID": uid("series"),
                        "FrameOfReferenceUID": uid("frame"), "SOPInstanceUID": uid(f"slice-{k}"),
                        "SOPClassUID": CTImageStorage})
        dataset.SeriesDescription = "Sample pelvis CT"
        dataset.InstanceNumber = k + 1
        dataset.ImagePositionPatient, dataset.SliceLocation = position, position[2]
        dataset.ImageOrientationPatient = [float(v) for v in (*direction[:, 0], *direction[:, 1])]
        dataset.PixelSpacing, dataset.SliceThickness = [spacing[1], spacing[0]], spacing[2]
        dataset.Rows, dataset.Columns = plane.shape
        dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit, dataset.PixelRepresentation = 16, 16, 15, 1
        dataset.RescaleIntercept, dataset.RescaleSlope = 0, 1
        dataset.add_new(0x7FE00010, "OW", plane.astype("<i2").tobytes())  # Pixel Data
        dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        dataset.file_meta.MediaStorageSOPClassUID = CTImageStorage
        dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
        dataset.save_as(folder / f"{k:03d}.dcm", enforce_file_format=True)
    return folder


@pytest.fixture(scope="module")
def ct_in_pacs(orthanc, sample_ct_dicom) -> str:
    """The sample series stored in Orthanc, as the hospital's PACS would hold it; returns its study UID."""
    push(PacsClient(orthanc.dicomweb_url, Credentials(ORTHANC_USER, ORTHANC_PASSWORD)), [sample_ct_dicom])
    return uid("study")


def load_reference_bones(logic, sample_labels_file: Path, sample_label_table: dict[int, str]) -> None:
    """The sample's reference bone labels (on the same grid as the DICOM copy), standing in for an AI run."""
    bones = {value: name for value, name in sample_label_table.items() if name in SAMPLE_BONES}
    logic.session.load_segmentation(sample_labels_file, bones, "Bones")


def audit_events(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "audit.jsonl").read_text().splitlines()]


def fhir_search(server, query: str) -> list[dict]:
    answer = requests.get(f"{server.base_url}/{query}", timeout=30)
    assert answer.status_code == 200, answer.text
    return [entry["resource"] for entry in answer.json().get("entry", [])]


def test_search_and_pull_from_pacs_load_the_ct(module, orthanc, ct_in_pacs, pacs_credentials, tmp_path):
    planner, _ = module
    logic = planner.SurgicalAIPlannerLogic()
    studies = logic.searchPacs(orthanc.dicomweb_url, patientId=SOURCE_PHI["PatientID"])
    assert [study.study_instance_uid for study in studies] == [ct_in_pacs]
    assert logic.getParameterNode().pacsPatientId == SOURCE_PHI["PatientID"]
    assert logic.searchPacs(orthanc.dicomweb_url, patientId="NO-SUCH-PATIENT") == []

    node = logic.pullFromPacs(orthanc.dicomweb_url, ct_in_pacs, outputDir=str(tmp_path / "pulled"))
    assert logic.getParameterNode().inputVolume.GetID() == node.GetID()
    assert node.GetImageData().GetDimensions() == (122, 101, 112)
    assert logic.session.ct_dicomweb_url == orthanc.dicomweb_url
    assert len([p for p in (tmp_path / "pulled").rglob("*") if p.is_file()]) == 112


def test_pull_runs_in_the_background_and_can_be_cancelled(module, orthanc, ct_in_pacs, pacs_credentials, tmp_path):
    planner, _ = module
    logic = planner.SurgicalAIPlannerLogic()
    cancelled = logic.startPull(orthanc.dicomweb_url, ct_in_pacs, outputDir=str(tmp_path / "cancelled"))
    cancelled.cancel()
    cancelled.wait(120)
    with pytest.raises(TaskCancelled):
        logic.finishPull(cancelled)
    assert not (tmp_path / "cancelled").exists() and logic.getParameterNode().inputVolume is None

    task = logic.startPull(orthanc.dicomweb_url, ct_in_pacs, outputDir=str(tmp_path / "pulled"))
    assert task.wait(120)
    assert task.progress.snapshot() == (1.0, "Pulled 112 of 112 images")
    node = logic.finishPull(task)
    assert logic.getParameterNode().inputVolume.GetID() == node.GetID()


def test_export_stores_seg_and_sr_in_pacs_and_posts_fhir(module, orthanc, ct_in_pacs, pacs_credentials, fhir_server,
                                                         sample_labels_file, sample_label_table, tmp_path):
    planner, _ = module
    logic = planner.SurgicalAIPlannerLogic()
    logic.pullFromPacs(orthanc.dicomweb_url, ct_in_pacs, outputDir=str(tmp_path / "pulled"))
    load_reference_bones(logic, sample_labels_file, sample_label_table)
    logic.proposePlan("Total hip arthroplasty", "left", REQUEST)
    folder = tmp_path / "plan"
    written = logic.exportPlan(str(folder), report=True, dicom=True, pacsUrl=orthanc.dicomweb_url,
                               fhir=True, fhirUrl=fhir_server.base_url)
    exports = folder / "exports"
    assert {p.name for p in written} >= {"report.pdf", "segmentation.dcm", "measurements.dcm", "fhir-bundle.json"}
    parameters = logic.getParameterNode()
    assert (parameters.exportDicom, parameters.exportFhir, parameters.fhirUrl) == (True, True, fhir_server.base_url)

    pacs = PacsClient(orthanc.dicomweb_url, Credentials(ORTHANC_USER, ORTHANC_PASSWORD))
    stored_series = {s.modality: s for s in pacs.search_series(ct_in_pacs)}
    assert set(stored_series) == {"CT", "SEG", "SR"}  # filed in the CT's own study

    def read_back(path: Path) -> pydicom.Dataset:
        local = pydicom.dcmread(path)
        return pacs.retrieve_instance(local.StudyInstanceUID, local.SeriesInstanceUID, local.SOPInstanceUID)

    seg = hd.seg.Segmentation.from_dataset(read_back(exports / "segmentation.dcm"))
    assert {d.SegmentLabel for d in seg.SegmentSequence} >= {"hip_left", "hip_right", "femur_left", "sacrum"}
    referenced = {item.ReferencedSOPInstanceUID for series in seg.ReferencedSeriesSequence
                  for item in series.ReferencedInstanceSequence}
    assert referenced == {uid(f"slice-{k}") for k in range(112)}
    sr = read_back(exports / "measurements.dcm")
    plan = load_plan_summary(folder)
    assert set(sr_numbers(sr)) == {m.key for m in plan.reportable_measurements} and plan.reportable_measurements
    assert sr.CompletionFlag == "PARTIAL"  # not signed: a draft

    request, = fhir_search(fhir_server, f"ServiceRequest?identifier=urn:surgical-planner:plan|{plan.plan_id}")
    assert request["status"] == "draft"
    study, = fhir_search(fhir_server, f"ImagingStudy?subject={request['subject']['reference']}")
    assert study["identifier"][0]["value"] == f"urn:oid:{ct_in_pacs}"
    endpoint_id = study["endpoint"][0]["reference"].split("/")[1]
    assert fhir_search(fhir_server, f"Endpoint?_id={endpoint_id}")[0]["address"] == orthanc.dicomweb_url
    document, = fhir_search(fhir_server, f"DocumentReference?subject={request['subject']['reference']}")
    assert document["content"][0]["attachment"]["size"] == (exports / "report.pdf").stat().st_size

    exported = [e for e in audit_events(folder) if e["event"] == "export"]
    assert [e["actor"] for e in exported] == ["surgical-planner report", "planner", "planner"]
    assert exported[1]["details"]["pushed_to"] == orthanc.dicomweb_url
    assert exported[2]["details"]["server"] == fhir_server.base_url and exported[2]["details"]["report_attached"]
    assert verify(folder / "audit.jsonl").ok
    assert ORTHANC_PASSWORD not in (folder / "audit.jsonl").read_text()


def test_refused_store_keeps_the_files_and_audits_nothing_stored(module, orthanc, sample_ct_dicom, monkeypatch,
                                                                 sample_labels_file, sample_label_table, tmp_path):
    monkeypatch.setenv("SURGICAL_PLANNER_PACS_USER", ORTHANC_USER)
    monkeypatch.setenv("SURGICAL_PLANNER_PACS_PASSWORD", "wrong-password")
    planner, _ = module
    logic = planner.SurgicalAIPlannerLogic()
    logic.loadCT(str(sample_ct_dicom))
    load_reference_bones(logic, sample_labels_file, sample_label_table)
    logic.proposePlan("Total hip arthroplasty", "left", REQUEST)
    folder = tmp_path / "plan"
    with pytest.raises(StoreFailed, match="authentication failed") as failure:
        logic.exportPlan(str(folder), report=False, dicom=True, pacsUrl=orthanc.dicomweb_url)
    assert failure.value.export.segmentation.is_file() and failure.value.export.measurements.is_file()
    assert "wrong-password" not in str(failure.value)
    last = audit_events(folder)[-1]
    assert last["event"] == "export" and last["details"]["pushed_to"] is None


def test_dicom_and_fhir_exports_name_what_is_missing(module, fhir_server, tmp_path):
    planner, _ = module
    logic = planner.SurgicalAIPlannerLogic()
    logic.loadSample()  # a NIfTI CT: no DICOM study to refer to
    logic.proposePlan("Total hip arthroplasty", "left", REQUEST)
    folder = tmp_path / "plan"
    with pytest.raises(RuntimeError, match=r"DICOM SEG/SR export needs the CT loaded from a DICOM folder or pulled "
                                           r"from the PACS.*came from an image file \(\.nii\.gz\)"):
        logic.exportPlan(str(folder), report=False, dicom=True)
    with pytest.raises(RuntimeError, match="FHIR export needs the CT loaded from a DICOM folder"):
        logic.exportPlan(str(folder), report=False, fhir=True, fhirUrl=fhir_server.base_url)
    with pytest.raises(ValueError, match="type the FHIR server's base URL"):
        logic.exportPlan(str(folder), fhir=True)
    assert not (folder / "exports").exists() and not (folder / "audit.jsonl").exists()  # nothing half-done
