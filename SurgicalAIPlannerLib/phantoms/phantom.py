"""One call from a STAPLE dataset to a phantom: posed meshes, label map, CT, and the pose used.

Order of work: load meshes (RAS mm) -> rigid pose (exact, applied to the surfaces) -> field of view
-> voxelize labels on the output grid -> CT drawn on a ``supersample``-times finer grid and averaged
down (partial volume), then noise on the output grid.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal

import numpy as np

from ..imaging.volume import Frame, Volume
from ..segmentation.labels import label_table
from .ct import CTParameters, add_noise, hu_volume, scanner_blur, tissue_hu
from .meshes import BoneMesh, load_staple_dataset
from .voxelize import empty_grid, voxelize

log = logging.getLogger(__name__)

Region = Literal["full", "hip", "knee", "ankle"]
# Bones drawn in the CT but absent from the label table get values from here up (never in ``labels``).
UNLABELLED_BONE_BASE = 1000


@dataclass(frozen=True)
class PhantomSpec:
    """What to build. ``seed`` draws the pose; ``ct.seed`` draws the noise (and ``CTParameters.sampled``)."""

    dataset: str
    spacing: float | tuple[float, float, float] = 1.5
    frame: Frame = "LPS"
    region: Region = "full"
    margin_mm: float = 30.0
    seed: int = 0
    max_rotation_deg: float = 10.0
    max_translation_mm: float = 20.0
    supersample: int = 1
    include_foot: bool = True
    ct: CTParameters = field(default_factory=CTParameters)

    def __post_init__(self) -> None:
        if self.supersample < 1 or self.supersample % 2 == 0:
            raise ValueError(f"supersample must be an odd whole number >= 1 (voxel centres must coincide), got {self.supersample}")


@dataclass
class Phantom:
    ct: Volume
    labels: Volume
    names: dict[int, str]
    meshes: dict[str, BoneMesh]  # posed: the same RAS frame as ct and labels
    pose_ras: np.ndarray  # 4x4 applied to the dataset's RAS meshes
    spec: PhantomSpec


def random_pose(rng: np.random.Generator, center_ras: np.ndarray, max_rotation_deg: float, max_translation_mm: float) -> np.ndarray:
    """4x4 RAS rigid transform: rotation about ``center_ras`` by uniform angles (x, y, z, each within
    +-``max_rotation_deg``), then a uniform shift within +-``max_translation_mm`` per axis."""
    angles = np.radians(rng.uniform(-max_rotation_deg, max_rotation_deg, size=3))
    rotation = np.eye(3)
    for axis, angle in enumerate(angles):
        cos, sin = np.cos(angle), np.sin(angle)
        a, b = [i for i in range(3) if i != axis]
        step = np.eye(3)
        step[a, a], step[a, b], step[b, a], step[b, b] = cos, -sin, sin, cos
        rotation = step @ rotation
    pose = np.eye(4)
    pose[:3, :3] = rotation
    pose[:3, 3] = center_ras - rotation @ center_ras + rng.uniform(-max_translation_mm, max_translation_mm, size=3)
    return pose


def region_points(meshes: dict[str, BoneMesh], region: Region) -> np.ndarray:
    """Surface points (RAS) that a field of view for ``region`` must hold (dataset pose: +z superior)."""
    if region == "full":
        return np.concatenate([mesh.points for mesh in meshes.values()])
    chosen = []
    for name, mesh in meshes.items():
        bone = name.rsplit("_", 1)[0]
        z = mesh.points[:, 2]
        if region == "hip" and bone in ("hip", "sacrum"):
            chosen.append(mesh.points)
        elif region == "hip" and bone == "femur":
            chosen.append(mesh.points[z > z.max() - 130.0])
        elif region == "knee" and bone == "femur":
            chosen.append(mesh.points[z < z.min() + 70.0])
        elif region == "knee" and bone in ("tibia", "fibula"):
            chosen.append(mesh.points[z > z.max() - 70.0])
        elif region == "knee" and bone == "patella":
            chosen.append(mesh.points)
        elif region == "ankle" and bone in ("tibia", "fibula"):
            chosen.append(mesh.points[z < z.min() + 60.0])
        elif region == "ankle" and bone == "talus":
            chosen.append(mesh.points)
    if not chosen:
        raise ValueError(f"the dataset has no bones for region {region!r}")
    return np.concatenate(chosen)


def build_phantom(spec: PhantomSpec, meshes: dict[str, BoneMesh] | None = None,
                  progress: Callable[[str], None] | None = None) -> Phantom:
    """Build the phantom ``spec`` describes (``meshes``: already loaded dataset meshes, to save reading)."""
    report = progress or log.info
    meshes = meshes or load_staple_dataset(spec.dataset, include_foot=spec.include_foot)
    wanted = region_points(meshes, spec.region)
    pose = random_pose(np.random.default_rng(spec.seed), wanted.mean(axis=0), spec.max_rotation_deg, spec.max_translation_mm)
    posed = {name: mesh.transformed(pose) for name, mesh in meshes.items()}
    wanted = wanted @ pose[:3, :3].T + pose[:3, 3]
    bounds = (wanted.min(axis=0) - spec.margin_mm, wanted.max(axis=0) + spec.margin_mm)

    values = label_table()
    grid = empty_grid(bounds, spec.spacing, spec.frame)
    report(f"{spec.dataset} {spec.region}: voxelizing {len(posed)} bones on {grid.shape_ijk} voxels")
    labels = voxelize(posed.values(), grid, values)
    report(f"{spec.dataset} {spec.region}: drawing the CT (supersample {spec.supersample})")
    ct = _draw_ct(posed, grid, values, spec)
    names = {value: name for name, value in values.items() if np.any(labels.array == value)}
    return Phantom(ct=ct, labels=labels, names=names, meshes=posed, pose_ras=pose, spec=spec)


def _draw_ct(meshes: dict[str, BoneMesh], grid: Volume, values: dict[str, int], spec: PhantomSpec) -> Volume:
    """CT on ``grid``: tissue drawn ``supersample`` times finer, blurred there, averaged down, then noise."""
    factor = spec.supersample
    fine_spacing = tuple(s / factor for s in grid.spacing)
    # Fine voxel (factor*i + (factor-1)/2) has its centre on output voxel i's centre.
    fine_origin = grid.ijk_to_frame()[:3, :3] @ np.full(3, -(factor - 1) / (2 * factor)) + np.asarray(grid.origin)
    fine_shape = tuple(n * factor for n in grid.array.shape)
    fine_grid = Volume(np.zeros(fine_shape, dtype=np.uint16), fine_spacing, tuple(fine_origin), np.asarray(grid.direction), grid.frame)
    all_values = dict(values)
    extra = sorted(name for name in meshes if name not in values)
    all_values.update({name: UNLABELLED_BONE_BASE + index for index, name in enumerate(extra)})
    fine_labels = voxelize(meshes.values(), fine_grid, all_values)
    spacing_kji = np.asarray(fine_spacing[::-1])
    hu = scanner_blur(tissue_hu(fine_labels, spec.ct), spacing_kji, spec.ct, slice_spacing_mm=grid.spacing[2])
    if factor > 1:
        k, j, i = grid.array.shape
        centre = (factor - 1) // 2
        hu = hu[centre::factor].reshape(k, j, factor, i, factor).mean(axis=(2, 4))
    return hu_volume(add_noise(hu, spec.ct), grid, spec.ct)


def save_phantom(phantom: Phantom, folder: Path | str, stem: str) -> dict[str, Path]:
    """Write ``<stem>_ct.nii.gz`` and ``<stem>_labels.nii.gz`` (atomically) into ``folder``; returns the paths."""
    from ..imaging.writing import save_volume as write_volume

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "ct": write_volume(phantom.ct, folder / f"{stem}_ct.nii.gz"),
        "labels": write_volume(phantom.labels, folder / f"{stem}_labels.nii.gz"),
    }
