"""Classical naming of knee bones on a canonical RAS grid ([z, y, x], 1.5-3 mm): femur, patella, tibia, fibula per leg.

For a scan of the legs without the pelvis (a knee, ankle or long-leg CT), and for the legs below mid-femur of a scan
that also has the pelvis. Per leg:
- the joint line is the narrowest bone section between the two widest (femoral condyles above, tibial plateau
  below): the joint space, even where 3 mm partial volume fuses the bones;
- above it, each axial section's largest bone piece is femur and a separate piece in front of it is patella
  (parted by a small erosion where the two touch);
- below it, the largest piece is tibia and a separate smaller piece is fibula;
- then in 3D: where a bone crosses the sections' plane (condyles dipping below the joint line, the patella's apex
  on the trochlea, the fibular head on the tibia), the pieces a 3 mm erosion parts keep one bone each;
- a leg with no knee joint is a tibia and fibula when two bones lie side by side in most sections (a shank),
  else a femur; a foot in view (no label of its own) is cut off at the ankle and left unlabelled;
- on a CT finer than the grid, neighbouring bones are parted again at the CT's own resolution, where a narrow
  joint space shows as a dark sheet (part_leg_bones_on_the_ct).
Sides: the patient's left is RAS x below the midline when both legs are in view; a lone leg's side comes from
its fibula, which lies lateral to the tibia.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy import ndimage, signal

from .anatomy_rules import grow_into, reflood
from .labels import BY_NAME

log = logging.getLogger(__name__)
MIN_CONDYLE_GAP_MM = 30.0  # the widest femoral and tibial sections lie at least this far apart along z
PATELLA_IN_FRONT_MM = 10.0  # a patella's centre lies this far in front of the femur's in its section
PATELLA_NECK_MM = 1.5  # erosion that parts a patella touching the femur in a section
# Erosion (mm) that parts bones touching across a joint in 3D: the patella's apex on the trochlea, the fibular head
# on the tibia; one 1.5 mm cell left them fused on 1 mm phantoms.
JOINT_NECK_MM = 3.0
MIN_PIECE_MM2 = 18.0  # smaller pieces of a section are noise, not a patella or fibula
MIN_FIBULA_SECTIONS = 3
SHANK_SHARE = 0.6  # of a leg's sections with a second bone beside the main one: a shank (tibia and fibula)
# The ankle: above it tibia and fibula side by side in most sections, below it a foot longer front to back.
SHANK_CHECK_MM = 60.0
SYNDESMOSIS_MM = 15.0  # just above the ankle the fibula is bound to the tibia: one piece on a 1.5-3 mm grid
ANKLE_SHANK_SHARE = 0.6
FIBULA_REACH_MM = 30.0  # the fibula runs up beside the tibia; the talus and tarsals reach less above the ankle line
FOOT_LONGER_MM = 15.0
# Above the ankle a shank (the distal tibia with the fibula behind its edge) is 36-51 mm front to back on the
# phantoms; a foot, where two bones also lie side by side (talus and calcaneus, the tarsals), up to 150-250 mm. A
# narrowing in the foot with 153 mm of foot above it passed for the ankle, and the knee rules then named the whole
# tibia femur (knee landmarks 245 mm off). 65 mm also refused a hindfoot 72 mm long, but lost a true ankle.
SHANK_MAX_LENGTH_MM = 100.0
# A joint space under ~2-3 mm stays above the bone threshold on the knee rules' grid even from a 1 mm CT (TLEM2's
# meshes): up to 15 mm of the patella's lower pole stayed femur, the medial femoral condyle's bottom became tibia.
# On the CT's own grid, the bones are flooded by intensity from seeds this far from the neighbour's label.
NEIGHBOUR_REACH_MM = 15.0
# (bone, neighbour, whether all of the bone's core seeds it): a patella or fibula named on the coarse grid is its
# own bone, only incomplete; the tibia and femur may each hold a piece of the other.
NEIGHBOURS_PARTED_ON_THE_CT = (("tibia", "femur", False), ("patella", "femur", True), ("fibula", "tibia", True))
MIDLINE_HALF_WIDTH_MM = 15.0  # the sacrum, spine and symphysis cross this band; two legs leave it empty
PELVIS_REACH_MM = 300.0  # a pelvis in view lies within this of the top of the bone (iliac crest to symphysis ~200 mm)
ONE_LIMB_WIDTH_MM = 150.0  # a knee is under ~110 mm wide; a pelvis over 200 mm
LIMB_GAP_MM = 6.0  # an empty band this wide across the bone's x-range lies between two legs


def is_limb_scan(bone: np.ndarray, axes, midline: float) -> bool:
    """No bone on the midline (no sacrum, spine or pubic symphysis) within PELVIS_REACH_MM of the top of the bone
    in view, a single limb's width of bone, or two legs apart. Lower down, only feet cross the midline (a long-leg
    scan's)."""
    if not bone.any():
        return False  # nothing to name
    x_mm, z_mm = axes[0], axes[2]
    top = z_mm[np.nonzero(bone.any(axis=(1, 2)))[0].max()]
    upper = bone[z_mm >= top - PELVIS_REACH_MM]
    on_midline = upper[..., np.abs(x_mm - midline) < MIDLINE_HALF_WIDTH_MM].sum() >= 0.001 * upper.sum()
    xs = _columns_with_bone(bone, x_mm)
    return not on_midline or _narrower_than_two_legs(xs) or _legs_apart(xs, x_mm)


