"""PS3.15 Basic Profile de-identification of the real CT series (UID-fixed copies with made-up identity)."""

from __future__ import annotations

import numpy as np
import pydicom

from integration_fixtures import SOURCE_PHI, ct_series_with_uids, find_phi, phi_values  # noqa: F401
from SurgicalAIPlannerLib.cli import main
from SurgicalAIPlannerLib.governance.deidentify import Pseudonymizer, deidentify_folder
from SurgicalAIPlannerLib.imaging import load_ct


def test_deidentified_series_has_no_phi_and_same_voxels(ct_series_with_uids, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SURGICAL_PLANNER_DEID_KEY", "test-key-1")
    output = tmp_path / "deid"
    assert main(["deidentify", str(ct_series_with_uids), str(output)]) == 0
    files = sorted(output.iterdir())
    assert len(files) == 20
    assert find_phi(files, phi_values(ct_series_with_uids)) == []

    header = pydicom.dcmread(files[0], stop_before_pixels=True)
    pseudonym = Pseudonymizer(b"test-key-1").patient(SOURCE_PHI["PatientID"])
    assert header.PatientID == pseudonym == header.PatientName.family_name
    assert header.PatientIdentityRemoved == "YES"
    assert header.DeidentificationMethodCodeSequence[0].CodeValue == "113100"
    assert not any(element.tag.is_private for element in header)
    assert header.SOPClassUID == pydicom.uid.CTImageStorage

    headers = [pydicom.dcmread(f, stop_before_pixels=True) for f in files]
    assert len({h.StudyInstanceUID for h in headers}) == 1 and len({h.SeriesInstanceUID for h in headers}) == 1
    assert len({h.SOPInstanceUID for h in headers}) == 20

    original, deidentified = load_ct(ct_series_with_uids), load_ct(output)
    assert np.array_equal(original.array, deidentified.array)
    assert original.origin == deidentified.origin and original.spacing == deidentified.spacing


def test_same_key_same_pseudonyms_other_key_unlinkable(ct_series_with_uids, tmp_path):
    def study_uid(key: bytes, folder: str) -> str:
        files = deidentify_folder(ct_series_with_uids, tmp_path / folder, Pseudonymizer(key))
        return pydicom.dcmread(files[0], stop_before_pixels=True).StudyInstanceUID

    assert study_uid(b"k1", "a") == study_uid(b"k1", "b") != study_uid(b"k2", "c")


def test_output_folder_is_never_overwritten(ct_series_with_uids, tmp_path, capsys):
    (tmp_path / "taken").mkdir()
    assert main(["deidentify", str(ct_series_with_uids), str(tmp_path / "taken")]) == 2
    assert "already exists" in capsys.readouterr().err
