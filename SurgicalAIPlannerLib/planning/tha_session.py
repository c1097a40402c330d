"""An interactive THA plan on real MRML nodes: the object the Slicer module's Logic drives.

Nodes (all RAS): cup, stem and head models under linear transforms (the head transform is a child of the
stem transform, so the head follows the stem), and the neck cut as a ``vtkMRMLMarkupsPlaneNode``. MRML
observers on the cup transform, the head transform (notified on any stem change too) and the plane recompute
the metrics and warnings synchronously, then call the registered listeners.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager

import numpy as np
import slicer
import vtk

from ..implants.catalog import ImplantCatalog
from ..implants.geometry import cup_polydata, head_polydata, stem_polydata
from ..landmarks.model import LandmarkSet
from ..scene import SlicerContext
from .autoplan import AutoPlan, Decision, auto_plan, tolerances_of
from .cup_angles import CupOrientation, cup_axis, cup_orientation, cup_rotation
from .frames import unit
from .hip_anatomy import HipAnatomy
from .measurement import Measurement
from .request import ParsedRequest, PlanningRequest
from .sampling import CanalProfile, VolumeSampler
from .tha_metrics import ThaGeometry, ThaImplants, compute_metrics, warnings_of

ROLE_ATTRIBUTE = "SurgicalAIPlanner.THA.role"
ROLES = ("cupTransform", "cup", "stemTransform", "stem", "headTransform", "head", "neckCut")
# What the surgeon can drag in the 3D view: the cup, the stem (the head follows it) and the neck-cut plane.
HANDLE_ROLES = ("cup", "stem", "neckCut")
COLORS = {"cup": (0.85, 0.75, 0.3), "stem": (0.7, 0.7, 0.75), "head": (0.9, 0.9, 0.95)}


def matrix_to_numpy(matrix: vtk.vtkMatrix4x4) -> np.ndarray:
    return np.array([[matrix.GetElement(r, c) for c in range(4)] for r in range(4)])


def parent_matrix(transform_node) -> np.ndarray:
    """A transform node's matrix to its parent, as NumPy."""
    matrix = vtk.vtkMatrix4x4()
    transform_node.GetMatrixTransformToParent(matrix)
    return matrix_to_numpy(matrix)


def numpy_to_matrix(array: np.ndarray) -> vtk.vtkMatrix4x4:
    matrix = vtk.vtkMatrix4x4()
    for r in range(4):
        for c in range(4):
            matrix.SetElement(r, c, float(array[r, c]))
    return matrix


