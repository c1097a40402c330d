"""Landmark definitions on bone surfaces (RAS mm). One definition per landmark, used for detection and truth.

Directions: the scan's RAS axes seed every search (supine patient, within about 15 degrees), the pelvis is
then re-expressed in its own anterior pelvic plane (APP) frame by iteration. Medial is towards the midline:
RAS +x for the left side, -x for the right. See docs/landmarks.md for each definition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from scipy import optimize

from ..ct_anatomy.head_edges import SphereOnCt
from ..geometry.spheres import fit_sphere_trimmed
from ..planning.cup_angles import cup_orientation
from ..planning.frames import PelvicFrame, unit
from .acetabular_rim import rim_normal
from .model import Landmark, LandmarkSet
from .surfaces import Surface, area_weights

SIDES = ("left", "right")
SUPERIOR = np.array([0.0, 0.0, 1.0])
ANTERIOR = np.array([0.0, 1.0, 0.0])
HEAD_RADIUS_RANGE_MM = (15.0, 35.0)
# Depth scale (mm) of the weighted surface patch whose centroid is an "extreme point" (see extreme_patch).
TIP_SCALE_MM = 2.5
TIP_WINDOW = 3.0  # points deeper than TIP_WINDOW * TIP_SCALE_MM weigh < 5 %: left out
Progress = Callable[[str], None]
# (side, label sphere centre, radius) -> the head sphere on the CT, or why the CT gave none (ct_anatomy/head_edges.py).
HeadRefiner = Callable[[str, np.ndarray, float], SphereOnCt | str]
# Confidence factor of a label-only head sphere when the CT could not confirm it.
UNREFINED_CONFIDENCE = 0.7
# The plateau's medial/lateral tips (widest point of the tibial condyles) lie 13-24 mm below the tip of the
# intercondylar eminence on the STAPLE tibias. A 15 mm region cut through them, so the tips followed the cut, which
# hangs off that narrow spike (3 mm lower at 3 mm voxels): 7.6 mm at 3 mm. 30 mm leaves them inside the region.
PLATEAU_DEPTH_MM = 30.0


def medial_of(side: str) -> np.ndarray:
    return np.array([1.0 if side == "left" else -1.0, 0.0, 0.0])


class _Builder:
    """Collects landmarks; every one carries its method, a confidence, or the reason it is missing."""

    def __init__(self, method_prefix: str) -> None:
        self.result = LandmarkSet()
        self.prefix = method_prefix

    def found(self, name: str, position: np.ndarray, method: str, confidence: float, prefixed: bool = True,
              **extras: object) -> None:
        self.result.add(Landmark(name, np.asarray(position, dtype=float), float(np.clip(confidence, 0.0, 1.0)),
                                 f"{self.prefix}{method}" if prefixed else method, extras=dict(extras)))

    def missing(self, name: str, reason: str) -> None:
        self.result.add(Landmark(name, None, 0.0, self.prefix.rstrip(": "), missing_reason=reason))

    def missing_all(self, names: list[str], reason: str) -> None:
        for name in names:
            self.missing(name, reason)


def compute_landmarks(surfaces: Mapping[str, Surface], method_prefix: str = "", progress: Progress | None = None,
                      head_refiner: HeadRefiner | None = None) -> LandmarkSet:
    """All hip, knee and ankle landmarks that ``surfaces`` (bone name -> surface) allow; the rest marked missing.
    ``head_refiner`` (detection on a CT) moves each femoral head sphere onto the CT's edges; without it (mesh
    truth) the surface sphere stands."""
    report = progress or (lambda message: None)
    out = _Builder(method_prefix)
    for side in SIDES:
        report(f"hip, {side}")
        _hip_side(surfaces, side, out, head_refiner)
    report("anterior pelvic plane")
    _pelvic_plane(surfaces, out)
    for side in SIDES:
        report(f"knee and ankle, {side}")
        _knee(surfaces, side, out)
        _ankle(surfaces, side, out)
    return out.result


# ---------------------------------------------------------------- hip
def _hip_side(surfaces: Mapping[str, Surface], side: str, out: _Builder, head_refiner: HeadRefiner | None) -> None:
    femur = surfaces.get(f"femur_{side}")
    femoral = [f"femoral_head_center_{side}", f"femoral_neck_axis_{side}", f"femoral_shaft_axis_{side}",
               f"greater_trochanter_{side}", f"lesser_trochanter_{side}", f"acetabulum_center_{side}"]
    if femur is None:
        out.missing_all(femoral, f"femur_{side} is not in the segmentation (outside the field of view or not segmented)")
        return
    head = _femoral_head(femur, side)
    if head is None:
        out.missing_all(femoral, f"no spherical femoral head found on femur_{side} (cut by the field of view?)")
        return
    centre, radius, residual, count = head
    method, confidence, prefixed = "sphere fit of the femoral head surface", 1.0 - residual / 2.0, True
    extras: dict[str, object] = {}
    if head_refiner is not None:
        refined = head_refiner(side, centre, radius)
        if isinstance(refined, SphereOnCt):
            extras["label_sphere_center"], extras["label_sphere_radius_mm"] = centre, radius
            centre, radius, residual, count = refined.centre, refined.radius, refined.rms_mm, refined.edges
            method, prefixed = "CT: sphere fit of the head's edges against soft tissue, seeded by the label surface", False
            confidence = 1.0 - residual / 4.0  # edges on a 3 mm CT scatter about twice as much as a surface
        else:
            method += f" (CT refinement not used: {refined})"
            confidence *= UNREFINED_CONFIDENCE
    neck = _neck_axis(femur, centre, radius, side)
    extras.update(radius_mm=radius, fit_rms_mm=residual, points=count)
    if not isinstance(neck, str):
        extras["neck_axis"] = neck[1]
    out.found(f"femoral_head_center_{side}", centre, method, confidence, prefixed, **extras)
    if isinstance(neck, str):
        out.missing(f"femoral_neck_axis_{side}", neck)
    else:
        # A ring partly cut by the field of view gives a less certain axis: confidence says so.
        out.found(f"femoral_neck_axis_{side}", neck[0], "axis of the cone (apex at the head centre) on which the "
                  "neck's surface just beyond the head lies", 0.9 * (1.0 - neck[2]), direction=neck[1],
                  edge_fraction=neck[2])
    _shaft_axis(femur, centre, side, out)
    _trochanters(femur, centre, side, out)
    # The socket wraps the femur label's head: a segmentation that split femur from hip bone inside the head leaves a
    # socket as small as its label sphere, which the CT head may exceed by 3-4 mm.
    smallest_head = min(radius, extras.get("label_sphere_radius_mm", radius))
    _acetabulum(surfaces.get(f"hip_{side}"), centre, radius, smallest_head, side, out)


def _femoral_head(femur: Surface, side: str):
    """Trimmed sphere fit seeded at the most proximal-medial femur point, then refitted around its centre."""
    height = femur.points @ SUPERIOR
    if femur.at_edge[height > height.max() - 30.0].any():
        return None  # the top of the femur is a field-of-view cut: the head is not (wholly) in view
    points = femur.real()
    seed = points[np.argmax(points @ (SUPERIOR + 0.5 * medial_of(side)))]
    fit = fit_sphere_trimmed(points, seed, reach_mm=35.0)
    if fit is not None:
        fit = fit_sphere_trimmed(points, fit[0], reach_mm=fit[1] + 6.0)
    if fit is None or not HEAD_RADIUS_RANGE_MM[0] <= fit[1] <= HEAD_RADIUS_RANGE_MM[1]:
        return None
    return fit


# In a cut field of view the neck leaves the head laterally and distally (neck-shaft angle ~125-135 degrees):
# the search cone starts there and is then re-centred on the measured neck.
NECK_SEARCH_HALF_ANGLE_DEG = (55.0, 35.0)
NECK_RING_MM = (3.0, 11.0)  # beyond the head radius: the head-neck junction, before the trochanters
NECK_MAX_EDGE_FRACTION = 0.35
# The cone fit weighs a point's misfit linearly beyond this (degrees): bits of another bone in the femur's label.
NECK_CONE_SCALE_DEG = 3.0
# The neck leaves the head laterally and downwards; a fitted axis farther than this from that (lateral, 39 degrees
# down) ran along something else (a socket's rim left in the femur's label put one 69 degrees off, pointing up).
NECK_MAX_TURN_DEG = 60.0


def _neck_axis(femur: Surface, centre: np.ndarray, radius: float,
               side: str) -> tuple[np.ndarray, np.ndarray, float] | str:
    """Neck axis: seen from the head centre, the neck's surface just beyond the head (R+3..R+11 mm) lies on a cone
    around the axis; the axis is that cone's, fitted with its apex at the head centre. A field of view that cuts the
    neck's lower half (a CT that stops under the heads) leaves an arc, which still fixes the cone; the centroid of the
    ring, used before, moved with the cut (8-9 degrees mean, up to 22, on phantoms cut 30 mm under the heads; now 1).

    Returns (point on the axis in the ring, unit axis towards the head, fraction of the ring on a field-of-view cut),
    or why there is none. The fit starts from the ring's centroid: the full ring R+4..R+14 mm when wholly in view,
    else a ring searched in a cone around the neck, refused when the cut takes too much of it."""
    offset = femur.points - centre
    distance = np.linalg.norm(offset, axis=1)
    full_ring = (distance > radius + 4.0) & (distance < radius + 14.0)
    in_ring = (distance > radius + NECK_RING_MM[0]) & (distance < radius + NECK_RING_MM[1])
    if full_ring.sum() >= 20 and not femur.at_edge[full_ring].any():
        outwards, edge_fraction = unit(femur.points[full_ring].mean(axis=0) - centre), 0.0
    else:
        start = _cut_neck_direction(femur, offset, distance, in_ring, side)
        if start is None:
            return "too little neck surface around the head"
        outwards, edge_fraction = start
    in_view = in_ring & ~femur.at_edge
    seen = offset[in_view] / distance[in_view, None]
    axis = _cone_axis(seen[seen @ outwards > np.cos(np.radians(NECK_SEARCH_HALF_ANGLE_DEG[0]))], outwards)
    if axis is None:
        return "too little neck surface around the head"
    if np.degrees(np.arccos(np.clip(axis @ _usual_neck(side), -1.0, 1.0))) > NECK_MAX_TURN_DEG:
        return "implausible: the neck surface around the head does not run laterally and downwards from it"
    return centre + axis * (radius + np.mean(NECK_RING_MM)), -axis, edge_fraction


def _usual_neck(side: str) -> np.ndarray:
    """Head -> neck direction of a usual hip in a scan: lateral and 39 degrees down (neck-shaft angle ~130)."""
    return unit(-medial_of(side) - 0.8 * SUPERIOR)


def _cut_neck_direction(femur: Surface, offset: np.ndarray, distance: np.ndarray, in_ring: np.ndarray,
                        side: str) -> tuple[np.ndarray, float] | None:
    """(head -> neck direction, share of the ring on a cut) from the centroid of the part of ``in_ring`` (the
    NECK_RING_MM shell) in a cone around the neck, for a field of view that cuts the full ring; None when the cut
    takes too much of it."""
    direction = _usual_neck(side)  # before measuring
    for half_angle in NECK_SEARCH_HALF_ANGLE_DEG:
        cosine = (offset @ direction) / np.maximum(distance, 1e-9)
        ring = in_ring & (cosine > np.cos(np.radians(half_angle)))
        if ring.sum() < 20 or femur.at_edge[ring].mean() > NECK_MAX_EDGE_FRACTION:
            return None
        edge_fraction = float(femur.at_edge[ring].mean())
        direction = unit(offset[ring & ~femur.at_edge].mean(axis=0))
    return direction, edge_fraction


def _cone_axis(directions: np.ndarray, start: np.ndarray) -> np.ndarray | None:
    """Axis (unit) of the circular cone, apex at the origin, that ``directions`` (unit vectors) lie on, from ``start``:
    robust least squares of each direction's angle to the axis minus the cone's half-angle."""
    if len(directions) < 20:
        return None
    side_a = unit(np.cross(start, [1.0, 0.0, 0.0] if abs(start[0]) < 0.9 else [0.0, 1.0, 0.0]))
    side_b = np.cross(start, side_a)

    def axis_of(turn: np.ndarray) -> np.ndarray:
        return unit(start + turn[0] * side_a + turn[1] * side_b)

    def misfit(parameters: np.ndarray) -> np.ndarray:
        angles = np.degrees(np.arccos(np.clip(directions @ axis_of(parameters[:2]), -1.0, 1.0)))
        return angles - parameters[2]

    half_angle = float(np.degrees(np.arccos(np.clip(directions @ start, -1.0, 1.0))).mean())
    fitted = optimize.least_squares(misfit, [0.0, 0.0, half_angle], loss="soft_l1", f_scale=NECK_CONE_SCALE_DEG).x
    return axis_of(fitted[:2])


def _shaft_axis(femur: Surface, head: np.ndarray, side: str, out: _Builder) -> None:
    """Line through the centroids of six 10 mm slabs of the shaft, 80-140 mm below the head centre."""
    name = f"femoral_shaft_axis_{side}"
    depth = (head - femur.points) @ SUPERIOR
    centres = []
    for top in np.arange(80.0, 140.0, 10.0):
        slab = (depth >= top) & (depth < top + 10.0)
        if slab.sum() < 20 or femur.at_edge[slab].any():
            break
        centres.append(femur.points[slab].mean(axis=0))
    if len(centres) < 6:
        out.missing(name, "the femoral shaft 80-140 mm below the head centre is outside the field of view")
        return
    centres = np.array(centres)
    direction = np.linalg.svd(centres - centres.mean(axis=0))[2][0]
    direction = direction if direction @ SUPERIOR > 0 else -direction
    out.found(name, centres.mean(axis=0), "line through the centroids of six shaft slabs", 1.0,
              direction=direction, length_mm=10.0 * len(centres))


def _trochanters(femur: Surface, head: np.ndarray, side: str, out: _Builder) -> None:
    lateral = -medial_of(side)
    offset = femur.points - head
    greater = offset @ lateral > 30.0
    _extreme(out, f"greater_trochanter_{side}", femur, greater, SUPERIOR,
             "most superior point lateral to the head centre by > 30 mm")
    height = offset @ SUPERIOR
    band = (height < -30.0) & (height > -75.0)
    # A cut within 10 mm below the band could clip the tip; a cut farther down (a hip CT) leaves it whole.
    if femur.at_edge[(height < -30.0) & (height > -85.0)].any() or not np.any(height < -85.0):
        out.missing(f"lesser_trochanter_{side}", "the femur is cut by the field of view above the lesser trochanter")
        return
    _extreme(out, f"lesser_trochanter_{side}", femur, band, unit(medial_of(side) - ANTERIOR),
             "most posteromedial point 30-75 mm below the head centre")


def _extreme(out: _Builder, name: str, surface: Surface, where: np.ndarray, direction: np.ndarray, method: str,
             confidence: float = 1.0, **extras: object) -> np.ndarray | None:
    """The tip of ``surface`` within ``where`` along ``direction``; missing if that tip is a field-of-view cut."""
    if not where.any():
        out.missing(name, "no bone surface where this landmark is searched (outside the field of view)")
        return None
    tip, touches_edge = extreme_patch(surface.points[where], surface.at_edge[where], direction)
    if touches_edge:
        out.missing(name, "the bone continues beyond the field of view where this landmark lies")
        return None
    out.found(name, tip, method, confidence, **extras)
    return tip


def extreme_patch(points: np.ndarray, at_edge: np.ndarray, direction: np.ndarray,
                  area_weighted: bool = False) -> tuple[np.ndarray, bool]:
    """Soft tip of ``points`` along ``direction``: centroid weighted by exp(-depth / TIP_SCALE_MM) below the farthest
    point, and whether the surface within TIP_SCALE_MM of that point touches a cut. A single vertex (or a hard
    depth cut-off) jumps between two nearly tied prominences or slides along flat bone; the weighted centroid
    moves continuously with the surface, so a coarse surface and a mesh give nearly the same tip.
    ``area_weighted``: each point also weighs by the surface area it stands for, so that on a broad flat tip the
    centroid does not follow where the surface happens to be sampled densely (see _medial_lateral_tips)."""
    depth = (points @ direction).max() - points @ direction
    near = depth < TIP_WINDOW * TIP_SCALE_MM
    weights = np.exp(-depth[near] / TIP_SCALE_MM)
    if area_weighted:
        around = depth < (TIP_WINDOW + 3.0) * TIP_SCALE_MM  # every point within the area weights' reach of ``near``
        weights *= area_weights(points[near], points[around], TIP_SCALE_MM)
    tip = np.average(points[near], axis=0, weights=weights)
    return tip, bool(at_edge[depth < TIP_SCALE_MM].any())


# The socket lies a joint space (two cartilage layers, 3-6 mm on the phantoms' meshes) beyond the head. A hip label
# whose surface hugs the head's sphere over more than this share of the socket's reach has no socket surface of its
# own: the joint is closed on this segmentation (a 3 mm CT fuses a 3 mm joint; TotalSegmentator's labels of the
# sample do too). Measured share: 0.28-0.48 on those, 0.00-0.20 where the fit is good (phantoms, 3 mm).
CLOSED_JOINT_SHARE = 0.25
HUGS_HEAD_MM = 1.0  # a hip point this close to the head's sphere (or inside it) hugs the head
# The socket is nearly concentric with the head (centres 1.2-2.3 mm apart on the meshes), but it is not measured.
CLOSED_JOINT_CONFIDENCE = 0.5


def _acetabulum(hip: Surface | None, head: np.ndarray, head_radius: float, smallest_head: float, side: str,
                out: _Builder) -> None:
    """Acetabulum centre: a sphere fit of the socket's surface. Where the hip label closes onto the head the socket
    has no surface to fit; the head centre stands in, said so, without a socket radius (a fit there mixed head and
    socket points and slid 3-7 mm medially). Points hugging the head are not left out of a fit: the meshes' sockets
    come that close in places (TLEM2), and the truth moved 0.3-1.2 mm without them."""
    name = f"acetabulum_center_{side}"
    if hip is None:
        out.missing(name, f"hip_{side} is not in the segmentation")
        return
    points = hip.real()
    distance = np.linalg.norm(points - head, axis=1)
    within_reach = distance[distance < head_radius + 8.0]
    on_head = within_reach < smallest_head + HUGS_HEAD_MM
    if len(within_reach) and on_head.mean() > CLOSED_JOINT_SHARE:
        out.found(name, head, f"femoral head centre: hip_{side} closes onto the head ({on_head.mean():.0%} of the "
                  "socket's surface on the head's sphere), so the socket has no surface of its own to fit; its radius "
                  "and opening (native inclination/anteversion) are not measured", CLOSED_JOINT_CONFIDENCE,
                  closed_joint=True)
        return
    fit = fit_sphere_trimmed(points, head, reach_mm=head_radius + 8.0)
    if fit is None or not smallest_head - 1.0 <= fit[1] <= head_radius + 8.0:
        out.missing(name, f"no spherical acetabular surface found on hip_{side} around the femoral head")
        return
    centre, radius, residual, count = fit
    out.found(name, centre, "sphere fit of the acetabular surface around the femoral head", 1.0 - residual / 2.0,
              radius_mm=radius, fit_rms_mm=residual, points=count, rim_normal=rim_normal(points, centre, radius))


# ---------------------------------------------------------------- pelvis (APP)
# The APP normal may tilt this far from the anchor frame's anterior (pelvic tilt + scan pose); a larger tilt
# means the iteration has left the anterior surface (it once landed on the pubis or the back of the pelvis).
APP_MAX_TILT_DEG = 35.0


def _pelvic_plane(surfaces: Mapping[str, Surface], out: _Builder) -> None:
    names = ["ASIS_left", "ASIS_right", "pubic_tubercle_left", "pubic_tubercle_right"]
    hips = {side: surfaces.get(f"hip_{side}") for side in SIDES}
    if any(surface is None for surface in hips.values()):
        out.missing_all(names, "both hip bones are needed for the anterior pelvic plane")
        return
    centres = _hip_centres(out.result, hips)
    if centres is None:
        out.missing_all(names, "no hip joint centre (femoral head or acetabulum) in view and the hip bones are cut by "
                               "the field of view: nothing to anchor the anterior pelvic plane on")
        return
    regions, anchor_anterior = _app_regions(hips, centres)
    anterior, frame, converged = anchor_anterior, None, False
    if all(region.any() for region in regions.values()):  # else the empty ones are reported missing below
        anterior, frame, converged = _iterate_app(hips, regions, anchor_anterior)
    for name, region in regions.items():
        _extreme(out, name, hips[_side(name)], region, anterior,
                 "most anterior point in the APP frame (iterated tangent plane, anchored on the hip centres)",
                 app_converged=converged)
    if frame is not None:
        _acetabular_angles(out.result, frame)


def _iterate_app(hips: Mapping[str, Surface], regions: Mapping[str, np.ndarray],
                 anchor_anterior: np.ndarray) -> tuple[np.ndarray, PelvicFrame | None, bool]:
    """(anterior axis, APP frame or None, converged): the plane tangent to the four tips, re-found until it settles."""
    anterior, tips, frame = anchor_anterior, {}, None
    for _ in range(12):
        previous = tips
        tips = {name: extreme_patch(hips[_side(name)].points[region], hips[_side(name)].at_edge[region], anterior)[0]
                for name, region in regions.items()}
        candidate = PelvicFrame.from_app(tips["ASIS_left"], tips["ASIS_right"],
                                         tips["pubic_tubercle_left"], tips["pubic_tubercle_right"])
        if candidate.anterior @ anchor_anterior < np.cos(np.radians(APP_MAX_TILT_DEG)):
            break  # keep the last plane that stayed on the anterior surface
        anterior, frame = candidate.anterior, candidate
        if previous and max(np.linalg.norm(tips[name] - previous[name]) for name in tips) < 0.05:
            return anterior, frame, True
    return anterior, frame, False


def _side(name: str) -> str:
    return name.rsplit("_", 1)[1]


def _app_regions(hips: Mapping[str, Surface], centres: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Search regions of the APP points, fixed once in a frame anchored on the two hip centres (robust sphere
    fits), so the iteration cannot move a region onto another prominence; and that frame's anterior axis.
    ASIS: > 10 mm above the hip centre. Pubic tubercle: > 10 mm below it and in the medial half between it and
    the midline."""
    right = unit(centres["right"] - centres["left"])
    anterior = unit(ANTERIOR - (ANTERIOR @ right) * right)
    superior = np.cross(right, anterior)
    half_width = 0.5 * float(np.linalg.norm(centres["right"] - centres["left"]))
    regions = {}
    for side, hip in hips.items():
        offset = hip.points - centres[side]
        height, medial = offset @ superior, offset @ (right if side == "left" else -right)
        regions[f"ASIS_{side}"] = height > 10.0
        regions[f"pubic_tubercle_{side}"] = (height < -10.0) & (medial > 0.5 * half_width)
    return regions, anterior


