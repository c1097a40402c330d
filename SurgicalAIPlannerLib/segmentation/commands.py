"""``surgical-planner segment | labels | models``."""

from __future__ import annotations

import argparse
import json
import logging
from typing import TYPE_CHECKING

from .bundle import BundleError, installed_bundles, load_bundle
from .device import DeviceError
from .labels import label_table

if TYPE_CHECKING:
    from ..imaging.volume import Volume
    from .engine import SegmentationResult

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    segment = subparsers.add_parser("segment", help="segment the bones of a CT into a label map")
    segment.add_argument("ct", help="CT: DICOM folder, .nii/.nii.gz, .nrrd or .mha")
    segment.add_argument("--output", required=True, help="label map to write (.nii.gz, .nrrd)")
    add_model_arguments(segment)
    segment.set_defaults(run=run_segment)

    labels = subparsers.add_parser("labels", help="print the bone label table {name: value}")
    labels.add_argument("--json", action="store_true")
    labels.set_defaults(run=run_labels)

    models = subparsers.add_parser("models", help="list installed segmentation models with their manifest")
    models.add_argument("--json", action="store_true")
    models.set_defaults(run=run_models)


def add_model_arguments(parser: argparse.ArgumentParser, when: str = "") -> None:
    """--model and --device: which segmentation runs, and where (``when``: a note on when it runs at all)."""
    parser.add_argument("--model", default="auto", help=f"{when}auto (shipped model), an installed model's name, "
                                                        "a bundle folder, classical or totalsegmentator")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))


def segment_for_command(ct: Volume, args: argparse.Namespace) -> SegmentationResult:
    """``segment`` with the command's --model and --device; a bad model or device is a usage error."""
    from .engine import segment

    try:
        return segment(ct, args.model, args.device)
    except (BundleError, DeviceError) as error:
        raise ValueError(str(error)) from None


def run_segment(args: argparse.Namespace) -> int:
    from ..imaging import load_ct
    from .output import save_labels

    result = segment_for_command(load_ct(args.ct), args)
    path = save_labels(result.labels, args.output)
    print(f"{path}: {len(set(result.labels.array.ravel().tolist()) - {0})} bones by {result.method} "
          f"on {result.device} in {result.seconds:.1f} s")
    return 0


def run_labels(args: argparse.Namespace) -> int:
    table = label_table()
    if args.json:
        print(json.dumps(table, indent=2))
    else:
        for name, value in table.items():
            print(f"{value:3d}  {name}")
    return 0


def run_models(args: argparse.Namespace) -> int:
    manifests = {}
    for folder in installed_bundles():
        try:
            manifests[folder.name] = {"folder": str(folder), **load_bundle(folder).manifest}
        except BundleError as error:
            manifests[folder.name] = {"folder": str(folder), "error": str(error)}
    if args.json:
        print(json.dumps(manifests, indent=2))
        return 0
    if not manifests:
        print("no installed models (the classical fallback is used)")
    for name, manifest in manifests.items():
        print(f"{name}: {manifest['folder']}")
        if "error" in manifest:
            print(f"  unusable: {manifest['error']}")
            continue
        print(f"  version {manifest['version']}, spacing {manifest['spacing_mm']} mm, window {manifest['window_hu']} HU, "
              f"{len(manifest['labels'])} labels, weights sha256 {manifest['weights_sha256'][:16]}...")
        dice = manifest.get("measured_dice")
        if dice:
            print(f"  measured Dice ({dice['reference']}): " + ", ".join(f"{k} {v:.2f}" for k, v in dice["per_label"].items()))
    return 0
