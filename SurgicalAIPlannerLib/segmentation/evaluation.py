"""Dice per bone between two label maps valued by the project's table (same grid)."""

from __future__ import annotations

import numpy as np

from .labels import BONES


def dice_per_bone(predicted: np.ndarray, reference: np.ndarray, names: list[str] | None = None) -> dict[str, float]:
    """{bone name: Dice} for bones present in the reference (or listed in ``names``)."""
    if predicted.shape != reference.shape:
        raise ValueError(f"label maps differ in shape: {predicted.shape} vs {reference.shape}")
    scores = {}
    for bone in BONES:
        if names is not None and bone.name not in names:
            continue
        truth = reference == bone.value
        if names is None and not truth.any():
            continue
        guess = predicted == bone.value
        total = np.count_nonzero(truth) + np.count_nonzero(guess)
        scores[bone.name] = 2.0 * np.count_nonzero(truth & guess) / total if total else 1.0
    return scores
