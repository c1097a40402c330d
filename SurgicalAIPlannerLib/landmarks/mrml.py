"""Landmarks as ``vtkMRMLMarkupsFiducialNode``s (one per region) that a surgeon can drag.

``LandmarkNodes`` keeps the ``LandmarkSet`` and the nodes in step: when a control point is moved in the
scene, that landmark becomes ``user_edited`` with method "user", and every listener (frames, metrics) is
called with the updated set.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import slicer

from .model import Landmark, LandmarkSet

REGIONS = {
    "Pelvis and hip": ("ASIS_", "pubic_tubercle_", "acetabulum_center_", "femoral_", "greater_trochanter_",
                       "lesser_trochanter_"),
    "Knee": ("femur_knee_center_", "medial_epicondyle_", "lateral_epicondyle_", "tibial_plateau_"),
    "Ankle": ("ankle_center_", "medial_malleolus_", "lateral_malleolus_"),
    "Lumbar spine": ("L1_", "L2_", "L3_", "L4_", "L5_"),
}
Listener = Callable[[LandmarkSet, str], None]


def region_of(name: str) -> str:
    for region, prefixes in REGIONS.items():
        if name.startswith(prefixes):
            return region
    return "Other"


class LandmarkNodes:
    """The scene's landmark fiducial nodes, built from ``landmarks`` and tracking the surgeon's edits."""

    def __init__(self, scene, landmarks: LandmarkSet, prefix: str = "Landmarks") -> None:
        self.scene = scene
        self.landmarks = landmarks
        self.nodes: dict[str, object] = {}
        self._listeners: list[Listener] = []
        self._updating = False
        for landmark in landmarks:
            node = self._node(f"{prefix} - {region_of(landmark.name)}")
            _add_point(node, landmark)
        for node in self.nodes.values():
            node.AddObserver(slicer.vtkMRMLMarkupsNode.PointModifiedEvent, self._on_point_modified)

    def _node(self, name: str):
        if name not in self.nodes:
            self.nodes[name] = self.scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", name)
        return self.nodes[name]

    def remove(self) -> None:
        """Take the nodes out of the scene (landmarks detected again, or a new segmentation)."""
        for node in self.nodes.values():
            self.scene.RemoveNode(node)
        self.nodes.clear()
        self._listeners.clear()

    def add_listener(self, listener: Listener) -> None:
        """``listener(landmarks, moved_name)`` runs after every user edit."""
        self._listeners.append(listener)

    def _on_point_modified(self, node, _event) -> None:
        if self._updating:
            return
        for index in range(node.GetNumberOfControlPoints()):
            name = node.GetNthControlPointLabel(index)
            landmark = self.landmarks.landmarks.get(name)
            if landmark is None or node.GetNthControlPointPositionStatus(index) != slicer.vtkMRMLMarkupsNode.PositionDefined:
                continue
            position = np.array(node.GetNthControlPointPosition(index))
            if landmark.present and np.allclose(position, landmark.position_ras, atol=1e-6):
                continue
            self._mark_edited(landmark, position)
            node.SetNthControlPointDescription(index, "moved by the user")
            for listener in self._listeners:
                listener(self.landmarks, name)

    @staticmethod
    def _mark_edited(landmark: Landmark, position: np.ndarray) -> None:
        landmark.position_ras = position
        landmark.user_edited = True
        landmark.method = "user"
        landmark.confidence = 1.0
        landmark.missing_reason = ""


def _add_point(node, landmark: Landmark) -> None:
    index = node.AddControlPoint(landmark.position_ras if landmark.present else [0.0, 0.0, 0.0], landmark.name)
    if landmark.present:
        node.SetNthControlPointDescription(index, f"confidence {landmark.confidence:.2f}; {landmark.method}")
    else:
        node.SetNthControlPointPositionMissing(index)
        node.SetNthControlPointDescription(index, f"missing: {landmark.missing_reason}")