def rigid(rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    matrix = np.eye(4)
    matrix[:3, :3], matrix[:3, 3] = rotation, translation
    return matrix


class ThaPlanSession:
    """One side's THA plan: owns its MRML nodes, keeps ``metrics`` and ``warnings`` current."""

    def __init__(self, context: SlicerContext, anatomy: HipAnatomy, catalog: ImplantCatalog,
                 request: PlanningRequest, landmarks: LandmarkSet, parsed: ParsedRequest | None = None,
                 bone_mask=None, canal: CanalProfile | None = None) -> None:
        self.context = context
        self.anatomy = anatomy
        self.catalog = catalog
        self.request = request
        self.landmarks = landmarks
        self.parsed = parsed
        self.canal = canal
        self.bone = VolumeSampler(bone_mask) if bone_mask is not None else None
        self.tolerances = tolerances_of(request)
        self.implants: ThaImplants | None = None
        self.decisions: tuple[Decision, ...] = ()
        self.metrics: list[Measurement] = []
        self.warnings: list[str] = []
        self.nodes: dict[str, object] = {}
        self._listeners: list[Callable[[ThaPlanSession], None]] = []
        self._observations: list[tuple[object, int]] = []
        self._batch_depth = 0

    # ------------------------------------------------------------------------------ plan as a whole
    def propose(self) -> AutoPlan:
        """Auto-plan from the anatomy and the request, and put it into the scene."""
        plan = auto_plan(self.anatomy, self.catalog, self.request, self.canal)
        self.decisions = plan.decisions
        self.apply(plan.implants, plan.geometry)
        return plan

    def apply(self, implants: ThaImplants, geometry: ThaGeometry) -> None:
        """Show ``implants`` at ``geometry`` (creating the nodes on first use); metrics update once."""
        with self.batch():
            self._ensure_nodes()
            self.implants = implants
            self._update_polydata()
            self._cup_transform().SetMatrixTransformToParent(numpy_to_matrix(rigid(cup_rotation(geometry.cup_axis), geometry.cup_center)))
            self._stem_transform().SetMatrixTransformToParent(numpy_to_matrix(geometry.stem_to_ras))
            self._set_head_offset()
            self.set_neck_cut(geometry.cut_center, geometry.cut_normal)

    def restore(self, implants: ThaImplants, matrices: dict[str, np.ndarray], cut_center: np.ndarray,
                cut_normal: np.ndarray, decisions: tuple[Decision, ...]) -> None:
        """Put a saved plan back exactly: node matrices as stored (``cupTransform``, ``stemTransform``,
        ``headTransform`` to their parents), same implants and neck cut."""
        self.decisions = decisions
        with self.batch():
            self._ensure_nodes()
            self.implants = implants
            self._update_polydata()
            for role, matrix in matrices.items():
                self.nodes[role].SetMatrixTransformToParent(numpy_to_matrix(matrix))
            self.set_neck_cut(cut_center, cut_normal)

    def adopt_nodes(self, nodes: dict[str, object], implants: ThaImplants, decisions: tuple[Decision, ...]) -> None:
        """Take over the nodes of a plan restored with its scene (.mrb): observe them, recompute."""
        self.nodes, self.decisions = dict(nodes), decisions
        with self.batch():
            self.implants = implants
            self.attach_observers()

    def node_matrices(self) -> dict[str, np.ndarray]:
        """Each transform node's matrix to its parent (the head's parent is the stem transform)."""
        return {role: parent_matrix(self.nodes[role])
                for role in ("cupTransform", "stemTransform", "headTransform")}

    # ------------------------------------------------------------------------------ interactive edits
    def set_cup_orientation(self, orientation: CupOrientation) -> None:
        matrix = parent_matrix(self._cup_transform())
        axis = cup_axis(orientation, self.anatomy.pelvis, self.anatomy.side)
        self._cup_transform().SetMatrixTransformToParent(numpy_to_matrix(rigid(cup_rotation(axis), matrix[:3, 3])))

    def move_cup(self, center_ras: np.ndarray) -> None:
        matrix = parent_matrix(self._cup_transform())
        matrix[:3, 3] = center_ras
        self._cup_transform().SetMatrixTransformToParent(numpy_to_matrix(matrix))

    def translate_stem(self, delta_ras: np.ndarray) -> None:
        matrix = parent_matrix(self._stem_transform())
        matrix[:3, 3] += np.asarray(delta_ras, float)
        self._stem_transform().SetMatrixTransformToParent(numpy_to_matrix(matrix))

    def choose_implants(self, cup_id: str | None = None, head_id: str | None = None, stem_id: str | None = None,
                        liner_inner_diameter_mm: float | None = None) -> None:
        """Swap catalog implants in place (positions kept; the head stays on the stem's neck)."""
        current = self.implants
        cup = self.catalog.cup(cup_id) if cup_id else current.cup
        head = self.catalog.head(head_id) if head_id else current.head
        stem = self.catalog.stem(stem_id) if stem_id else current.stem
        liner = liner_inner_diameter_mm or (head.diameter_mm if head.diameter_mm in cup.liner_inner_diameters_mm
                                            else current.liner_inner_diameter_mm)
        with self.batch():
            self.implants = ThaImplants(cup, head, stem, liner)
            self._update_polydata()
            self._set_head_offset()

    def set_neck_cut(self, center_ras: np.ndarray, normal_ras: np.ndarray) -> None:
        plane = self.nodes["neckCut"]
        with self.batch():
            plane.SetCenterWorld(*map(float, center_ras))
            plane.SetNormalWorld(*map(float, unit(normal_ras)))

    # ------------------------------------------------------------------------------ reading back
    def geometry(self) -> ThaGeometry:
        cup = self._world(self._cup_transform())
        stem = self._world(self._stem_transform())
        head = self._world(self.nodes["headTransform"])
        center, normal = [0.0] * 3, [0.0] * 3
        self.nodes["neckCut"].GetCenterWorld(center)
        self.nodes["neckCut"].GetNormalWorld(normal)
        return ThaGeometry(cup[:3, 3].copy(), unit(cup[:3, 2]), stem, head[:3, 3].copy(), np.array(center), np.array(normal))

    def cup_orientation(self, definition: str = "radiographic") -> CupOrientation:
        return cup_orientation(self.geometry().cup_axis, self.anatomy.pelvis, self.anatomy.side, definition)

    def metric(self, key: str) -> Measurement:
        for measurement in self.metrics:
            if measurement.key == key:
                return measurement
        raise KeyError(f"no metric {key!r} in this plan")

    def add_listener(self, listener: Callable[["ThaPlanSession"], None]) -> None:
        """``listener(session)`` runs after every recomputation (GUI tables, warnings banners)."""
        self._listeners.append(listener)

    def update_metrics(self) -> list[Measurement]:
        self.metrics = compute_metrics(self.anatomy, self.geometry(), self.implants, self.tolerances, self.bone, self.canal)
        self.warnings = [*self.anatomy.cautions, *warnings_of(self.metrics, self.implants)]
        for listener in self._listeners:
            listener(self)
        return self.metrics

    @contextmanager
    def batch(self):
        """Several node edits, one recomputation at the end."""
        self._batch_depth += 1
        try:
            yield
        finally:
            self._batch_depth -= 1
            if self._batch_depth == 0 and self.implants is not None:
                self.update_metrics()

    def close(self) -> None:
        """Stop observing (the nodes stay in the scene)."""
        for node, tag in self._observations:
            node.RemoveObserver(tag)
        self._observations.clear()

    def remove_nodes(self) -> None:
        """Stop observing and take the plan's nodes out of the scene (a plan replaced by a new proposal)."""
        self.close()
        for node in self.nodes.values():
            self.context.scene.RemoveNode(node)
        self.nodes.clear()

    def show_handles(self, role: str, visible: bool = True) -> None:
        """Show or hide Slicer's interaction handles of ``role`` (one of ``HANDLE_ROLES``) in the 3D view.

        Implants and the neck cut get move and turn handles only (implants are rigid; the plane's drawn size means
        nothing), and implants none in the slice views, which stay readable.
        """
        if role not in HANDLE_ROLES:
            raise ValueError(f"no handles for {role!r}: choose one of {', '.join(HANDLE_ROLES)}")
        node = self.nodes[role if role == "neckCut" else f"{role}Transform"]
        node.CreateDefaultDisplayNodes()
        display = node.GetDisplayNode()
        if role == "neckCut":
            display.SetScaleHandleVisibility(False)  # the plane's drawn size means nothing for the cut
            display.SetHandlesInteractive(visible)
            return
        display.SetEditorScalingEnabled(False)
        display.SetEditorSliceIntersectionVisibility(False)
        display.SetEditorVisibility(visible)

    # ------------------------------------------------------------------------------ nodes
    def _on_node_changed(self, caller=None, event=None) -> None:
        if self._batch_depth == 0 and self.implants is not None:
            self.update_metrics()

    def _world(self, transform_node) -> np.ndarray:
        matrix = vtk.vtkMatrix4x4()
        transform_node.GetMatrixTransformToWorld(matrix)
        return matrix_to_numpy(matrix)

    def _cup_transform(self):
        return self.nodes["cupTransform"]

    def _stem_transform(self):
        return self.nodes["stemTransform"]

    def _ensure_nodes(self) -> None:
        if self.nodes:
            return
        scene, side = self.context.scene, self.anatomy.side
        for role in ("cup", "stem", "head"):
            transform = scene.AddNewNodeByClass("vtkMRMLLinearTransformNode", f"THA {role} transform ({side})")
            model = scene.AddNewNodeByClass("vtkMRMLModelNode", f"THA {role} ({side})")
            model.CreateDefaultDisplayNodes()
            model.GetDisplayNode().SetColor(*COLORS[role])
            model.SetAndObserveTransformNodeID(transform.GetID())
            self.nodes[f"{role}Transform"], self.nodes[role] = transform, model
        self.nodes["headTransform"].SetAndObserveTransformNodeID(self._stem_transform().GetID())
        plane = scene.AddNewNodeByClass("vtkMRMLMarkupsPlaneNode", f"THA neck cut ({side})")
        plane.SetPlaneType(slicer.vtkMRMLMarkupsPlaneNode.PlaneTypePointNormal)
        plane.SetSize(50.0, 50.0)
        self.nodes["neckCut"] = plane
        for role, node in self.nodes.items():
            node.SetAttribute(ROLE_ATTRIBUTE, role)
        self.attach_observers()

    def attach_observers(self) -> None:
        """Observe the nodes that define the geometry (also used after restoring a scene)."""
        watched = [(self._cup_transform(), slicer.vtkMRMLTransformNode.TransformModifiedEvent),
                   (self.nodes["headTransform"], slicer.vtkMRMLTransformNode.TransformModifiedEvent),
                   (self.nodes["neckCut"], slicer.vtkMRMLMarkupsNode.PointModifiedEvent)]
        for node, event in watched:
            self._observations.append((node, node.AddObserver(event, self._on_node_changed)))

    def _update_polydata(self) -> None:
        implants = self.implants
        self.nodes["cup"].SetAndObservePolyData(cup_polydata(implants.cup, implants.liner_inner_diameter_mm))
        self.nodes["stem"].SetAndObservePolyData(stem_polydata(implants.stem))
        self.nodes["head"].SetAndObservePolyData(head_polydata(implants.head))
        for role, implant in (("cup", implants.cup), ("stem", implants.stem), ("head", implants.head)):
            self.nodes[role].SetAttribute("SurgicalAIPlanner.THA.catalogId", implant.id)

    def _set_head_offset(self) -> None:
        """The head sits on the stem's neck at the chosen head's neck length (stem coordinates)."""
        center = np.array(self.implants.stem.head_center(self.implants.head.neck_offset_mm))
        self.nodes["headTransform"].SetMatrixTransformToParent(numpy_to_matrix(rigid(np.eye(3), center)))
