"""Landmark detection error (mm) on phantoms of every STAPLE dataset (1 mm and 3 mm) and on the real sample CT.

Phantoms: detection on the phantom CT + its label map against the same definitions applied to the posed
meshes (exact truth for those definitions); and, for the hip, knee and ankle, the whole pipeline: detection on the
phantom CT + the project's own classical segmentation of it. Real CT, against the landmarks derived the same way (same CT, same
detector) from the v2 reference labels: (1) detection with the project's own classical segmentation
(``segment(ct, "classical")``), (2) detection with the TotalSegmentator v1 labels. The reference is a model's
output, not manual truth (none exists for this CT): (1) measures how far the project's pipeline lands from
landmarks on a stronger model's segmentation, (2) how much the landmarks move when the segmentation changes.
Lumbar: VerSe single-vertebra masks (1 mm, expert-corrected annotation) against the same masks resampled to
3 mm: how far the lumbar landmarks move with resolution (robustness, not accuracy).
Prints a table per spacing and ends with one line of JSON.

``--poses N`` runs the wider phantom check instead: N random poses (seeds 100 .. 100+N-1) per dataset and region
(default hip, knee and ankle; ``--regions``, ``--spacings``; ``--segmentation classical`` for the whole pipeline), and
prints the worst pose of each landmark; no real CT. ``--regions full`` takes whole legs, hip to foot, from the datasets
that have them (run it at 3 mm: a 1 mm whole leg is ~1000 x 400 x 300 voxels).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from SurgicalAIPlannerLib.imaging import load_ct, load_labelmap
from SurgicalAIPlannerLib.imaging.label_table import read_label_table
from SurgicalAIPlannerLib.landmarks.detect import detect_landmarks, vertebra_clouds
from SurgicalAIPlannerLib.landmarks.evaluation import coarsened, compare
from SurgicalAIPlannerLib.landmarks.spine import lumbar_landmarks
from SurgicalAIPlannerLib.phantoms import PhantomSpec, available_datasets, build_phantom, load_staple_dataset
from SurgicalAIPlannerLib.phantoms.truth import true_landmarks
from SurgicalAIPlannerLib.resources import sample_ct_path, sample_label_table_path, sample_reference_labels_path
from SurgicalAIPlannerLib.segmentation.engine import segment
from SurgicalAIPlannerLib.segmentation.labels import names_by_value

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "totalseg-example-ct"
VERSE = SHARED.parent / "xrayto3d-bone-masks"
# VerSe masks (label 1) and their level: VerSe label 23 = L4, 24 = L5.
VERSE_MASKS = {"sub-verse004_vert-23-seg-vert_msk.nii.gz": "L4", "sub-verse004_vert-24-seg-vert_msk.nii.gz": "L5",
               "sub-verse410_split-verse267_vert-24-seg-vert_msk_gt.nii.gz": "L5"}
REGIONS = ("hip", "knee", "ankle")  # the standard run's, and the wider check's default
ALL_REGIONS = REGIONS + ("full",)  # whole legs on request
SPACINGS = (1.0, 3.0)
FIRST_SEED = 100


def kind(name: str) -> str:
    return name.rsplit("_", 1)[0]


@dataclass
class PhantomRun:
    """Errors (mm, or degrees for "... (angle deg)") per landmark kind, status counts, and each kind's worst pose."""

    errors: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    worst: dict[str, tuple[float, str]] = field(default_factory=dict)

    def add(self, key: str, value: float, where: str) -> None:
        self.errors[key].append(value)
        if value > self.worst.get(key, (-1.0, ""))[0]:
            self.worst[key] = (value, where)


def standard_seeds(region_index: int) -> list[int]:
    """The benchmark's one pose per region (seed 100 for the hip, 101 the knee, 102 the ankle)."""
    return [FIRST_SEED + region_index]