def label_knees(labels: np.ndarray, bone: np.ndarray, axes, midline: float, spacing_mm: float) -> None:
    """Femur, patella, tibia and fibula of each leg in view, in place."""
    if is_one_limb(bone, axes[0]):  # its side comes from the fibula
        label_leg(labels, bone, axes, None, spacing_mm)
        return
    x = axes[0][None, None, :]
    label_leg(labels, bone & (x < midline), axes, "left", spacing_mm)
    label_leg(labels, bone & (x >= midline), axes, "right", spacing_mm)


def is_one_limb(bone: np.ndarray, x_mm: np.ndarray) -> bool:
    """The bone in view is narrower than a pelvis and than two legs side by side, and not two legs apart (False
    without bone). Two ankles side by side can be narrower than one knee (147 mm on a phantom, taken for one leg:
    its right tibia became a fibula)."""
    xs = _columns_with_bone(bone, x_mm)
    return _narrower_than_two_legs(xs) and not _legs_apart(xs, x_mm)


def _columns_with_bone(bone: np.ndarray, x_mm: np.ndarray) -> np.ndarray:
    """x (mm) of the grid's sagittal planes that hold bone."""
    return x_mm[np.nonzero(bone.any(axis=(0, 1)))[0]]


def _narrower_than_two_legs(xs: np.ndarray) -> bool:
    """The bone (its columns ``xs``) is narrower than a pelvis and than two legs side by side (False without bone)."""
    return bool(len(xs)) and bool(xs.max() - xs.min() < ONE_LIMB_WIDTH_MM)


def _legs_apart(xs: np.ndarray, x_mm: np.ndarray) -> bool:
    """An empty band of LIMB_GAP_MM or more runs front to back and top to bottom between the bone in view (its
    columns ``xs``): two legs. One leg's bones overlap along x (the fibula lies behind the tibia's lateral edge); a
    pelvis in view bridges the legs."""
    return len(xs) > 1 and bool((np.diff(xs) - abs(x_mm[1] - x_mm[0]) >= LIMB_GAP_MM).any())


