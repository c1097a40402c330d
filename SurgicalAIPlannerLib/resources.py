"""Where the project's resources (sample data, models, implant catalogs) live.

In a source checkout and in the Slicer extension they sit in ``Resources/`` beside this package;
``SURGICAL_PLANNER_RESOURCES`` points elsewhere (e.g. a shared install).
"""

from __future__ import annotations

import os
from pathlib import Path


def resources_dir() -> Path:
    configured = os.environ.get("SURGICAL_PLANNER_RESOURCES")
    return Path(configured) if configured else Path(__file__).resolve().parent.parent / "Resources"


def models_dir() -> Path:
    """Installed segmentation models, one MONAI bundle folder each."""
    return resources_dir() / "Models"


def sample_data_dir() -> Path:
    return resources_dir() / "SampleData"


def sample_ct_path() -> Path:
    return sample_data_dir() / "example_ct.nii.gz"


def sample_reference_labels_path() -> Path:
    """TotalSegmentator v2 output for the sample CT: a model's labels, not manual ground truth."""
    return sample_data_dir() / "example_seg_fast_force_split.nii.gz"


def sample_label_table_path() -> Path:
    return sample_data_dir() / "labels_totalsegmentator_v2_total.csv"
