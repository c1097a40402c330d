"""The optional TotalSegmentator backend: it says clearly why it cannot run, never silently falls back."""

import numpy as np
import pytest

from SurgicalAIPlannerLib.imaging import load_ct
from SurgicalAIPlannerLib.segmentation.engine import segment
from SurgicalAIPlannerLib.segmentation.totalseg import TotalSegmentatorUnavailable, availability, to_project_labels


def test_without_weights_the_backend_refuses_with_the_reason(sample_ct_file, tmp_path, monkeypatch):
    monkeypatch.setenv("TOTALSEG_HOME_DIR", str(tmp_path))  # an empty home: no weights whatever is installed
    usable, reason = availability()
    assert not usable and ("not installed" in reason or "no TotalSegmentator weights" in reason)
    with pytest.raises(TotalSegmentatorUnavailable, match="--model totalsegmentator cannot run"):
        segment(load_ct(sample_ct_file), "totalsegmentator", progress=lambda *_: None)


def test_class_names_map_onto_the_project_table():
    names = {1: "spleen", 25: "sacrum", 26: "vertebrae_S1", 77: "hip_left", 300: "unknown"}
    mapped = to_project_labels(np.array([0, 1, 25, 26, 77, 300, 999]), names)
    assert mapped.tolist() == [0, 0, 3, 3, 1, 0, 0]
