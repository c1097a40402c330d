"""Landmark detection from a CT and its bone label map (geometric: surfaces of the labelled bones).

``detect_landmarks(ct, labels, names)`` is the entry point the planning code calls. Label names follow the
segmentation label table (hip_left, femur_right, vertebrae_L3, ...); any numbering works as long as
``names`` maps each value to its name (TotalSegmentator's own table does).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from ..imaging.sampling import volume_sampler
from ..imaging.volume import Volume
from ..ct_anatomy.head_edges import SphereOnCt, refine_head_on_ct
from .definitions import HeadRefiner, compute_landmarks
from .model import LandmarkSet
from .spine import LEVELS, VertebraCloud, lumbar_landmarks, vertebra_cloud
from .surfaces import Surface, label_surface

log = logging.getLogger(__name__)

# Bones the definitions read; other labels (organs, ribs, ...) are ignored.
USED_BONES = tuple(f"{bone}_{side}" for bone in ("hip", "femur", "tibia", "fibula") for side in ("left", "right"))


def bone_surfaces(labels: Volume, names: dict[int, str], wanted: tuple[str, ...] = USED_BONES) -> dict[str, Surface]:
    """{bone name: sub-voxel surface (RAS mm)} of each wanted bone present in ``labels``."""
    surfaces = {}
    for value, name in names.items():
        if name in wanted:
            surface = label_surface(labels, value)
            if surface is not None:
                surfaces[name] = surface
    return surfaces


def vertebra_clouds(labels: Volume, names: dict[int, str]) -> dict[str, VertebraCloud]:
    """{"L3": points inside vertebrae_L3, ...} for each lumbar vertebra present in ``labels``."""
    clouds = {}
    for value, name in names.items():
        level = name.removeprefix("vertebrae_")
        if name.startswith("vertebrae_") and level in LEVELS:
            cloud = vertebra_cloud(labels, value)
            if cloud is not None:
                clouds[level] = cloud
    return clouds


def detect_landmarks(ct: Volume, labels: Volume, names: dict[int, str],
                     progress: Callable[[str], None] | None = None) -> LandmarkSet:
    """Hip, pelvis, knee, ankle and lumbar (L1-L5) landmarks (RAS mm) with confidence and method; missing ones say why.

    ``ct`` must share the label map's grid (it is checked). The positions come from the bone surfaces of
    ``labels``; the femoral head spheres are then refined on the CT's edges (see docs/landmarks.md).
    """
    _check_same_grid(ct, labels)
    report = progress or log.info
    report("extracting bone surfaces")
    surfaces = bone_surfaces(labels, names)
    landmarks = compute_landmarks(surfaces, "label surface: ", report, head_refiner(ct, labels, names))
    report("lumbar vertebrae")
    for landmark in lumbar_landmarks(vertebra_clouds(labels, names), "label mask: "):
        landmarks.add(landmark)
    present = sum(1 for landmark in landmarks if landmark.present)
    report(f"{present} of {len(landmarks.landmarks)} landmarks found")
    return landmarks


def head_refiner(ct: Volume, labels: Volume, names: dict[int, str]) -> HeadRefiner:
    """Refines a side's femoral head sphere on ``ct``; the hip bone label only marks the rays to skip."""
    hip_values = {name.removeprefix("hip_"): value for value, name in names.items() if name in ("hip_left", "hip_right")}

    def refine(side: str, centre: np.ndarray, radius: float) -> SphereOnCt | str:
        value = hip_values.get(side, -1)
        in_labels = volume_sampler(labels, order=0)
        return refine_head_on_ct(ct, lambda points: in_labels(points) == value, centre, radius)

    return refine


def _check_same_grid(ct: Volume, labels: Volume) -> None:
    if ct.array.shape != labels.array.shape or not np.allclose(ct.ijk_to_ras(), labels.ijk_to_ras(), atol=1e-3):
        where = f" ({labels.source})" if labels.source else ""
        raise ValueError(f"the label map{where} does not share the CT's voxel grid: "
                         f"CT {ct.shape_ijk} voxels, labels {labels.shape_ijk}; resample the labels onto the CT first")
