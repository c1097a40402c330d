"""Training subjects: real bone shapes (STAPLE meshes, VerSe vertebra masks) as label maps.

Hip-region subjects: the pelvis (hip bones + sacrum) and femurs of ICL_MRI, TLEM2_MRI and JIA_MRI, with a
synthetic lumbar column (see lumbar.py), in several random variants, each also mirrored left<->right.
ICL_MRI has only a right leg: its left femur is the right one mirrored across the pelvis midline.
Knee-region subjects: femur, tibia, fibula and patella of every leg in the four datasets.
The meshes are CC BY-NC 4.0: used here to train, never copied into the repository.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ...phantoms.meshes import BoneMesh, available_datasets, load_staple_dataset
from ...phantoms.voxelize import empty_grid, meshes_bounds, voxelize
from ..labels import BY_NAME, BONES, LUMBAR
from .lumbar import add_lumbar_column, load_vertebra_shapes
from .synth import OTHER_BONE, Subject, mirror_labels

log = logging.getLogger(__name__)

HIP_BONES = ("hip_left", "hip_right", "sacrum", "femur_left", "femur_right")
KNEE_BONES = tuple(f"{bone}_{side}" for bone in ("femur", "tibia", "fibula", "patella") for side in ("left", "right"))
LEFT_RIGHT_SWAP = {bone.value: BY_NAME[bone.mirror_name].value for bone in BONES if bone.side == "left"}
HIP_CENTRE_VALUES = tuple(BY_NAME[name].value for name in HIP_BONES + LUMBAR)
KNEE_CENTRE_VALUES = tuple(BY_NAME[name].value for name in KNEE_BONES if not name.startswith("femur"))


def mirrored_mesh(mesh: BoneMesh, name: str, mirror_x: float) -> BoneMesh:
    """``mesh`` reflected across the sagittal plane x = ``mirror_x`` (RAS mm), under a new name."""
    points = mesh.points.copy()
    points[:, 0] = 2.0 * mirror_x - points[:, 0]
    return BoneMesh(name, points, mesh.faces[:, ::-1].copy(), mesh.source)


def hip_subjects(dataset: str, masks_dir: Path, spacing_mm: float, variants: int, seed: int) -> list[Subject]:
    bones = load_staple_dataset(dataset)
    if not {"hip_left", "hip_right", "sacrum"} <= set(bones):
        return []
    midline = 0.5 * (bones["hip_left"].points[:, 0].mean() + bones["hip_right"].points[:, 0].mean())
    for side, other in (("left", "right"), ("right", "left")):
        if f"femur_{side}" not in bones and f"femur_{other}" in bones:
            bones[f"femur_{side}"] = mirrored_mesh(bones[f"femur_{other}"], f"femur_{side}", midline)
    pelvis = [bones[name] for name in ("hip_left", "hip_right", "sacrum")]
    low, high = meshes_bounds(pelvis, margin_mm=40.0)
    low[2] -= 180.0  # proximal femurs
    high[2] = bones["sacrum"].points[:, 2].max() + 290.0  # room for L5..T11
    grid = empty_grid((low, high), spacing_mm, "RAS", np.uint8)
    painted = voxelize([bones[n] for n in HIP_BONES if n in bones], grid, {n: BY_NAME[n].value for n in HIP_BONES})
    base = painted.array.astype(np.uint8)
    shapes = load_vertebra_shapes(masks_dir, spacing_mm)
    level_values = {f"L{i}": BY_NAME[f"vertebrae_L{i}"].value for i in range(1, 6)} | {"T12": OTHER_BONE, "T11": OTHER_BONE}
    rng = np.random.default_rng(seed)
    subjects = []
    for variant in range(variants):
        labels = base.copy()
        add_lumbar_column(labels, BY_NAME["sacrum"].value, level_values, shapes, rng)
        subjects.append(Subject.build(f"{dataset}/hip/{variant}", labels, spacing_mm, HIP_CENTRE_VALUES))
        mirrored = mirror_labels(labels, LEFT_RIGHT_SWAP)
        subjects.append(Subject.build(f"{dataset}/hip/{variant}/mirrored", mirrored, spacing_mm, HIP_CENTRE_VALUES))
    return subjects


def knee_subjects(dataset: str, spacing_mm: float) -> list[Subject]:
    bones = load_staple_dataset(dataset)
    subjects = []
    for side in ("left", "right"):
        if f"femur_{side}" not in bones or f"tibia_{side}" not in bones:
            continue
        leg = [bones[n] for n in KNEE_BONES if n.endswith(side) and n in bones]
        knee_z = 0.5 * (bones[f"femur_{side}"].points[:, 2].min() + bones[f"tibia_{side}"].points[:, 2].max())
        low, high = meshes_bounds(leg, margin_mm=40.0)
        low[2], high[2] = knee_z - 170.0, knee_z + 170.0
        grid = empty_grid((low, high), spacing_mm, "RAS", np.uint8)
        labels = voxelize(leg, grid, {n: BY_NAME[n].value for n in KNEE_BONES}).array.astype(np.uint8)
        subjects.append(Subject.build(f"{dataset}/knee/{side}", labels, spacing_mm, KNEE_CENTRE_VALUES))
        mirrored = mirror_labels(labels, LEFT_RIGHT_SWAP)
        subjects.append(Subject.build(f"{dataset}/knee/{side}/mirrored", mirrored, spacing_mm, KNEE_CENTRE_VALUES))
    return subjects


def build_subjects(masks_dir: Path, spacing_mm: float, variants: int, seed: int,
                   progress: Callable[[str], None] = log.info) -> tuple[list[Subject], list[Subject]]:
    """(hip-region subjects, knee-region subjects) from every STAPLE dataset present."""
    hips, knees = [], []
    for index, dataset in enumerate(available_datasets()):
        hips += hip_subjects(dataset, masks_dir, spacing_mm, variants, seed + index)
        knees += knee_subjects(dataset, spacing_mm)
        progress(f"subjects from {dataset}: {len(hips)} hip-region, {len(knees)} knee-region so far")
    if not hips:
        raise FileNotFoundError("no STAPLE dataset with a pelvis was found; see docs/training.md for the data needed")
    return hips, knees