def _hip_centres(landmarks: LandmarkSet, hips: Mapping[str, Surface]) -> dict[str, np.ndarray] | None:
    """Each side's hip centre: its acetabulum centre, else femoral head centre. A side with neither (no femur in
    the segmentation) gets its socket's centre, found from the other side's; with neither side known, the hip
    bones' centroids (level only), if the whole of both is in view, else None. A centroid alone on one side lies
    ~40 mm above its socket and moves with the surface's point density: it tilted the anchor frame and put the
    ASIS region's lower bound across the ASIS tip (4.7 mm error at 3 mm on a one-legged dataset). The centroid of
    a cut hip bone (a lumbar CT that stops above the hip joints) is no anchor at all: the "ASIS" above it was the
    iliac wing, 44-47 mm from the ASIS found with the whole pelvis in view."""
    known = {side: _known_hip_sphere(landmarks, side) for side in SIDES}
    if all(sphere is None for sphere in known.values()) and any(hip.cut_by_field_of_view for hip in hips.values()):
        return None
    centres = {}
    for side, other in zip(SIDES, SIDES[::-1]):
        if known[side] is not None:
            centres[side] = known[side][0]
            continue
        socket = None if known[other] is None else _mirrored_socket(hips, side, *known[other])
        centres[side] = socket if socket is not None else hips[side].points.mean(axis=0)
    return centres


