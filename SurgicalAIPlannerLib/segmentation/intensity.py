"""CT intensity handling named by a model's manifest: HU window -> network input."""

from __future__ import annotations

import numpy as np
import torch


def normalize_hu(hu: np.ndarray | torch.Tensor, window_hu: tuple[float, float]):
    """Clip to the window and map it linearly to [-1, 1] (works on numpy arrays and tensors)."""
    low, high = window_hu
    centre, half = (low + high) / 2.0, (high - low) / 2.0
    if isinstance(hu, torch.Tensor):
        return (hu.float().clamp(low, high) - centre) / half
    return ((np.clip(hu.astype(np.float32, copy=False), low, high) - centre) / half).astype(np.float32)
