"""DICOM folder loading on the real series, and the specific error of each kind of broken folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest

from SurgicalAIPlannerLib.imaging import DicomSeriesError, load_ct
from SurgicalAIPlannerLib.imaging.dicom_series import list_series


@pytest.fixture
def series_copy(dicom_series_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "series"
    shutil.copytree(dicom_series_dir, target)
    return target


def _sorted_files(folder: Path) -> list[Path]:
    """Files of the copy sorted by their z position (the file names are not in slice order by rule)."""
    return sorted(folder.iterdir(), key=lambda p: float(pydicom.dcmread(p, stop_before_pixels=True).ImagePositionPatient[2]))


def _edit(path: Path, **changes) -> None:
    dataset = pydicom.dcmread(path)
    for keyword, value in changes.items():
        setattr(dataset, keyword, value)
    dataset.save_as(path)


def test_real_series_loads_with_its_geometry(dicom_series_dir: Path) -> None:
    volume = load_ct(dicom_series_dir)
    assert volume.shape_ijk == (512, 512, 20)
    assert volume.spacing == pytest.approx((0.9765625, 0.9765625, 2.0))
    assert volume.frame == "LPS"
    assert volume.identity.modality == "CT"
    assert volume.identity.series_description == "CT Body 3.0"
    # RescaleIntercept -1024 applied: air is about -1000 HU, and nothing is below the padding value.
    assert volume.array.min() == -1024
    assert -1100 < np.median(volume.array[:, :40, :40]) < -900


def test_slices_are_sorted_by_position_not_by_file_order(series_copy: Path) -> None:
    files = _sorted_files(series_copy)
    expected_first_plane = pydicom.dcmread(files[0]).pixel_array.astype(np.int32) - 1024
    expected_origin = [float(x) for x in pydicom.dcmread(files[0]).ImagePositionPatient]
    for index, path in enumerate(reversed(files)):  # names now run against the z order
        path.rename(series_copy / f"slice_{index:03d}.dcm")
    volume = load_ct(series_copy)
    assert np.array_equal(volume.array[0].astype(np.int32), expected_first_plane)
    assert volume.origin == pytest.approx(expected_origin)


def test_missing_slice_is_reported_with_the_gap(series_copy: Path) -> None:
    _sorted_files(series_copy)[10].unlink()
    with pytest.raises(DicomSeriesError, match=r"missing slices: a gap of 4\.00 mm") as error:
        load_ct(series_copy)
    assert error.value.path == series_copy


def test_truncated_file_is_named(series_copy: Path) -> None:
    victim = _sorted_files(series_copy)[5]
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])
    with pytest.raises(DicomSeriesError, match="truncated") as error:
        load_ct(series_copy)
    assert error.value.path == victim


def test_non_dicom_file_is_named(series_copy: Path) -> None:
    stray = series_copy / "notes.txt"
    stray.write_text("scan protocol notes")
    with pytest.raises(DicomSeriesError, match="is not a DICOM file") as error:
        load_ct(series_copy)
    assert error.value.path == stray


def test_mr_series_is_not_taken_for_ct(series_copy: Path) -> None:
    for path in series_copy.iterdir():
        _edit(path, Modality="MR")
    with pytest.raises(DicomSeriesError, match=r"no CT series; found MR \(20 files\)"):
        load_ct(series_copy)


def test_mixed_orientations_are_rejected(series_copy: Path) -> None:
    _edit(_sorted_files(series_copy)[3], ImageOrientationPatient=[0, 1, 0, 1, 0, 0])
    with pytest.raises(DicomSeriesError, match="mixed orientations"):
        load_ct(series_copy)


def test_different_pixel_sizes_are_rejected(series_copy: Path) -> None:
    _edit(_sorted_files(series_copy)[7], PixelSpacing=[0.8, 0.8])
    with pytest.raises(DicomSeriesError, match="different pixel sizes"):
        load_ct(series_copy)


def test_non_uniform_spacing_is_rejected(series_copy: Path) -> None:
    files = _sorted_files(series_copy)
    for path in files[12:]:  # every slice from 12 on moves up 0.5 mm: one step of 2.5 mm
        position = [float(x) for x in pydicom.dcmread(path).ImagePositionPatient]
        _edit(path, ImagePositionPatient=[position[0], position[1], position[2] + 0.5])
    with pytest.raises(DicomSeriesError, match="non-uniform slice spacing"):
        load_ct(series_copy)


def test_gantry_tilt_is_detected_and_named(series_copy: Path) -> None:
    for index, path in enumerate(_sorted_files(series_copy)):
        position = [float(x) for x in pydicom.dcmread(path).ImagePositionPatient]
        # Each slice shifted 0.35 mm in y per 2 mm in z: a 10 degree tilt.
        _edit(path, ImagePositionPatient=[position[0], position[1] + 0.35265 * index, position[2]], GantryDetectorTilt=10)
    with pytest.raises(DicomSeriesError, match=r"gantry tilt of 10\.0\d degrees detected \(GantryDetectorTilt 10"):
        load_ct(series_copy)


def test_series_is_chosen_by_uid_among_several(series_copy: Path, dicom_series_dir: Path, tmp_path: Path) -> None:
    files = _sorted_files(series_copy)
    for path in files[:10]:
        _edit(path, SeriesInstanceUID="1.2.826.0.1.3680043.8.498.1", SeriesNumber=1)
    for path in files[10:]:
        _edit(path, SeriesInstanceUID="1.2.826.0.1.3680043.8.498.2", SeriesNumber=2)
    assert {uid: info["files"] for uid, info in list_series(series_copy).items()} == {
        "1.2.826.0.1.3680043.8.498.1": 10, "1.2.826.0.1.3680043.8.498.2": 10}
    second = load_ct(series_copy, series_instance_uid="1.2.826.0.1.3680043.8.498.2")
    assert second.shape_ijk == (512, 512, 10)
    assert second.identity.series_instance_uid == "1.2.826.0.1.3680043.8.498.2"
    with pytest.raises(DicomSeriesError, match="no series with SeriesInstanceUID 9.9.9"):
        load_ct(series_copy, series_instance_uid="9.9.9")


def test_empty_folder_and_missing_path(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DicomSeriesError, match="holds no files"):
        load_ct(empty)
    with pytest.raises(ValueError, match="does not exist"):
        load_ct(tmp_path / "nowhere")