def label_leg(labels: np.ndarray, leg: np.ndarray, axes, side: str | None, spacing_mm: float) -> None:
    """Femur, patella, tibia and fibula of one leg's bone, in place; ``side`` None: from its fibula. A foot in view
    (no label of its own) is left unlabelled."""
    z = axes[2][:, None, None]
    beside = _second_bone_beside(leg, axes[1])
    ankle = _ankle_line(leg, axes, spacing_mm, beside)
    if ankle is not None:
        leg = _without_the_foot(leg, axes[2], ankle, spacing_mm)
        beside &= leg.any(axis=(1, 2))
    joint = _joint_line(leg, axes[2], spacing_mm)
    if joint is not None and beside[axes[2] > joint].mean() >= SHANK_SHARE:
        joint = None  # a narrowing with tibia and fibula above it is no knee joint
    tibial = leg & (z <= joint) if joint is not None else np.zeros_like(leg)
    tibia, fibula = _split_sections(tibial, axes[1], in_front=False)
    if np.count_nonzero(fibula.any(axis=(1, 2))) < MIN_FIBULA_SECTIONS:
        # No fibula beside the bone below the narrowing: it is no knee joint. Two bones side by side all along
        # are a shank (an ankle scan); one bone is a femur (e.g. a proximal femur's neck made the narrowing).
        tibia, fibula = _split_sections(leg, axes[1], in_front=False)
        sections = np.count_nonzero(leg.any(axis=(1, 2)))
        if np.count_nonzero(fibula.any(axis=(1, 2))) >= SHANK_SHARE * sections:
            log.info("classical: no knee joint in this leg, two bones side by side: tibia and fibula")
            tibial = leg
        else:
            log.info("classical: no knee joint (narrowing with a fibula below it) in this leg; its bone is femur")
            tibial, tibia, fibula = (np.zeros_like(leg),) * 3
    femur, patella = _split_sections(leg & ~tibial, axes[1], in_front=True)
    bones = _one_piece_per_bone(leg, (femur, patella, tibia, fibula), spacing_mm)
    side = side or _side_from_fibula(bones[2], bones[3], leg, axes[0])
    for name, mask in zip(("femur", "patella", "tibia", "fibula"), bones):
        labels[mask] = BY_NAME[f"{name}_{side}"].value


def _joint_cores(leg: np.ndarray, spacing_mm: float) -> tuple[np.ndarray, np.ndarray, int]:
    """The leg's bone eroded by JOINT_NECK_MM, which parts bones touching across a joint, and its labelled pieces."""
    cores = ndimage.binary_erosion(leg, iterations=max(1, round(JOINT_NECK_MM / spacing_mm)))
    pieces, count = ndimage.label(cores)
    return cores, pieces, count


def _one_piece_per_bone(leg: np.ndarray, bones: tuple[np.ndarray, ...], spacing_mm: float) -> list[np.ndarray]:
    """``bones`` (masks named section by section) settled in 3D. An erosion of JOINT_NECK_MM parts bones that
    touch across a joint (the patella's apex on the trochlea, the fibular head on the tibia, condyles that dip below
    the joint line's plane); each eroded piece that holds most of exactly one bone is that bone, including the
    voxels the sections gave another bone or none; every bone then re-grows through the leg from its pieces. A
    piece holding most of two bones (fused across a joint) keeps the sections' names."""
    named = np.zeros(leg.shape, np.uint8)
    for value, mask in enumerate(bones, start=1):
        named[mask] = value
    cores, pieces, count = _joint_cores(leg, spacing_mm)
    held = np.bincount(pieces[cores] * (len(bones) + 1) + named[cores],
                       minlength=(count + 1) * (len(bones) + 1)).reshape(count + 1, len(bones) + 1)
    holds_most = 2 * held > held.sum(axis=0)
    holds_most[:, 0] = False  # unnamed bone is no bone of its own
    owner = np.where(holds_most.sum(axis=1) == 1, np.argmax(holds_most, axis=1), 0)
    seeds = np.where(cores, np.where(owner[pieces] > 0, owner[pieces], named), 0).astype(np.uint8)
    settled = seeds.copy()
    grow_into(settled, leg & ~cores, cores)
    return [settled == value for value in range(1, len(bones) + 1)]


