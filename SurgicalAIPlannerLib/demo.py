"""``surgical-planner demo``: the main job on the bundled sample CT (``make demo``)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

MIDLINE_MM = 15.0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="load the bundled sample CT into a headless Slicer scene and report")
    parser.add_argument("--output-dir", default="output/demo", help="where the scene bundle is written")
    parser.set_defaults(run=run_demo)


def side_of(x_ras: float) -> str:
    """Patient side of a RAS x coordinate (RAS: +x is the patient's right)."""
    if abs(x_ras) < MIDLINE_MM:
        return "midline"
    return "patient's left" if x_ras < 0 else "patient's right"


def run_demo(args: argparse.Namespace) -> int:
    from .scene import segment_voxel_counts
    from .session import PlannerSession

    session = PlannerSession()
    session.load_sample()
    bundle = session.save_scene(Path(args.output_dir) / "sample_scene.mrb")

    ct, labels = session.ct, session.labels
    i, j, k = ct.shape_ijk
    print(f"CT: {ct.source} — {i}x{j}x{k} voxels at {ct.spacing[0]:g} mm, HU {ct.array.min()}..{ct.array.max()}")
    print("Reference bone segments (TotalSegmentator v2 output, not manual truth), RAS frame:")
    voxel_ml = float(np.prod(labels.spacing)) / 1000.0
    segments = session.segmentation_node.GetSegmentation()
    for name, count in sorted(segment_voxel_counts(session.segmentation_node).items()):
        value = segments.GetSegment(segments.GetSegmentIdBySegmentName(name)).GetLabelValue()
        centroid = labels.ras_of_index(np.argwhere(labels.array == value)[:, ::-1]).mean(axis=0)
        print(f"  {name:<14} {count * voxel_ml:7.1f} ml  centroid x = {centroid[0]:+7.1f} mm ({side_of(centroid[0])})")
    print(f"Closed-surface representation built: {segments.ContainsRepresentation('Closed surface')}")
    print(f"Scene bundle: {bundle}")
    return 0