def _known_hip_sphere(landmarks: LandmarkSet, side: str) -> tuple[np.ndarray, float] | None:
    """(centre, radius) of the side's acetabulum, else of its femoral head; None when neither was found (or
    measured a radius: a closed joint's acetabulum is the head centre, without one)."""
    for name in (f"acetabulum_center_{side}", f"femoral_head_center_{side}"):
        if name in landmarks and "radius_mm" in landmarks.landmarks[name].extras:
            return landmarks.position(name), float(landmarks.landmarks[name].extras["radius_mm"])
    return None


# A socket found from the other side must lie this close to its seed and to the other side's radius.
SOCKET_SEED_REACH_MM = 20.0
SOCKET_RADIUS_TOLERANCE_MM = 8.0


def _mirrored_socket(hips: Mapping[str, Surface], side: str, other_centre: np.ndarray,
                     other_radius: float) -> np.ndarray | None:
    """Centre of ``side``'s acetabular socket: a sphere fit of its hip bone, seeded at the other side's hip centre
    mirrored across the midplane between the two hip bones' centroids. The seed is only a few mm off; the fit then
    finds the socket itself, so the centre does not depend on the centroids' point density."""
    left, right = hips["left"].points.mean(axis=0), hips["right"].points.mean(axis=0)
    across, middle = unit(right - left), (left + right) / 2.0
    seed = other_centre - 2.0 * ((other_centre - middle) @ across) * across
    points = hips[side].real()
    fit = fit_sphere_trimmed(points, seed, reach_mm=other_radius + 8.0)
    if fit is not None:
        fit = fit_sphere_trimmed(points, fit[0], reach_mm=fit[1] + 8.0)
    if (fit is None or abs(fit[1] - other_radius) > SOCKET_RADIUS_TOLERANCE_MM
            or np.linalg.norm(fit[0] - seed) > SOCKET_SEED_REACH_MM):
        return None
    return fit[0]


