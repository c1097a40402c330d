"""Synthetic training CTs from bone label maps: the SynthSeg idea adapted to CT.

A *subject* is a bone label map on a canonical RAS grid ([z, y, x], isotropic mm) with precomputed
maps (bone fraction, cortical shell, distance from bone). A *sample* draws a random deformed crop of
a subject at the model's spacing and paints HU into it: per-bone random cortical/cancellous values,
a random body (fat, muscle, organ blobs, gas, contrast vessels), then blur, thick slices, noise and
field-of-view cuts. With a small probability every tissue gets an arbitrary intensity (pure SynthSeg)
so the model cannot lean on HU alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

OTHER_BONE = 255  # bone in the image that the model must not label (T11/T12, ribs)
AIR_HU = -1024.0


@dataclass
class Subject:
    name: str
    labels: np.ndarray  # uint8 [z, y, x]: model classes, OTHER_BONE, 0
    spacing_mm: float
    cortical: np.ndarray  # float16, 1 in the outer shell of each bone
    distance_mm: np.ndarray  # float16, distance from the nearest bone
    region_centres: np.ndarray  # (N, 3) zyx indices crops are centred near

    @classmethod
    def build(cls, name: str, labels: np.ndarray, spacing_mm: float, centre_values: tuple[int, ...]) -> Subject:
        bone = labels > 0
        shell = bone & ~ndimage.binary_erosion(bone, iterations=max(1, round(2.0 / spacing_mm)))
        distance = ndimage.distance_transform_edt(~bone, sampling=spacing_mm)
        return cls(name, labels, spacing_mm, shell.astype(np.float16), distance.astype(np.float16),
                   _balanced_centres(name, labels, centre_values))


def _balanced_centres(name: str, labels: np.ndarray, centre_values: tuple[int, ...], per_bone: int = 100) -> np.ndarray:
    """Up to ``per_bone`` crop centres in each bone, so small bones (a vertebra) are visited as often as big ones."""
    rng = np.random.default_rng(0)
    picks = []
    for value in centre_values:
        voxels = np.argwhere(labels == value)
        if len(voxels):
            picks.append(voxels[rng.choice(len(voxels), min(per_bone, len(voxels)), replace=False)])
    if not picks:
        raise ValueError(f"subject {name}: none of the labels {centre_values} is present")
    return np.concatenate(picks)


def mirror_labels(labels: np.ndarray, swap: dict[int, int]) -> np.ndarray:
    """Flip x (patient left <-> right) and swap the paired left/right values."""
    flipped = labels[:, :, ::-1].copy()
    lookup = np.arange(256, dtype=np.uint8)
    for a, b in swap.items():
        lookup[a], lookup[b] = b, a
    return lookup[flipped]


def sample(subject: Subject, patch: int, spacing_mm: float, rng: np.random.Generator,
           pure_synthseg_probability: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """One training pair: (HU float32 [z, y, x], labels uint8 [z, y, x]), ``patch`` voxels a side."""
    coords = _deformed_coordinates(subject, patch, spacing_mm, rng)
    labels = ndimage.map_coordinates(subject.labels, coords, order=0, mode="constant", cval=0)
    bone_fraction = ndimage.map_coordinates((subject.labels > 0).astype(np.float32), coords, order=1, cval=0.0)
    cortical = ndimage.map_coordinates(subject.cortical.astype(np.float32), coords, order=1, cval=0.0)
    distance = ndimage.map_coordinates(subject.distance_mm.astype(np.float32), coords, order=1, cval=200.0)
    shape = (patch, patch, patch)
    labels, bone_fraction, cortical, distance = (a.reshape(shape) for a in (labels, bone_fraction, cortical, distance))
    if rng.random() < pure_synthseg_probability:
        hu = _random_contrast(labels, bone_fraction, cortical, distance, spacing_mm, rng)
    else:
        hu = _ct_like(labels, bone_fraction, cortical, distance, spacing_mm, rng)
    hu = _degrade(hu, spacing_mm, rng)
    hu, labels = _cut_field_of_view(hu, labels, rng)
    labels = np.where(labels == OTHER_BONE, 0, labels).astype(np.uint8)
    return hu.astype(np.float32), labels


def _deformed_coordinates(subject: Subject, patch: int, spacing_mm: float, rng: np.random.Generator) -> np.ndarray:
    """Subject-grid coordinates of a patch: random centre, rotation, scale and smooth elastic warp."""
    centre = subject.region_centres[rng.integers(len(subject.region_centres))].astype(float)
    centre += rng.normal(0.0, 25.0 / subject.spacing_mm, 3)
    angles = np.deg2rad(rng.uniform(-12.0, 12.0, 3))
    scale = rng.uniform(0.88, 1.12) * rng.uniform(0.95, 1.05, 3)
    matrix = _rotation(angles) * scale * (spacing_mm / subject.spacing_mm)
    grid = np.indices((patch,) * 3, dtype=np.float32).reshape(3, -1) - (patch - 1) / 2.0
    points = matrix @ grid + centre[:, None]
    warp = _smooth_field(patch, rng, amplitude_voxels=rng.uniform(0.0, 5.0) / subject.spacing_mm)
    return points + warp.reshape(3, -1)


def _rotation(angles: np.ndarray) -> np.ndarray:
    a, b, c = angles
    rz = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rx = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    return rz @ ry @ rx


def _smooth_field(patch: int, rng: np.random.Generator, amplitude_voxels: float, control: int = 5) -> np.ndarray:
    """A (3, patch, patch, patch) displacement field from a coarse random grid, cubic-upsampled."""
    coarse = rng.normal(0.0, amplitude_voxels, (3, control, control, control)).astype(np.float32)
    return np.stack([ndimage.zoom(c, patch / control, order=3) for c in coarse])


def _noise_field(shape: tuple[int, ...], sigma_voxels: float, rng: np.random.Generator) -> np.ndarray:
    """Smooth zero-mean unit-variance noise (cheap: filtered on a quarter-resolution grid)."""
    small = tuple(max(2, s // 4) for s in shape)
    field = ndimage.gaussian_filter(rng.normal(size=small).astype(np.float32), max(sigma_voxels / 4, 0.5))
    field = ndimage.zoom(field, [s / t for s, t in zip(shape, small)], order=1)
    return (field - field.mean()) / (field.std() + 1e-6)


def _soft_tissue(distance: np.ndarray, spacing_mm: float, rng: np.random.Generator) -> np.ndarray:
    """HU of everything that is not bone: air outside a body, fat, muscle, organs, gas, vessels."""
    shape = distance.shape
    body_radius = rng.uniform(70.0, 170.0) + 25.0 * _noise_field(shape, 20 / spacing_mm, rng)
    fat_depth = rng.uniform(5.0, 40.0)
    hu = np.full(shape, AIR_HU, np.float32)
    inside = distance < body_radius
    hu[inside] = rng.uniform(-120.0, -70.0)  # fat
    muscle = inside & (distance < body_radius - fat_depth)
    hu[muscle] = rng.uniform(30.0, 70.0) + 15.0 * _noise_field(shape, 3, rng)[muscle]
    organs = muscle & (_noise_field(shape, 12 / spacing_mm, rng) > rng.uniform(0.3, 1.0)) & (distance > 8.0)
    hu[organs] = rng.uniform(-30.0, 220.0)  # bowel wall / contrast-enhanced organs
    gas = muscle & (_noise_field(shape, 5 / spacing_mm, rng) > rng.uniform(1.6, 2.5)) & (distance > 10.0)
    hu[gas] = rng.uniform(-1000.0, -600.0)
    for _ in range(rng.integers(0, 4)):
        hu[_vessel(shape, spacing_mm, rng) & inside & (distance > 3.0)] = rng.uniform(120.0, 450.0)
    return hu


def _vessel(shape: tuple[int, ...], spacing_mm: float, rng: np.random.Generator) -> np.ndarray:
    """A contrast-filled tube roughly along z (aorta, iliac or femoral vessel)."""
    z, y, x = np.ogrid[: shape[0], : shape[1], : shape[2]]
    centre_y, centre_x = rng.uniform(0, shape[1]), rng.uniform(0, shape[2])
    slope_y, slope_x = rng.uniform(-0.4, 0.4, 2)
    radius = rng.uniform(3.0, 12.0) / spacing_mm
    return (y - centre_y - slope_y * z) ** 2 + (x - centre_x - slope_x * z) ** 2 < radius**2


def _ct_like(labels, bone_fraction, cortical, distance, spacing_mm, rng) -> np.ndarray:
    """HU in realistic ranges, drawn per bone (the SynthSeg-style per-label randomisation)."""
    soft = _soft_tissue(distance, spacing_mm, rng)
    values = np.unique(labels[labels > 0])
    cancellous = np.zeros(labels.shape, np.float32)
    cortex = np.zeros(labels.shape, np.float32)
    base_cancellous, base_cortex = rng.uniform(100.0, 400.0), rng.uniform(600.0, 1600.0)
    for value in values:
        where = labels == value
        cancellous[where] = base_cancellous + rng.uniform(-60.0, 60.0)
        cortex[where] = base_cortex + rng.uniform(-150.0, 150.0)
    unlabelled_bone = (bone_fraction > 0) & (labels == 0)
    cancellous[unlabelled_bone], cortex[unlabelled_bone] = base_cancellous, base_cortex
    texture = 40.0 * _noise_field(labels.shape, 1.0, rng)
    bone_hu = cortical * cortex + (1.0 - cortical) * (cancellous + texture)
    return (bone_fraction * bone_hu + (1.0 - bone_fraction) * soft).astype(np.float32)


def _random_contrast(labels, bone_fraction, cortical, distance, spacing_mm, rng) -> np.ndarray:
    """Every tissue (and every bone) gets an arbitrary intensity in the CT window."""
    soft = _soft_tissue(distance, spacing_mm, rng)
    remap = rng.uniform(-1000.0, 1500.0, 4)
    soft = np.interp(soft, [-1024.0, -100.0, 50.0, 450.0], np.sort(remap) if rng.random() < 0.5 else remap)
    bone_hu = np.zeros(labels.shape, np.float32)
    for value in np.unique(labels):
        bone_hu[labels == value] = rng.uniform(-500.0, 2000.0)
    bone_hu += cortical * rng.uniform(-300.0, 600.0)
    return (bone_fraction * bone_hu + (1.0 - bone_fraction) * soft).astype(np.float32)


def _degrade(hu: np.ndarray, spacing_mm: float, rng: np.random.Generator) -> np.ndarray:
    """Scanner blur, slice thickness (blur along z), and noise."""
    in_plane = rng.uniform(0.0, 1.0)
    through_plane = rng.uniform(0.0, 5.0) / spacing_mm / 2.355  # slice thickness FWHM -> sigma
    hu = ndimage.gaussian_filter(hu, (max(through_plane, in_plane), in_plane, in_plane))
    return hu + rng.uniform(0.0, 50.0) * rng.normal(size=hu.shape).astype(np.float32)


def _cut_field_of_view(hu: np.ndarray, labels: np.ndarray, rng: np.random.Generator):
    """Sometimes the scan ends inside the patch (z) or the reconstruction circle clips it (x, y)."""
    if rng.random() < 0.3:
        cut = rng.integers(0, hu.shape[0] // 2)
        if rng.random() < 0.5:
            hu[:cut], labels[:cut] = AIR_HU, 0
        else:
            hu[hu.shape[0] - cut:], labels[hu.shape[0] - cut:] = AIR_HU, 0
    if rng.random() < 0.15:
        _, y, x = np.ogrid[: hu.shape[0], : hu.shape[1], : hu.shape[2]]
        centre = rng.uniform(0, hu.shape[1], 2)
        outside = (y - centre[0]) ** 2 + (x - centre[1]) ** 2 > (rng.uniform(0.5, 1.0) * hu.shape[1]) ** 2
        outside = np.broadcast_to(outside, hu.shape)
        hu[outside], labels[outside] = AIR_HU, 0
    return hu, labels
