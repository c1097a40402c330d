"""True landmarks of a phantom: the landmark definitions applied to its (posed) bone meshes, not to voxels."""

from __future__ import annotations

from ..landmarks.definitions import compute_landmarks
from ..landmarks.model import LandmarkSet
from ..landmarks.surfaces import mesh_surface
from .meshes import BoneMesh
from .phantom import Phantom


def mesh_landmarks(meshes: dict[str, BoneMesh]) -> LandmarkSet:
    """Landmarks (RAS mm) computed on mesh vertices; these are complete bones, never cut by a field of view."""
    return compute_landmarks({name: mesh_surface(mesh.points) for name, mesh in meshes.items()}, "mesh truth: ")


def true_landmarks(phantom: Phantom) -> LandmarkSet:
    return mesh_landmarks(phantom.meshes)
