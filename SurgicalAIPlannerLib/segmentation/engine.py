"""``segment(ct)``: one entry point for every segmentation method (model bundle, TotalSegmentator, classical).

The method is picked by ``model``: ``auto`` (the shipped model, else the classical fallback), an installed
model's name or a bundle folder, ``totalsegmentator`` or ``classical``. The result is always a label map
on the input CT's grid, valued by the project's label table (labels.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..imaging.volume import Volume
from .bundle import installed_bundles, load_bundle, resolve_bundle
from .device import choose_device
from .labels import label_table

log = logging.getLogger(__name__)
DEFAULT_MODEL = "bone_ct_small"
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class SegmentationResult:
    labels: Volume  # on the input CT's grid and frame
    label_table: dict[str, int]
    method: str
    device: str
    seconds: float


def log_progress(share: float, message: str) -> None:
    log.info("[%3.0f%%] %s", 100 * share, message)


def segment(ct: Volume, model: str = "auto", device: str = "auto", progress: Progress | None = None) -> SegmentationResult:
    progress = progress or log_progress
    started = time.perf_counter()
    method = _resolve_method(model)
    if method == "classical":
        from .classical import segment_classical

        log.info("device: cpu (the classical fallback runs on the CPU only)")
        labels, device_text = segment_classical(ct, progress), "cpu"
    elif method == "totalsegmentator":
        from .totalseg import segment_with_totalsegmentator

        labels, device_text = segment_with_totalsegmentator(ct, device, progress)
    else:
        from .inference import run_bundle

        bundle = load_bundle(method)
        torch_device, reason = choose_device(device)
        log.info("device: %s", reason)
        labels, device_text = run_bundle(ct, bundle, torch_device, progress), str(torch_device)
        method = f"model {bundle.name} ({method})"
    seconds = time.perf_counter() - started
    progress(1.0, f"done in {seconds:.1f} s")
    return SegmentationResult(labels, label_table(), str(method), device_text, seconds)


def available_models() -> list[str]:
    """What ``model`` can name here: 'auto', each installed bundle, 'classical', and 'totalsegmentator' when usable."""
    from .totalseg import availability

    models = ["auto", *(bundle.name for bundle in installed_bundles()), "classical"]
    return models + (["totalsegmentator"] if availability()[0] else [])


def _resolve_method(model: str) -> str:
    """'classical', 'totalsegmentator' or a bundle folder path."""
    if model in ("classical", "totalsegmentator"):
        return model
    if model == "auto":
        bundles = [b for b in installed_bundles() if _fit_for_auto(b)]
        preferred = [b for b in bundles if b.name == DEFAULT_MODEL] or bundles
        if not preferred:
            log.warning("no installed model is fit for automatic use: using the classical fallback")
            return "classical"
        return str(preferred[0])
    return str(resolve_bundle(model))


def _fit_for_auto(folder) -> bool:
    """A bundle whose manifest says it measured worse than the classical fallback is used only when named."""
    verdict = load_bundle(folder).manifest.get("auto_select", {"use": True})
    if not verdict.get("use", True):
        log.info("model %s is not chosen automatically: %s", folder.name, verdict.get("why", "its manifest says so"))
    return bool(verdict.get("use", True))
