"""``surgical-planner info PATH``: what a CT or label map is, before anything is run on it."""

from __future__ import annotations

import argparse
import json

import numpy as np

from .loading import load_volume
from .volume import Volume


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("info", help="print dimensions, spacing, orientation, HU range and series identity")
    parser.add_argument("path", help="DICOM folder, .nii/.nii.gz, .nrrd or .mha")
    parser.add_argument("--label", action="store_true", help="read the file as a label map, not a CT")
    parser.add_argument("--series", help="SeriesInstanceUID to pick when a DICOM folder holds several")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(run=run_info)


def describe(volume: Volume, is_label: bool = False) -> dict:
    """The facts ``info`` prints; geometry in RAS mm (MRML's frame) and LPS (DICOM's)."""
    ras = volume.in_frame("RAS")
    lps = volume.in_frame("LPS")
    facts = {
        "source": str(volume.source),
        "dimensions_ijk": list(volume.shape_ijk),
        "spacing_mm": [round(s, 4) for s in volume.spacing],
        "orientation_ras": ras.orientation_code(),
        "origin_ras_mm": [round(x, 2) for x in ras.origin],
        "origin_lps_mm": [round(x, 2) for x in lps.origin],
        "dtype": str(volume.array.dtype),
        "series": volume.identity.as_dict(),
    }
    if is_label:
        values, counts = np.unique(volume.array, return_counts=True)
        facts["labels"] = {int(v): int(c) for v, c in zip(values, counts) if v}
    else:
        facts["hu_range"] = [float(volume.array.min()), float(volume.array.max())]
    return facts


def run_info(args: argparse.Namespace) -> int:
    volume = load_volume(args.path, "label" if args.label else "ct", args.series)
    facts = describe(volume, args.label)
    if args.json:
        print(json.dumps(facts, indent=2))
        return 0
    i, j, k = facts["dimensions_ijk"]
    print(f"source:       {facts['source']}")
    print(f"dimensions:   {i} x {j} x {k} voxels (i x j x k)")
    print("spacing:      " + " x ".join(f"{s:g}" for s in facts["spacing_mm"]) + " mm")
    print(f"orientation:  {facts['orientation_ras']} (axis directions in RAS)")
    print(f"origin:       RAS {facts['origin_ras_mm']} mm, LPS {facts['origin_lps_mm']} mm")
    if args.label:
        print(f"labels:       {len(facts['labels'])} values: " + ", ".join(f"{v} ({c} voxels)" for v, c in facts["labels"].items()))
    else:
        print(f"HU range:     {facts['hu_range'][0]:g} .. {facts['hu_range'][1]:g} ({facts['dtype']})")
    for key, value in facts["series"].items():
        print(f"{key.replace('_', ' ') + ':':<20}{value}")
    return 0