def _without_the_foot(leg: np.ndarray, z_mm: np.ndarray, ankle: float, spacing_mm: float) -> np.ndarray:
    """The leg's bone above the ankle joint (z = ``ankle``), malleoli included. The malleoli reach 10-20 mm below
    the line's plane beside the talus: cut at the plane, ankle centres were 10-20 mm off.
    A JOINT_NECK_MM erosion parts the shank from the foot. The piece holding most of the bone up to SHANK_CHECK_MM
    above the line is the tibia's. Another piece is the shank's (fibula, or a femur above) when it reaches
    FIBULA_REACH_MM above the line and most of its bone below that lies beside the tibia, not under it; else the
    foot's (the narrowest section can lie 30 mm below the talar dome: the talus is told by lying under the
    tibia piece's lowest FIBULA_REACH_MM; under the whole tibia's footprint, a tilted leg's fibula passed for foot).
    Both re-grow from their pieces. A tibia's piece holding most of the bone below the line is fused with the foot:
    the plane cuts, as before; so it does through another shank piece that runs into the foot (_runs_into_the_foot).
    That piece was one lying mostly below the line, which on an ankle scan with 75 mm of shank in view was the
    fibula itself (ICL_MRI's lost its malleolus to the foot at 1 and 3 mm)."""
    z = z_mm[:, None, None]
    cores, pieces, count = _joint_cores(leg, spacing_mm)

    def voxels_per_piece(where: np.ndarray) -> np.ndarray:
        return np.bincount(pieces[cores & where], minlength=count + 1)

    sizes, above = voxels_per_piece(cores), voxels_per_piece(z > ankle)
    tibia = int(np.argmax(voxels_per_piece((z > ankle) & (z <= ankle + SHANK_CHECK_MM))))
    tibial_piece = pieces == tibia
    below = sizes - above
    if tibia == 0 or 2 * below[tibia] > below.sum() or _runs_into_the_foot(tibial_piece, z, ankle, spacing_mm):
        return leg & (z > ankle)  # no shank core, or the tibia's piece takes in the foot: nothing parted
    low = z <= ankle + FIBULA_REACH_MM
    tibia_bottom = z_mm[tibial_piece.any(axis=(1, 2))].min()
    lower_end = tibial_piece & (z <= tibia_bottom + FIBULA_REACH_MM)
    under_tibia = voxels_per_piece(low & lower_end.any(axis=0)[None])
    tops = np.full(count + 1, -np.inf)
    np.maximum.at(tops, pieces[cores], np.broadcast_to(z, cores.shape)[cores])
    shank = (tops >= ankle + FIBULA_REACH_MM) & (2 * under_tibia <= voxels_per_piece(low))
    shank[tibia] = True
    fused = np.zeros(count + 1, bool)
    for piece in np.nonzero(shank)[0]:
        fused[piece] = piece != tibia and _runs_into_the_foot(pieces == piece, z, ankle, spacing_mm)
    parts = np.where(fused[pieces], np.where(z > ankle, 1, 2), np.where(shank[pieces], 1, 2))
    parts = np.where(cores, parts, 0).astype(np.uint8)
    grow_into(parts, leg & ~cores, cores)
    return parts == 1


def _runs_into_the_foot(piece: np.ndarray, z: np.ndarray, ankle: float, spacing_mm: float) -> bool:
    """Whether ``piece`` reaches below the ankle line farther front to back than the shank is long above it (by
    FOOT_LONGER_MM): the tibia fused with the talus and the bones in front of it. Such a piece held a minority of a
    3 mm full leg's foot, yet its tarsals and metatarsals became tibia (a medial malleolus 139 mm off)."""
    def front_to_back(where: np.ndarray) -> float:
        rows = np.nonzero((piece & where).any(axis=(0, 2)))[0]
        return float(np.ptp(rows) + 1) * spacing_mm if len(rows) else 0.0

    return front_to_back(z <= ankle) >= front_to_back((z > ankle) & (z <= ankle + SHANK_CHECK_MM)) + FOOT_LONGER_MM


def _ankle_line(leg: np.ndarray, axes, spacing_mm: float, beside: np.ndarray) -> float | None:
    """z (mm) of the ankle joint when the foot is in view: the lowest narrowing with a shank above it (a second
    bone ``beside`` the main one in most sections: tibia and fibula) and a foot below it (bone longer front to back).
    Its sections have several pieces too, so unremoved, a foot passes for a knee's tibia and fibula."""
    z_mm, y_step = axes[2], abs(axes[1][1] - axes[1][0])
    area = ndimage.gaussian_filter1d(leg.sum(axis=(1, 2)).astype(float), 1.0)
    narrowings, _ = signal.find_peaks(-area, distance=max(1, int(MIN_CONDYLE_GAP_MM / spacing_mm)))
    length = np.array([np.ptp(np.nonzero(section.any(axis=1))[0]) * y_step if section.any() else 0.0
                       for section in leg])  # front to back (mm)
    has_bone = leg.any(axis=(1, 2))
    for k in narrowings:  # from the lowest up
        near_above = (z_mm > z_mm[k]) & (z_mm <= z_mm[k] + SHANK_CHECK_MM)
        shank = near_above & (z_mm > z_mm[k] + SYNDESMOSIS_MM) & has_bone
        below = (z_mm < z_mm[k]) & (z_mm >= z_mm[k] - SHANK_CHECK_MM) & has_bone
        if not shank.any() or not below.any():
            continue
        shank_above = beside[shank].mean() >= ANKLE_SHANK_SHARE and length[shank].max() <= SHANK_MAX_LENGTH_MM
        foot_below = length[below].max() >= length[near_above].max() + FOOT_LONGER_MM
        if shank_above and foot_below:
            log.info("classical: foot in view below z = %.0f mm; left unlabelled", z_mm[k])
            return float(z_mm[k])
    return None


