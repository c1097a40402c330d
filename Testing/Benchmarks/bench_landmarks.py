"""Landmark detection error (mm) on phantoms of every STAPLE dataset (1 mm and 3 mm) and on the real sample CT.

Phantoms: detection on the phantom CT + its label map against the same definitions applied to the posed
meshes (exact truth for those definitions). Real CT, against the landmarks derived the same way (same CT, same
detector) from the v2 reference labels: (1) detection with the project's own classical segmentation
(``segment(ct, "classical")``), (2) detection with the TotalSegmentator v1 labels. The reference is a model's
output, not manual truth (none exists for this CT): (1) measures how far the project's pipeline lands from
landmarks on a stronger model's segmentation, (2) how much the landmarks move when the segmentation changes.
Lumbar: VerSe single-vertebra masks (1 mm, expert-corrected annotation) against the same masks resampled to
3 mm: how far the lumbar landmarks move with resolution (robustness, not accuracy).
Prints a table per spacing and ends with one line of JSON.
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
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
REGIONS = ("hip", "knee", "ankle")
SPACINGS = (1.0, 3.0)


def kind(name: str) -> str:
    return name.rsplit("_", 1)[0]


def phantom_errors(spacing: float) -> tuple[dict[str, list[float]], dict[str, int]]:
    errors: dict[str, list[float]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for dataset in available_datasets():
        meshes = load_staple_dataset(dataset, include_foot=True)
        for index, region in enumerate(REGIONS):
            started = time.time()
            spec = PhantomSpec(dataset, spacing=spacing, region=region, seed=100 + index, frame="LPS")
            try:
                phantom = build_phantom(spec, meshes, progress=lambda message: None)
            except ValueError as error:
                print(f"  {dataset} {region}: skipped ({error})", flush=True)
                continue
            detected = detect_landmarks(phantom.ct, phantom.labels, phantom.names, progress=lambda message: None)
            rows = compare(detected, true_landmarks(phantom))
            for row in rows:
                if row.status == "both":
                    errors[kind(row.name)].append(row.error_mm)
                    if row.angle_deg is not None:
                        errors[kind(row.name) + " (angle deg)"].append(row.angle_deg)
                counts[row.status] += 1
            found = sum(row.status == "both" for row in rows)
            print(f"  {dataset} {region} {spacing:g} mm: {phantom.ct.shape_ijk} voxels, {found} landmarks compared, "
                  f"{time.time() - started:.0f} s", flush=True)
    return errors, counts


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


def main() -> int:
    figures: dict[str, object] = {}
    for spacing in SPACINGS:
        print(f"Phantoms at {spacing:g} mm (all STAPLE datasets; regions {', '.join(REGIONS)})", flush=True)
        errors, counts = phantom_errors(spacing)
        table = summarise(errors)
        print(f"{'landmark':32s} {'n':>3s} {'mean':>6s} {'median':>6s} {'max':>6s}  (mm; angles in degrees)")
        for name, row in table.items():
            print(f"{name:32s} {row['n']:3d} {row['mean']:6.2f} {row['median']:6.2f} {row['max']:6.2f}")
        print(f"status counts: {dict(counts)}")
        figures[f"phantom_{spacing:g}mm"] = table
        figures[f"phantom_{spacing:g}mm_status"] = dict(counts)
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
