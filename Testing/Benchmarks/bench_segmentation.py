"""Bone segmentation benchmark on the real sample CT (``make bench-seg``).

Dice per bone of the shipped model and of the classical fallback against
``example_seg_fast_force_split.nii.gz``. That reference is a TotalSegmentator (v2, fast) OUTPUT, not
manual ground truth; its S1 label is merged into the sacrum, since the project's sacrum includes S1.
Then the time and peak memory for 512x512x300 and 512x512x600 CTs made by resampling the sample (each run in a
child process so its peak memory is its own): doubling the slices must not double the memory beyond the CT
itself (windows are streamed; no float copy of the volume per class). Prints tables and ends with one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import SimpleITK as sitk
import torch

from SurgicalAIPlannerLib.imaging import load_ct, load_labelmap
from SurgicalAIPlannerLib.imaging.label_table import read_label_table
from SurgicalAIPlannerLib.resources import sample_ct_path, sample_label_table_path, sample_reference_labels_path
from SurgicalAIPlannerLib.atomic import write_json_atomic
from SurgicalAIPlannerLib.imaging.writing import to_sitk
from SurgicalAIPlannerLib.segmentation.bundle import MANIFEST, load_bundle, resolve_bundle
from SurgicalAIPlannerLib.segmentation.engine import DEFAULT_MODEL, segment
from SurgicalAIPlannerLib.segmentation.evaluation import dice_per_bone
from SurgicalAIPlannerLib.segmentation.resample import from_sitk
from SurgicalAIPlannerLib.segmentation.totalseg import to_project_labels

BONES = ["hip_left", "hip_right", "sacrum", "femur_left", "femur_right", *(f"vertebrae_L{i}" for i in range(1, 6))]
REFERENCE_NOTE = "TotalSegmentator v2 fast output for example_ct (S1 merged into sacrum), not manual truth"
LARGE_SLICES = (300, 600)


def quiet(share: float, text: str) -> None:
    pass


def large_ct(slices: int):
    """The sample CT resampled (linear) onto a 512 x 512 x ``slices`` grid over the same field of view."""
    ct = load_ct(sample_ct_path())
    image = to_sitk(ct)
    shape_ijk = (512, 512, slices)
    extent = np.array(image.GetSize()) * np.array(image.GetSpacing())
    spacing = extent / np.array(shape_ijk)
    resampled = sitk.Resample(image, list(shape_ijk), sitk.Transform(), sitk.sitkLinear, image.GetOrigin(),
                              tuple(spacing), image.GetDirection(), -1024, image.GetPixelID())
    return replace(from_sitk(resampled, "LPS", like=ct), source=None)


def run_large(model: str, device: str, slices: int) -> dict:
    """Child-process job: time one segmentation of the 512 x 512 x ``slices`` CT."""
    ct = large_ct(slices)
    wall, cpu = time.perf_counter(), time.process_time()
    result = segment(ct, model, device, progress=quiet)
    return {"model": model, "shape_ijk": list(ct.shape_ijk), "spacing_mm": [round(s, 3) for s in ct.spacing],
            "wall_s": round(time.perf_counter() - wall, 2), "cpu_s": round(time.process_time() - cpu, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
            "ct_array_mb": round(ct.array.nbytes / 2**20, 1), "device": result.device, "torch_threads": torch.get_num_threads()}


def large_in_child(model: str, device: str, slices: int) -> dict:
    command = [sys.executable, __file__, "--large-only", "--model", model, "--device", device, "--slices", str(slices)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def score(model: str, device: str, reference: np.ndarray) -> tuple[dict[str, float], float, str]:
    result = segment(load_ct(sample_ct_path()), model, device, progress=quiet)
    return dice_per_bone(result.labels.array, reference, BONES), result.seconds, result.device


def record_in_manifest(model: str, dice: dict[str, float]) -> None:
    bundle = load_bundle(resolve_bundle(model))
    manifest = dict(bundle.manifest)
    manifest["measured_dice"] = {"reference": REFERENCE_NOTE, "case": "example_ct.nii.gz (TotalSegmentator test CT, 3 mm)",
                                 "per_label": {name: round(value, 3) for name, value in dice.items()}}
    write_json_atomic(bundle.folder / MANIFEST, manifest, indent=2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--record-in-manifest", action="store_true", help="write the model's Dice into its manifest")
    parser.add_argument("--skip-large", action="store_true", help="only the Dice part (e.g. to record a checkpoint)")
    parser.add_argument("--large-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--slices", type=int, default=LARGE_SLICES[0], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.large_only:
        print(json.dumps(run_large(args.model, args.device, args.slices)))
        return 0
    table = read_label_table(sample_label_table_path())
    reference = to_project_labels(load_labelmap(sample_reference_labels_path()).array.astype(np.int64), table)
    model_dice, model_s, device = score(args.model, args.device, reference)
    classical_dice, classical_s, _ = score("classical", "cpu", reference)
    print(f"Dice on example_ct.nii.gz (122x101x112, 3 mm) against the {REFERENCE_NOTE}")
    print(f"{'bone':<14} {'model':>7} {'classical':>10}")
    for name in BONES:
        print(f"{name:<14} {model_dice[name]:7.3f} {classical_dice[name]:10.3f}")
    print(f"{'mean':<14} {np.mean(list(model_dice.values())):7.3f} {np.mean(list(classical_dice.values())):10.3f}")
    print(f"wall time: model {model_s:.1f} s on {device}, classical {classical_s:.1f} s")
    large = {} if args.skip_large else {
        f"large_512x512x{slices}": {"model": large_in_child(args.model, args.device, slices),
                                    "classical": large_in_child("classical", "cpu", slices)}
        for slices in LARGE_SLICES}
    for key, runs in large.items():
        for name, run in runs.items():
            print(f"{key[len('large_'):]} CT, {name}: wall {run['wall_s']} s, CPU {run['cpu_s']} s, peak RSS "
                  f"{run['peak_rss_mb']} MB (the CT array itself {run['ct_array_mb']} MB) on {run['device']} "
                  f"({os.cpu_count()} CPU cores visible)")
    if args.record_in_manifest:
        record_in_manifest(args.model, model_dice)
    summary = {"benchmark": "segmentation", "reference": REFERENCE_NOTE, "model": args.model,
               "dice_model": {k: round(v, 3) for k, v in model_dice.items()},
               "dice_classical": {k: round(v, 3) for k, v in classical_dice.items()},
               "wall_s_sample": {"model": round(model_s, 2), "classical": round(classical_s, 2)},
               **large, "cpu_cores": os.cpu_count()}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
