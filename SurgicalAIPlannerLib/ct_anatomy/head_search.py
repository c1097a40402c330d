"""Femoral head centre on the CT: the centre of the strongest concentric edge around a first guess (RAS mm).

On a 3 mm CT the head and the acetabulum fuse into one mass of bone, and its deepest point (the first guess)
lies up to 15 mm from the head centre, pulled towards the thicker acetabular roof. Around the true centre,
though, head and socket are concentric spheres: on most rays from it the CT falls from bone just inside some
radius to darker tissue just outside (the head's edge, the joint space, the socket's outer cortex). The search
scores a centre by the median over rays of that fall, at the best radius of adult heads and sockets, and keeps
the best-scoring bone voxel near the guess, coarse then fine. The median ignores the rays that run along the
neck or into a screw; rays leaving the field of view or meeting metal are left out.
"""

from __future__ import annotations

import numpy as np

from ..imaging.sampling import PointSampler, sphere_directions, volume_sampler
from ..imaging.volume import Volume

SHELL_RADII_MM = np.arange(20.0, 33.0)  # adult heads (20-28 mm) and their sockets' outer cortex (+3-5 mm)
SHELL_HALF_WIDTH_MM = 2.0  # the fall is measured between radius - this and radius + this
SEARCH_STAGES_MM = ((18.0, 3.0), (3.0, 1.0))  # (reach around the current centre, step)
RAY_COUNT = 300
METAL_HU = 2500.0
HU_RANGE = (-200.0, 1500.0)  # clip: neither air nor dense cortex should dominate a ray's fall
MIN_VALID_RAYS = 0.5
CHUNK = 128  # centres scored at once: bounds the ray samples held to ~10 MB


def refine_head_centre(ct: Volume, bone: Volume, guess: np.ndarray) -> np.ndarray:
    """Centre (RAS mm) of the best concentric shell near ``guess``. The HU are read on ``ct`` at its own
    resolution; ``bone`` is a bone mask on any grid (the classical fallback's 3 mm one): only its voxels are
    candidates (the head is solid bone)."""
    sample = volume_sampler(ct, order=1)
    in_bone = volume_sampler(bone, order=0)
    directions = sphere_directions(RAY_COUNT)
    centre = np.asarray(guess, dtype=float)
    for reach, step in SEARCH_STAGES_MM:
        offsets = np.arange(-reach, reach + 0.5 * step, step)
        shifts = np.stack(np.meshgrid(offsets, offsets, offsets, indexing="ij"), -1).reshape(-1, 3)
        candidates = centre + shifts[np.linalg.norm(shifts, axis=1) <= reach + 1e-6]  # a ball, not a cube
        candidates = candidates[in_bone(candidates) > 0]
        if len(candidates) == 0:
            return centre
        scores = np.concatenate([shell_scores(sample, candidates[start : start + CHUNK], directions)
                                 for start in range(0, len(candidates), CHUNK)])
        if not np.isfinite(scores.max()):
            return centre  # no candidate with enough rays in view and clear of metal: keep the guess
        centre = candidates[int(np.argmax(scores))]
    return centre


def shell_scores(sample: PointSampler, centres: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Per centre: the largest over SHELL_RADII_MM of the median over rays of HU(r - w) - HU(r + w)."""
    radii = np.unique(np.concatenate([SHELL_RADII_MM - SHELL_HALF_WIDTH_MM, SHELL_RADII_MM + SHELL_HALF_WIDTH_MM]))
    values = sample(centres[:, None, None, :] + radii[None, :, None, None] * directions[None, None, :, :])
    values[values > METAL_HU] = np.nan
    values = np.clip(values, *HU_RANGE)
    index = {radius: k for k, radius in enumerate(radii)}
    inner = values[:, [index[r - SHELL_HALF_WIDTH_MM] for r in SHELL_RADII_MM]]
    outer = values[:, [index[r + SHELL_HALF_WIDTH_MM] for r in SHELL_RADII_MM]]
    fall = inner - outer  # (centres, radii, rays)
    valid = np.isfinite(fall).mean(axis=2) >= MIN_VALID_RAYS
    medians = np.nanmedian(np.where(valid[..., None], fall, 0.0), axis=2)
    return np.where(valid, medians, -np.inf).max(axis=1)
