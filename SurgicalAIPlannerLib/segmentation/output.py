"""Writing label maps: NIfTI/NRRD through ITK, via a temporary file so nothing is ever half-written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from ..imaging.volume import Volume
from .resample import to_sitk


def save_labels(labels: Volume, path: Path | str) -> Path:
    """Write ``labels`` (geometry kept, uint8 when it fits) to ``path``; the suffix picks the format."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(path.suffixes[-2:]) if path.name.endswith(".nii.gz") else path.suffix
    array = labels.array.astype(np.uint8) if labels.array.max(initial=0) <= 255 else labels.array
    image = to_sitk(Volume(array, labels.spacing, labels.origin, labels.direction, labels.frame))
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=suffix)
    os.close(handle)
    try:
        sitk.WriteImage(image, temporary, useCompression=True)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
