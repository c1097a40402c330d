"""Classical bone segmentation for when no model fits: HU threshold, connected components, position rules.

Bone = the cells of the canonical RAS grid (3 mm) at least half above the threshold at the CT's own resolution;
small holes (marrow) filled slice by slice, substantial connected components kept. At 3 mm the hip joints and
sacro-iliac joints do not separate by erosion, so bones are named by anatomical position relative to landmarks
found in the mask itself:
- the midline (the skeleton's mirror plane);
- each femoral head centre: first the deepest bone 50-120 mm from the midline (the head, with the acetabulum
  around it, is the thickest bone at the hip joint's distance; the trochanters lie farther out), if >= 12 mm
  deep; then the centre of the CT's strongest concentric edge near it (ct_anatomy/head_search.py); then the
  sphere fitted to the head's edges against soft tissue (ct_anatomy/head_edges.py), which also gives the
  femur/hip split its radius. A head is only kept with its lower half in view; a scan without one (a lumbar
  CT) is named from the iliac crests;
- the L5/S1 disc: one disc (a minimum of vertebral-body area along z) below the L4/L5 disc, which
  lies level with the iliac crests (Tuffier's line); when the central bone stops under the crests the scan
  has no lumbar spine and all of it is sacrum. In front of the bodies' back the cut follows the disc's tilted
  plane where the CT shows one (disc_plane.py): the sacral base slopes down to the front.
Femur = the head sphere plus lateral bone below the head centre, then the bone 3-15 mm around the head named by
what it is joined to (the neck by the trochanters, the socket's rim by the pelvis), and small hip-bone pieces cut
off from the pelvis that touch it (a raised trochanter's tip); sacrum = central, posterior bone
between the heads' level and L5/S1, reaching at most S1_FACET_REACH_MM above it; L5..L1 = the column above, cut
at the next disc minima, along the discs' tilted planes where the CT shows them; the rest
of the pelvis is the hip bone of its side, parted from the other at the symphysis by a geodesic growth from each
side (on a finer CT again at its own resolution); each bone's envelope is then closed over fatty marrow. A scan of the
legs without the pelvis goes to knee_rules.py, on a grid as fine as the CT's coarsest spacing (1.5-3 mm).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

import numpy as np
from scipy import ndimage

from ..ct_anatomy.head_edges import refine_head_on_ct
from ..ct_anatomy.head_search import refine_head_centre
from ..imaging.sampling import volume_sampler
from ..imaging.volume import Volume
from .anatomy_rules import LUMBAR_VALUES, VERTEBRA_PITCH_MM, disc_slices, grow_into, label_lumbar_levels, reflood
from .disc_plane import find_tilted_disc
from .knee_rules import is_limb_scan, is_one_limb, label_knees, label_leg, part_leg_bones_on_the_ct
from .labels import BY_NAME
from .postprocess import fill_axial_sections, postprocess
from .resample import labels_to_grid, to_canonical

log = logging.getLogger(__name__)
SPACING_MM = 3.0
LIMB_SPACING_MM = (1.5, 3.0)  # a limb scan's grid: the CT's coarsest spacing, within these bounds
BONE_HU = 100.0  # at 3 mm, partial volume puts cancellous bone near 100-200 HU
BODY_HU = -400.0
TRUNK_WIDTH_SHARE = 0.8  # a pelvis is ~300-380 mm wide; a leg, or two touching knees, well under 250
MIN_PIECE_ML = 3.0
MAX_MARROW_MM2 = 400.0
CANAL_HALF_WIDTH_MM = 15.0
LATERAL_MM = 40.0
NECK_SHELL_MM = 15.0  # around a femoral head: its neck and the socket's rim, named by what they are joined to
HEAD_EDGE_MARGIN_MM = 3.0  # ... beyond this of the head's sphere, whose edges the landmarks refine the head on
STRANDED_SHARE = 0.1  # a hip label's piece at most this share of its main body, touching the femur, is femur
SYMPHYSIS_BAND_MM = 12.0  # the pubic bodies' medial ends: within this of the midline the hips part at the gap
# Hip joint centres lie 75-95 mm from the midline in adults; the band allows for a midline found 20 mm off.
HEAD_BAND_MM = (50.0, 120.0)
# A head's radius is 18-28 mm; even split from the acetabulum it is >= 16 mm deep on the 3 mm grid (phantoms,
# sample), while the thickest bone of an upper abdomen's ribs is ~5 mm deep.
MIN_HEAD_DEPTH_MM = 12.0
HEAD_EDGE_ROUNDS = 2  # the second round gained the sample's femurs ~0.01; a third moved each bone <= 0.002
MAX_HEAD_RADIUS_MM = 28.0  # the largest adult head: an edge fit beyond it has taken in the socket's cortex
# The femoral head centres lie above the lowest midline bone (pubic symphysis, coccyx) or at most this far below.
HEAD_BELOW_PELVIS_MM = 30.0
MIDLINE_GAP_MM = 30.0  # the midline bone running down from the top may skip this much (coccyx tip to symphysis)
# A scan whose bone reaches this far below the heads has the knees in view (femur ~400-500 mm long); its legs
# are named by the knee rules below mid-femur (under the lesser trochanters, ~60 mm below the heads).
LEG_IN_VIEW_MM = 250.0
LEG_CUT_BELOW_HEAD_MM = 150.0
LEG_PIECE_SHARE = 0.5  # the smaller of two legs' bone pieces holds at least this share of the larger one's
MAX_HEAD_HEIGHT_DIFFERENCE_MM = 25.0  # ~8 degrees of pelvic obliquity over the ~170 mm between the heads
# L4/L5 lies level with the iliac crests (Tuffier's line), the sacral promontory 2-4 cm below them: central
# bone that stops this far under the crests has no lumbar column on it.
SACRUM_BELOW_CREST_MM = 10.0
ILIUM_MIN_SECTION_MM2 = 700.0  # the largest axial section of a lateral bone piece that is an ilium, at least
SYMMETRY_REACH_MM = 45.0  # how far the skeleton's mirror plane is sought from the body outline's centre
SACRUM_HALF_WIDTH_MM = 52.0  # the sacral base is ~10-11 cm wide (textbook)
# S1's superior articular processes rise ~15-20 mm above the sacral base: sacrum above that is L5's arch.
S1_FACET_REACH_MM = 20.0
ARCH_HALF_WIDTH_MM = 20.0  # the canal and the laminae's roots behind a vertebral body
SOFT_TISSUE_HU = -100.0  # above fat: what a closed cortical envelope may take in (fatty marrow, partial volume)
# Cortex thinner than the grid breaks up under the threshold; closing each bone's label over this radius
# restores its outer envelope. The sacral alae, often fat-replaced marrow under a thin cortex, need more.
# The vertebrae are left alone: closing them would fill the spinal canal.
ENVELOPE_CLOSING_MM = {"hip_left": 6.0, "hip_right": 6.0, "femur_left": 6.0, "femur_right": 6.0, "sacrum": 12.0}


def segment_classical(ct: Volume, progress: Callable[[float, str], None]) -> Volume:
    progress(0.0, "classical: resampling to 3 mm RAS grid")
    grid = to_canonical(ct, (SPACING_MM,) * 3)
    axes = _axes_mm(grid)
    progress(0.2, "classical: thresholding bone and finding the body midline")
    above = _bone_on_grid(ct, SPACING_MM)
    body = grid.array > BODY_HU
    trunk = _trunk_sections(body)
    midline = _symmetry_midline(above[trunk], axes, _body_midline(body[trunk], axes))
    bone, canal = _bone_mask(above, axes, midline, SPACING_MM)
    if is_limb_scan(bone, axes, midline):
        return _segment_limbs(ct, midline, progress)
    progress(0.4, "classical: naming bone by position (femoral heads, sacrum, lumbar levels)")
    labels, spine_above_sacrum = _name_by_position(bone, axes, midline, grid, ct)
    _close_envelopes(labels, (grid.array > SOFT_TISSUE_HU) & ~canal & ~spine_above_sacrum, SPACING_MM)
    labels = postprocess(labels, axes[0], midline)
    progress(0.9, "classical: resampling labels back to the input grid")
    on_ct = labels_to_grid(replace(grid, array=labels), ct)
    _part_hips_on_the_ct(on_ct, ct, midline)
    _part_leg_bones_on_the_ct(on_ct, ct, SPACING_MM)
    return on_ct


def _segment_limbs(ct: Volume, midline: float, progress: Callable[[float, str], None]) -> Volume:
    """Knee bones of a scan of the legs, on a grid as fine as the CT allows (LIMB_SPACING_MM).

    The knee rules work section by section, which is cheap on a limb's field of view; at 3 mm a finer CT's
    patellofemoral gap closes and the thin fibula loses half its voxels to the grid.
    """
    spacing = float(np.clip(max(ct.spacing), *LIMB_SPACING_MM))
    progress(0.4, f"classical: no pelvis in view; naming knee bones on a {spacing:.1f} mm grid")
    log.info("classical: no bone on the midline or a single limb's width: naming knee bones (%.1f mm grid)", spacing)
    grid = to_canonical(ct, (spacing,) * 3)
    axes = _axes_mm(grid)
    bone, canal = _bone_mask(_bone_on_grid(ct, spacing), axes, midline, spacing)
    labels = np.zeros(bone.shape, np.uint8)
    label_knees(labels, bone, axes, midline, spacing)
    _close_envelopes(labels, (grid.array > SOFT_TISSUE_HU) & ~canal, spacing)
    labels = postprocess(labels, axes[0], midline, sides_by_position=not is_one_limb(bone, axes[0]))
    progress(0.9, "classical: resampling labels back to the input grid")
    on_ct = labels_to_grid(replace(grid, array=labels), ct)
    _part_leg_bones_on_the_ct(on_ct, ct, spacing)
    return on_ct


def _axes_mm(grid: Volume) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """RAS x, y, z (mm) of each index along the canonical grid's x, y, z axes."""
    k, j, i = grid.array.shape
    return tuple(grid.origin[a] + np.arange(n) * grid.spacing[a] for a, n in enumerate((i, j, k)))


