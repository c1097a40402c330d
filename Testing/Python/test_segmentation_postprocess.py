"""Post-processing: one piece per bone, holes filled, left/right by position (RAS x < midline is left)."""

import numpy as np

from SurgicalAIPlannerLib.segmentation.labels import BY_NAME
from SurgicalAIPlannerLib.segmentation.postprocess import postprocess

HIP_L, HIP_R, SACRUM = BY_NAME["hip_left"].value, BY_NAME["hip_right"].value, BY_NAME["sacrum"].value
X_MM = np.arange(40) * 3.0 - 60.0  # x index 20 is x = 0 mm


def _scene() -> np.ndarray:
    labels = np.zeros((20, 20, 40), np.uint8)
    labels[5:15, 5:15, 2:12] = HIP_L  # x -54..-27 mm: patient's left
    labels[5:15, 5:15, 28:38] = HIP_R
    labels[5:15, 5:15, 18:22] = SACRUM
    return labels


def test_keeps_largest_piece_and_fills_holes():
    labels = _scene()
    labels[1:3, 1:3, 30:32] = HIP_L  # stray speck on the wrong side
    labels[9:11, 9:11, 5:8] = 0  # a hole inside the left hip
    cleaned = postprocess(labels, X_MM)
    assert np.array_equal(cleaned == HIP_L, _scene() == HIP_L)


def test_swaps_a_left_right_pair_on_the_wrong_sides():
    labels = _scene()
    swapped = np.where(labels == HIP_L, HIP_R, np.where(labels == HIP_R, HIP_L, labels)).astype(np.uint8)
    cleaned = postprocess(swapped, X_MM)
    left_x = X_MM[np.nonzero(cleaned == HIP_L)[2]].mean()
    assert left_x < 0 and np.array_equal(cleaned, _scene())


def test_correct_sides_are_left_alone():
    assert np.array_equal(postprocess(_scene(), X_MM), _scene())
