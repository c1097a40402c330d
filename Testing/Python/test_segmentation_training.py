"""Training data: real shapes become labelled synthetic CTs with the right anatomy and sides."""

from pathlib import Path

import numpy as np
import pytest

from SurgicalAIPlannerLib.segmentation.labels import BY_NAME
from SurgicalAIPlannerLib.segmentation.training.subjects import hip_subjects
from SurgicalAIPlannerLib.segmentation.training.synth import OTHER_BONE, sample

MASKS = Path(__file__).resolve().parents[3] / "shared" / "data" / "xrayto3d-bone-masks"


@pytest.fixture(scope="module")
def icl_subjects():
    assert MASKS.is_dir(), f"{MASKS} is missing: the tests expect ../shared/data beside the repository"
    return hip_subjects("ICL_MRI", MASKS, spacing_mm=3.0, variants=1, seed=0)


def _centroid_zyx(labels: np.ndarray, name: str) -> np.ndarray:
    return np.argwhere(labels == BY_NAME[name].value).mean(axis=0)


def test_lumbar_column_stacks_l5_to_l1_upwards_above_the_sacrum(icl_subjects):
    labels = icl_subjects[0].labels
    heights = [_centroid_zyx(labels, name)[0] for name in ("sacrum", *(f"vertebrae_L{i}" for i in range(5, 0, -1)))]
    assert heights == sorted(heights), f"centroid z (voxels) not increasing upwards: {heights}"
    assert (labels == OTHER_BONE).any(), "T11/T12 context vertebrae are missing"


def test_left_bones_at_lower_x_also_after_mirroring(icl_subjects):
    for subject in icl_subjects:  # the original and its left/right mirror
        for bone in ("hip", "femur"):
            left, right = _centroid_zyx(subject.labels, f"{bone}_left"), _centroid_zyx(subject.labels, f"{bone}_right")
            assert left[2] < right[2], f"{subject.name}: {bone}_left is not at lower RAS x than {bone}_right"


def test_sample_is_a_ct_like_patch_with_bone_brighter_than_soft_tissue(icl_subjects):
    rng = np.random.default_rng(3)
    hu, labels = sample(icl_subjects[0], 32, 3.0, rng, pure_synthseg_probability=0.0)
    assert hu.shape == labels.shape == (32, 32, 32) and hu.dtype == np.float32
    assert OTHER_BONE not in labels
    bone = labels > 0
    assert bone.sum() > 100, "patches are centred near bone"
    assert np.median(hu[bone]) > np.median(hu[~bone])
