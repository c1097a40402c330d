"""Device choice: the CUDA path's selection and fallback logic, exercised on a CPU-only machine."""

import pytest
import torch

from SurgicalAIPlannerLib.segmentation.device import DeviceError, choose_device


def test_auto_without_cuda_falls_back_to_cpu_and_says_why():
    device, reason = choose_device("auto", cuda_available=lambda: False)
    assert device.type == "cpu" and "no CUDA GPU" in reason


def test_auto_with_cuda_picks_cuda():
    device, reason = choose_device("auto", cuda_available=lambda: True)
    assert device.type == "cuda" and "auto" in reason


def test_cuda_requested_but_missing_is_a_clear_error():
    with pytest.raises(DeviceError, match="--device cuda was asked for"):
        choose_device("cuda", cuda_available=lambda: False)


def test_cpu_requested_and_unknown_device():
    assert choose_device("cpu", cuda_available=lambda: True)[0] == torch.device("cpu")
    with pytest.raises(DeviceError, match="unknown device"):
        choose_device("tpu")