def phantom_errors(spacing: float, regions: tuple[str, ...] = REGIONS, poses: int | None = None,
                   segmentation: str = "phantom") -> PhantomRun:
    """Detection vs mesh truth on phantoms of every dataset and region; ``poses`` = N: seeds 100 .. 100+N-1 for
    every region, else the standard one pose per region. ``segmentation``: "phantom" (its exact label map) or
    "classical" (the project's fallback run on the phantom CT)."""
    run = PhantomRun()
    for dataset in available_datasets():
        meshes = load_staple_dataset(dataset, include_foot=True)
        for region in regions:
            seeds = standard_seeds(ALL_REGIONS.index(region)) if poses is None else \
                range(FIRST_SEED, FIRST_SEED + poses)
            for seed in seeds:
                _one_phantom(PhantomSpec(dataset, spacing=spacing, region=region, seed=seed, frame="LPS"), meshes, run,
                             segmentation)
    return run


def _one_phantom(spec: PhantomSpec, meshes: dict, run: PhantomRun, segmentation: str) -> None:
    started = time.time()
    pose = f"{spec.dataset} {spec.region} seed {spec.seed}"
    try:
        phantom = build_phantom(spec, meshes, progress=lambda message: None)
    except ValueError as error:
        print(f"  {pose}: skipped ({error})", flush=True)
        return
    if segmentation == "classical":
        labels, names = segment(phantom.ct, "classical", progress=lambda share, message: None).labels, names_by_value()
    else:
        labels, names = phantom.labels, phantom.names
    detected = detect_landmarks(phantom.ct, labels, names, progress=lambda message: None)
    rows = compare(detected, true_landmarks(phantom))
    for row in rows:
        if row.status == "both":
            run.add(kind(row.name), row.error_mm, f"{pose} {row.name}")
            if row.angle_deg is not None:
                run.add(kind(row.name) + " (angle deg)", row.angle_deg, f"{pose} {row.name}")
        run.counts[row.status] += 1
    found = sum(row.status == "both" for row in rows)
    print(f"  {pose} {spec.spacing:g} mm: {phantom.ct.shape_ijk} voxels, {found} landmarks compared, "
          f"{time.time() - started:.0f} s", flush=True)


def real_ct_errors() -> dict[str, dict[str, object]]:
    """{"classical_vs_v2_reference": {landmark: mm or status}, "v1_vs_v2_reference": {...}} on the sample CT."""
    ct = load_ct(sample_ct_path())
    quiet = lambda message: None  # noqa: E731
    reference = detect_landmarks(ct, load_labelmap(sample_reference_labels_path()), read_label_table(sample_label_table_path()),
                                 progress=quiet)
    classical = segment(ct, "classical", progress=lambda share, message: None).labels
    others = {"classical_vs_v2_reference": detect_landmarks(ct, classical, names_by_value(), progress=quiet),
              "v1_vs_v2_reference": detect_landmarks(ct, load_labelmap(SHARED / "example_seg_v1_commit5de6e4d.nii.gz"),
                                                     read_label_table(SHARED / "labels_totalsegmentator_v1_total.csv"),
                                                     progress=quiet)}
    return {key: {row.name: round(row.error_mm, 2) if row.status == "both" else row.status
                  for row in compare(other, reference) if row.status != "both missing"}
            for key, other in others.items()}


def lumbar_resolution_errors() -> dict[str, object]:
    """Lumbar landmarks of each VerSe mask at 3 mm vs at its own 1 mm: distance (mm) or the status when not both found."""
    result: dict[str, object] = {}
    for file, level in VERSE_MASKS.items():
        mask = load_labelmap(VERSE / file)
        names = {1: f"vertebrae_{level}"}
        fine = lumbar_landmarks(vertebra_clouds(mask, names))
        coarse = lumbar_landmarks(vertebra_clouds(coarsened(mask, 3.0), names))
        for row in compare(coarse, fine):
            if row.name.startswith(level):
                key = f"{file.split('_msk')[0]} {row.name}"
                result[key] = round(row.error_mm, 2) if row.status == "both" else (
                    row.status if row.status != "both missing" else fine.landmarks[row.name].missing_reason)
    return result


