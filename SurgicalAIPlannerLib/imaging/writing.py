"""Saving a ``Volume`` (CT or label map) as NIfTI, NRRD or MetaImage, atomically.

ITK files store geometry in LPS; a volume in RAS is converted on the way out, so a saved file reloads
with the same voxel positions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import SimpleITK as sitk

from ..atomic import atomic_target
from .volume import Volume

WRITABLE_SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".mha")


def image_suffix(path: Path) -> str:
    return ".nii.gz" if path.name.lower().endswith(".nii.gz") else path.suffix.lower()


def to_sitk(volume: Volume) -> sitk.Image:
    lps = volume.in_frame("LPS")
    image = sitk.GetImageFromArray(np.ascontiguousarray(lps.array))
    image.SetSpacing(tuple(float(s) for s in lps.spacing))
    image.SetOrigin(tuple(float(x) for x in lps.origin))
    image.SetDirection(tuple(float(x) for x in np.asarray(lps.direction).ravel()))
    return image


def save_volume(volume: Volume, path: Path | str) -> Path:
    """Save ``volume`` where ``path`` says; a failed write leaves no file behind and keeps an existing one."""
    path = Path(path)
    suffix = image_suffix(path)
    if suffix not in WRITABLE_SUFFIXES:
        raise ValueError(f"{path}: unsupported image file type {suffix!r}; use {', '.join(WRITABLE_SUFFIXES)}")
    with atomic_target(path, suffix=suffix) as partial:
        sitk.WriteImage(to_sitk(volume), str(partial), useCompression=suffix != ".nii")
    return path
