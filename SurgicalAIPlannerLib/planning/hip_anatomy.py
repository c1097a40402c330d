"""What THA planning needs from the landmarks, for one operated side, with every substitution stated.

Landmarks read (RAS mm; see docs/tha-planning.md):
  ASIS_left/right, pubic_tubercle_left/right                      -> pelvic (APP) frame; ASIS required, without the
                                                                     tubercles the ASIS line + CT coronal plane stands in
  femoral_head_center_<side>   extras radius_mm | head_radius_mm, neck_axis (unit vector, towards the head)
  acetabulum_center_<side>     extras radius_mm (native CoR; the head centre stands in when it is missing)
  femoral_neck_axis_<side>     a point on the neck axis; extras direction (used when the head has no neck_axis)
  femoral_shaft_axis_<side>    a point on the shaft axis; extras direction (proximal); absent when out of view
  lesser_trochanter_<side>, greater_trochanter_<side>
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..landmarks.model import LandmarkSet
from .frames import FemoralFrame, PelvicFrame, Side, other_side, unit

JOINT_SPACE_MM = 1.0  # acetabular radius = head radius + this, when the acetabulum gives no radius
APP_SOURCE = "anterior pelvic plane (ASIS + pubic tubercles)"
TABLE_SOURCE = "ASIS line + the CT's coronal plane (pelvic tilt taken as 0°)"
PUBIC_TUBERCLES = ("pubic_tubercle_left", "pubic_tubercle_right")


class AnatomyError(ValueError):
    """Landmarks the plan needs are missing or unusable; the message names them."""


@dataclass(frozen=True)
class HipAnatomy:
    side: Side
    pelvis: PelvicFrame
    femur: FemoralFrame
    native_cor: np.ndarray
    acetabulum_radius_mm: float
    lesser_trochanter: np.ndarray | None
    leg_reference: dict[str, np.ndarray]  # side -> femoral point whose height gives leg length
    leg_reference_name: str
    notes: tuple[str, ...]
    cor_source: str = "acetabulum sphere fit"
    pelvic_frame_source: str = APP_SOURCE
    cautions: tuple[str, ...] = ()  # substitutions that change what the angles mean: shown with every metrics update

    def leg_length_index(self, side: Side) -> float:
        """How far (mm) the femoral reference lies below the ASIS line, along the pelvic superior axis."""
        return float(-(self.leg_reference[side] - self.pelvis.origin) @ self.pelvis.superior)

    def native_leg_length_discrepancy(self) -> float:
        """Operated minus other side (mm); positive: the operated leg is longer."""
        return self.leg_length_index(self.side) - self.leg_length_index(other_side(self.side))


def _extra_float(landmarks: LandmarkSet, name: str, *keys: str) -> float | None:
    landmark = landmarks.landmarks.get(name)
    for key in keys:
        if landmark is not None and key in landmark.extras:
            return float(landmark.extras[key])
    return None


def _extra_vector(landmarks: LandmarkSet, name: str, key: str) -> np.ndarray | None:
    landmark = landmarks.landmarks.get(name)
    if landmark is None or key not in landmark.extras:
        return None
    return unit(np.asarray(landmark.extras[key], float))


def _required(landmarks: LandmarkSet, name: str) -> np.ndarray:
    try:
        return landmarks.position(name)
    except KeyError as error:
        raise AnatomyError(f"THA planning needs landmark {name}: {error.args[0]}") from None


def hip_anatomy_from_landmarks(landmarks: LandmarkSet, side: Side) -> HipAnatomy:
    notes: list[str] = []
    pelvis, frame_source, pelvic_cautions = _pelvic_frame(landmarks)
    cautions = list(pelvic_cautions)
    femur = _femoral_frame(landmarks, side, pelvis, notes, cautions)
    notes[:0] = cautions
    cor_name = f"acetabulum_center_{side}"
    cor_source = "acetabulum sphere fit"
    if cor_name in landmarks:
        native_cor, socket = landmarks.position(cor_name), landmarks.landmarks[cor_name]
        if socket.user_edited:
            cor_source = "acetabulum centre as placed by the user"
        elif socket.extras.get("closed_joint"):
            cor_source = "femoral head centre: the hip joint is closed on the segmentation, the socket not measured"
    else:
        native_cor, cor_source = femur.head_center, "femoral head centre"
        notes.append(f"{cor_name} missing: the femoral head centre is taken as the native centre of rotation")
    radius = _extra_float(landmarks, cor_name, "radius_mm", "acetabulum_radius_mm")
    if radius is None:
        radius = femur.head_radius + JOINT_SPACE_MM
        notes.append(f"acetabular radius not measured: head radius + {JOINT_SPACE_MM:g} mm joint space = {radius:.1f} mm")
    reference_name, references = _leg_references(landmarks, notes)
    lesser = landmarks.position(f"lesser_trochanter_{side}") if f"lesser_trochanter_{side}" in landmarks else None
    return HipAnatomy(side, pelvis, femur, native_cor, radius, lesser, references, reference_name, tuple(notes), cor_source,
                      frame_source, tuple(cautions))


def _pelvic_frame(landmarks: LandmarkSet) -> tuple[PelvicFrame, str, tuple[str, ...]]:
    """The APP frame; when a pubic tubercle is missing (often cut off by the field of view), the ASIS line with the
    pelvis level on the table stands in, and the caution says what that does to the angles."""
    asis_left, asis_right = _required(landmarks, "ASIS_left"), _required(landmarks, "ASIS_right")
    missing = [name for name in PUBIC_TUBERCLES if name not in landmarks]
    if not missing:
        return PelvicFrame.from_app(asis_left, asis_right, *(landmarks.position(n) for n in PUBIC_TUBERCLES)), APP_SOURCE, ()
    reasons = "; ".join(f"{name}: {_missing_reason(landmarks, name)}" for name in missing)
    caution = (f"pelvic frame without the anterior pelvic plane ({reasons}): {TABLE_SOURCE}; cup angles are relative "
               f"to the CT table, not to the APP: check the patient's pelvic tilt")
    return PelvicFrame.from_asis_and_scanner(asis_left, asis_right), TABLE_SOURCE, (caution,)


def _missing_reason(landmarks: LandmarkSet, name: str) -> str:
    landmark = landmarks.landmarks.get(name)
    return landmark.missing_reason if landmark is not None and landmark.missing_reason else "not detected"


def _femoral_frame(landmarks: LandmarkSet, side: Side, pelvis: PelvicFrame, notes: list[str],
                   cautions: list[str]) -> FemoralFrame:
    head_name = f"femoral_head_center_{side}"
    head = _required(landmarks, head_name)
    head_radius = _extra_float(landmarks, head_name, "radius_mm", "head_radius_mm")
    if head_radius is None:
        raise AnatomyError(f"landmark {head_name} has no head radius (extras 'radius_mm')")
    neck = _neck_direction(landmarks, side, pelvis, cautions)
    shaft_name = f"femoral_shaft_axis_{side}"
    shaft_direction = _extra_vector(landmarks, shaft_name, "direction")
    if shaft_name in landmarks and shaft_direction is not None:
        return FemoralFrame(side, head, head_radius, neck, landmarks.position(shaft_name), shaft_direction, "shaft axis landmark")
    # No shaft in view: the pelvic longitudinal axis stands in (femur taken as in neutral standing position),
    # through the trochanters' midpoint, else through the neck axis' crossing of the greater trochanter's
    # sagittal plane (the anatomical axis enters the femur just medial to the trochanter's tip).
    greater, lesser = f"greater_trochanter_{side}", f"lesser_trochanter_{side}"
    if greater in landmarks and lesser in landmarks:
        point = (landmarks.position(greater) + landmarks.position(lesser)) / 2.0
        through = "the midpoint of the greater and lesser trochanters"
    elif greater in landmarks:
        lateral = pelvis.lateral(side)
        point = head + neck * ((landmarks.position(greater) - head) @ lateral) / (neck @ lateral)
        through = "the neck axis where it crosses the greater trochanter's sagittal plane (lesser trochanter missing)"
    else:
        raise AnatomyError(f"{shaft_name} is missing and so is {greater}, needed to place a substitute shaft axis")
    notes.append(f"{side} femoral shaft outside the field of view: the pelvic longitudinal axis through {through} "
                 "is used as shaft axis (femur assumed in neutral position)")
    return FemoralFrame(side, head, head_radius, neck, point, pelvis.superior, "pelvic longitudinal axis (shaft not in view)")


def _measured_neck(landmarks: LandmarkSet, side: Side) -> np.ndarray | None:
    neck = _extra_vector(landmarks, f"femoral_head_center_{side}", "neck_axis")
    return neck if neck is not None else _extra_vector(landmarks, f"femoral_neck_axis_{side}", "direction")


def _neck_direction(landmarks: LandmarkSet, side: Side, pelvis: PelvicFrame, cautions: list[str]) -> np.ndarray:
    """The operated side's neck axis (towards the head); when it was not measured, the other side's mirrored across
    the pelvic midsagittal plane (left and right necks differ by a few degrees in version and neck-shaft angle), with
    a caution: the stem's version and the neck cut follow it."""
    neck = _measured_neck(landmarks, side)
    if neck is not None:
        return neck
    other = other_side(side)
    mirrored = _measured_neck(landmarks, other)
    reason = _missing_reason(landmarks, f"femoral_neck_axis_{side}")
    if mirrored is None:
        raise AnatomyError(f"neither femoral neck axis was measured ({side}: {reason}; {other}: "
                           f"{_missing_reason(landmarks, f'femoral_neck_axis_{other}')})")
    in_pelvis = pelvis.vector_to_frame(mirrored) * np.array([-1.0, 1.0, 1.0])
    cautions.append(f"{side} femoral neck axis not measured ({reason}): the {other} neck axis mirrored across the "
                    "pelvic midsagittal plane stands in; check the stem's version and the neck cut")
    return unit(pelvis.vector_to_ras(in_pelvis))


def _leg_references(landmarks: LandmarkSet, notes: list[str]) -> tuple[str, dict[str, np.ndarray]]:
    for kind in ("lesser_trochanter", "greater_trochanter", "femoral_head_center"):
        names = {side: f"{kind}_{side}" for side in ("left", "right")}
        if all(name in landmarks for name in names.values()):
            if kind != "lesser_trochanter":
                notes.append(f"leg length compared at the {kind.replace('_', ' ')} (lesser trochanters not both found)")
            return kind, {side: landmarks.position(name) for side, name in names.items()}
    raise AnatomyError("leg length needs a femoral landmark on both sides (lesser trochanter, greater trochanter or head centre)")
