"""DICOM SEG (bones of the real CT) and SR TID 1500 (plan measurements), pushed to a real Orthanc and read back."""

from __future__ import annotations

import math

import highdicom as hd
import numpy as np
import pytest

from export_fixtures import (DICOM_CT_BONES, MEASUREMENTS, SEG_ALGORITHM_VERSION, dicom_ct_labels_file, make_plan,  # noqa: F401
                             read_datasets, sr_numbers)
from integration_fixtures import ORTHANC_PASSWORD, ORTHANC_USER, ct_series_with_uids, orthanc  # noqa: F401
from SurgicalAIPlannerLib.export.dicom_seg import Algorithm, SegmentationExportError, build_segmentation, on_ct_grid
from SurgicalAIPlannerLib.export.dicom_sr import build_measurement_report
from SurgicalAIPlannerLib.imaging import load_ct, load_labelmap
from SurgicalAIPlannerLib.pacs import Credentials, PacsClient


@pytest.fixture(scope="module")
def client(orthanc) -> PacsClient:
    return PacsClient(orthanc.dicomweb_url, Credentials(ORTHANC_USER, ORTHANC_PASSWORD))


def test_label_map_with_flipped_rows_is_reordered_exactly(ct_series_with_uids, dicom_ct_labels_file):
    """The NIfTI stores the rows of the DICOM CT bottom-up (j axis flipped): same voxels, other order."""
    labels, ct = load_labelmap(dicom_ct_labels_file), load_ct(ct_series_with_uids)
    assert labels.origin[1] != pytest.approx(ct.origin[1])
    aligned = on_ct_grid(labels, ct)
    assert np.array_equal(aligned.array, labels.array[:, ::-1, :])
    assert np.allclose(aligned.ras_of_index([[10, 20, 5]]), labels.ras_of_index([[10, 511 - 20, 5]]))


def test_label_map_of_another_ct_is_refused(ct_series_with_uids, sample_labels_file):
    ct = load_ct(ct_series_with_uids)
    with pytest.raises(SegmentationExportError, match=r"is not on the CT's grid: \(122, 101, 112\) voxels at \[3.0, 3.0, 3.0\] mm"):
        build_segmentation(read_datasets(ct_series_with_uids), ct, load_labelmap(sample_labels_file), {77: "hip_left"},
                           Algorithm("TotalSegmentator", SEG_ALGORITHM_VERSION))


def test_seg_round_trip_through_orthanc(client, ct_series_with_uids, dicom_ct_labels_file):
    sources = read_datasets(ct_series_with_uids)
    ct, labels = load_ct(ct_series_with_uids), load_labelmap(dicom_ct_labels_file)
    seg = build_segmentation(sources, ct, labels, DICOM_CT_BONES, Algorithm("TotalSegmentator", SEG_ALGORITHM_VERSION))
    client.store(sources + [seg])
    back = hd.seg.Segmentation.from_dataset(client.retrieve_instance(seg.StudyInstanceUID, seg.SeriesInstanceUID,
                                                                     seg.SOPInstanceUID))
    assert back.StudyInstanceUID == sources[0].StudyInstanceUID
    descriptions = {d.SegmentLabel: d for d in back.SegmentSequence}
    assert set(descriptions) == {"vertebrae_T11", "vertebrae_T12"}
    t11 = descriptions["vertebrae_T11"]
    assert (t11.SegmentedPropertyTypeCodeSequence[0].CodeValue, t11.SegmentedPropertyTypeCodeSequence[0].CodingSchemeDesignator) == ("12989004", "SCT")
    assert t11.SegmentedPropertyCategoryCodeSequence[0].CodeValue == "123037004"
    assert t11.SegmentationAlgorithmIdentificationSequence[0].AlgorithmName == "TotalSegmentator"
    assert t11.SegmentationAlgorithmIdentificationSequence[0].AlgorithmVersion == SEG_ALGORITHM_VERSION

    referenced = {item.ReferencedSOPInstanceUID for series in back.ReferencedSeriesSequence
                  for item in series.ReferencedInstanceSequence}
    assert referenced == {d.SOPInstanceUID for d in sources}
    by_source = {d.SOPInstanceUID: d for d in sources}
    positions = {uid: float(by_source[uid].ImagePositionPatient[2]) for uid in by_source}
    order = sorted(by_source, key=positions.get)
    for segment_number, label_value in ((1, 32), (2, 33)):
        label = descriptions["vertebrae_T12" if label_value == 32 else "vertebrae_T11"].SegmentNumber
        pixels = back.get_pixels_by_source_instance(source_sop_instance_uids=order, segment_numbers=[label],
                                                    combine_segments=False, skip_overlap_checks=True)
        assert np.array_equal(pixels[..., 0].astype(bool), on_ct_grid(labels, ct).array == label_value)


@pytest.mark.parametrize("signed", [False, True])
def test_sr_round_trip_through_orthanc(client, ct_series_with_uids, signed):
    sources = read_datasets(ct_series_with_uids)
    sr = build_measurement_report(make_plan(signed), sources, "Kantonsspital Test")
    client.store([sr])
    back = client.retrieve_instance(sr.StudyInstanceUID, sr.SeriesInstanceUID, sr.SOPInstanceUID)
    assert back.ContentTemplateSequence[0].TemplateIdentifier == "1500"
    expected = {m.key: (m.value, m.unit) for m in MEASUREMENTS if not math.isnan(m.value)}
    assert sr_numbers(back) == expected
    assert back.ConceptNameCodeSequence[0].CodeValue == "126000"  # Imaging Measurement Report
    if signed:
        assert (back.CompletionFlag, back.VerificationFlag) == ("COMPLETE", "VERIFIED")
        assert back.VerifyingObserverSequence[0].VerifyingObserverName.family_name == "Dr. Anna Weber"
    else:
        assert (back.CompletionFlag, back.VerificationFlag) == ("PARTIAL", "UNVERIFIED")
        assert "DRAFT" in back.SeriesDescription
