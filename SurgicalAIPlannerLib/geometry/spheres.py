"""Sphere fits to 3-D points (mm): plain least squares, trimmed around a seed, and robust to outliers."""

from __future__ import annotations

import numpy as np


def fit_sphere(points: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Least-squares sphere (centre, radius, RMS residual mm) through ``points`` (algebraic fit)."""
    points = np.asarray(points, dtype=float)
    if len(points) < 4:
        raise ValueError(f"a sphere fit needs at least 4 points, got {len(points)}")
    offset = points.mean(axis=0)
    local = points - offset
    design = np.c_[2 * local, np.ones(len(local))]
    solution, *_ = np.linalg.lstsq(design, (local**2).sum(axis=1), rcond=None)
    centre = solution[:3]
    radius = float(np.sqrt(max(solution[3] + centre @ centre, 0.0)))
    residual = float(np.sqrt(np.mean((np.linalg.norm(local - centre, axis=1) - radius) ** 2)))
    return centre + offset, radius, residual


def fit_sphere_trimmed(points: np.ndarray, centre: np.ndarray, reach_mm: float, tolerances_mm=(4.0, 2.5, 1.5, 1.0),
                       min_points: int = 30) -> tuple[np.ndarray, float, float, int] | None:
    """Sphere fitted to the part of ``points`` near ``centre`` that is spherical: start with all points within
    ``reach_mm``, then keep refitting with the points within a shrinking tolerance of the last sphere.
    Returns (centre, radius, RMS residual, points used) or None when too few points remain."""
    chosen = points[np.linalg.norm(points - centre, axis=1) < reach_mm]
    if len(chosen) < min_points:
        return None
    centre, radius, residual = fit_sphere(chosen)
    for tolerance in tolerances_mm:
        distance = np.linalg.norm(points - centre, axis=1)
        chosen = points[(np.abs(distance - radius) < tolerance) & (distance < reach_mm + tolerance)]
        if len(chosen) < min_points:
            return None
        centre, radius, residual = fit_sphere(chosen)
    return centre, radius, residual, len(chosen)


def fit_sphere_robust(points: np.ndarray, rounds: int = 4, floor_mm: float = 1.0) -> tuple[np.ndarray, float, float, int]:
    """Sphere through ``points`` with outliers left out: refit on the points whose residual is within 2.5 robust
    SDs (1.4826 x median absolute residual, at least ``floor_mm``) of the last sphere.
    Returns (centre, radius, RMS residual of the kept points, number kept)."""
    keep = np.ones(len(points), dtype=bool)
    for _ in range(rounds):
        centre, radius, _ = fit_sphere(points[keep])
        residual = np.abs(np.linalg.norm(points - centre, axis=1) - radius)
        keep = residual < max(2.5 * 1.4826 * float(np.median(residual[keep])), floor_mm)
        if keep.sum() < 4:
            keep = residual <= np.sort(residual)[3]
    centre, radius, rms = fit_sphere(points[keep])
    return centre, radius, rms, int(keep.sum())