def _acetabular_angles(landmarks: LandmarkSet, frame: PelvicFrame) -> None:
    """Native radiographic inclination/anteversion (Murray) of each acetabulum with a measured opening, relative to
    the APP."""
    for side in SIDES:
        landmark = landmarks.landmarks.get(f"acetabulum_center_{side}")
        if landmark is not None and landmark.present and "rim_normal" in landmark.extras:
            angles = cup_orientation(np.asarray(landmark.extras["rim_normal"]), frame, side)
            landmark.extras["inclination_deg"] = angles.inclination
            landmark.extras["anteversion_deg"] = angles.anteversion


# ---------------------------------------------------------------- knee and ankle
def _medial_lateral_tips(surface: Surface, region: np.ndarray, side: str) -> tuple[np.ndarray, np.ndarray]:
    """Medial and lateral soft tips of ``region`` along the scan's medio-lateral axis, not re-aimed: re-aiming the
    axis through the pair fed back on itself along flat walls (lateral femoral condyle 40 mm, medial tibial plateau
    16 mm at 3 mm voxels), and sphere fits of the condyles gave axes 5-20 degrees apart between voxels and mesh.
    The tips are area-weighted: condyle and plateau walls are broad, flat tip patches (16 mm, ~400 points), and
    a mesh's vertices bunch unevenly there while iso-surface points do not, which moved the raw lateral condyle
    tip 4.7 mm (knee centre 2.2 mm) at 3 mm; raw plateau tips reach 2.1 mm, area-weighted 1.7 mm. The narrow APP, trochanter and malleolus tips are not: a 3 mm
    iso-surface gives them a few tens of points, too few for a density estimate (pubic tubercle 2.05 -> 3.27 mm
    when tried)."""
    points, edge = surface.points[region], surface.at_edge[region]
    return (extreme_patch(points, edge, medial_of(side), area_weighted=True)[0],
            extreme_patch(points, edge, -medial_of(side), area_weighted=True)[0])


