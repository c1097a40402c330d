"""``surgical-planner landmarks CT [--segmentation LABELS] --output POINTS.mrk.json``."""

from __future__ import annotations

import argparse
import logging

from ..imaging import load_ct, load_labelmap
from ..imaging.label_table import read_label_table
from ..imaging.volume import Volume
from ..resources import sample_label_table_path
from ..segmentation.commands import add_model_arguments, segment_for_command

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("landmarks", help="detect hip, knee and ankle landmarks; write Slicer markups JSON")
    parser.add_argument("ct", help="CT: DICOM folder, .nii/.nii.gz, .nrrd or .mha")
    parser.add_argument("--segmentation",
                        help="bone label map on the CT's grid (default: segment the CT here, see --model)")
    parser.add_argument("--labels",
                        help="value,name CSV for --segmentation (default: TotalSegmentator v2 'total' table)")
    add_model_arguments(parser, when="without --segmentation: ")
    parser.add_argument("--output", required=True, help="POINTS.mrk.json to write")
    parser.add_argument("--coordinate-system", choices=("LPS", "RAS"), default="LPS",
                        help="frame of the positions in the file (Slicer writes LPS)")
    parser.set_defaults(run=run_landmarks)


def run_landmarks(args: argparse.Namespace) -> int:
    from .detect import detect_landmarks
    from .markups import write_markups

    ct = load_ct(args.ct)
    labels, names = _bone_labels(ct, args)
    landmarks = detect_landmarks(ct, labels, names, progress=log.info)
    path = write_markups(landmarks, args.output, args.coordinate_system)
    for landmark in landmarks:
        where = (f"RAS ({', '.join(f'{x:.1f}' for x in landmark.position_ras)}) mm, confidence {landmark.confidence:.2f}"
                 if landmark.present else f"missing: {landmark.missing_reason}")
        print(f"{landmark.name:30s} {where}")
    print(f"wrote {path} ({args.coordinate_system})")
    return 0


def _bone_labels(ct: Volume, args: argparse.Namespace) -> tuple[Volume, dict[int, str]]:
    """The label map and its {value: name}: --segmentation's, else one made here (and said so)."""
    if args.segmentation:
        return load_labelmap(args.segmentation), read_label_table(args.labels or sample_label_table_path())
    if args.labels:
        raise ValueError("--labels names the values of --segmentation, which was not given")
    result = segment_for_command(ct, args)
    print(f"segmentation (no --segmentation given): {result.method} on {result.device} in {result.seconds:.1f} s")
    return result.labels, {value: name for name, value in result.label_table.items()}