def _bone_on_grid(ct: Volume, spacing_mm: float) -> np.ndarray:
    """Grid cells at least half of which is above BONE_HU at the CT's own resolution.

    Thresholding first and then low-passing the bone indicator (its partial-volume fraction) keeps dense cortex
    from spreading: low-passed, 1 400 HU cortex lifts the voxels beside it above 100 HU (a 1.5 mm phantom's bones
    came out 36 % too large). On a CT already at the grid's spacing this is the plain threshold.
    """
    indicator = replace(ct, array=np.multiply(ct.array > BONE_HU, 100, dtype=np.int16))  # no int64 temporary
    return to_canonical(indicator, (spacing_mm,) * 3).array >= 50


def _bone_mask(above: np.ndarray, axes, midline: float, spacing_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """(bone, canal): thresholded bone with its marrow filled, and the spinal canal holes left open."""
    central = np.abs(axes[0] - midline) < CANAL_HALF_WIDTH_MM
    canal_zone = np.stack([_canal_zone(plane, central) for plane in above])
    bone = np.stack([_fill_small_holes(plane, zone, spacing_mm) for plane, zone in zip(above, canal_zone)])
    canal = canal_zone & fill_axial_sections(bone) & ~bone
    return _drop_small(bone, MIN_PIECE_ML, spacing_mm), canal


def _canal_zone(plane: np.ndarray, central: np.ndarray) -> np.ndarray:
    """[y, x] where a hole is the spinal (or sacral) canal: on the midline, behind the middle of the central bone.

    The canal is a marrow-sized hole enclosed by the vertebral arch; filling it would leave the landmarks
    no canal and give the vertebrae the spinal cord. A body's own cavities lie in front of that middle.
    """
    ys = np.nonzero(plane[:, central])[0]
    zone = np.zeros(plane.shape, bool)
    if len(ys):
        zone[: int(np.median(ys)), central] = True
    return zone


def _fill_small_holes(plane: np.ndarray, canal_zone: np.ndarray, spacing_mm: float) -> np.ndarray:
    """Fill marrow cavities, but not the pelvic ring's inside or the spinal canal."""
    holes, count = ndimage.label(ndimage.binary_fill_holes(plane) & ~plane)
    if not count:
        return plane
    index = np.arange(1, count + 1)
    sizes = np.bincount(holes.ravel())[1:] * spacing_mm**2
    centres = np.rint(ndimage.center_of_mass(holes > 0, holes, index)).astype(int).reshape(-1, 2)
    marrow = index[(sizes <= MAX_MARROW_MM2) & ~canal_zone[centres[:, 0], centres[:, 1]]]
    return plane | np.isin(holes, marrow)


def _drop_small(mask: np.ndarray, min_ml: float, spacing_mm: float) -> np.ndarray:
    components, _ = ndimage.label(mask)
    sizes = np.bincount(components.ravel()) * spacing_mm**3 / 1000.0
    sizes[0] = 0
    return np.isin(components, np.nonzero(sizes >= min_ml)[0])


def _trunk_sections(body: np.ndarray) -> np.ndarray:
    """Per axial section of the ``body`` mask: whether its largest piece spans at least TRUNK_WIDTH_SHARE of the
    widest such span (left to right): the trunk and pelvis, whose midline is the patient's. On a hip-to-foot scan
    the legs may be tilted or spread, or there may be one: over every section, a one-legged scan's outline centre
    lay 95 mm beside the pelvis's midline and a tilted pair's 45 mm. Area would not do: two feet held more than
    a phantom's pelvis."""
    spans = np.zeros(len(body))
    for k, section in enumerate(body):
        pieces, count = ndimage.label(section)
        if count:
            largest = pieces == np.argmax(np.bincount(pieces.ravel())[1:]) + 1
            spans[k] = np.ptp(np.nonzero(largest.any(axis=0))[0]) + 1
    return spans >= TRUNK_WIDTH_SHARE * spans.max() if spans.max() else np.ones(len(spans), bool)


def _body_midline(body: np.ndarray, axes) -> float:
    """RAS x of the ``body`` mask's centre (median over slices of each slice's centroid)."""
    counts = body.sum(axis=(1, 2))
    centres = (body.sum(axis=1) * axes[0]).sum(axis=1)[counts > 0] / counts[counts > 0]
    return float(np.median(centres)) if len(centres) else 0.0


def _symmetry_midline(bone: np.ndarray, axes, start: float) -> float:
    """RAS x of the sagittal plane that mirrors the most bone onto bone, within SYMMETRY_REACH_MM of ``start``.

    The skeleton is more symmetric than the body outline, which a field of view or a one-sided soft-tissue
    mass pulls aside (on a phantom with one leg the outline's centre lay 23 mm off the sacrum).
    """
    x = axes[0]
    step = x[1] - x[0]
    count = bone.shape[2]
    best_overlap, best = 0, start  # no bone mirrored onto bone anywhere: keep the outline's centre
    for doubled in range(int(np.floor(2 * (start - SYMMETRY_REACH_MM - x[0]) / step)),
                         int(np.ceil(2 * (start + SYMMETRY_REACH_MM - x[0]) / step)) + 1):
        low, high = max(0, doubled - (count - 1)), min(count - 1, doubled)  # column i mirrors onto doubled - i
        if high <= low:
            continue
        overlap = np.count_nonzero(bone[..., low : high + 1] & bone[..., doubled - high : doubled - low + 1][..., ::-1])
        if overlap > best_overlap:
            best_overlap, best = overlap, float(x[0] + doubled * step / 2)
    return best


def _coordinates(shape: tuple[int, int, int], axes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Broadcastable RAS x, y, z (mm) grids for a [z, y, x] array."""
    return axes[0][None, None, :], axes[1][None, :, None], axes[2][:, None, None]


def _femoral_head(bone: np.ndarray, depth_mm: np.ndarray, axes, midline: float, sign: int,
                  lowest_mm: float) -> tuple[np.ndarray, float] | None:
    """(centre RAS mm, radius mm) of one femoral head: the deepest bone at the hip joint's distance from the midline.

    The band, not a height, keeps the trochanters out: how much femur lies below the head depends on the field
    of view, the head's distance from the midline does not. Only bone above ``lowest_mm`` (z) is searched: the
    knees of a scan down to the legs lie in the same band and are as thick.
    """
    x, z = axes[0][None, None, :], axes[2][:, None, None]
    offset = sign * (x - midline)
    in_band = (offset > HEAD_BAND_MM[0]) & (offset < HEAD_BAND_MM[1]) & (z >= lowest_mm)
    candidates = np.where(bone & in_band, depth_mm, 0.0)
    if candidates.max() < MIN_HEAD_DEPTH_MM:
        return None  # ribs, a scan above the pelvis: no bone there is thick enough to be a femoral head
    k, j, i = np.unravel_index(int(np.argmax(candidates)), bone.shape)
    radius = float(np.clip(candidates[k, j, i] + SPACING_MM, 18.0, 28.0))
    return np.array([axes[0][i], axes[1][j], axes[2][k]]), radius


def _plausible_heads(heads: dict[str, tuple[np.ndarray, float]]) -> dict[str, tuple[np.ndarray, float]]:
    """Drop the higher of two heads found at very different heights: a scan with one femur has no head on the
    other side, and the deepest bone there is then the ilium, above the joint."""
    if len(heads) == 2 and abs(heads["left"][0][2] - heads["right"][0][2]) > MAX_HEAD_HEIGHT_DIFFERENCE_MM:
        higher = max(heads, key=lambda side: heads[side][0][2])
        log.warning("classical: the %s 'femoral head' lies %.0f mm above the other; taken for the ilium (no %s femur)",
                    higher, abs(heads["left"][0][2] - heads["right"][0][2]), higher)
        return {side: head for side, head in heads.items() if side != higher}
    return heads


def _name_by_position(bone: np.ndarray, axes, midline: float, grid: Volume,
                      ct: Volume) -> tuple[np.ndarray, np.ndarray]:
    """(labels, the canal's strip above the sacrum): where the arches part above the sacrum the canal is no
    enclosed hole, and no bone's envelope closing may bridge it there."""
    labels = np.zeros(bone.shape, np.uint8)
    x, y, z = _coordinates(bone.shape, axes)
    heads = _femoral_heads(bone, axes, midline, grid, ct)
    crest_z = _iliac_crest_z(bone, axes, midline)
    if not heads and crest_z is None:
        log.warning("classical: neither a femoral head nor an iliac crest to count the levels from; nothing is labelled")
        return labels, np.zeros(bone.shape, bool)
    heads_mean = np.mean([centre for centre, _ in heads.values()], axis=0) if heads else None  # RAS mm
    central = np.abs(x - midline) < LATERAL_MM
    crest_or_guess = crest_z if crest_z is not None else float(heads_mean[2]) + 140.0
    central_rows = np.nonzero((bone & central).any(axis=(1, 2)))[0]
    central_top = float(axes[2][central_rows.max()]) if len(central_rows) else -np.inf
    lumbar_in_view = central_top >= crest_or_guess - SACRUM_BELOW_CREST_MM
    s1_top = _l5_s1_disc(bone & central, axes, crest_or_guess) if lumbar_in_view else central_top
    above_disc = _disc_cutter(grid.array, bone, axes, midline)
    below_s1 = ~above_disc(s1_top) if lumbar_in_view else z <= s1_top
    hip_top = crest_z if crest_z is not None else s1_top + 40.0
    for side, sign in (("left", -1), ("right", 1)):
        hip_side = bone & (sign * (x - midline) >= 0) & (z <= hip_top)
        labels[hip_side] = BY_NAME[f"hip_{side}"].value
    labels[bone & _sacrum_region(bone, axes, midline, below_s1, s1_top, heads_mean)] = BY_NAME["sacrum"].value
    _part_hips_at_the_symphysis(labels, np.abs(x - midline) < SYMPHYSIS_BAND_MM)
    from_head = {side: _distance_from(centre, bone.shape, axes) for side, (centre, _) in heads.items()}
    for side, (centre, radius) in heads.items():
        labels[_femur_side(bone, axes, midline, side, centre, radius)] = BY_NAME[f"femur_{side}"].value
        _part_neck_from_socket(labels, bone & (np.sign(x - midline) == (-1 if side == "left" else 1)), side,
                               from_head[side], radius)
    if heads:
        _label_legs_below(labels, bone, axes, midline, heads)
    for side, (_, radius) in heads.items():
        _give_stranded_hip_to_femur(labels, side, from_head[side], radius)
    if not lumbar_in_view:
        log.info("classical: the central bone stops under the iliac crests: no lumbar spine, all of it is sacrum")
        return labels, np.zeros(bone.shape, bool)
    rivals = tuple(BY_NAME[name].value for name in ("hip_left", "hip_right", "sacrum"))
    column = bone & (np.abs(x - midline) < 60.0) & ~below_s1
    label_lumbar_levels(labels, column, axes[2], s1_top, SPACING_MM, rivals, above_disc)
    _keep_sacrum_under_its_facets(labels, z > s1_top + S1_FACET_REACH_MM)
    return labels, ~below_s1 & (np.abs(x - midline) < CANAL_HALF_WIDTH_MM)


def _part_hips_at_the_symphysis(labels: np.ndarray, band: np.ndarray, hu: np.ndarray | None = None) -> None:
    """Name the hip bone near the midline after the side it is joined to, in place: each hip grows into the band
    from its side (a geodesic nearest side), so the split follows the symphysis's gap where the grid shows one. The
    midline plane alone cut a pose-turned pelvis a voxel off the gap, which moved both pubic tubercles 4-7 mm on
    phantoms. With ``hu`` (a CT finer than the work grid) the brightest voxels are flooded first
    (reflood): a 2 mm gap stays above the bone threshold there but is a dark sheet between two cortices
    (TLEM2_MRI's tubercles at 1 mm: 3.5-6.3 mm off when grown through bone voxels first, 1.1-2.1 flooded). Band
    voxels neither side reaches keep their names."""
    hips = np.isin(labels, [BY_NAME["hip_left"].value, BY_NAME["hip_right"].value])
    region = hips & band
    if not region.any():
        return
    if hu is None:
        _regrow(labels, region, hips & ~band)
        return
    reflood(labels, region, np.where(hips & ~band, labels, 0).astype(labels.dtype), hu)


def _regrow(labels: np.ndarray, region: np.ndarray, seeds: np.ndarray) -> None:
    """``grow_into``, except that the region's voxels no seed reaches keep their labels."""
    before = labels[region]
    grow_into(labels, region, seeds)
    after = labels[region]
    labels[region] = np.where(after == 0, before, after)


def _part_hips_on_the_ct(labels: Volume, ct: Volume, midline: float) -> None:
    """The symphysis split again on a CT finer than the work grid, in place: a 2-4 mm gap there is bone on the 3 mm
    grid (ICL_MRI at 1 mm: a tubercle 2.8 mm off), but a dark sheet between two cortices on the CT's own grid."""
    if max(ct.spacing) >= SPACING_MM:
        return
    boxes = ndimage.find_objects(labels.array)
    hips = [boxes[BY_NAME[name].value - 1] for name in ("hip_left", "hip_right") if BY_NAME[name].value <= len(boxes)]
    hips = [box for box in hips if box is not None]
    if not hips:
        return
    box = tuple(slice(min(b[a].start for b in hips), max(b[a].stop for b in hips)) for a in range(3))
    k, j, i = (np.arange(s.start, s.stop, dtype=np.float32).reshape(shape) for s, shape in
               zip(box, ((-1, 1, 1), (1, -1, 1), (1, 1, -1))))
    row = labels.ijk_to_ras()[0].astype(np.float32)
    x = row[0] * i + row[1] * j + row[2] * k + row[3]  # RAS x of each voxel of the hips' box
    _part_hips_at_the_symphysis(labels.array[box], np.abs(x - midline) < SYMPHYSIS_BAND_MM, ct.array[box])


def _part_leg_bones_on_the_ct(labels: Volume, ct: Volume, grid_spacing_mm: float) -> None:
    """The legs' neighbouring bones parted again at the CT's own resolution, when finer than the work grid."""
    if max(ct.spacing) < grid_spacing_mm:
        part_leg_bones_on_the_ct(labels.array, ct.array, np.asarray(ct.spacing, float)[::-1])


def _femoral_heads(bone: np.ndarray, axes, midline: float, grid: Volume, ct: Volume) -> dict[str, tuple[np.ndarray, float]]:
    """{side: (centre RAS mm, radius mm)} of the femoral heads found and wholly above the field of view's bottom.

    The masks live on the 3 mm ``grid``; the head's edges are read on the ``ct`` itself. On a thin-slice CT the
    3 mm grid is a point sample of it, not an average: its thin cortex and joint space alias, and the searches on
    it put the sample's heads 17-20 mm off when the sample was resampled to 1-2 mm (left femur lost)."""
    depth_mm = ndimage.distance_transform_edt(bone) * SPACING_MM
    pelvis_bottom = _pelvis_bottom(bone, axes, midline)
    heads = {side: _femoral_head(bone, depth_mm, axes, midline, sign, pelvis_bottom - HEAD_BELOW_PELVIS_MM)
             for side, sign in (("left", -1), ("right", 1))}
    heads = _plausible_heads({side: head for side, head in heads.items() if head is not None})
    bone_on_grid = replace(grid, array=bone.astype(np.uint8))
    heads = {side: (refine_head_centre(ct, bone_on_grid, centre), radius) for side, (centre, radius) in heads.items()}
    heads = {side: _head_on_edges(ct, grid, bone, axes, midline, side, *head) for side, head in heads.items()}
    return {side: head for side, head in heads.items() if _head_in_view(side, *head, float(axes[2][0]))}


def _head_in_view(side: str, centre: np.ndarray, radius: float, bottom_z: float) -> bool:
    """Whether a head's lower half is in view, as a femoral head's is: the neck leaves it downwards.

    A scan that stops above the hip joints (a lumbar CT) or cuts through them still has thick bone at the
    head's distance from the midline, the acetabular roof or the ilium, and its "head" lies at the bottom of
    the field of view (0-17 mm above it on crops of the sample, radius 12-21 mm): no femur is invented there.
    """
    if centre[2] - bottom_z >= radius:
        return True
    log.warning("classical: the %s 'femoral head' lies %.0f mm above the bottom of the field of view, less than its "
                "%.0f mm radius: taken for the acetabular roof or the ilium (no %s femur in view)",
                side, centre[2] - bottom_z, radius, side)
    return False


def _sacrum_region(bone: np.ndarray, axes, midline: float, below_s1: np.ndarray, s1_top: float,
                   heads_mean: np.ndarray | None) -> np.ndarray:
    """Where bone is sacrum: central, under the L5/S1 disc (``below_s1``), behind the femoral heads (the hip
    bones' pubic parts lie in front of them) and above 30 mm under them (the coccyx tip). Without heads in view
    (a lumbar CT), behind the front of the vertebral bodies at the disc, at any height."""
    x, y, z = _coordinates(bone.shape, axes)
    region = (np.abs(x - midline) < SACRUM_HALF_WIDTH_MM) & below_s1
    if heads_mean is not None:
        return region & (y < heads_mean[1]) & (z > heads_mean[2] - 30.0)
    near_disc = bone & (np.abs(x - midline) < 12.0) & (np.abs(z - s1_top) <= 20.0)
    return region & (y <= np.broadcast_to(y, bone.shape)[near_disc].max()) if near_disc.any() else region


def _femur_side(bone: np.ndarray, axes, midline: float, side: str, centre: np.ndarray, radius: float) -> np.ndarray:
    """The bone of one femur: the head sphere and the lateral bone below its centre, on its side of the midline."""
    x, _, z = _coordinates(bone.shape, axes)
    sign = -1 if side == "left" else 1
    in_head = _distance_from(centre, bone.shape, axes) <= radius
    below_lateral = (z < centre[2]) & (sign * (x - centre[0]) > -5.0)
    return bone & (sign * (x - midline) > 0) & (in_head | below_lateral)


def _distance_from(point: np.ndarray, shape: tuple[int, int, int], axes) -> np.ndarray:
    """Distance (mm) of every cell of a [z, y, x] grid from the RAS ``point``."""
    x, y, z = _coordinates(shape, axes)
    return np.sqrt((x - point[0]) ** 2 + (y - point[1]) ** 2 + (z - point[2]) ** 2)


def _part_neck_from_socket(labels: np.ndarray, own_side: np.ndarray, side: str, from_head: np.ndarray,
                           radius: float) -> None:
    """Name the bone around one femoral head (HEAD_EDGE_MARGIN_MM to NECK_SHELL_MM beyond its sphere) after what it
    is joined to, in place: the femur grows in from its trochanters and shaft, the hip bone from the pelvis beyond,
    the head and the margin around it being in neither's way. The split's plane (femur below the head centre,
    lateral to it) gave the femur the socket's lower rim, which pulled the neck axis up to 10 mm / 20 deg off on
    phantoms. The margin stays as the plane named it: the landmarks refine the head on its edges, skipping the rays
    that meet the hip bone, and a rim given back there moved the sample's right head centre 1.3 -> 2.6 mm."""
    pair = own_side & np.isin(labels, [BY_NAME[f"femur_{side}"].value, BY_NAME[f"hip_{side}"].value])
    shell = pair & (from_head > radius + HEAD_EDGE_MARGIN_MM) & (from_head < radius + NECK_SHELL_MM)
    _regrow(labels, shell, pair & (from_head >= radius + NECK_SHELL_MM))


def _give_stranded_hip_to_femur(labels: np.ndarray, side: str, from_head: np.ndarray, radius: float) -> None:
    """Small pieces of the hip bone's label (<= STRANDED_SHARE of its largest) that touch the femur beyond the neck's
    shell (NECK_SHELL_MM from the head's sphere) are femur, in place: the bone above the head centre is hip bone by
    the split's plane, which on a femur raised by the pose took the greater trochanter's tip, then dropped as a stray
    piece (7 mm on a phantom). Nearer the head, pieces are the socket's rim (given to the femur, they moved the
    acetabulum centres of 1 mm phantoms 1-3 mm)."""
    hip, femur = BY_NAME[f"hip_{side}"].value, BY_NAME[f"femur_{side}"].value
    pieces, count = ndimage.label(labels == hip)
    if count < 2:
        return
    sizes = np.bincount(pieces.ravel())
    sizes[0] = 0
    small = np.nonzero(sizes <= STRANDED_SHARE * sizes.max())[0]
    near_head = from_head < radius + NECK_SHELL_MM
    touching = np.unique(pieces[ndimage.binary_dilation(labels == femur) & (pieces > 0)])
    by_the_head = np.unique(pieces[near_head & (pieces > 0)])
    labels[np.isin(pieces, np.setdiff1d(np.intersect1d(touching, small), by_the_head))] = femur


def _head_on_edges(ct: Volume, grid: Volume, bone: np.ndarray, axes, midline: float, side: str, centre: np.ndarray,
                   radius: float) -> tuple[np.ndarray, float]:
    """(centre, radius) of one head fitted to its edges against soft tissue (ct_anatomy), HEAD_EDGE_ROUNDS
    times: the bone the current split leaves to the hip marks the rays under the socket, which a better split
    marks better. The shell search's centre sits towards the socket (5 / 4.5 mm off on the sample) and its depth
    radius is 2-4 mm small; the split keeps them where the CT gives no reliable edge."""
    sign = -1 if side == "left" else 1
    x = axes[0][None, None, :]
    for _ in range(HEAD_EDGE_ROUNDS):
        hip = bone & (sign * (x - midline) > 0) & ~_femur_side(bone, axes, midline, side, centre, radius)
        in_hip = volume_sampler(replace(grid, array=hip.astype(np.uint8)), order=0)
        fit = refine_head_on_ct(ct, lambda points: in_hip(points) > 0, centre, radius)
        if isinstance(fit, str):
            log.info("classical: %s femoral head kept from the shell search: %s", side, fit)
            break
        centre, radius = fit.centre, min(fit.radius, MAX_HEAD_RADIUS_MM)
    return centre, radius


def _pelvis_bottom(bone: np.ndarray, axes, midline: float) -> float:
    """Lowest z (mm) of the midline bone that runs down from the top (spine, sacrum, coccyx, pubic symphysis),
    gaps up to MIDLINE_GAP_MM allowed: the feet of a long-leg scan may also cross the midline, far below."""
    on_midline = bone[..., np.abs(axes[0] - midline) < CANAL_HALF_WIDTH_MM].any(axis=(1, 2))
    rows = np.nonzero(on_midline)[0][::-1]
    if not len(rows):
        return float(axes[2][0])
    gaps = np.nonzero(np.abs(np.diff(axes[2][rows])) > MIDLINE_GAP_MM)[0]
    return float(axes[2][rows[gaps[0]] if len(gaps) else rows[-1]])


def _label_legs_below(labels: np.ndarray, bone: np.ndarray, axes, midline: float,
                      heads: dict[str, tuple[np.ndarray, float]]) -> None:
    """A scan that reaches the knees: each leg below mid-femur is named by the knee rules, in place.

    The pelvis rules give a femur everything below its head on its side, which on a hip-to-ankle scan would be
    the whole leg. Pelvis-only scans (femurs cut within LEG_IN_VIEW_MM of the heads) are left as they are.
    """
    head_z = float(np.mean([centre[2] for centre, _ in heads.values()]))
    if axes[2][np.nonzero(bone.any(axis=(1, 2)))[0].min()] > head_z - LEG_IN_VIEW_MM:
        return
    below = axes[2] < head_z - LEG_CUT_BELOW_HEAD_MM
    labels[below] = 0
    for side, leg in _legs_by_side(bone & below[:, None, None], axes[0], midline, tuple(heads)).items():
        if leg.any():
            label_leg(labels, leg, axes, side, SPACING_MM)


def _legs_by_side(legs: np.ndarray, x_mm: np.ndarray, midline: float,
                  femur_sides: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Each leg's bone. Two legs apart are the two largest pieces when side by side, the left one farther left,
    and every other piece (a patella, a femur parted from its tibia) joins the nearer one: a whole leg tilted a few
    degrees in the scan, or feet together, puts an ankle across the pelvis's midline (a phantom's right medial
    malleolus became fibula_left), and legs tilted more put a whole shank there. Without two legs apart, a scan
    with one femur has one leg (a tilted one crossed the midline at the shank); legs that touch (knees or feet
    together) are split at the midline."""
    apart = _two_legs_apart(legs, x_mm)
    if apart is not None:
        return apart
    if len(femur_sides) == 1:
        return {femur_sides[0]: legs}
    x = x_mm[None, None, :]
    return {"left": legs & (x < midline), "right": legs & (x > midline)}


def _two_legs_apart(legs: np.ndarray, x_mm: np.ndarray) -> dict[str, np.ndarray] | None:
    """{side: bone} when the two largest bone pieces are of comparable size (LEG_PIECE_SHARE) and side by side;
    every other piece joins the nearer of them. None otherwise."""
    pieces, count = ndimage.label(legs)
    if count < 2:
        return None
    sizes = np.bincount(pieces.ravel())[1:]
    first, second = np.argsort(sizes)[::-1][:2] + 1
    if sizes[second - 1] < LEG_PIECE_SHARE * sizes[first - 1]:
        return None
    masks = {piece: pieces == piece for piece in (first, second)}
    if not _side_by_side(masks[first], masks[second]):
        return None
    centroid_x = {piece: float(x_mm[np.nonzero(mask)[2]].mean()) for piece, mask in masks.items()}
    left, right = sorted(centroid_x, key=centroid_x.get)
    nearer_left = ndimage.distance_transform_edt(pieces != left) <= ndimage.distance_transform_edt(pieces != right)
    return {"left": legs & nearer_left, "right": legs & ~nearer_left}


def _side_by_side(one: np.ndarray, other: np.ndarray) -> bool:
    """Whether two bone pieces share most of their height (two legs), not one above the other (a femur and the tibia
    of a one-legged scan, parted at the knee)."""
    heights = [np.nonzero(piece.any(axis=(1, 2)))[0] for piece in (one, other)]
    shared = min(h.max() for h in heights) - max(h.min() for h in heights) + 1
    return shared >= LEG_PIECE_SHARE * min(np.ptp(h) + 1 for h in heights)


def _close_envelopes(labels: np.ndarray, allowed: np.ndarray, spacing_mm: float) -> None:
    """Close each bone's label (``ENVELOPE_CLOSING_MM``) and fill its axial sections, in place.

    Only unlabelled ``allowed`` voxels (denser than fat, outside the spinal canal) join a bone, so no bone
    takes another's voxels and the sacral canal stays open.
    """
    step = ndimage.generate_binary_structure(3, 1)
    for name, radius_mm in ENVELOPE_CLOSING_MM.items():
        value = BY_NAME[name].value
        radius = int(round(radius_mm / spacing_mm))
        box = ndimage.find_objects((labels == value).astype(np.uint8))
        if not box:
            continue
        box = tuple(slice(max(s.start - radius, 0), s.stop + radius) for s in box[0])
        mask = np.pad(labels[box] == value, radius)
        closed = ndimage.binary_closing(mask, ndimage.iterate_structure(step, radius))[(slice(radius, -radius),) * 3]
        envelope = fill_axial_sections(closed)
        region = labels[box]
        region[envelope & (region == 0) & allowed[box]] = value


def _iliac_crest_z(bone: np.ndarray, axes, midline: float) -> float | None:
    """Mean top z (mm) of the largest lateral bone piece on each side that is an ilium, None without one.

    The ilium is a broad plate: some axial section of it covers >= ILIUM_MIN_SECTION_MM2 even when only its crest
    is in view (870-4500 mm2 on crops of the sample). A rib crosses the axial planes as a small oval (<= 470 mm2 on
    the sample's lower ribs and on its upper-abdomen crop), so a scan above the pelvis has no crest.
    """
    x = axes[0][None, None, :]
    tops = []
    for sign in (-1, 1):
        components, count = ndimage.label(bone & (sign * (x - midline) > 60.0))
        if count:
            sizes = np.bincount(components.ravel())
            sizes[0] = 0
            largest = components == int(np.argmax(sizes))
            if largest.sum(axis=(1, 2)).max() * SPACING_MM**2 >= ILIUM_MIN_SECTION_MM2:
                tops.append(axes[2][np.nonzero(largest.any(axis=(1, 2)))[0].max()])
    return float(np.mean(tops)) if tops else None


def _disc_cutter(ct_hu: np.ndarray, bone: np.ndarray, axes, midline: float) -> Callable[[float], np.ndarray]:
    """A function of a disc's height (mm, from the bodies' area minima) that gives where the grid lies above that
    disc: above its tilted plane (disc_plane.py) in front of the vertebral bodies' back; behind it, where the arch
    has no disc, above the plane's height at the bodies' back within ARCH_HALF_WIDTH_MM of the midline (the lower
    body's posterior rim rises to there) and above the disc's height farther out; above the disc's height
    everywhere when the CT shows no tilted disc."""
    x, y, z = _coordinates(bone.shape, axes)

    def above(disc_z: float) -> np.ndarray:
        near_disc = bone & (np.abs(x - midline) < LATERAL_MM) & (np.abs(z - disc_z) <= 20.0)
        body_back = float(np.median(np.broadcast_to(y, bone.shape)[near_disc])) if near_disc.any() else -np.inf
        disc = find_tilted_disc(ct_hu, bone, axes, midline, disc_z, body_back)
        if disc is None:
            return np.broadcast_to(z > disc_z, bone.shape)
        log.info("classical: the disc near z = %.0f mm tilts %.1f deg (%.0f HU darker than its endplates)",
                 disc_z, disc.tilt_deg, disc.contrast_hu)
        back_z = max(disc.height_at(body_back), disc_z)
        behind = np.where(np.abs(x - midline) < ARCH_HALF_WIDTH_MM, z > back_z, z > disc_z)
        return np.where(y >= body_back, disc.above(y, z), behind)

    return above


def _keep_sacrum_under_its_facets(labels: np.ndarray, too_high: np.ndarray) -> None:
    """Give the sacrum's voxels in ``too_high`` to the lumbar vertebrae they touch, in place.

    The sacrum competes with L5 for the arch above the disc and climbs through the fused facet joints into L5's
    inferior articular processes and lamina (on the sample up to 42 mm above the disc; the reference's S1 ends
    21 mm above it), which breaks the ring of L5's canal."""
    climbed = (labels == BY_NAME["sacrum"].value) & too_high
    labels[climbed] = 0
    grow_into(labels, climbed, np.isin(labels, LUMBAR_VALUES) & ~climbed)


def _l5_s1_disc(column: np.ndarray, axes, crest_z: float) -> float:
    """z (mm) of the L5/S1 disc, one disc below L4/L5, which lies at the iliac crests (Tuffier's line)."""
    discs = [float(axes[2][d]) for d in disc_slices(column, SPACING_MM)]
    if not discs:
        return crest_z - VERTEBRA_PITCH_MM
    l4_l5 = min(discs, key=lambda z: abs(z - crest_z))
    below = [z for z in discs if 0.5 * VERTEBRA_PITCH_MM < l4_l5 - z < 1.6 * VERTEBRA_PITCH_MM]
    return max(below) if below else l4_l5 - VERTEBRA_PITCH_MM
