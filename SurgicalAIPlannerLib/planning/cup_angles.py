"""Acetabular cup orientation after Murray (J Bone Joint Surg Br 1993;75:228-32), relative to the APP.

The cup axis is the unit vector normal to the cup's opening, pointing out of the cup. For one side it is
written in the pelvic frame as (lateral L, anterior A, inferior I) components; L and I are positive for
any normally placed cup. Three definitions (all in degrees):

radiographic  inclination = angle between the longitudinal axis and the axis projected on the coronal
              plane = atan2(L, I); anteversion = angle between the axis and the coronal plane = asin(A)
operative     inclination = angle between the axis and the sagittal plane = asin(L);
              anteversion = angle between the longitudinal axis and the axis projected on the sagittal
              plane = atan2(A, I)
anatomic      inclination = angle between the axis and the longitudinal axis = acos(I);
              anteversion = angle between the transverse axis and the axis projected on the axial
              plane = atan2(A, L)
Negative anteversion is retroversion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .frames import PelvicFrame, Side, unit

Definition = Literal["radiographic", "operative", "anatomic"]
DEFINITIONS: tuple[Definition, ...] = ("radiographic", "operative", "anatomic")


@dataclass(frozen=True)
class CupOrientation:
    inclination: float
    anteversion: float
    definition: Definition = "radiographic"


def _side_components(axis_ras: np.ndarray, frame: PelvicFrame, side: Side) -> tuple[float, float, float]:
    lateral, anterior, superior = frame.side_components(unit(axis_ras), side)
    return float(lateral), float(anterior), float(-superior)


def cup_orientation(axis_ras: np.ndarray, frame: PelvicFrame, side: Side,
                    definition: Definition = "radiographic") -> CupOrientation:
    """Inclination and anteversion of a cup whose opening points along ``axis_ras``."""
    lateral, anterior, inferior = _side_components(axis_ras, frame, side)
    anterior = float(np.clip(anterior, -1.0, 1.0))
    if definition == "radiographic":
        inclination, anteversion = np.arctan2(lateral, inferior), np.arcsin(anterior)
    elif definition == "operative":
        inclination, anteversion = np.arcsin(np.clip(lateral, -1.0, 1.0)), np.arctan2(anterior, inferior)
    elif definition == "anatomic":
        inclination, anteversion = np.arccos(np.clip(inferior, -1.0, 1.0)), np.arctan2(anterior, lateral)
    else:
        raise ValueError(f"unknown cup angle definition {definition!r}; use one of {', '.join(DEFINITIONS)}")
    return CupOrientation(float(np.degrees(inclination)), float(np.degrees(anteversion)), definition)


def cup_axis(orientation: CupOrientation, frame: PelvicFrame, side: Side) -> np.ndarray:
    """Unit cup axis (RAS) for an inclination/anteversion pair in any of the three definitions."""
    inclination, anteversion = np.radians(orientation.inclination), np.radians(orientation.anteversion)
    if orientation.definition == "radiographic":
        lateral = np.sin(inclination) * np.cos(anteversion)
        anterior = np.sin(anteversion)
        inferior = np.cos(inclination) * np.cos(anteversion)
    elif orientation.definition == "operative":
        lateral = np.sin(inclination)
        anterior = np.cos(inclination) * np.sin(anteversion)
        inferior = np.cos(inclination) * np.cos(anteversion)
    elif orientation.definition == "anatomic":
        lateral = np.sin(inclination) * np.cos(anteversion)
        anterior = np.sin(inclination) * np.sin(anteversion)
        inferior = np.cos(inclination)
    else:
        raise ValueError(f"unknown cup angle definition {orientation.definition!r}")
    return unit(frame.side_vector_to_ras(np.array([lateral, anterior, -inferior]), side))


def convert(orientation: CupOrientation, definition: Definition, frame: PelvicFrame | None = None,
            side: Side = "left") -> CupOrientation:
    """The same cup orientation expressed in another definition."""
    frame = frame or PelvicFrame.identity()
    return cup_orientation(cup_axis(orientation, frame, side), frame, side, definition)


def cup_rotation(axis_ras: np.ndarray) -> np.ndarray:
    """A rotation taking the cup's local +z (its opening axis) onto ``axis_ras``; the cup is symmetric about z."""
    z_axis = unit(axis_ras)
    helper = np.array([1.0, 0.0, 0.0]) if abs(z_axis[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    x_axis = unit(np.cross(helper, z_axis))
    return np.column_stack([x_axis, np.cross(z_axis, x_axis), z_axis])
