"""TotalSegmentator as an optional backend, used only when the package and its weights are installed.

Never required: the project does not install it or download its weights. With ``pip install
TotalSegmentator`` and its weights present (``totalseg_download_weights``, kept in
``$TOTALSEG_HOME_DIR`` or ``~/.totalsegmentator``), ``--model totalsegmentator`` runs its "total" task
on the bones of the label table and maps its class names onto this project's values.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..imaging.volume import Volume
from .device import choose_device
from .labels import label_table

log = logging.getLogger(__name__)
# TotalSegmentator v2 labels S1 apart from the sacrum; anatomically S1 is part of the sacrum.
MERGED_INTO = {"vertebrae_S1": "sacrum"}


class TotalSegmentatorUnavailable(RuntimeError):
    pass


def weights_dir() -> Path:
    home = Path(os.environ.get("TOTALSEG_HOME_DIR", Path.home() / ".totalsegmentator"))
    return home / "nnunet" / "results"


def availability() -> tuple[bool, str]:
    """(usable, why not) — checks the package and the weights without importing torch-heavy modules."""
    if importlib.util.find_spec("totalsegmentator") is None:
        return False, "the TotalSegmentator package is not installed (pip install TotalSegmentator)"
    if not weights_dir().is_dir() or not any(weights_dir().iterdir()):
        return False, f"no TotalSegmentator weights in {weights_dir()} (run totalseg_download_weights -t total)"
    return True, ""


def to_project_labels(array: np.ndarray, names_by_value: Mapping[int, str]) -> np.ndarray:
    """Re-value a TotalSegmentator label array ({value: class name}) onto this project's table; others -> 0."""
    lookup = np.zeros(max(names_by_value, default=0) + 1, np.uint8)
    table = label_table()
    for value, name in names_by_value.items():
        name = MERGED_INTO.get(name, name)
        if name in table:
            lookup[value] = table[name]
    clipped = np.where(array < len(lookup), array, 0)
    return lookup[clipped]


def segment_with_totalsegmentator(ct: Volume, device: str, progress: Callable[[float, str], None]) -> tuple[Volume, str]:
    usable, reason = availability()
    if not usable:
        raise TotalSegmentatorUnavailable(f"--model totalsegmentator cannot run: {reason}")
    import nibabel
    from totalsegmentator.map_to_binary import class_map
    from totalsegmentator.python_api import totalsegmentator

    torch_device, why = choose_device(device)
    log.info("device: %s (TotalSegmentator)", why)
    ras = ct.in_frame("RAS")
    image = nibabel.Nifti1Image(np.ascontiguousarray(ras.array.transpose(2, 1, 0)), ras.ijk_to_ras())
    wanted = [name for name in label_table() if name in class_map["total"].values()] + ["vertebrae_S1"]
    progress(0.1, "TotalSegmentator: running the 'total' task on the bones")
    result = totalsegmentator(image, None, ml=True, roi_subset=wanted, device="gpu" if torch_device.type == "cuda" else "cpu")
    array = np.asarray(result.dataobj).transpose(2, 1, 0)
    labels = to_project_labels(array.astype(np.int64), class_map["total"])
    return replace(ras, array=labels).in_frame(ct.frame), str(torch_device)


