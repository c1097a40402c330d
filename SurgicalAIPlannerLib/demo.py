"""``surgical-planner demo``: the main job on the bundled sample CT (``make demo``)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from .imaging import load_ct, load_labelmap
from .imaging.label_table import read_label_table
from .resources import sample_ct_path, sample_label_table_path, sample_reference_labels_path

log = logging.getLogger(__name__)
MIDLINE_MM = 15.0

# Bones the planner works on, by their TotalSegmentator names.
SAMPLE_BONES = ("hip_left", "hip_right", "sacrum", "femur_left", "femur_right",
                "vertebrae_L1", "vertebrae_L2", "vertebrae_L3", "vertebrae_L4", "vertebrae_L5")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="load the bundled sample CT into a headless Slicer scene and report")
    parser.add_argument("--output-dir", default="output/demo", help="where the scene bundle is written")
    parser.set_defaults(run=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from .scene import labelmap_to_segmentation, new_headless_context, save_bundle, segment_voxel_counts, volume_to_node

    output_dir = Path(args.output_dir)
    ct = load_ct(sample_ct_path())
    labels = load_labelmap(sample_reference_labels_path())
    table = read_label_table(sample_label_table_path())
    bones = {value: name for value, name in table.items() if name in SAMPLE_BONES}

    context = new_headless_context()
    ct_node = volume_to_node(context.scene, ct, "SampleCT")
    segmentation = labelmap_to_segmentation(context, labels, bones, "ReferenceBones")
    segmentation.SetReferenceImageGeometryParameterFromVolumeNode(ct_node)
    bundle = save_bundle(context, output_dir / "sample_scene.mrb")

    i, j, k = ct.shape_ijk
    print(f"CT: {ct.source} — {i}x{j}x{k} voxels at {ct.spacing[0]:g} mm, HU {ct.array.min()}..{ct.array.max()}")
    print("Reference bone segments (TotalSegmentator v2 output, not manual truth), RAS frame:")
    voxel_ml = float(np.prod(labels.spacing)) / 1000.0
    counts = segment_voxel_counts(segmentation)
    for value, name in sorted(bones.items(), key=lambda item: item[1]):
        centroid = labels.ras_of_index(np.argwhere(labels.array == value)[:, ::-1]).mean(axis=0)
        side = "midline" if abs(centroid[0]) < MIDLINE_MM else ("patient's left" if centroid[0] < 0 else "patient's right")
        print(f"  {name:<14} {counts[name] * voxel_ml:7.1f} ml  centroid R/L x = {centroid[0]:+7.1f} mm ({side})")
    surfaces = segmentation.GetSegmentation().ContainsRepresentation("Closed surface")
    print(f"Closed-surface representation built: {surfaces}")
    print(f"Scene bundle: {bundle}")
    return 0
