"""What the report draws of a plan: the bones of its scene, the implants where the plan put them, the neck cut.

Reads a live or restored ``ThaPlanSession`` (e.g. from the plan's .mrb), so the pictures show the plan as
signed, not a re-computation of it. Everything is in RAS mm.
"""

from __future__ import annotations

import numpy as np
import vtk

from ..planning.tha_session import COLORS, ThaPlanSession
from ..segmentation.labels import BY_NAME
from .pictures import SurfaceItem

NECK_CUT_COLOR = (0.95, 0.45, 0.25)
NECK_CUT_RADIUS_MM = 30.0
IMPLANTS = ("cup", "stem", "head")


def plan_surface_items(plan: ThaPlanSession, bones: tuple[str, ...]) -> list[SurfaceItem]:
    """Bones (closed surfaces of the scene's segmentation), implants (model nodes in world) and the neck cut."""
    items = _bone_items(plan.context.scene, bones)
    for role in IMPLANTS:
        items.append(SurfaceItem(role, _world_polydata(plan.nodes[role]), COLORS[role]))
    items.append(SurfaceItem("neck cut", _neck_cut_disk(plan.nodes["neckCut"]), NECK_CUT_COLOR, opacity=0.6))
    return items


def _bone_items(scene, bones: tuple[str, ...]) -> list[SurfaceItem]:
    items = []
    for node in scene.GetNodesByClass("vtkMRMLSegmentationNode"):
        node.CreateClosedSurfaceRepresentation()
        segments = node.GetSegmentation()
        for name in bones:
            segment_id = segments.GetSegmentIdBySegmentName(name)
            if segment_id:
                surface = vtk.vtkPolyData()
                node.GetClosedSurfaceRepresentation(segment_id, surface)
                color = BY_NAME[name].color if name in BY_NAME else (0.9, 0.85, 0.7)
                items.append(SurfaceItem(name, surface, color, opacity=0.55))
    return items


def _world_polydata(model_node) -> vtk.vtkPolyData:
    to_world = vtk.vtkGeneralTransform()
    transform_node = model_node.GetParentTransformNode()
    if transform_node is not None:
        transform_node.GetTransformToWorld(to_world)
    moved = vtk.vtkTransformPolyDataFilter()
    moved.SetInputData(model_node.GetPolyData())
    moved.SetTransform(to_world)
    normals = vtk.vtkPolyDataNormals()
    normals.SetInputConnection(moved.GetOutputPort())
    normals.Update()
    return normals.GetOutput()


def _neck_cut_disk(plane_node) -> vtk.vtkPolyData:
    center, normal = np.zeros(3), np.zeros(3)
    plane_node.GetCenterWorld(center)
    plane_node.GetNormalWorld(normal)
    disk = vtk.vtkRegularPolygonSource()
    disk.SetNumberOfSides(48)
    disk.SetRadius(NECK_CUT_RADIUS_MM)
    disk.SetCenter(*center)
    disk.SetNormal(*normal)
    disk.Update()
    return disk.GetOutput()
