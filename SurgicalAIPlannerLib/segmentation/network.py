"""The network definition shared by training and inference, written into the bundle's inference config."""

from __future__ import annotations

from typing import Any

import torch


def default_network_def(out_channels: int) -> dict[str, Any]:
    """A small 3D U-Net (~0.6 M parameters, ~2.5 MB of float32 weights): trainable on a CPU."""
    return {
        "_target_": "monai.networks.nets.UNet",
        "spatial_dims": 3,
        "in_channels": 1,
        "out_channels": out_channels,
        "channels": [16, 32, 64, 128],
        "strides": [2, 2, 2],
        "num_res_units": 1,
        "norm": "instance",
    }


def build_network(network_def: dict[str, Any]) -> torch.nn.Module:
    """Instantiate a MONAI-bundle style ``network_def`` (``_target_`` + keyword arguments)."""
    from monai.bundle import ConfigParser

    parser = ConfigParser({"network_def": network_def})
    return parser.get_parsed_content("network_def")
