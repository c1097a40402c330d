"""THA auto-plan: every choice with the measurement and the rule or constraint that decided it.

Rules (docs/tha-planning.md): cup at the native centre of rotation; cup = smallest catalog cup at least the
native acetabular diameter plus the reaming allowance; orientation as requested (default 40°/15°
radiographic); largest head the cup's liners take unless asked; stem as requested or the largest that fits
the measured canal; stem seated along the shaft axis in native version, at the depth that gives the wanted
leg length; head neck length chosen to bring global offset closest to native within the neck-cut limits;
neck cut = the chosen stem's resection plane.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..implants.catalog import Cup, Head, ImplantCatalog, Stem
from .cup_angles import CupOrientation, convert, cup_axis
from .hip_anatomy import HipAnatomy
from .request import PlanningRequest
from .sampling import CanalProfile
from .tha_metrics import NECK_CUT_RANGE_MM, ThaGeometry, ThaImplants, Tolerances, femoral_offset, neck_cut_height

REAMING_ALLOWANCE_MM = 2.0  # diameter added to the native acetabulum: ream to bleeding subchondral bone
DEFAULT_ORIENTATION = CupOrientation(40.0, 15.0, "radiographic")  # centre of Lewinnek's safe zone
DEFAULT_STEM_SIZE_MM = 12.0


class PlanningError(ValueError):
    """No plan satisfies the request with this catalog; the message says which constraint failed."""


@dataclass(frozen=True)
class Decision:
    """An automatic choice and why it was made (e.g. cup 54 mm: native acetabulum 51.3 mm + 2 mm reaming)."""

    key: str
    value: str
    reason: str


@dataclass(frozen=True)
class AutoPlan:
    implants: ThaImplants
    geometry: ThaGeometry
    decisions: tuple[Decision, ...]


@dataclass(frozen=True)
class _StemPlacement:
    stem: Stem
    head: Head
    stem_to_ras: np.ndarray
    head_center: np.ndarray
    global_offset_change: float
    cut_height: float | None
    cut_ok: bool


def tolerances_of(request: PlanningRequest) -> Tolerances:
    defaults = Tolerances()
    return Tolerances(request.max_leg_length_discrepancy_mm or defaults.max_leg_length_discrepancy_mm,
                      request.max_offset_change_mm or defaults.max_offset_change_mm)


def auto_plan(anatomy: HipAnatomy, catalog: ImplantCatalog, request: PlanningRequest,
              canal: CanalProfile | None = None) -> AutoPlan:
    decisions: list[Decision] = [Decision("anatomy", "substitution", note) for note in anatomy.notes]
    cup = _choose_cup(anatomy, catalog, request, decisions)
    orientation = _choose_orientation(request, decisions)
    axis = cup_axis(orientation, anatomy.pelvis, anatomy.side)
    cup_center = anatomy.native_cor.copy()
    decisions.append(Decision("cup_center", _format_point(anatomy, cup_center),
                              f"native centre of rotation ({anatomy.cor_source}), so the joint centre is not shifted"))
    liner = _choose_liner(cup, request, decisions)
    heads = [head for head in catalog.heads.values() if head.diameter_mm == liner]
    if not heads:
        raise PlanningError(f"the catalog has no {liner:g} mm head for the {cup.id} liner")
    stems = _candidate_stems(catalog, request, anatomy, canal, decisions)
    tolerances = tolerances_of(request)
    placement = _place_stem(anatomy, cup_center, stems, heads, tolerances, decisions)
    cut_center = (placement.stem_to_ras @ np.array([*placement.stem.resection_point(), 1.0]))[:3]
    cut_normal = placement.stem_to_ras[:3, :3] @ np.array(placement.stem.neck_direction)
    _describe_cut_and_reaming(anatomy, placement, cut_normal, cup, cup_center, orientation, decisions)
    geometry = ThaGeometry(cup_center, axis, placement.stem_to_ras, placement.head_center, cut_center, cut_normal)
    return AutoPlan(ThaImplants(cup, placement.head, placement.stem, liner), geometry, tuple(decisions))


def _format_point(anatomy: HipAnatomy, point: np.ndarray) -> str:
    return "RAS (" + ", ".join(f"{x:.1f}" for x in point) + ") mm"


def _choose_cup(anatomy: HipAnatomy, catalog: ImplantCatalog, request: PlanningRequest, decisions: list[Decision]) -> Cup:
    cups = sorted(catalog.cups.values(), key=lambda c: c.outer_diameter_mm)
    native = 2.0 * anatomy.acetabulum_radius_mm
    if request.cup_diameter_mm:
        matching = [c for c in cups if c.outer_diameter_mm == request.cup_diameter_mm
                    and (request.cup_fixation is None or c.fixation == request.cup_fixation)]
        if not matching:
            raise PlanningError(f"no {request.cup_diameter_mm:g} mm cup in the catalog")
        decisions.append(Decision("cup", matching[0].id, f"requested {request.cup_diameter_mm:g} mm cup "
                                  f"(native acetabulum {native:.1f} mm)"))
        return matching[0]
    # To the 0.1 mm the reason states: a 54.04 mm need read as "54.0 mm" must not pick the 56 mm cup.
    needed = round(native + REAMING_ALLOWANCE_MM, 1)
    fitting = [c for c in cups if c.outer_diameter_mm >= needed]
    if not fitting:
        raise PlanningError(f"the native acetabulum ({native:.1f} mm) needs a cup of at least {needed:.1f} mm; "
                            f"the largest in the catalog is {cups[-1].outer_diameter_mm:g} mm")
    decisions.append(Decision("cup", fitting[0].id,
                              f"native acetabular diameter {native:.1f} mm + {REAMING_ALLOWANCE_MM:g} mm reaming = "
                              f"{needed:.1f} mm; smallest catalog cup at least that: {fitting[0].outer_diameter_mm:g} mm"))
    return fitting[0]


def _choose_orientation(request: PlanningRequest, decisions: list[Decision]) -> CupOrientation:
    target = request.target_angles
    definition = target.definition
    default = convert(DEFAULT_ORIENTATION, definition)
    inclination = target.inclination_deg if target.inclination_deg is not None else default.inclination
    anteversion = target.anteversion_deg if target.anteversion_deg is not None else default.anteversion
    orientation = CupOrientation(inclination, anteversion, definition)
    asked = [name for name, value in (("inclination", target.inclination_deg), ("anteversion", target.anteversion_deg)) if value is not None]
    reason = (f"requested {' and '.join(asked)}" if asked else "default") + \
        ("; defaults are 40°/15° radiographic (centre of Lewinnek's safe zone)" if len(asked) < 2 else "")
    decisions.append(Decision("cup_orientation", f"{inclination:.1f}° / {anteversion:.1f}° ({definition}, relative to the APP)", reason))
    return orientation


def _choose_liner(cup: Cup, request: PlanningRequest, decisions: list[Decision]) -> float:
    if request.head_diameter_mm:
        if request.head_diameter_mm not in cup.liner_inner_diameters_mm:
            raise PlanningError(f"cup {cup.id} has no liner for the requested {request.head_diameter_mm:g} mm head "
                                f"(liners: {', '.join(f'{d:g}' for d in cup.liner_inner_diameters_mm)} mm)")
        decisions.append(Decision("head_diameter", f"{request.head_diameter_mm:g} mm", "requested"))
        return request.head_diameter_mm
    largest = max(cup.liner_inner_diameters_mm)
    decisions.append(Decision("head_diameter", f"{largest:g} mm", f"largest liner of cup {cup.id}: a larger head "
                              "gives more jump distance against dislocation"))
    return largest


def _candidate_stems(catalog: ImplantCatalog, request: PlanningRequest, anatomy: HipAnatomy,
                     canal: CanalProfile | None, decisions: list[Decision]) -> list[Stem]:
    stems = [s for s in catalog.stems.values() if request.stem_fixation in (None, s.fixation)]
    if request.stem_size_mm:
        sized = [s for s in stems if s.size_mm == request.stem_size_mm]
        if not sized:
            raise PlanningError(f"no {request.stem_size_mm:g} mm {request.stem_fixation or ''} stem in the catalog")
        decisions.append(Decision("stem_size", f"{request.stem_size_mm:g} mm {request.stem_fixation or ''}".strip(),
                                  "requested; family (standard or lateralised) chosen below for offset"))
        return sized
    measurable = canal is not None and not np.all(np.isnan(canal.widths_mm))
    if not measurable:
        sized = [s for s in stems if s.size_mm == DEFAULT_STEM_SIZE_MM]
        decisions.append(Decision("stem_size", f"{DEFAULT_STEM_SIZE_MM:g} mm", "canal width not measurable (shaft outside "
                                  "the field of view): middle size proposed, to confirm on a full-length femur image"))
        return sized
    # Widest stem whose every level fits the canal at its height once seated at the native head level.
    fits = [s for s in stems if _fits_canal(s, anatomy, canal)]
    if not fits:
        raise PlanningError("no catalog stem fits the measured canal")
    best = max(s.size_mm for s in fits)
    decisions.append(Decision("stem_size", f"{best:g} mm", "largest size whose widths fit the measured canal at every "
                              "measurable level (best canal fill without overfilling)"))
    return [s for s in fits if s.size_mm == best]


def _fits_canal(stem: Stem, anatomy: HipAnatomy, canal: CanalProfile) -> bool:
    femur = anatomy.femur
    origin_height = float((femur.head_center - femur.shaft_point) @ femur.shaft_direction) - stem.head_center()[2]
    widths = [canal.width_at(origin_height - level.level_mm) for level in stem.canal_widths_mm]
    return all(np.isnan(w) or level.width_mm <= w for level, w in zip(stem.canal_widths_mm, widths))


def _place_stem(anatomy: HipAnatomy, cup_center: np.ndarray, stems: list[Stem], heads: list[Head],
                tolerances: Tolerances, decisions: list[Decision]) -> _StemPlacement:
    target_leg_change = -anatomy.native_leg_length_discrepancy()
    options = [_seat(anatomy, cup_center, stem, head, target_leg_change) for stem in stems for head in heads]
    allowed = [o for o in options if o.cut_ok] or options
    best = min(allowed, key=lambda o: (abs(o.global_offset_change), abs(o.head.neck_offset_mm)))
    decisions.append(Decision("stem", best.stem.id, f"{best.stem.description}; seated along the shaft axis in native "
                              f"neck version at the depth giving a leg length change of {target_leg_change:+.1f} mm "
                              f"(native discrepancy {anatomy.native_leg_length_discrepancy():+.1f} mm, tolerance "
                              f"{tolerances.max_leg_length_discrepancy_mm:g} mm)"))
    others = ", ".join(f"{o.stem.id}/{o.head.neck_offset_mm:+g}: {o.global_offset_change:+.1f} mm" for o in options)
    reason = (f"global offset change {best.global_offset_change:+.1f} mm, the closest to native among the options "
              f"whose neck cut stays in {NECK_CUT_RANGE_MM[0]:g}-{NECK_CUT_RANGE_MM[1]:g} mm above the lesser trochanter "
              f"({others})")
    if not best.cut_ok:
        reason += "; NO option keeps the neck cut within its limits: review the stem size"
    if abs(best.global_offset_change) > tolerances.max_offset_change_mm:
        reason += f"; offset tolerance {tolerances.max_offset_change_mm:g} mm NOT met"
    decisions.append(Decision("head", f"{best.head.id} ({best.head.neck_offset_mm:+g} mm)", reason))
    return best


def _seat(anatomy: HipAnatomy, cup_center: np.ndarray, stem: Stem, head: Head, target_leg_change: float) -> _StemPlacement:
    """Stem along the shaft axis, native version, at the depth where leg length change = target."""
    femur, superior = anatomy.femur, anatomy.pelvis.superior
    rotation = femur.stem_rotation()
    head_offset = rotation @ np.array(stem.head_center(head.neck_offset_mm))
    # leg change = (origin + head_offset - cup) . superior, origin = shaft_point + s * shaft_direction
    s = (target_leg_change - (femur.shaft_point + head_offset - cup_center) @ superior) / (femur.shaft_direction @ superior)
    origin = femur.shaft_point + s * femur.shaft_direction
    stem_to_ras = np.eye(4)
    stem_to_ras[:3, :3], stem_to_ras[:3, 3] = rotation, origin
    head_center = origin + head_offset
    femoral_change = femoral_offset(anatomy, head_center) - femoral_offset(anatomy, femur.head_center)
    lateral_shift = float((cup_center - anatomy.native_cor) @ anatomy.pelvis.lateral(anatomy.side))
    cut_height, cut_ok = _cut_check(anatomy, stem, stem_to_ras, head)
    return _StemPlacement(stem, head, stem_to_ras, head_center, femoral_change + lateral_shift, cut_height, cut_ok)


def _cut_check(anatomy: HipAnatomy, stem: Stem, stem_to_ras: np.ndarray, head: Head) -> tuple[float | None, bool]:
    """Neck cut height above the lesser trochanter for this seating, and whether the cut is plausible."""
    shoulder = (stem_to_ras @ np.array([*stem.resection_point(), 1.0]))[:3]
    femur = anatomy.femur
    if float((femur.head_center - shoulder) @ femur.neck_direction) < femur.head_radius:
        return None, False  # the cut would pass through the femoral head
    if anatomy.lesser_trochanter is None:
        return None, True
    height = neck_cut_height(anatomy, shoulder, stem_to_ras[:3, :3] @ np.array(stem.neck_direction))
    return height, NECK_CUT_RANGE_MM[0] <= height <= NECK_CUT_RANGE_MM[1]


def _describe_cut_and_reaming(anatomy: HipAnatomy, placement: _StemPlacement, cut_normal: np.ndarray, cup: Cup,
                              cup_center: np.ndarray, orientation: CupOrientation, decisions: list[Decision]) -> None:
    angle = float(np.degrees(np.arccos(np.clip(abs(cut_normal @ anatomy.femur.neck_direction), 0, 1))))
    if anatomy.lesser_trochanter is not None:
        level = f"{placement.cut_height:.1f} mm above the lesser trochanter (at its medial end)"
    else:
        level = "lesser trochanter not found: cut placed by the stem alone, height given from the head centre"
    decisions.append(Decision("neck_osteotomy", level, f"the chosen stem's resection plane at its seating depth; the cut is "
                              f"perpendicular to the stem neck, {angle:.1f}° from perpendicular to the native neck axis"))
    axis = cup_axis(orientation, anatomy.pelvis, anatomy.side)
    depth = float((anatomy.native_cor - cup_center) @ axis + cup.outer_radius_mm - anatomy.acetabulum_radius_mm)
    operative = convert(orientation, "operative", anatomy.pelvis, anatomy.side)
    radiographic = convert(orientation, "radiographic", anatomy.pelvis, anatomy.side)
    decisions.append(Decision("ream_angles", f"{radiographic.inclination:.1f}° / {radiographic.anteversion:.1f}° radiographic "
                              f"= {operative.inclination:.1f}° / {operative.anteversion:.1f}° operative",
                              "ream along the cup axis, up to the cup's outer diameter"))
    decisions.append(Decision("reaming_depth", f"{depth:.1f} mm beyond the native dome",
                              f"cup radius {cup.outer_radius_mm:g} mm minus native acetabular radius "
                              f"{anatomy.acetabulum_radius_mm:.1f} mm, cup centre at the native centre"))
