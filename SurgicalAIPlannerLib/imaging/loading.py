"""One entry point for CT images and label maps: DICOM folder, NIfTI, NRRD or MetaImage."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import numpy as np
import SimpleITK as sitk

from .dicom_series import load_dicom_series
from .errors import ImageLoadError
from .volume import Volume

log = logging.getLogger(__name__)

FILE_SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd")
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
        return load_dicom_series(path, series_instance_uid)
    if not path.name.lower().endswith(FILE_SUFFIXES):
        raise ImageLoadError(path, f"unsupported file type; expected a DICOM folder or one of {', '.join(FILE_SUFFIXES)}")
    return _load_file(path, role)


def load_ct(path: Path | str, series_instance_uid: str | None = None) -> Volume:
    return load_volume(path, "ct", series_instance_uid)


def load_labelmap(path: Path | str) -> Volume:
    return load_volume(path, "label")


def _load_file(path: Path, role: Role) -> Volume:
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
