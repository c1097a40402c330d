"""One entry point for CT images and label maps: DICOM folder, NIfTI, NRRD or MetaImage."""

from __future__ import annotations

import gzip
import logging
import zlib
from pathlib import Path
from typing import Literal

import nibabel
import numpy as np
import SimpleITK as sitk

from .dicom_series import load_dicom_series
from .errors import ImageLoadError
from .volume import Volume

log = logging.getLogger(__name__)

FILE_SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd")
# A CT in Hounsfield units has air (-1000 HU) or at least fat (-100 HU) somewhere in view.
MAX_LOWEST_HU = -50.0
Role = Literal["ct", "label"]


def load_volume(path: Path | str, role: Role = "ct", series_instance_uid: str | None = None) -> Volume:
    """Load ``path`` as a CT (HU) or a label map; geometry in LPS, as DICOM and ITK store it.

    A folder is read as DICOM (``series_instance_uid`` picks a series when several are there).
    """
    path = Path(path)
    if not path.exists():
        raise ImageLoadError(path, "does not exist")
    if path.is_dir():
        if role != "ct":
            raise ImageLoadError(path, "label maps are read from files, not DICOM folders")
        return _check_hounsfield(path, load_dicom_series(path, series_instance_uid))
    if not path.name.lower().endswith(FILE_SUFFIXES):
        raise ImageLoadError(path, f"unsupported file type; expected a DICOM folder or one of {', '.join(FILE_SUFFIXES)}")
    volume = _load_file(path, role)
    return volume if role == "label" else _check_hounsfield(path, volume)


def load_ct(path: Path | str, series_instance_uid: str | None = None) -> Volume:
    return load_volume(path, "ct", series_instance_uid)


def load_labelmap(path: Path | str) -> Volume:
    return load_volume(path, "label")


def _load_file(path: Path, role: Role) -> Volume:
    if path.name.lower().endswith((".nii", ".nii.gz")):
        _check_nifti_payload(path)
    try:
        image = sitk.ReadImage(str(path))
    except RuntimeError as error:
        reason = str(error).strip().splitlines()[-1] if str(error).strip() else "unreadable"
        raise ImageLoadError(path, f"cannot be read as an image, it may be truncated or corrupt ({reason})") from None
    if image.GetDimension() != 3:
        raise ImageLoadError(path, f"is a {image.GetDimension()}D image; a 3D volume is needed")
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise ImageLoadError(path, f"has {image.GetNumberOfComponentsPerPixel()} components per voxel; a scalar volume is needed")
    array = sitk.GetArrayFromImage(image)
    array = _as_labels(path, array) if role == "label" else _as_hounsfield(array)
    return Volume(
        array=array,
        spacing=tuple(float(x) for x in image.GetSpacing()),
        origin=tuple(float(x) for x in image.GetOrigin()),
        direction=np.asarray(image.GetDirection(), dtype=float).reshape(3, 3),
        frame="LPS",
        source=path,
    )


def _check_nifti_payload(path: Path) -> None:
    """ITK's NIfTI reader zero-fills a truncated file without a word, so count the voxel bytes first."""
    try:
        header = nibabel.load(str(path)).header
    except Exception as error:
        raise ImageLoadError(path, f"is not a readable NIfTI file ({error})") from None
    expected = int(header.get_data_offset()) + int(np.prod(header.get_data_shape())) * header.get_data_dtype().itemsize
    try:
        actual = _decompressed_size(path)
    except (EOFError, OSError, zlib.error) as error:
        raise ImageLoadError(path, f"cannot be read as an image, the compressed stream is broken ({error})") from None
    if actual < expected:
        raise ImageLoadError(path, f"cannot be read as an image: truncated, {actual} bytes where the header needs {expected}")


def _decompressed_size(path: Path, chunk: int = 1 << 22) -> int:
    if not path.name.lower().endswith(".gz"):
        return path.stat().st_size
    size = 0
    with gzip.open(path, "rb") as stream:
        while block := stream.read(chunk):
            size += len(block)
    return size


def _check_hounsfield(path: Path, volume: Volume) -> Volume:
    """``volume``, unless nothing in it is as dark as fat: then its values are not HU, and every HU threshold
    downstream (bone at 100-200 HU) would call the whole body bone."""
    lowest = float(volume.array.min())
    if lowest > MAX_LOWEST_HU:
        raise ImageLoadError(path, f"values range {lowest:g}..{float(volume.array.max()):g} with no air or fat (nothing below "
                                   f"{MAX_LOWEST_HU:g}), so they are not Hounsfield units: was the rescale (HU = value x "
                                   "slope + intercept, intercept often -1024) lost when the file was written, or is it not a CT?")
    return volume


def _as_hounsfield(array: np.ndarray) -> np.ndarray:
    """Integer CTs are kept as int16 when they fit (half the memory of int32); others as float32."""
    if np.issubdtype(array.dtype, np.integer):
        info = np.iinfo(np.int16)
        if array.min() >= info.min and array.max() <= info.max:
            return array.astype(np.int16, copy=False)
    return array.astype(np.float32, copy=False)


def _as_labels(path: Path, array: np.ndarray) -> np.ndarray:
    if np.issubdtype(array.dtype, np.floating):
        rounded = np.rint(array)
        if not np.array_equal(rounded, array):
            raise ImageLoadError(path, "holds non-integer values; a label map must hold whole label numbers")
        array = rounded
    if array.min() < 0 or array.max() > np.iinfo(np.uint16).max:
        raise ImageLoadError(path, f"label values range {array.min()}..{array.max()}; expected 0..65535")
    return array.astype(np.uint16)
