"""Load one CT series from a DICOM folder, checking that it forms a regular 3D grid.

Frame: DICOM patient coordinates (LPS). Slices are sorted by their position along the slice
normal (ImageOrientationPatient row x column), never by file name or InstanceNumber.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.errors import InvalidDicomError

from .errors import DicomSeriesError
from .volume import SeriesIdentity, Volume

log = logging.getLogger(__name__)

# Files that legitimately sit beside a series and are not images of it.
IGNORED_NAMES = {"DICOMDIR", ".DS_Store", "Thumbs.db"}
# A gap wider than this many median slice spacings means slices are missing.
MISSING_SLICE_FACTOR = 1.5
# Relative spread of slice spacings tolerated before the series counts as non-uniform.
SPACING_TOLERANCE = 0.01
ORIENTATION_TOLERANCE = 1e-4
TILT_TOLERANCE_DEG = 0.01


@dataclass
class _Slice:
    path: Path
    header: pydicom.Dataset
    position: float = 0.0


def load_dicom_series(folder: Path | str, series_instance_uid: str | None = None) -> Volume:
    """Load the CT series in ``folder`` (or the series named by ``series_instance_uid``) in LPS."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DicomSeriesError(folder, "is not a folder")
    series = _read_headers(folder)
    slices = _choose_series(folder, series, series_instance_uid)
    normal = _check_common_geometry(folder, slices)
    positions = _sort_and_space(folder, slices, normal)
    array = _read_pixels(slices)
    first = slices[0].header
    row_dir, col_dir = _orientation(first)
    spacing_row, spacing_col = (float(x) for x in first.PixelSpacing)
    volume = Volume(
        array=array,
        spacing=(spacing_col, spacing_row, positions),
        origin=tuple(float(x) for x in first.ImagePositionPatient),
        direction=np.column_stack([row_dir, col_dir, normal]),
        frame="LPS",
        identity=_identity(first),
        source=folder,
    )
    log.info("Loaded DICOM series %s: %d slices from %s", volume.identity.series_instance_uid, len(slices), folder)
    return volume


def list_series(folder: Path | str) -> dict[str, dict[str, str | int]]:
    """Summary of every series in ``folder``: uid -> modality, description, number of files."""
    series = _read_headers(Path(folder))
    return {
        uid: {
            "modality": str(items[0].header.get("Modality", "")),
            "description": str(items[0].header.get("SeriesDescription", "")),
            "files": len(items),
        }
        for uid, items in series.items()
    }


def _read_headers(folder: Path) -> dict[str, list[_Slice]]:
    series: dict[str, list[_Slice]] = defaultdict(list)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name not in IGNORED_NAMES)
    if not files:
        raise DicomSeriesError(folder, "holds no files")
    for path in files:
        try:
            header = pydicom.dcmread(path, stop_before_pixels=True)
        except InvalidDicomError:
            raise DicomSeriesError(path, "is not a DICOM file (no DICM preamble); remove it from the folder") from None
        except Exception as error:  # pydicom raises assorted errors on damaged headers
            raise DicomSeriesError(path, f"DICOM header cannot be read ({error})") from None
        series[_series_key(header)].append(_Slice(path, header))
    if any(key.startswith(NO_UID_PREFIX) for key in series):
        log.warning("%s: some files have an empty SeriesInstanceUID (anonymised?); grouped by SeriesNumber", folder)
    return series


NO_UID_PREFIX = "no-uid-series-"


def _series_key(header: pydicom.Dataset) -> str:
    """SeriesInstanceUID, or for anonymised files that blanked it, the series number and modality."""
    uid = str(header.get("SeriesInstanceUID", "") or "")
    if uid:
        return uid
    return f"{NO_UID_PREFIX}{header.get('SeriesNumber', '')}-{header.get('Modality', '')}"


def _choose_series(folder: Path, series: dict[str, list[_Slice]], wanted_uid: str | None) -> list[_Slice]:
    if wanted_uid is not None:
        if wanted_uid not in series:
            raise DicomSeriesError(folder, f"no series with SeriesInstanceUID {wanted_uid}; found {sorted(series)}")
        chosen = series[wanted_uid]
        modality = chosen[0].header.get("Modality", "")
        if modality != "CT":
            raise DicomSeriesError(folder, f"series {wanted_uid} is {modality or 'of unknown modality'}, not CT")
        return chosen
    ct_series = {uid: items for uid, items in series.items() if items[0].header.get("Modality") == "CT"}
    if not ct_series:
        found = ", ".join(f"{items[0].header.get('Modality', '?')} ({len(items)} files)" for items in series.values())
        raise DicomSeriesError(folder, f"no CT series; found {found}")
    uid = max(ct_series, key=lambda u: len(ct_series[u]))
    if len(ct_series) > 1:
        log.warning("%s holds %d CT series; using %s (%d slices), the largest. Name another with its SeriesInstanceUID.",
                    folder, len(ct_series), uid, len(ct_series[uid]))
    return ct_series[uid]


def _orientation(header: pydicom.Dataset) -> tuple[np.ndarray, np.ndarray]:
    cosines = np.asarray([float(x) for x in header.ImageOrientationPatient])
    return cosines[:3], cosines[3:]


