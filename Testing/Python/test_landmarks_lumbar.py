"""Lumbar landmarks (body centre, pedicle isthmus) on the real sample segmentation: plausibility, laterality, missing levels."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from SurgicalAIPlannerLib.imaging import load_labelmap
from SurgicalAIPlannerLib.landmarks.detect import vertebra_clouds
from SurgicalAIPlannerLib.landmarks.spine import LEVELS, lumbar_landmarks


@pytest.fixture(scope="module")
def sample_labels(sample_labels_file):
    return load_labelmap(sample_labels_file)


@pytest.fixture(scope="module")
def sample_lumbar(sample_labels, sample_label_table):
    return lumbar_landmarks(vertebra_clouds(sample_labels, sample_label_table))


def test_sample_lumbar_landmarks_are_anatomically_plausible(sample_lumbar):
    for level in LEVELS:
        body = sample_lumbar.landmarks[f"{level}_body_center"]
        assert body.present, (level, body.missing_reason)
        frame = np.array([body.extras["left_axis"], body.extras["posterior_axis"], body.extras["superior_axis"]])
        assert body.extras["superior_axis"][2] > 0.7  # supine: endplate normals within ~45 deg of RAS +z (lordosis)
        left, right = (frame @ (sample_lumbar.position(f"{level}_pedicle_center_{side}") - body.position_ras)
                       for side in ("left", "right"))
        assert left[1] > 15.0 and right[1] > 15.0, level  # pedicles lie behind the body centre
        assert left[0] > 8.0 and right[0] < -8.0, level  # one on each side of the midsagittal plane ...
        assert abs(left[0] + right[0]) < 5.0 and abs(left[1] - right[1]) < 5.0, level  # ... mirror images
        for side in ("left", "right"):
            pedicle = sample_lumbar.landmarks[f"{level}_pedicle_center_{side}"]
            # At 3 mm the isthmus comes out wider than anatomy (up to 19 mm at L4, docs/benchmarks.md).
            assert 5.0 < pedicle.extras["isthmus_width_mm"] < 20.0, (level, side)
            assert pedicle.extras["direction"] @ body.extras["posterior_axis"] < -0.3  # axis points to the body
    # Patient's left is RAS -x in this correctly oriented scan (shared/data README).
    assert sample_lumbar.position("L3_pedicle_center_left")[0] < sample_lumbar.position("L3_pedicle_center_right")[0]


def test_laterality_follows_the_vertebra_when_the_scan_is_rotated(sample_labels, sample_label_table, sample_lumbar):
    """Turn the whole label map 180 degrees about the superior axis (RAS z, also LPS z): the patient's left
    pedicle now lies at RAS +x, and must still be called left."""
    turn = np.diag([-1.0, -1.0, 1.0])
    turned = replace(sample_labels, direction=turn @ sample_labels.direction,
                     origin=tuple(turn @ np.asarray(sample_labels.origin)))
    rotated = lumbar_landmarks(vertebra_clouds(turned, sample_label_table))
    for level in ("L2", "L3"):
        for side in ("left", "right"):
            name = f"{level}_pedicle_center_{side}"
            np.testing.assert_allclose(rotated.position(name), turn @ sample_lumbar.position(name), atol=5.0)  # the raster grids of the canal search are RAS-aligned: a rotation shifts their phase
        assert rotated.position(f"{level}_pedicle_center_left")[0] > rotated.position(f"{level}_pedicle_center_right")[0]


def test_a_vertebra_missing_from_the_segmentation_is_reported_missing(sample_labels, sample_label_table):
    l2 = next(value for value, name in sample_label_table.items() if name == "vertebrae_L2")
    without_l2 = replace(sample_labels, array=np.where(sample_labels.array == l2, 0, sample_labels.array))
    landmarks = lumbar_landmarks(vertebra_clouds(without_l2, {l2: "vertebrae_L2", **{
        value: name for value, name in sample_label_table.items() if name in ("vertebrae_L1", "vertebrae_L3")}}))
    for name in ("L2_body_center", "L2_pedicle_center_left", "L2_pedicle_center_right"):
        assert not landmarks.landmarks[name].present
        assert landmarks.landmarks[name].missing_reason == "vertebrae_L2 is not in the segmentation"
    assert "L1_body_center" in landmarks and "L3_pedicle_center_left" in landmarks
    assert "not in the segmentation" in landmarks.landmarks["L5_body_center"].missing_reason
