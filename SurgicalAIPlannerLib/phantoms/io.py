"""Writing phantom volumes to NIfTI/NRRD atomically (temporary file beside the target, then rename)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from ..imaging.volume import Volume


def write_volume(volume: Volume, path: Path | str) -> Path:
    """Save ``volume`` where ``path`` says (ITK stores geometry in LPS); a failed write leaves no file behind."""
    path = Path(path)
    suffix = "".join(path.suffixes[-2:]) if path.name.endswith(".nii.gz") else path.suffix
    if suffix not in (".nii.gz", ".nii", ".nrrd", ".mha"):
        raise ValueError(f"{path}: unsupported image file type {suffix!r}; use .nii.gz, .nii, .nrrd or .mha")
    lps = volume.in_frame("LPS")
    image = sitk.GetImageFromArray(np.ascontiguousarray(lps.array))
    image.SetSpacing(tuple(float(s) for s in lps.spacing))
    image.SetOrigin(tuple(float(x) for x in lps.origin))
    image.SetDirection(tuple(float(x) for x in np.asarray(lps.direction).ravel()))
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(descriptor)
    try:
        sitk.WriteImage(image, partial, useCompression=suffix != ".nii")
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return path
