"""Which torch device runs inference, and why (logged in one line by the engine)."""

from __future__ import annotations

from collections.abc import Callable

import torch


class DeviceError(RuntimeError):
    """The requested device cannot be used."""


def choose_device(requested: str = "auto", cuda_available: Callable[[], bool] = torch.cuda.is_available) -> tuple[torch.device, str]:
    """(device, reason). ``auto`` takes a CUDA GPU when torch sees one, else the CPU; ``cuda`` insists on one."""
    if requested not in ("auto", "cpu", "cuda"):
        raise DeviceError(f"unknown device {requested!r}; use auto, cpu or cuda")
    if requested == "cpu":
        return torch.device("cpu"), f"cpu: asked for ({torch.get_num_threads()} threads)"
    if cuda_available():
        name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CUDA device"
        return torch.device("cuda"), f"cuda: {name} ({'asked for' if requested == 'cuda' else 'auto: a CUDA GPU is available'})"
    if requested == "cuda":
        raise DeviceError(f"--device cuda was asked for, but torch {torch.__version__} sees no CUDA GPU; use --device auto or cpu")
    return torch.device("cpu"), f"cpu: auto, no CUDA GPU visible to torch ({torch.get_num_threads()} threads)"


def device_report(requested: str = "auto") -> str:
    """The device a run would use and why, or why the request cannot be met, as one line for a panel."""
    try:
        return choose_device(requested or "auto")[1]
    except DeviceError as error:
        return str(error)