def _check_common_geometry(folder: Path, slices: list[_Slice]) -> np.ndarray:
    """All slices share orientation and pixel grid; returns the unit slice normal."""
    if len(slices) < 2:
        raise DicomSeriesError(folder, f"the CT series has {len(slices)} slice; a volume needs at least 2")
    for item in slices:
        for keyword in ("ImageOrientationPatient", "ImagePositionPatient", "PixelSpacing", "Rows", "Columns"):
            if keyword not in item.header:
                raise DicomSeriesError(item.path, f"has no {keyword}; cannot place the slice in 3D")
    reference = slices[0].header
    reference_cosines = np.concatenate(_orientation(reference))
    for item in slices[1:]:
        if np.abs(np.concatenate(_orientation(item.header)) - reference_cosines).max() > ORIENTATION_TOLERANCE:
            raise DicomSeriesError(folder, f"mixed orientations: {item.path.name} has ImageOrientationPatient "
                                           f"{list(item.header.ImageOrientationPatient)}, {slices[0].path.name} has "
                                           f"{list(reference.ImageOrientationPatient)}")
        if (item.header.Rows, item.header.Columns) != (reference.Rows, reference.Columns) or not np.allclose(
                [float(x) for x in item.header.PixelSpacing], [float(x) for x in reference.PixelSpacing], rtol=1e-4):
            raise DicomSeriesError(folder, f"different pixel sizes: {item.path.name} is {item.header.Rows}x"
                                           f"{item.header.Columns} at {list(item.header.PixelSpacing)} mm, "
                                           f"{slices[0].path.name} is {reference.Rows}x{reference.Columns} at "
                                           f"{list(reference.PixelSpacing)} mm")
    row_dir, col_dir = _orientation(reference)
    normal = np.cross(row_dir, col_dir)
    return normal / np.linalg.norm(normal)


def _sort_and_space(folder: Path, slices: list[_Slice], normal: np.ndarray) -> float:
    """Sorts ``slices`` along the normal in place and returns the slice spacing in mm."""
    for item in slices:
        item.position = float(np.dot(normal, [float(x) for x in item.header.ImagePositionPatient]))
    slices.sort(key=lambda s: s.position)
    positions = np.array([s.position for s in slices])
    steps = np.diff(positions)
    duplicates = np.flatnonzero(steps < 1e-3)
    if len(duplicates):
        a, b = slices[duplicates[0]], slices[duplicates[0] + 1]
        raise DicomSeriesError(folder, f"two slices at the same position {a.position:.2f} mm: {a.path.name}, {b.path.name}")
    median = float(np.median(steps))
    gaps = np.flatnonzero(steps > MISSING_SLICE_FACTOR * median)
    if len(gaps):
        g = gaps[0]
        raise DicomSeriesError(folder, f"missing slices: a gap of {steps[g]:.2f} mm between positions "
                                       f"{positions[g]:.2f} and {positions[g + 1]:.2f} mm (median spacing {median:.2f} mm)")
    if np.abs(steps - median).max() > SPACING_TOLERANCE * median:
        raise DicomSeriesError(folder, f"non-uniform slice spacing: steps range {steps.min():.3f}-{steps.max():.3f} mm")
    _check_gantry_tilt(folder, slices, normal)
    return median


def _check_gantry_tilt(folder: Path, slices: list[_Slice], normal: np.ndarray) -> None:
    """The stack direction must follow the slice normal; otherwise the scan was gantry tilted."""
    first = np.array([float(x) for x in slices[0].header.ImagePositionPatient])
    last = np.array([float(x) for x in slices[-1].header.ImagePositionPatient])
    stack = (last - first) / np.linalg.norm(last - first)
    tilt = float(np.degrees(np.arccos(np.clip(abs(np.dot(stack, normal)), -1.0, 1.0))))
    if tilt > TILT_TOLERANCE_DEG:
        tag = slices[0].header.get("GantryDetectorTilt")
        said = f" (GantryDetectorTilt {tag})" if tag is not None else ""
        raise DicomSeriesError(folder, f"gantry tilt of {tilt:.2f} degrees detected{said}: slices are sheared, not "
                                       "stacked along their normal; resample the series to an orthogonal grid first")


def _read_pixels(slices: list[_Slice]) -> np.ndarray:
    """Pixel data of the sorted slices in HU (RescaleSlope/Intercept applied), shape (k, j, i)."""
    rescale = [(float(s.header.get("RescaleSlope", 1.0)), float(s.header.get("RescaleIntercept", 0.0))) for s in slices]
    integral = all(slope.is_integer() and intercept.is_integer() for slope, intercept in rescale)
    working_type = np.int32 if integral else np.float32
    reference = slices[0].header
    hounsfield = np.empty((len(slices), reference.Rows, reference.Columns), dtype=working_type)
    for index, (item, (slope, intercept)) in enumerate(zip(slices, rescale)):
        try:
            pixels = pydicom.dcmread(item.path).pixel_array
        except Exception as error:
            raise DicomSeriesError(item.path, f"pixel data cannot be decoded, the file may be truncated ({error})") from None
        hounsfield[index] = pixels.astype(working_type) * working_type(slope) + working_type(intercept)
    int16 = np.iinfo(np.int16)
    if integral and hounsfield.min() >= int16.min and hounsfield.max() <= int16.max:
        return hounsfield.astype(np.int16)
    return hounsfield


def _identity(header: pydicom.Dataset) -> SeriesIdentity:
    def text(keyword: str) -> str:
        return str(header.get(keyword, "") or "")

    return SeriesIdentity(
        patient_id=text("PatientID"),
        patient_name=text("PatientName"),
        study_instance_uid=text("StudyInstanceUID"),
        series_instance_uid=text("SeriesInstanceUID"),
        modality=text("Modality"),
        series_description=text("SeriesDescription"),
        study_date=text("StudyDate"),
        manufacturer=text("Manufacturer"),
    )
