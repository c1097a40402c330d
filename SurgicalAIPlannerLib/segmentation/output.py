"""Writing label maps: NIfTI/NRRD through ITK, via a temporary file so nothing is ever half-written."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from ..imaging.volume import Volume
from ..imaging.writing import save_volume


def save_labels(labels: Volume, path: Path | str) -> Path:
    """Write ``labels`` (geometry kept, uint8 when it fits) to ``path``; the suffix picks the format."""
    array = labels.array.astype(np.uint8) if labels.array.max(initial=0) <= 255 else labels.array
    return save_volume(replace(labels, array=array), path)
