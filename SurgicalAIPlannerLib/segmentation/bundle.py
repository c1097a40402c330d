"""Segmentation models as MONAI bundles plus a project manifest, with sha256-checked weights.

Layout of a bundle folder::

    configs/metadata.json    MONAI bundle metadata (version, task, data formats, labels)
    configs/inference.json   network_def (+ sliding-window settings) as MONAI's ConfigParser reads it
    models/model.pt          state dict (torch.save)
    manifest.json            label table, spacing (mm), HU window, patch, training data and licences,
                             measured Dice, and the sha256 of models/model.pt

The shipped model and a user-supplied folder load the same way. Everything is checked at load:
a missing file, a malformed manifest or a weights file whose sha256 differs is a BundleError
naming the file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..atomic import atomic_target, write_json_atomic
from ..resources import models_dir
from .network import build_network

MANIFEST = "manifest.json"
METADATA = "configs/metadata.json"
INFERENCE = "configs/inference.json"
WEIGHTS = "models/model.pt"
REQUIRED_MANIFEST_KEYS = ("name", "version", "labels", "spacing_mm", "window_hu", "patch_size", "weights_sha256")


class BundleError(ValueError):
    """A model bundle cannot be used; ``path`` is the file or folder at fault."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        super().__init__(f"{self.path}: {problem}")


@dataclass(frozen=True)
class ModelBundle:
    folder: Path
    manifest: dict[str, Any]
    network_def: dict[str, Any]
    inference: dict[str, Any]

    @property
    def name(self) -> str:
        return self.manifest["name"]

    @property
    def labels(self) -> dict[str, int]:
        return {name: int(value) for name, value in self.manifest["labels"].items()}

    @property
    def spacing_mm(self) -> tuple[float, float, float]:
        return tuple(float(s) for s in self.manifest["spacing_mm"])

    @property
    def window_hu(self) -> tuple[float, float]:
        low, high = self.manifest["window_hu"]
        return float(low), float(high)

    @property
    def patch_size(self) -> tuple[int, int, int]:
        return tuple(int(n) for n in self.manifest["patch_size"])

    def load_network(self, device: torch.device) -> torch.nn.Module:
        """The network with its weights (sha256 checked first), in eval mode on ``device``."""
        weights = self.folder / WEIGHTS
        actual = sha256_of(weights)
        if actual != self.manifest["weights_sha256"]:
            raise BundleError(weights, f"sha256 {actual} does not match the manifest's {self.manifest['weights_sha256']}: "
                                       "the weights are damaged or not the ones this manifest describes")
        network = build_network(self.network_def)
        try:
            state = torch.load(weights, map_location="cpu", weights_only=True)
            network.load_state_dict(state)
        except Exception as error:
            raise BundleError(weights, f"weights do not fit the network in {INFERENCE} ({error})") from None
        return network.to(device).eval()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise BundleError(path, "is missing")
    try:
        content = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise BundleError(path, f"is not valid JSON ({error})") from None
    if not isinstance(content, dict):
        raise BundleError(path, "must hold a JSON object")
    return content


def load_bundle(folder: Path | str) -> ModelBundle:
    """Read and check a bundle folder (weights are hashed when the network is loaded)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BundleError(folder, "is not a model bundle folder")
    manifest = _read_json(folder / MANIFEST)
    missing = [key for key in REQUIRED_MANIFEST_KEYS if key not in manifest]
    if missing:
        raise BundleError(folder / MANIFEST, f"lacks {', '.join(missing)}")
    _read_json(folder / METADATA)
    inference = _read_json(folder / INFERENCE)
    if "network_def" not in inference:
        raise BundleError(folder / INFERENCE, "lacks network_def")
    if not (folder / WEIGHTS).is_file():
        raise BundleError(folder / WEIGHTS, "is missing")
    return ModelBundle(folder, manifest, inference["network_def"], inference)


def installed_bundles(root: Path | None = None) -> list[Path]:
    """Bundle folders under the models directory (those holding a manifest)."""
    root = root or models_dir()
    return sorted(path.parent for path in root.glob(f"*/{MANIFEST}")) if root.is_dir() else []


def resolve_bundle(name_or_folder: str, root: Path | None = None) -> Path:
    """A bundle folder from a path, or from the name of an installed model."""
    path = Path(name_or_folder)
    if path.is_dir():
        return path
    root = root or models_dir()
    if (root / name_or_folder).is_dir():
        return root / name_or_folder
    known = ", ".join(p.name for p in installed_bundles(root)) or "none"
    raise BundleError(path, f"is neither a bundle folder nor an installed model (installed: {known})")


def save_bundle(folder: Path, network: torch.nn.Module, network_def: dict[str, Any], manifest: dict[str, Any],
                metadata: dict[str, Any], inference_settings: dict[str, Any]) -> Path:
    """Write a complete bundle; the manifest (with the weights' sha256) is written last."""
    folder = Path(folder)
    weights = folder / WEIGHTS
    with atomic_target(weights) as partial:
        torch.save({k: v.detach().cpu() for k, v in network.state_dict().items()}, partial)
    write_json_atomic(folder / METADATA, metadata, indent=2)
    write_json_atomic(folder / INFERENCE, {"network_def": network_def, **inference_settings}, indent=2)
    write_json_atomic(folder / MANIFEST, {**manifest, "weights_sha256": sha256_of(weights)}, indent=2)
    return folder
