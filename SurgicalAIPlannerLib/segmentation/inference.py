"""MONAI sliding-window inference of a bundle on a CT, streamed slab by slab along z.

Memory stays bounded for any input size: only one z-slab's class scores exist at a time (float32 on
CPU, float16 under CUDA autocast); the whole grid is held once as int16 HU and once as uint8 labels.
Each slab is extended by a margin on both sides and only its core is kept, so slabs join seamlessly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import replace

import numpy as np
import torch
from monai.inferers import sliding_window_inference

from ..imaging.volume import Volume
from .anatomy_rules import assign_sides_and_levels
from .bundle import ModelBundle
from .intensity import normalize_hu
from .postprocess import postprocess
from .resample import labels_to_grid, to_canonical

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]


def run_bundle(ct: Volume, bundle: ModelBundle, device: torch.device, progress: Progress) -> Volume:
    """Label map of ``ct`` on its own grid (nearest-neighbour back from the model's canonical grid)."""
    progress(0.0, f"resampling to the model grid ({bundle.spacing_mm[0]:g} mm, RAS)")
    canonical = to_canonical(ct, bundle.spacing_mm)
    network = bundle.load_network(device)
    settings = bundle.manifest.get("sliding_window", {})
    labels = slab_inference(
        canonical.array, network, bundle.window_hu, bundle.patch_size, device,
        overlap=float(settings.get("overlap", 0.25)), batch=int(settings.get("batch", 2)),
        progress=lambda share, text: progress(0.05 + 0.8 * share, text),
    )
    x_mm = canonical.origin[0] + np.arange(labels.shape[2]) * canonical.spacing[0]
    if bundle.manifest.get("outputs") == "bone_types":
        progress(0.86, "assigning sides (midline) and lumbar levels (discs) to the bone types")
        z_mm = canonical.origin[2] + np.arange(labels.shape[0]) * canonical.spacing[2]
        labels = assign_sides_and_levels(labels, x_mm, z_mm, canonical.spacing[2])
    progress(0.88, "post-processing (largest component, holes, left/right check)")
    labels = postprocess(labels, x_mm)
    progress(0.95, "resampling labels back to the input grid")
    return labels_to_grid(replace(canonical, array=labels), ct)


def slab_inference(hu: np.ndarray, network: torch.nn.Module, window_hu: tuple[float, float], roi: tuple[int, int, int],
                   device: torch.device, overlap: float, batch: int, progress: Progress) -> np.ndarray:
    """Argmax labels (uint8, [z, y, x]) of ``hu`` on the canonical grid."""
    depth = hu.shape[0]
    core, margin = roi[0], roi[0] // 4
    labels = np.zeros(hu.shape, np.uint8)
    autocast = torch.autocast("cuda", dtype=torch.float16) if device.type == "cuda" else nullcontext()
    for start in range(0, depth, core):
        stop = min(start + core, depth)
        low, high = max(0, start - margin), min(depth, stop + margin)
        slab = normalize_hu(torch.from_numpy(np.ascontiguousarray(hu[low:high])), window_hu)[None, None].to(device)
        with torch.inference_mode(), autocast:
            scores = sliding_window_inference(slab, roi, batch, network, overlap=overlap, mode="gaussian")
        labels[start:stop] = scores[0, :, start - low: stop - low].argmax(0).to("cpu", torch.uint8).numpy()
        del scores, slab
        progress(stop / depth, f"inference: slices {stop}/{depth} of the model grid")
    return labels
