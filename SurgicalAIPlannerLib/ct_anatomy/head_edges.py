"""Femoral head sphere refined on the CT's own intensities (RAS mm).

Used twice: by the classical fallback, to put its femur/hip split on the head (classical.py), and by landmark
detection, to report the head centre whatever segmentation the labels came from (landmarks/detect.py). A first
sphere (a label surface's fit, or the fallback's provisional head) only seeds the search. Rays are cast from the
current centre; on each ray that does not run into the hip bone (the "uncovered" part of the head: anterior,
inferior, posterior), the head's edge is the steepest outward HU drop into soft tissue within a band around the
current radius. A MAD-trimmed sphere fit of those edges gives the next centre; the band narrows and the rays are
re-cast until the centre settles.

Why only uncovered rays: on a 3 mm CT the joint space is hardly darker than the head (about 200 vs 250 HU on
the sample), so under the acetabulum the strongest drop is the acetabular wall's outer cortex, a concentric
sphere 3-5 mm larger that captured every fit that used those rays. Where the head meets soft tissue the edge
is clear, and its position does not depend on where a segmentation split femur from hip bone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..geometry.spheres import fit_sphere_robust
from ..imaging.sampling import PointSampler, sphere_directions, volume_sampler
from ..imaging.volume import Volume

METAL_HU = 2500.0  # above any bone (phantom cortex is drawn at <= 1800 HU): screws, prostheses
SOFT_TISSUE_HU = 40.0  # muscle, cartilage, joint fluid: the level the head's edge falls towards
RAY_COUNT = 600
SAMPLE_STEP_MM = 0.5
BANDS_MM = (6.0, 5.0, 4.0, 3.0)  # search band around the current radius, narrowing each pass
EDGE_LOOK_MM = 3.0  # the drop is measured between the brightest point this far inside and the darkest outside
MIN_DROP_HU = 60.0
COVER_REACH_MM = 8.0  # a ray meeting the hip bone within radius + this is under the acetabulum: skipped
MAX_PASSES = 10
MIN_EDGES = 60
MAX_RMS_MM = 2.5
MAX_SHIFT_MM = 8.0  # farther from the label's centre means the edges belong to another structure
START_RADIUS_STEPS_MM = (0.0, 2.0, 4.0, 6.0, 8.0)  # added to the label radius: one fit from each


@dataclass(frozen=True)
class SphereOnCt:
    centre: np.ndarray
    radius: float
    rms_mm: float
    edges: int


def refine_head_on_ct(ct: Volume, hip_mask: PointSampler, centre: np.ndarray, radius: float) -> SphereOnCt | str:
    """Head sphere from the CT's edges, started at the label sphere (``centre``, ``radius``).

    ``hip_mask`` tells which RAS points lie in that side's hip bone (rays into it are skipped). Returns the
    sphere, or a sentence saying why the CT gave no reliable edge (the caller keeps the label sphere).
    The fit is started from several radii (START_RADIUS_STEPS_MM above the label's): a femur label that stops
    inside a joint fused at 3 mm gives a label sphere a few mm too small, and from there the band may lock onto a
    smaller, wrong sphere (8 mm off on the sample). The medoid of the fits is kept: the outliers (a wrong sphere,
    a start that drifted) cannot move it.
    """
    sample = volume_sampler(ct, order=1)
    directions = sphere_directions(RAY_COUNT)
    start = np.asarray(centre, dtype=float)
    fits, reasons = [], []
    for step in START_RADIUS_STEPS_MM:
        fit = _refine_from(sample, hip_mask, start, radius + step, directions)
        (fits if isinstance(fit, SphereOnCt) else reasons).append(fit)
    if not fits:
        return reasons[0] if len(set(reasons)) == 1 else f"{reasons[0]} (also from larger starting radii)"
    return _medoid(fits)


def _medoid(fits: list[SphereOnCt]) -> SphereOnCt:
    """The fit whose centre lies nearest, in sum, to the other fits' centres."""
    centres = np.array([fit.centre for fit in fits])
    return fits[int(np.argmin(np.linalg.norm(centres[:, None] - centres[None], axis=2).sum(axis=1)))]


def _refine_from(sample: PointSampler, hip_mask: PointSampler, start: np.ndarray, radius: float,
                 directions: np.ndarray) -> SphereOnCt | str:
    centre, fit = start, None
    for index in range(MAX_PASSES):
        band = BANDS_MM[min(index, len(BANDS_MM) - 1)]
        edges = _head_edges(sample, hip_mask, centre, radius, directions, band)
        if len(edges) < MIN_EDGES:
            return f"only {len(edges)} head edges against soft tissue in the CT"
        new_centre, radius, rms, kept = fit_sphere_robust(edges)
        moved = float(np.linalg.norm(new_centre - centre))
        centre, fit = new_centre, SphereOnCt(new_centre, radius, rms, kept)
        if index >= len(BANDS_MM) - 1 and moved < 0.05:
            break
    if fit.edges < MIN_EDGES or fit.rms_mm > MAX_RMS_MM:
        return f"CT edges do not form a sphere ({fit.edges} edges, RMS {fit.rms_mm:.1f} mm)"
    if np.linalg.norm(fit.centre - start) > MAX_SHIFT_MM:
        return f"CT sphere {np.linalg.norm(fit.centre - start):.1f} mm from the label sphere: another structure"
    return fit


def _head_edges(sample: PointSampler, hip_mask: PointSampler, centre: np.ndarray, radius: float,
                directions: np.ndarray, band: float) -> np.ndarray:
    """Edge points (N, 3): per uncovered ray, the steepest drop within ``band`` of ``radius`` that falls from
    bone towards soft tissue by at least MIN_DROP_HU (sub-sample position from a parabola through the slope)."""
    radii = np.arange(max(radius - band - EDGE_LOOK_MM, 1.0), radius + band + EDGE_LOOK_MM + SAMPLE_STEP_MM, SAMPLE_STEP_MM)
    raw = sample(centre + radii[None, :, None] * directions[:, None, :])
    covered = hip_mask(centre + np.arange(0.0, radius + COVER_REACH_MM, 1.0)[None, :, None] * directions[:, None, :]).any(axis=1)
    head_level = _interior_level(sample, centre, radius, directions)
    bone_side = head_level - 0.3 * (head_level - SOFT_TISSUE_HU)  # the drop must end below this

    invalid = np.isnan(raw) | (raw > METAL_HU)
    reach = int(round(EDGE_LOOK_MM / SAMPLE_STEP_MM))
    invalid = ndimage.maximum_filter1d(invalid.astype(np.uint8), 2 * reach + 1, axis=1) > 0
    profile = np.minimum(np.nan_to_num(raw, nan=SOFT_TISSUE_HU), METAL_HU)
    slope = np.gradient(profile, SAMPLE_STEP_MM, axis=1)
    inside = ndimage.maximum_filter1d(profile, reach + 1, axis=1, origin=reach // 2)  # max over [r - look, r]
    outside = ndimage.minimum_filter1d(profile, reach + 1, axis=1, origin=-(reach // 2))  # min over [r, r + look]
    usable = ((np.abs(radii - radius) <= band)[None, :] & ~invalid & ~covered[:, None]
              & (inside - outside > MIN_DROP_HU) & (outside < bone_side))
    usable[:, [0, -1]] = False
    score = np.where(usable, -slope, -np.inf)
    steepest = np.argmax(score, axis=1)
    rays = np.nonzero(np.isfinite(score[np.arange(len(score)), steepest]))[0]
    k = steepest[rays]
    before, at, after = slope[rays, k - 1], slope[rays, k], slope[rays, k + 1]
    curvature = before - 2.0 * at + after
    shift = np.divide(0.5 * (before - after), curvature, out=np.zeros_like(at), where=np.abs(curvature) > 1e-6)
    edge_radius = radii[k] + np.clip(shift, -0.5, 0.5) * SAMPLE_STEP_MM
    return centre + edge_radius[:, None] * directions[rays]


def _interior_level(sample: PointSampler, centre: np.ndarray, radius: float, directions: np.ndarray) -> float:
    """Median HU of the head's inner half (metal and points outside the grid left out)."""
    values = sample(centre + np.linspace(0.0, 0.5 * radius, 6)[None, :, None] * directions[::3, None, :]).ravel()
    values = values[np.isfinite(values) & (values < METAL_HU)]
    return float(np.median(values)) if len(values) else SOFT_TISSUE_HU
