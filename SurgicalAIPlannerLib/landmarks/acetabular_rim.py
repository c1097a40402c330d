"""The acetabular opening: the normal of the socket's rim plane, from where the hip bone lies around the socket.

Seen from the socket's centre, every direction either meets the hip bone near the socket's sphere (the lunate
surface, the fossa, the rim) or leaves through the opening. The rim plane is the plane that best separates the two
sets of directions (a logistic fit of a half-space on the unit sphere), and its normal points out of the opening.

Why not a simpler axis: the direction from the centroid of the socket's surface through the centre followed where
the surface happened to be sampled (the fossa, the notch, how much of the lunate surface the band caught) and moved
5-15 deg between a phantom's mesh and its own label map; the centre of the largest empty cone of directions had near
ties along the notch. The separating plane uses every direction around the socket and is a convex fit, so it does not
jump: 0.3-1.4 deg between mesh and label map (docs/landmarks.md, "Acetabular opening").
"""

from __future__ import annotations

import numpy as np
from scipy import optimize
from scipy.spatial import cKDTree

from ..planning.frames import unit

# Directions tried around the socket centre (a Fibonacci sphere: ~3.7 deg apart).
DIRECTION_COUNT = 3000
# A direction meets the socket when hip surface lies within this distance of the socket's sphere along it.
SOCKET_SHELL_MM = 8.0
# Each surface point stands for the directions within this angle of it: closes the gaps between the points of a
# 3 mm label surface (1.5-3 mm apart, 3.5-7 deg at a 25 mm socket radius) so they do not read as openings.
POINT_REACH_DEG = 6.0
# Keeps the separating plane's weights finite where the two sets separate cleanly.
RIDGE = 1e-4


def rim_normal(points: np.ndarray, centre: np.ndarray, radius: float) -> np.ndarray:
    """Unit normal (RAS) of the acetabular rim plane, pointing out of the opening, of the socket sphere (``centre``,
    ``radius`` mm) whose hip-bone surface is ``points`` (N, 3) RAS mm (field-of-view cuts left out)."""
    directions = sphere_directions(DIRECTION_COUNT)
    open_ = ~_meets_bone(directions, points, centre, radius)
    return _separating_normal(directions, open_)


def sphere_directions(count: int) -> np.ndarray:
    """``count`` unit vectors spread evenly over the sphere (Fibonacci lattice)."""
    index = np.arange(count) + 0.5
    polar = np.arccos(1.0 - 2.0 * index / count)
    azimuth = np.pi * (1.0 + np.sqrt(5.0)) * index
    return np.c_[np.cos(azimuth) * np.sin(polar), np.sin(azimuth) * np.sin(polar), np.cos(polar)]


def _meets_bone(directions: np.ndarray, points: np.ndarray, centre: np.ndarray, radius: float) -> np.ndarray:
    """Which ``directions`` from ``centre`` pass within POINT_REACH_DEG of a surface point in the socket's shell."""
    offset = points - centre
    distance = np.linalg.norm(offset, axis=1)
    shell = np.abs(distance - radius) < SOCKET_SHELL_MM
    seen = offset[shell] / distance[shell, None]
    chord = 2.0 * np.sin(np.radians(POINT_REACH_DEG) / 2.0)
    return cKDTree(seen).query_ball_point(directions, chord, return_length=True) > 0


def _separating_normal(directions: np.ndarray, open_: np.ndarray) -> np.ndarray:
    """Normal of the plane w.x + b = 0 that best separates open from bony ``directions`` (ridge-regularised logistic
    regression; convex, so the answer does not depend on where the search starts)."""
    target = open_.astype(float)

    def loss_and_gradient(parameters: np.ndarray) -> tuple[float, np.ndarray]:
        weights, bias = parameters[:3], parameters[3]
        score = directions @ weights + bias
        residual = 1.0 / (1.0 + np.exp(-score)) - target
        loss = np.mean(np.logaddexp(0.0, score) - target * score) + RIDGE * weights @ weights
        gradient = np.r_[directions.T @ residual / len(target) + 2.0 * RIDGE * weights, residual.mean()]
        return float(loss), gradient

    fitted = optimize.minimize(loss_and_gradient, np.zeros(4), jac=True, method="BFGS").x
    return unit(fitted[:3])