def _end_region(surface: Surface, depth_mm: float, distal: bool) -> np.ndarray | None:
    """Mask of the ``depth_mm`` at the bone's distal (or proximal) end; None when a field-of-view cut is there."""
    height = surface.points @ SUPERIOR
    end = height.min() if distal else height.max()
    region = (height < end + depth_mm) if distal else (height > end - depth_mm)
    return None if surface.at_edge[region].any() else region


def _knee(surfaces: Mapping[str, Surface], side: str, out: _Builder) -> None:
    femur, tibia = surfaces.get(f"femur_{side}"), surfaces.get(f"tibia_{side}")
    femoral = [f"femur_knee_center_{side}", f"medial_epicondyle_{side}", f"lateral_epicondyle_{side}"]
    region = None if femur is None else _end_region(femur, 45.0, distal=True)
    if region is None:
        out.missing_all(femoral, f"the distal femur_{side} is outside the field of view")
    else:
        _tip_pair(out, femoral, _medial_lateral_tips(femur, region, side),
                  "medial/lateral tips along the scan's left-right axis (distal 45 mm of the femur)",
                  "midpoint of the epicondyles", "epicondylar_width_mm")
    tibial = [f"tibial_plateau_center_{side}", f"tibial_plateau_medial_{side}", f"tibial_plateau_lateral_{side}"]
    region = None if tibia is None else _end_region(tibia, PLATEAU_DEPTH_MM, distal=False)
    if region is None:
        out.missing_all(tibial, f"the proximal tibia_{side} is outside the field of view")
        return
    _tip_pair(out, tibial, _medial_lateral_tips(tibia, region, side),
              f"medial/lateral tips along the scan's left-right axis (proximal {PLATEAU_DEPTH_MM:g} mm of the tibia)",
              "midpoint of the plateau edges", "plateau_width_mm")


