"""THA plan figures from the implants' positions (RAS) and the native anatomy. Pure NumPy: fast enough to rerun
on every node change.

Reduction model: after the stem is in the femur and the head is reduced into the cup, the femur has moved by
``t = cup centre - head centre`` (translation only, as in templating). Hence, with the pelvic axes of the side:
  leg length change      = -(t . superior) (positive: longer)
  CoR shift              = cup centre - native CoR, per axis (lateral, anterior, superior)
  acetabular offset chg  = CoR shift . lateral
  femoral offset         = mediolateral distance from the head centre to the femoral shaft axis
  global offset change   = acetabular + femoral offset change
  resulting LLD          = native LLD (operated - other side) + leg length change
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..implants.catalog import Cup, Head, Stem
from .cup_angles import DEFINITIONS, cup_orientation, cup_rotation
from .hip_anatomy import HipAnatomy
from .measurement import Coding, Measurement
from .sampling import CanalProfile, VolumeSampler, fibonacci_hemisphere

LOCAL_CODE_SYSTEM = "urn:surgical-planner:tha-metrics"  # documented in docs/tha-planning.md
LEWINNEK = ((30.0, 50.0), (5.0, 25.0))  # inclination, anteversion (radiographic, degrees)
CALLANAN = ((30.0, 45.0), (5.0, 25.0))
DEFAULT_MAX_LLD_MM = 5.0
DEFAULT_MAX_OFFSET_CHANGE_MM = 5.0
MAX_COR_SHIFT_MM = 5.0
MIN_COVERAGE_PERCENT = 70.0
NECK_CUT_RANGE_MM = (5.0, 25.0)  # above the lesser trochanter
MAX_SHOULDER_TO_CUT_MM = 2.0
COVERAGE_POINTS = fibonacci_hemisphere(600)


@dataclass(frozen=True)
class ThaGeometry:
    """Where the implants are, in RAS mm. ``stem_to_ras`` maps stem coordinates (see ``Stem``) to RAS."""

    cup_center: np.ndarray
    cup_axis: np.ndarray
    stem_to_ras: np.ndarray
    head_center: np.ndarray
    cut_center: np.ndarray
    cut_normal: np.ndarray


@dataclass(frozen=True)
class ThaImplants:
    cup: Cup
    head: Head
    stem: Stem
    liner_inner_diameter_mm: float


@dataclass(frozen=True)
class Tolerances:
    max_leg_length_discrepancy_mm: float = DEFAULT_MAX_LLD_MM
    max_offset_change_mm: float = DEFAULT_MAX_OFFSET_CHANGE_MM


def _code(key: str, display: str) -> Coding:
    return Coding(LOCAL_CODE_SYSTEM, key, display)


def _measure(key: str, label: str, value: float, unit: str, side: str, target: str = "", status: str = "info",
             note: str = "") -> Measurement:
    return Measurement(key, label, float(value), unit, target, status, side, _code(key, label), note)


def _within(value: float, low: float, high: float) -> bool:
    return low <= value <= high


def compute_metrics(anatomy: HipAnatomy, geometry: ThaGeometry, implants: ThaImplants, tolerances: Tolerances,
                    bone: VolumeSampler | None = None, canal: CanalProfile | None = None) -> list[Measurement]:
    side = anatomy.side
    return [
        *_cup_metrics(anatomy, geometry, side),
        *_coverage(anatomy, geometry, implants, bone, side),
        *_center_and_length(anatomy, geometry, tolerances, side),
        *_neck_cut(anatomy, geometry, implants, side),
        *_canal_fill(anatomy, geometry, implants, canal, side),
        _measure("reaming_depth", "Reaming beyond the native acetabular dome", _reaming_depth(anatomy, geometry, implants),
                 "mm", side, note="positive: deeper (more medial along the cup axis) than the native dome"),
    ]


def _cup_metrics(anatomy: HipAnatomy, geometry: ThaGeometry, side: str) -> list[Measurement]:
    orientations = {d: cup_orientation(geometry.cup_axis, anatomy.pelvis, side, d) for d in DEFINITIONS}
    radiographic = orientations["radiographic"]
    (inc_low, inc_high), (ant_low, ant_high) = LEWINNEK
    in_lewinnek = _within(radiographic.inclination, inc_low, inc_high) and _within(radiographic.anteversion, ant_low, ant_high)
    (c_inc_low, c_inc_high), (c_ant_low, c_ant_high) = CALLANAN
    in_callanan = _within(radiographic.inclination, c_inc_low, c_inc_high) and _within(radiographic.anteversion, c_ant_low, c_ant_high)
    metrics = [
        _measure("cup_inclination", "Cup inclination (radiographic, APP)", radiographic.inclination, "deg", side, "40 ± 10",
                 "ok" if _within(radiographic.inclination, inc_low, inc_high) else "warning"),
        _measure("cup_anteversion", "Cup anteversion (radiographic, APP)", radiographic.anteversion, "deg", side, "15 ± 10",
                 "ok" if _within(radiographic.anteversion, ant_low, ant_high) else "warning"),
    ]
    for definition in ("operative", "anatomic"):
        orientation = orientations[definition]
        metrics += [_measure(f"cup_inclination_{definition}", f"Cup inclination ({definition}, APP)", orientation.inclination, "deg", side),
                    _measure(f"cup_anteversion_{definition}", f"Cup anteversion ({definition}, APP)", orientation.anteversion, "deg", side)]
    metrics += [
        _measure("lewinnek_safe_zone", "Cup in Lewinnek safe zone (40±10 / 15±10)", float(in_lewinnek), "1", side, "1",
                 "ok" if in_lewinnek else "warning", "1 = inside, 0 = outside"),
        _measure("callanan_safe_zone", "Cup in Callanan zone (30-45 / 5-25)", float(in_callanan), "1", side, "1",
                 "ok" if in_callanan else "warning", "1 = inside, 0 = outside"),
    ]
    return metrics


def _coverage(anatomy: HipAnatomy, geometry: ThaGeometry, implants: ThaImplants, bone: VolumeSampler | None,
              side: str) -> list[Measurement]:
    if bone is None:
        return [_measure("cup_coverage", "Cup coverage by bone", float("nan"), "%", side, note="no hip bone segmentation")]
    points = geometry.cup_center + implants.cup.outer_radius_mm * COVERAGE_POINTS @ cup_rotation(geometry.cup_axis).T
    covered = 100.0 * float(np.count_nonzero(bone.nearest(points))) / len(points)
    status = "ok" if covered >= MIN_COVERAGE_PERCENT else "warning"
    return [_measure("cup_coverage", "Cup coverage by bone", covered, "%", side, f">= {MIN_COVERAGE_PERCENT:g}", status,
                     "share of the outer dome lying in the pre-operative hip bone segmentation")]


def _center_and_length(anatomy: HipAnatomy, geometry: ThaGeometry, tolerances: Tolerances, side: str) -> list[Measurement]:
    pelvis = anatomy.pelvis
    shift = pelvis.side_components(geometry.cup_center - anatomy.native_cor, side)
    leg_change = float((geometry.head_center - geometry.cup_center) @ pelvis.superior)
    lld = anatomy.native_leg_length_discrepancy() + leg_change
    femoral_change = femoral_offset(anatomy, geometry.head_center) - femoral_offset(anatomy, anatomy.femur.head_center)
    global_change = shift[0] + femoral_change
    max_lld, max_offset = tolerances.max_leg_length_discrepancy_mm, tolerances.max_offset_change_mm
    metrics = [
        _measure(f"cor_shift_{axis}", f"Centre of rotation shift, {axis} (+)", value, "mm", side, f"|x| <= {MAX_COR_SHIFT_MM:g}",
                 "ok" if abs(value) <= MAX_COR_SHIFT_MM else "warning")
        for axis, value in zip(("lateral", "anterior", "superior"), shift)
    ]
    metrics += [
        _measure("leg_length_change", "Leg length change (+ longer)", leg_change, "mm", side),
        _measure("leg_length_discrepancy", "Resulting leg length discrepancy (operated - other)", lld, "mm", side,
                 f"|x| <= {max_lld:g}", "ok" if abs(lld) <= max_lld else "violation",
                 f"native {anatomy.native_leg_length_discrepancy():+.1f} mm, at the {anatomy.leg_reference_name.replace('_', ' ')}"),
        _measure("femoral_offset_change", "Femoral offset change (+ more)", femoral_change, "mm", side),
        _measure("acetabular_offset_change", "Acetabular offset change (+ lateral)", shift[0], "mm", side),
        _measure("global_offset_change", "Global offset change (+ more)", global_change, "mm", side, f"|x| <= {max_offset:g}",
                 "ok" if abs(global_change) <= max_offset else "violation"),
    ]
    return metrics


def femoral_offset(anatomy: HipAnatomy, head_center: np.ndarray) -> float:
    axis_point = anatomy.femur.axis_point_near(head_center)
    return float((axis_point - head_center) @ anatomy.pelvis.lateral(anatomy.side))


def neck_cut_height(anatomy: HipAnatomy, cut_center: np.ndarray, cut_normal: np.ndarray) -> float:
    """Distance along the shaft axis from the lesser trochanter (else the head centre) up to the cut plane:
    where a line through that landmark, parallel to the shaft, meets the plane (the cut's medial end)."""
    femur = anatomy.femur
    reference = anatomy.lesser_trochanter if anatomy.lesser_trochanter is not None else femur.head_center
    along = float(femur.shaft_direction @ cut_normal)
    return float((cut_center - reference) @ cut_normal / along) if abs(along) > 1e-6 else float("nan")


def _neck_cut(anatomy: HipAnatomy, geometry: ThaGeometry, implants: ThaImplants, side: str) -> list[Measurement]:
    femur, normal = anatomy.femur, geometry.cut_normal
    height = neck_cut_height(anatomy, geometry.cut_center, normal)
    neck_angle = float(np.degrees(np.arccos(np.clip(abs(normal @ femur.neck_direction), 0.0, 1.0))))
    shoulder = geometry.stem_to_ras @ np.array([*implants.stem.resection_point(), 1.0])
    shoulder_gap = float((shoulder[:3] - geometry.cut_center) @ normal)
    if anatomy.lesser_trochanter is not None:
        low, high = NECK_CUT_RANGE_MM
        height_metric = _measure("neck_cut_height", "Neck cut height above the lesser trochanter", height, "mm", side,
                                 f"{low:g}-{high:g}", "ok" if low <= height <= high else "warning",
                                 "along the shaft axis, from the lesser trochanter to the cut plane")
    else:
        height_metric = _measure("neck_cut_height", "Neck cut height relative to the head centre", height, "mm", side,
                                 note="lesser trochanter not found: measured from the femoral head centre (negative = below)")
    return [
        height_metric,
        _measure("neck_cut_angle_to_neck_axis", "Angle between the neck cut plane's normal and the neck axis", neck_angle, "deg", side,
                 note="0 = cut perpendicular to the native neck axis"),
        _measure("stem_shoulder_to_cut", "Stem shoulder above the neck cut", shoulder_gap, "mm", side,
                 f"|x| <= {MAX_SHOULDER_TO_CUT_MM:g}", "ok" if abs(shoulder_gap) <= MAX_SHOULDER_TO_CUT_MM else "warning"),
    ]


def _canal_fill(anatomy: HipAnatomy, geometry: ThaGeometry, implants: ThaImplants, canal: CanalProfile | None,
                side: str) -> list[Measurement]:
    femur, metrics = anatomy.femur, []
    for level in implants.stem.canal_widths_mm:
        point = (geometry.stem_to_ras @ np.array([0.0, 0.0, -level.level_mm, 1.0]))[:3]
        height = float((point - femur.shaft_point) @ femur.shaft_direction)
        canal_width = canal.width_at(height) if canal is not None else float("nan")
        key, label = f"canal_fill_{level.level_mm:g}mm", f"Canal fill {level.level_mm:g} mm below the stem origin"
        if np.isnan(canal_width):
            metrics.append(_measure(key, label, float("nan"), "%", side,
                                    note="canal not measurable at this level (outside the field of view or no CT)"))
            continue
        fill = 100.0 * level.width_mm / canal_width
        status = "violation" if fill > 100.0 else "ok"
        metrics.append(_measure(key, label, fill, "%", side, "<= 100", status,
                                f"stem {level.width_mm:g} mm in a {canal_width:.1f} mm canal"))
    return metrics


def _reaming_depth(anatomy: HipAnatomy, geometry: ThaGeometry, implants: ThaImplants) -> float:
    """How far the reamed dome lies beyond the native one, along the cup axis (pole to pole)."""
    axis = geometry.cup_axis
    return float((anatomy.native_cor - geometry.cup_center) @ axis + implants.cup.outer_radius_mm - anatomy.acetabulum_radius_mm)


def warnings_of(metrics: list[Measurement], implants: ThaImplants) -> list[str]:
    """Human-readable warnings for every figure out of its target, plus implant mismatches."""
    warnings = [f"{m.label}: {m.value:.1f} {m.unit} (target {m.target})" for m in metrics if m.status in ("warning", "violation")]
    if implants.head.diameter_mm != implants.liner_inner_diameter_mm:
        warnings.append(f"head {implants.head.id} ({implants.head.diameter_mm:g} mm) does not match the liner "
                        f"({implants.liner_inner_diameter_mm:g} mm)")
    if implants.liner_inner_diameter_mm not in implants.cup.liner_inner_diameters_mm:
        warnings.append(f"cup {implants.cup.id} has no {implants.liner_inner_diameter_mm:g} mm liner")
    return warnings
