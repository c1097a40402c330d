"""Label map -> synthetic CT in Hounsfield units, every choice taken from one seeded ``CTParameters``.

Tissue model, from the bones outwards: cortical shell (HU of compact bone, ``cortical_thickness_mm`` thick
inside each bone's surface), cancellous interior, muscle/soft tissue envelope around the bones, a fat layer,
then air. Imaging model: Gaussian in-plane blur (``blur_sigma_mm``), a box slice profile along k
(``slice_thickness_mm``), Gaussian noise (``noise_sd_hu``). Random draws come only from ``seed``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
from scipy import ndimage

from ..imaging.volume import Volume

# Coarse spacing (mm) for the soft-tissue distance map: body outlines are smooth, and an exact
# distance transform of a full-leg 1 mm grid would need gigabytes.
ENVELOPE_SPACING_MM = 4.0
# Gaps in the soft-tissue outline narrower than this (per axial slice) are closed.
BODY_CLOSING_MM = 24.0


@dataclass(frozen=True)
class CTParameters:
    """How a phantom CT looks. ``sampled(seed)`` draws a varied but plausible set for training."""

    seed: int = 0
    cortical_hu: float = 1400.0
    cancellous_hu: float = 250.0
    cortical_thickness_mm: float = 2.0
    muscle_hu: float = 45.0
    fat_hu: float = -95.0
    air_hu: float = -1000.0
    muscle_thickness_mm: float = 25.0
    fat_thickness_mm: float = 12.0
    noise_sd_hu: float = 20.0
    blur_sigma_mm: float = 0.6
    slice_thickness_mm: float | None = None  # None: equal to the grid's k spacing

    def __post_init__(self) -> None:
        for name in ("cortical_thickness_mm", "muscle_thickness_mm", "fat_thickness_mm", "noise_sd_hu", "blur_sigma_mm"):
            if getattr(self, name) < 0:
                raise ValueError(f"CTParameters.{name} must be >= 0, got {getattr(self, name)}")
        if self.slice_thickness_mm is not None and self.slice_thickness_mm <= 0:
            raise ValueError(f"CTParameters.slice_thickness_mm must be > 0, got {self.slice_thickness_mm}")

    @classmethod
    def sampled(cls, seed: int, **overrides: float) -> CTParameters:
        """Parameters drawn from ranges seen in clinical CT (adult bone density, body habitus, dose)."""
        rng = np.random.default_rng(seed)
        drawn = cls(
            seed=seed,
            cortical_hu=rng.uniform(1000, 1800),
            cancellous_hu=rng.uniform(150, 400),
            cortical_thickness_mm=rng.uniform(1.0, 3.5),
            muscle_hu=rng.uniform(30, 60),
            fat_hu=rng.uniform(-120, -70),
            muscle_thickness_mm=rng.uniform(10, 45),
            fat_thickness_mm=rng.uniform(3, 40),
            noise_sd_hu=rng.uniform(5, 50),
            blur_sigma_mm=rng.uniform(0.3, 1.2),
        )
        unknown = set(overrides) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown CTParameters field(s): {', '.join(sorted(unknown))}")
        return replace(drawn, **overrides)


def synthesize_ct(labels: Volume, params: CTParameters, bone_values: set[int] | None = None) -> Volume:
    """A CT (int16 HU) on the geometry of ``labels``; voxels with a value in ``bone_values`` (default: any
    non-zero value) are bone. Each bone gets its own cortical shell, so touching bones stay distinguishable."""
    spacing_kji = np.asarray(labels.spacing[::-1], dtype=float)
    hu = scanner_blur(tissue_hu(labels, params, bone_values), spacing_kji, params, spacing_kji[0])
    return hu_volume(add_noise(hu, params), labels, params)


def tissue_hu(labels: Volume, params: CTParameters, bone_values: set[int] | None = None) -> np.ndarray:
    """Noise-free, unblurred HU [k, j, i] of bone (cortex + cancellous), muscle, fat and air."""
    spacing_kji = np.asarray(labels.spacing[::-1], dtype=float)
    bone = labels.array > 0 if bone_values is None else np.isin(labels.array, list(bone_values))
    hu = _soft_tissue(bone, spacing_kji, params)
    depth = _depth_inside_bone(labels.array, bone, spacing_kji)
    hu[bone] = np.where(depth[bone] < params.cortical_thickness_mm, params.cortical_hu, params.cancellous_hu)
    return hu


def hu_volume(hu: np.ndarray, geometry: Volume, params: CTParameters) -> Volume:
    """HU array as an int16 CT volume with the geometry of ``geometry``, clipped to the CT range."""
    return Volume(
        array=np.clip(np.rint(hu), -1024, 3071).astype(np.int16),
        spacing=geometry.spacing,
        origin=geometry.origin,
        direction=np.asarray(geometry.direction),
        frame=geometry.frame,
        notes=(f"phantom CT, {params}",),
    )


def _soft_tissue(bone: np.ndarray, spacing_kji: np.ndarray, params: CTParameters) -> np.ndarray:
    """Air, fat and muscle HU from a body outline drawn around the bones on a coarse grid, then upsampled."""
    factors = np.maximum(1, np.floor(ENVELOPE_SPACING_MM / spacing_kji)).astype(int)
    coarse_spacing = spacing_kji * factors
    muscle = _coarse_distance(bone, factors, coarse_spacing) < params.muscle_thickness_mm
    muscle = _fill_body_slices(muscle, coarse_spacing)
    # Signed distance to the muscle outline (negative inside) stays smooth when interpolated.
    signed = (ndimage.distance_transform_edt(~muscle, sampling=coarse_spacing)
              - ndimage.distance_transform_edt(muscle, sampling=coarse_spacing)).astype(np.float32)
    coordinates = [(np.arange(n) + 0.5) / f - 0.5 for n, f in zip(bone.shape, factors)]
    fine = ndimage.map_coordinates(signed, np.meshgrid(*coordinates, indexing="ij"), order=1, mode="nearest")
    hu = np.full(bone.shape, params.air_hu, dtype=np.float32)
    hu[fine < params.fat_thickness_mm] = params.fat_hu
    hu[fine <= 0] = params.muscle_hu
    return hu


def _coarse_distance(bone: np.ndarray, factors: np.ndarray, coarse_spacing: np.ndarray) -> np.ndarray:
    """mm from each coarse voxel to the nearest coarse voxel holding any bone."""
    padded_shape = tuple(int(np.ceil(n / f) * f) for n, f in zip(bone.shape, factors))
    padded = np.zeros(padded_shape, dtype=bool)
    padded[tuple(slice(0, n) for n in bone.shape)] = bone
    coarse = padded.reshape(padded_shape[0] // factors[0], factors[0], padded_shape[1] // factors[1], factors[1],
                            padded_shape[2] // factors[2], factors[2]).any(axis=(1, 3, 5))
    return ndimage.distance_transform_edt(~coarse, sampling=coarse_spacing)


def _fill_body_slices(muscle: np.ndarray, coarse_spacing: np.ndarray) -> np.ndarray:
    """Per axial slice, close gaps narrower than BODY_CLOSING_MM and fill enclosed cavities (the pelvic
    cavity holds viscera, not air); separate legs farther apart than that stay separate."""
    radius = np.maximum(1, np.round(BODY_CLOSING_MM / coarse_spacing[1:])).astype(int)
    jj, ii = np.ogrid[-radius[0]:radius[0] + 1, -radius[1]:radius[1] + 1]
    disk = (jj / radius[0]) ** 2 + (ii / radius[1]) ** 2 <= 1.0
    filled = np.empty_like(muscle)
    for k, section in enumerate(muscle):
        padded = np.pad(section, [(r + 1, r + 1) for r in radius])
        closed = ndimage.binary_closing(padded, structure=disk)
        filled[k] = ndimage.binary_fill_holes(closed)[radius[0] + 1:-radius[0] - 1, radius[1] + 1:-radius[1] - 1]
    return filled


def _depth_inside_bone(labels: np.ndarray, bone: np.ndarray, spacing_kji: np.ndarray) -> np.ndarray:
    """mm from each bone voxel to the nearest voxel of another value (its own bone's surface)."""
    surface = np.zeros(labels.shape, dtype=bool)
    for axis in range(3):
        differs = np.diff(labels, axis=axis) != 0
        lower = [slice(None)] * 3
        upper = [slice(None)] * 3
        lower[axis], upper[axis] = slice(0, -1), slice(1, None)
        surface[tuple(lower)] |= differs
        surface[tuple(upper)] |= differs
    surface &= bone
    depth = ndimage.distance_transform_edt(~surface, sampling=spacing_kji).astype(np.float32)
    return depth + 0.5 * float(spacing_kji.min())  # a surface voxel's centre lies about half a voxel inside


def scanner_blur(hu: np.ndarray, spacing_kji: np.ndarray, params: CTParameters, slice_spacing_mm: float) -> np.ndarray:
    """In-plane Gaussian blur and the slice profile (``slice_thickness_mm``, default ``slice_spacing_mm``)."""
    if params.blur_sigma_mm > 0:
        sigma = [0.0, params.blur_sigma_mm / spacing_kji[1], params.blur_sigma_mm / spacing_kji[2]]
        hu = ndimage.gaussian_filter(hu, sigma=sigma, mode="nearest")
    width = (params.slice_thickness_mm or slice_spacing_mm) / spacing_kji[0]
    return _box_along_k(hu, width) if width > 1.0 + 1e-6 else hu


def add_noise(hu: np.ndarray, params: CTParameters) -> np.ndarray:
    """Gaussian quantum noise of ``noise_sd_hu``, drawn from ``seed``."""
    if params.noise_sd_hu <= 0:
        return hu
    rng = np.random.default_rng(params.seed)
    return hu + rng.normal(0.0, params.noise_sd_hu, size=hu.shape).astype(np.float32)


def _box_along_k(hu: np.ndarray, width: float) -> np.ndarray:
    """Average over a slab ``width`` slices thick (fractional ends weighted), centred on each slice."""
    half = width / 2.0
    reach = int(np.ceil(half - 0.5))
    offsets = np.arange(-reach, reach + 1)
    weights = np.clip(np.minimum(offsets + 0.5, half) - np.maximum(offsets - 0.5, -half), 0.0, None)
    weights /= weights.sum()
    return ndimage.convolve1d(hu, weights, axis=0, mode="nearest")