def _tip_pair(out: _Builder, names: list[str], tips, method: str, centre_method: str, width_key: str) -> None:
    """Report a medial/lateral tip pair and its midpoint; ``names`` = [centre, medial, lateral]."""
    centre_name, medial_name, lateral_name = names
    medial, lateral = (np.asarray(tip, float) for tip in tips)
    out.found(medial_name, medial, method, 1.0)
    out.found(lateral_name, lateral, method, 1.0)
    out.found(centre_name, (medial + lateral) / 2.0, centre_method, 1.0,
              **{width_key: float(np.linalg.norm(medial - lateral))})


# The lateral malleolus reaches below the tibia's distal end: 5-27 mm on 42 posed phantom ankles. A fibula ending
# higher lost its malleolus to another label (a segmentation cutting tibia and fibula at one plane ends both alike).
LATERAL_MALLEOLUS_DROP_MM = 3.0
# Where it did, the tibia's label may hold that malleolus and the talus: on 56 phantom ankles through the classical
# fallback the medial malleolus was 0.2-50.8 mm off (median ~3) then, 0.6-1.4 mm where the fibula kept its own.
FUSED_ANKLE_CONFIDENCE = 0.5


def _malleolus_lost(tibia: Surface, fibula: Surface, side: str) -> str:
    """Why the fibula's label has no lateral malleolus, or "" when it reaches LATERAL_MALLEOLUS_DROP_MM below the
    tibia's distal end."""
    below_tibia_mm = float((tibia.points @ SUPERIOR).min() - (fibula.points @ SUPERIOR).min())
    if below_tibia_mm >= LATERAL_MALLEOLUS_DROP_MM:
        return ""
    where = f"{below_tibia_mm:.0f} mm below" if below_tibia_mm >= 0 else f"{-below_tibia_mm:.0f} mm above"
    return (f"fibula_{side} ends {where} the tibia's distal end (its malleolus reaches further down): the malleolus "
            "is not in the label (joined to the tibia or the foot on this segmentation, or both cut by one plane)")