def _second_bone_beside(bone: np.ndarray, y_mm: np.ndarray) -> np.ndarray:
    """Per axial section: True where a second bone lies beside the largest piece, not in front of it (a fibula
    beside a tibia; a patella is in front)."""
    step_mm = abs(y_mm[1] - y_mm[0])
    beside = np.zeros(bone.shape[0], bool)
    for k in np.nonzero(bone.any(axis=(1, 2)))[0]:
        pieces, count = ndimage.label(bone[k])
        ahead = _ahead_of_largest(pieces, count, MIN_PIECE_MM2 / step_mm**2, step_mm)[1]
        beside[k] = any(ahead_mm <= PATELLA_IN_FRONT_MM for ahead_mm in ahead.values())
    return beside


def _joint_line(leg: np.ndarray, z_mm: np.ndarray, spacing_mm: float) -> float | None:
    """z (mm) of the narrowest section between the two widest ones (condyles and plateau), if both are in view."""
    area = ndimage.gaussian_filter1d(leg.sum(axis=(1, 2)).astype(float), 1.0)
    peaks, _ = signal.find_peaks(area, distance=max(1, int(MIN_CONDYLE_GAP_MM / spacing_mm)))
    if len(peaks) < 2:
        return None
    low, high = sorted(peaks[np.argsort(area[peaks])[-2:]])
    between = low + int(np.argmin(area[low : high + 1]))
    return float(z_mm[between])


def _split_sections(part: np.ndarray, y_mm: np.ndarray, in_front: bool) -> tuple[np.ndarray, np.ndarray]:
    """(main bone, the other bone): per axial section, the largest piece and the separate pieces beside it
    (only those in front of it when ``in_front``: a patella, not a femoral osteophyte)."""
    main, other = np.zeros_like(part), np.zeros_like(part)
    step_mm = abs(y_mm[1] - y_mm[0])
    for k in np.nonzero(part.any(axis=(1, 2)))[0]:
        pieces, count = ndimage.label(part[k])
        largest, ahead = _ahead_of_largest(pieces, count, MIN_PIECE_MM2 / step_mm**2, step_mm)
        main[k] = pieces == largest
        kept = [piece for piece, ahead_mm in ahead.items() if not in_front or ahead_mm > PATELLA_IN_FRONT_MM]
        other[k] = np.isin(pieces, kept)
        if in_front and not other[k].any():
            other[k] = _patella_touching(part[k], step_mm)
            main[k] &= ~other[k]
    return main, other


def _ahead_of_largest(pieces: np.ndarray, count: int, min_voxels: float, step_mm: float) -> tuple[int, dict[int, float]]:
    """The largest of a section's labelled ``pieces``, and how far (mm, along y: anterior) each other piece of at
    least ``min_voxels`` lies in front of it (negative: behind)."""
    sizes = np.bincount(pieces.ravel(), minlength=count + 1)
    sizes[0] = 0
    largest = int(np.argmax(sizes))
    main_y = np.nonzero(pieces == largest)[0].mean()
    return largest, {piece: (np.nonzero(pieces == piece)[0].mean() - main_y) * step_mm
                     for piece in range(1, count + 1) if piece != largest and sizes[piece] >= min_voxels}


def _patella_touching(section: np.ndarray, step_mm: float) -> np.ndarray:
    """The patella where it touches the femur in this section (partial volume across the joint): eroding the section
    by PATELLA_NECK_MM parts a piece in front of the largest; its voxels are those nearer to it than to the rest."""
    eroded, count = ndimage.label(ndimage.binary_erosion(section, iterations=max(1, round(PATELLA_NECK_MM / step_mm))))
    if count < 2:
        return np.zeros_like(section)
    ahead = _ahead_of_largest(eroded, count, MIN_PIECE_MM2 / 2 / step_mm**2, step_mm)[1]
    in_front = [piece for piece, ahead_mm in ahead.items() if ahead_mm > PATELLA_IN_FRONT_MM]
    if not in_front:
        return np.zeros_like(section)
    seeds = np.where(np.isin(eroded, in_front), 2, np.sign(eroded))
    nearest = seeds[tuple(ndimage.distance_transform_edt(seeds == 0, return_distances=False, return_indices=True))]
    return section & (nearest == 2)