def summarise(errors: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    return {name: {"n": len(values), "mean": round(float(np.mean(values)), 2), "median": round(float(np.median(values)), 2),
                   "max": round(float(np.max(values)), 2)} for name, values in sorted(errors.items())}


def phantom_figures(spacings: tuple[float, ...], regions: tuple[str, ...], poses: int | None,
                    show_worst: bool, segmentation: str = "phantom") -> dict[str, object]:
    """Prints a table per spacing (and each landmark's worst pose when ``show_worst``); returns the JSON figures."""
    figures: dict[str, object] = {}
    suffix = "" if segmentation == "phantom" else f"_{segmentation}_segmentation"
    for spacing in spacings:
        print(f"Phantoms at {spacing:g} mm (all STAPLE datasets; regions {', '.join(regions)}; "
              f"{'one pose per region' if poses is None else f'{poses} poses each'}; labels: {segmentation})", flush=True)
        run = phantom_errors(spacing, regions, poses, segmentation)
        table = summarise(run.errors)
        print(f"{'landmark':32s} {'n':>3s} {'mean':>6s} {'median':>6s} {'max':>6s}  (mm; angles in degrees)"
              + ("  worst pose" if show_worst else ""))
        for name, row in table.items():
            worst = f"  {run.worst[name][1]}" if show_worst else ""
            print(f"{name:32s} {row['n']:3d} {row['mean']:6.2f} {row['median']:6.2f} {row['max']:6.2f}{worst}")
        print(f"status counts: {dict(run.counts)}")
        figures[f"phantom_{spacing:g}mm{suffix}"] = table
        figures[f"phantom_{spacing:g}mm{suffix}_status"] = dict(run.counts)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--poses", type=int, help="wider phantom check: this many poses per dataset and region, no real CT")
    parser.add_argument("--regions", nargs="+", choices=ALL_REGIONS,
                        help="phantom regions (wider check default: hip knee ankle; full: hip to foot, where the "
                             "dataset has whole legs)")
    parser.add_argument("--spacings", nargs="+", type=float, help="voxel sizes, mm (default 1 3)")
    parser.add_argument("--segmentation", choices=("phantom", "classical"), default="phantom",
                        help="wider check: the phantom's own labels or the classical fallback's (the whole pipeline)")
    args = parser.parse_args()
    spacings = tuple(args.spacings or SPACINGS)
    if args.poses is not None:
        figures = phantom_figures(spacings, tuple(args.regions or REGIONS), args.poses, show_worst=True,
                                  segmentation=args.segmentation)
        print(json.dumps({"bench": "landmarks_wide", "poses": args.poses, "segmentation": args.segmentation, **figures},
                         separators=(",", ":")))
        return 0
    figures = phantom_figures(spacings, tuple(args.regions or REGIONS), None, show_worst=False)
    figures.update(phantom_figures(spacings, REGIONS, None, show_worst=False, segmentation="classical"))
    print("Real CT: landmarks from the classical segmentation and from TotalSegmentator v1 labels vs those from the "
          "v2 reference labels (a model's output, not manual truth)")
    real = real_ct_errors()
    print(f"{'landmark':32s} {'classical':>12s} {'v1':>12s}  (mm, or status)")
    for name in sorted(set().union(*real.values())):
        row = [real[key].get(name, "-") for key in ("classical_vs_v2_reference", "v1_vs_v2_reference")]
        print(f"{name:32s} " + " ".join(f"{value:>12.2f}" if isinstance(value, float) else f"{value:>12s}" for value in row))
    figures["real_ct_classical_vs_v2_reference"] = real["classical_vs_v2_reference"]
    figures["real_ct_v1_vs_v2_reference"] = real["v1_vs_v2_reference"]
    print("Lumbar: VerSe masks at 3 mm vs 1 mm (resolution robustness)")
    lumbar = lumbar_resolution_errors()
    for name, error in lumbar.items():
        print(f"{name:60s} {error}")
    figures["lumbar_verse_3mm_vs_1mm"] = lumbar
    print(json.dumps({"bench": "landmarks", **figures}, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