def _ankle(surfaces: Mapping[str, Surface], side: str, out: _Builder) -> None:
    tibia, fibula = surfaces.get(f"tibia_{side}"), surfaces.get(f"fibula_{side}")
    names = [f"medial_malleolus_{side}", f"lateral_malleolus_{side}", f"ankle_center_{side}"]
    tibial_end = None if tibia is None else _end_region(tibia, 30.0, distal=True)
    if tibial_end is None:
        out.missing_all(names, f"the distal tibia_{side} is outside the field of view")
        return
    fibular_end = None if fibula is None else _end_region(fibula, 30.0, distal=True)
    no_malleolus = (f"the distal fibula_{side} is not in the segmentation or outside the field of view"
                    if fibular_end is None else _malleolus_lost(tibia, fibula, side))
    medial_method, confidence = "most medial point of the distal 30 mm of the tibia", 1.0
    if fibular_end is not None and no_malleolus:
        medial_method += (f"; check it: fibula_{side} has lost its malleolus, which with the talus may lie in the "
                          "tibia's label")
        confidence = FUSED_ANKLE_CONFIDENCE
    medial = _extreme(out, names[0], tibia, tibial_end, medial_of(side), medial_method, confidence)
    if no_malleolus:
        out.missing_all(names[1:], no_malleolus)
        return
    lateral = _extreme(out, names[1], fibula, fibular_end, -medial_of(side), "most lateral point of the distal 30 mm of the fibula")
    if medial is None or lateral is None:
        out.missing(names[2], "a malleolus is missing")
        return
    out.found(names[2], (medial + lateral) / 2.0, "midpoint of the malleoli", 1.0,
              intermalleolar_width_mm=float(np.linalg.norm(medial - lateral)))