def _side_from_fibula(tibia: np.ndarray, fibula: np.ndarray, leg: np.ndarray, x_mm: np.ndarray) -> str:
    """The fibula is lateral: on the left leg at lower RAS x than the tibia. Without a fibula in view the side can
    only come from the scanner's x axis (the leg's centre left or right of x = 0), which is logged as a guess."""
    if fibula.any() and tibia.any():
        fibula_x, tibia_x = x_mm[np.nonzero(fibula)[2]].mean(), x_mm[np.nonzero(tibia)[2]].mean()
        return "left" if fibula_x < tibia_x else "right"
    side = "left" if x_mm[np.nonzero(leg)[2]].mean() < 0 else "right"
    log.warning("classical: one leg and no fibula in view; called it %s from the scanner's x axis (a guess)", side)
    return side


def part_leg_bones_on_the_ct(labels: np.ndarray, hu: np.ndarray, spacing_mm: np.ndarray) -> None:
    """Each leg's neighbouring bones (NEIGHBOURS_PARTED_ON_THE_CT) parted again on a CT finer than the knee rules'
    grid, in place (``labels`` on the CT's grid, ``spacing_mm`` per array axis). A joint space is a dark sheet
    between two bright cortices: flooded from both bones' cores, brightest first (reflood), the two meet
    in it. Each bone seeds only where it lies farther than NEIGHBOUR_REACH_MM from the other's label (all of a
    patella's or fibula's core seeds it); the rest of both is flooded."""
    boxes = ndimage.find_objects(labels)
    for side in ("left", "right"):
        for bone_name, neighbour_name, whole in NEIGHBOURS_PARTED_ON_THE_CT:
            bone, neighbour = BY_NAME[f"{bone_name}_{side}"].value, BY_NAME[f"{neighbour_name}_{side}"].value
            if max(bone, neighbour) > len(boxes) or boxes[bone - 1] is None or boxes[neighbour - 1] is None:
                continue
            around_bone = _padded(boxes[bone - 1], spacing_mm, labels.shape)
            box = _around_the_contact(labels, bone, neighbour, whole, around_bone, spacing_mm)
            if box is None:
                continue
            near = labels[box]
            both = (near == bone) | (near == neighbour)
            seeds = np.zeros(near.shape, labels.dtype)
            for value, other, all_of_it in ((bone, neighbour, whole), (neighbour, bone, False)):
                core = ndimage.binary_erosion(near == value, iterations=2)
                far = ndimage.distance_transform_edt(near != other, sampling=spacing_mm) > NEIGHBOUR_REACH_MM
                seeds[core & (far | all_of_it)] = value
            reflood(near, both, seeds, hu[box])


def _around_the_contact(labels: np.ndarray, bone: int, neighbour: int, whole: bool, box: tuple[slice, ...],
                        spacing_mm: np.ndarray) -> tuple[slice, ...] | None:
    """The box to flood: ``box`` (around the whole bone) when ``whole``, else around the bone's voxels within
    NEIGHBOUR_REACH_MM of the neighbour, padded so that both bones have seeds in it; None without a contact."""
    near = labels[box]
    if not (near == neighbour).any():
        return None
    if whole:
        return box
    contact = (near == bone) & (ndimage.distance_transform_edt(near != neighbour, sampling=spacing_mm)
                                < NEIGHBOUR_REACH_MM)
    inner = ndimage.find_objects(contact.astype(np.uint8))
    if not inner:
        return None
    inner = _padded(inner[0], spacing_mm, near.shape)
    return tuple(slice(outer.start + part.start, outer.start + part.stop) for outer, part in zip(box, inner))


def _padded(box: tuple[slice, ...], spacing_mm: np.ndarray, shape: tuple[int, ...]) -> tuple[slice, ...]:
    """``box`` grown by NEIGHBOUR_REACH_MM + 10 mm on every side, within ``shape``."""
    pad = np.ceil((NEIGHBOUR_REACH_MM + 10.0) / spacing_mm).astype(int)
    return tuple(slice(max(0, s.start - d), min(n, s.stop + d)) for s, d, n in zip(box, pad, shape))
