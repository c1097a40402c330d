"""NIfTI / NRRD / MetaImage loading on the real sample, laterality, and the errors for broken files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from SurgicalAIPlannerLib.cli import main
from SurgicalAIPlannerLib.imaging import ImageLoadError, load_ct, load_labelmap
from SurgicalAIPlannerLib.imaging.label_table import read_label_table


def test_sample_ct_geometry(sample_ct_file: Path) -> None:
    volume = load_ct(sample_ct_file)
    assert volume.shape_ijk == (122, 101, 112)
    assert volume.spacing == pytest.approx((3.0, 3.0, 3.0))
    assert volume.array.dtype == np.int16
    # The header's RAS origin (-177.96, 11.32, 94.30) is stored by ITK in LPS.
    assert volume.in_frame("RAS").origin == pytest.approx((-177.96, 11.32, 94.30), abs=0.01)
    assert volume.in_frame("RAS").orientation_code() == "RAS"


@pytest.mark.parametrize("value, name, expected_sign", [(77, "hip_left", -1), (78, "hip_right", +1),
                                                        (75, "femur_left", -1), (76, "femur_right", +1)])
def test_left_labels_lie_on_the_patients_left(sample_labels_file: Path, sample_label_table: dict, value: int,
                                              name: str, expected_sign: int) -> None:
    """RAS: +x is the patient's right, so a left bone has a negative x centroid."""
    assert sample_label_table[value] == name
    labels = load_labelmap(sample_labels_file)
    centroid = labels.ras_of_index(np.argwhere(labels.array == value)[:, ::-1]).mean(axis=0)
    assert np.sign(centroid[0]) == expected_sign
    assert abs(centroid[0]) > 50  # clearly lateral, not a midline structure


def test_labels_and_ct_share_the_grid(sample_ct_file: Path, sample_labels_file: Path) -> None:
    ct, labels = load_ct(sample_ct_file), load_labelmap(sample_labels_file)
    assert labels.array.shape == ct.array.shape
    assert np.allclose(labels.ijk_to_ras(), ct.ijk_to_ras())
    assert labels.array.dtype == np.uint16
    # Bone labels sit on bright voxels: the median HU inside hip_left is bone, not soft tissue.
    assert np.median(ct.array[labels.array == 77]) > 150


@pytest.mark.parametrize("suffix", [".nrrd", ".mha", ".nii"])
def test_other_formats_give_the_same_volume(sample_ct_file: Path, tmp_path: Path, suffix: str) -> None:
    original = load_ct(sample_ct_file)
    copy = tmp_path / f"ct{suffix}"
    sitk.WriteImage(sitk.ReadImage(str(sample_ct_file)), str(copy))
    loaded = load_ct(copy)
    assert np.array_equal(loaded.array, original.array)
    assert np.allclose(loaded.ijk_to_ras(), original.ijk_to_ras())


def test_float_label_map_with_whole_values_is_accepted(tmp_path: Path) -> None:
    image = sitk.GetImageFromArray(np.array([[[0.0, 1.0], [2.0, 77.0]]] * 2))
    sitk.WriteImage(image, str(tmp_path / "labels.nii.gz"))
    assert set(np.unique(load_labelmap(tmp_path / "labels.nii.gz").array)) == {0, 1, 2, 77}


def test_fractional_label_values_are_rejected(tmp_path: Path) -> None:
    sitk.WriteImage(sitk.GetImageFromArray(np.full((2, 2, 2), 0.5)), str(tmp_path / "soft.nii.gz"))
    with pytest.raises(ImageLoadError, match="non-integer values"):
        load_labelmap(tmp_path / "soft.nii.gz")


@pytest.mark.parametrize("how", ["voxels cut, valid gzip", "gzip stream cut", "plain .nii cut"])
def test_truncated_nifti_is_named(sample_ct_file: Path, tmp_path: Path, how: str) -> None:
    """ITK zero-fills truncated NIfTI silently; the loader must refuse it instead."""
    compressed = sample_ct_file.read_bytes()
    data = gzip.decompress(compressed)
    broken = tmp_path / ("broken.nii" if how == "plain .nii cut" else "broken.nii.gz")
    content = {"voxels cut, valid gzip": gzip.compress(data[: len(data) // 3]),
               "gzip stream cut": compressed[: len(compressed) // 2],
               "plain .nii cut": data[: len(data) // 3]}[how]
    broken.write_bytes(content)
    with pytest.raises(ImageLoadError, match="cannot be read as an image") as error:
        load_ct(broken)
    assert error.value.path == broken


def test_truncated_nrrd_is_named(sample_ct_file: Path, tmp_path: Path) -> None:
    nrrd = tmp_path / "ct.nrrd"
    sitk.WriteImage(sitk.ReadImage(str(sample_ct_file)), str(nrrd), True)
    nrrd.write_bytes(nrrd.read_bytes()[:-20000])
    with pytest.raises(ImageLoadError, match="ct.nrrd: cannot be read as an image"):
        load_ct(nrrd)


def test_a_ct_stored_without_its_rescale_is_named(sample_ct_file: Path, tmp_path: Path) -> None:
    """Raw scanner values (HU + 1024, air at about 0) written without the rescale: every voxel would be 'bone' to the
    100-200 HU thresholds downstream, so loading stops and says what is wrong. The label-map role is not checked."""
    image = sitk.ReadImage(str(sample_ct_file))
    raw = sitk.Cast(sitk.Clamp(image, lowerBound=-1024) + 1024, sitk.sitkUInt16)
    sitk.WriteImage(raw, str(tmp_path / "raw.nii.gz"))
    with pytest.raises(ImageLoadError, match=r"raw.nii.gz: values range 0\.\.\d+ with no air or fat .* not Hounsfield units"):
        load_ct(tmp_path / "raw.nii.gz")
    assert load_ct(sample_ct_file).array.min() < -900  # the real sample has air


def test_2d_image_and_unknown_type_are_rejected(tmp_path: Path) -> None:
    sitk.WriteImage(sitk.GetImageFromArray(np.zeros((4, 4), np.int16)), str(tmp_path / "flat.nrrd"))
    with pytest.raises(ImageLoadError, match="is a 2D image"):
        load_ct(tmp_path / "flat.nrrd")
    (tmp_path / "scan.png").write_bytes(b"\x89PNG")
    with pytest.raises(ImageLoadError, match="unsupported file type"):
        load_ct(tmp_path / "scan.png")


def test_label_table_errors_name_the_line(tmp_path: Path) -> None:
    table = tmp_path / "labels.csv"
    table.write_text("value,name\n1,femur_left\n1,femur_right\n")
    with pytest.raises(ImageLoadError, match="line 3: label value 1 is listed twice"):
        read_label_table(table)


def test_info_command_reports_the_dicom_series(dicom_series_dir: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["info", str(dicom_series_dir)]) == 0
    out = capsys.readouterr().out
    assert "512 x 512 x 20 voxels" in out
    assert "0.9766 x 0.9766 x 2 mm" in out
    assert "HU range:     -1024 .. 1839" in out
    assert "CT Body 3.0" in out


def test_info_command_fails_clearly_on_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["info", str(tmp_path / "missing.nii.gz")]) == 2
    assert "missing.nii.gz: does not exist" in capsys.readouterr().err
