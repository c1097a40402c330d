"""``surgical-planner landmarks CT --segmentation LABELS --output POINTS.mrk.json``."""

from __future__ import annotations

import argparse
import logging

from ..imaging import load_ct, load_labelmap
from ..imaging.label_table import read_label_table
from ..resources import sample_label_table_path

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("landmarks", help="detect hip, knee and ankle landmarks; write Slicer markups JSON")
    parser.add_argument("ct", help="CT: DICOM folder, .nii/.nii.gz, .nrrd or .mha")
    parser.add_argument("--segmentation", required=True,
                        help="bone label map on the CT's grid (automatic segmentation is not wired into this command yet)")
    parser.add_argument("--labels", help="value,name CSV for the label map (default: TotalSegmentator v2 'total' table)")
    parser.add_argument("--output", required=True, help="POINTS.mrk.json to write")
    parser.add_argument("--coordinate-system", choices=("LPS", "RAS"), default="LPS",
                        help="frame of the positions in the file (Slicer writes LPS)")
    parser.set_defaults(run=run_landmarks)


def run_landmarks(args: argparse.Namespace) -> int:
    from .detect import detect_landmarks
    from .markups import write_markups

    ct = load_ct(args.ct)
    labels = load_labelmap(args.segmentation)
    names = read_label_table(args.labels or sample_label_table_path())
    landmarks = detect_landmarks(ct, labels, names, progress=log.info)
    path = write_markups(landmarks, args.output, args.coordinate_system)
    for landmark in landmarks:
        where = (f"RAS ({', '.join(f'{x:.1f}' for x in landmark.position_ras)}) mm, confidence {landmark.confidence:.2f}"
                 if landmark.present else f"missing: {landmark.missing_reason}")
        print(f"{landmark.name:30s} {where}")
    print(f"wrote {path} ({args.coordinate_system})")
    return 0
