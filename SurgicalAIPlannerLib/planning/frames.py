"""Anatomical frames for hip planning, built from landmarks in RAS mm.

Pelvic frame (from the anterior pelvic plane, APP: both ASIS and the pubic tubercles):
    x: from the left ASIS to the right ASIS (the patient's right, like RAS +x)
    y: APP normal, pointing anterior
    z: superior, in the APP and perpendicular to x  (x, y, z right-handed, like RAS)
    origin: midpoint of the two ASIS
With a neutrally positioned pelvis this frame coincides with RAS axes.

Side helpers turn a pelvic vector into (lateral, anterior, superior) components for one side, so that
left and right plans read the same numbers when they mirror each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Side = Literal["left", "right"]
SIDES: tuple[Side, Side] = ("left", "right")


def other_side(side: Side) -> Side:
    return "right" if side == "left" else "left"


def unit(vector: np.ndarray) -> np.ndarray:
    vector = np.asarray(vector, dtype=float)
    length = float(np.linalg.norm(vector))
    if length < 1e-9:
        raise ValueError("cannot normalise a zero-length vector")
    return vector / length


@dataclass(frozen=True)
class PelvicFrame:
    """Rotation (columns = frame axes in RAS) and origin (RAS mm) of the APP frame."""

    rotation: np.ndarray
    origin: np.ndarray

    @classmethod
    def from_app(cls, asis_left: np.ndarray, asis_right: np.ndarray, pubic_left: np.ndarray,
                 pubic_right: np.ndarray) -> "PelvicFrame":
        """Frame of the anterior pelvic plane through both ASIS and the pubic tubercles' midpoint."""
        asis_left, asis_right = np.asarray(asis_left, float), np.asarray(asis_right, float)
        pubic_mid = (np.asarray(pubic_left, float) + np.asarray(pubic_right, float)) / 2.0
        asis_mid = (asis_left + asis_right) / 2.0
        x_axis = unit(asis_right - asis_left)
        superior_in_plane = asis_mid - pubic_mid
        z_axis = unit(superior_in_plane - np.dot(superior_in_plane, x_axis) * x_axis)
        y_axis = np.cross(z_axis, x_axis)  # S x R = A
        return cls(rotation=np.column_stack([x_axis, y_axis, z_axis]), origin=asis_mid)

    @classmethod
    def from_asis_and_scanner(cls, asis_left: np.ndarray, asis_right: np.ndarray) -> "PelvicFrame":
        """Stand-in for the APP when the pubic tubercles are not in view: the ASIS line, with the pelvis taken as
        lying level on the CT table (APP parallel to the scanner's coronal plane: pelvic tilt 0°)."""
        asis_left, asis_right = np.asarray(asis_left, float), np.asarray(asis_right, float)
        x_axis = unit(asis_right - asis_left)
        scanner_superior = np.array([0.0, 0.0, 1.0])  # RAS +z
        z_axis = unit(scanner_superior - np.dot(scanner_superior, x_axis) * x_axis)
        y_axis = np.cross(z_axis, x_axis)
        return cls(rotation=np.column_stack([x_axis, y_axis, z_axis]), origin=(asis_left + asis_right) / 2.0)

    @classmethod
    def identity(cls) -> "PelvicFrame":
        return cls(rotation=np.eye(3), origin=np.zeros(3))

    def vector_to_frame(self, vector_ras: np.ndarray) -> np.ndarray:
        return self.rotation.T @ np.asarray(vector_ras, float)

    def vector_to_ras(self, vector_frame: np.ndarray) -> np.ndarray:
        return self.rotation @ np.asarray(vector_frame, float)

    def point_to_frame(self, point_ras: np.ndarray) -> np.ndarray:
        return self.vector_to_frame(np.asarray(point_ras, float) - self.origin)

    def lateral(self, side: Side) -> np.ndarray:
        """Unit vector (RAS) pointing away from the midline on ``side``."""
        return self.rotation[:, 0] * (1.0 if side == "right" else -1.0)

    @property
    def anterior(self) -> np.ndarray:
        return self.rotation[:, 1]

    @property
    def superior(self) -> np.ndarray:
        return self.rotation[:, 2]

    def side_components(self, vector_ras: np.ndarray, side: Side) -> np.ndarray:
        """(lateral, anterior, superior) components of a RAS vector for ``side``."""
        vector = np.asarray(vector_ras, float)
        return np.array([vector @ self.lateral(side), vector @ self.anterior, vector @ self.superior])

    def side_vector_to_ras(self, components: np.ndarray, side: Side) -> np.ndarray:
        """Inverse of ``side_components``."""
        lateral, anterior, superior = components
        return lateral * self.lateral(side) + anterior * self.anterior + superior * self.superior


@dataclass(frozen=True)
class FemoralFrame:
    """One femur's head centre, neck axis and shaft axis (RAS).

    ``shaft_direction`` points proximally along the anatomical shaft axis through ``shaft_point``.
    When the shaft is outside the field of view (``shaft_source`` says so) the pelvic longitudinal axis
    through the neck-shaft junction stands in for it: the femur is taken as in neutral standing position.
    ``neck_direction`` points from the neck base to the head centre.
    """

    side: Side
    head_center: np.ndarray
    head_radius: float
    neck_direction: np.ndarray
    shaft_point: np.ndarray
    shaft_direction: np.ndarray
    shaft_source: str

    def medial(self) -> np.ndarray:
        """Unit vector (RAS) perpendicular to the shaft, towards the head (the neck's direction, versioned)."""
        toward_head = self.head_center - self.shaft_point
        perpendicular = toward_head - np.dot(toward_head, self.shaft_direction) * self.shaft_direction
        return unit(perpendicular)

    def axis_point_near(self, point: np.ndarray) -> np.ndarray:
        """Closest point on the shaft axis to ``point``."""
        offset = np.asarray(point, float) - self.shaft_point
        return self.shaft_point + np.dot(offset, self.shaft_direction) * self.shaft_direction

    def neck_shaft_angle(self) -> float:
        """CCD angle (degrees) between the neck axis and the distal shaft axis."""
        cosine = np.clip(np.dot(self.neck_direction, -self.shaft_direction), -1.0, 1.0)
        return float(np.degrees(np.arccos(cosine)))

    def stem_rotation(self) -> np.ndarray:
        """Rotation taking stem coordinates (x medial, y = z × x, z proximal) to RAS for this femur."""
        z_axis = unit(self.shaft_direction)
        x_axis = self.medial()
        return np.column_stack([x_axis, np.cross(z_axis, x_axis), z_axis])
