"""Lumbar landmarks (L1-L5) from vertebra label masks: body centre, pedicle isthmus centres, axes and widths.

A vertebra is handled as a cloud of points sampled every SAMPLE_MM inside its smoothed mask (the same
Gaussian as ``surfaces.label_surface``), expressed in the vertebra's own frame:

- superior: bisector of the normals of the body's two endplates (planes fitted to the top and bottom of its
  central columns), signed towards the next cranial vertebra (or the scan's superior for a lone vertebra);
- left: normal of the vertebra's plane of bilateral symmetry (the plane that mirrors the vertebra best onto
  itself, searched around the line body centre -> canal centre);
- posterior = superior x left, so laterality follows the vertebra, not RAS x.

The body is the part of the vertebra anterior to the spinal canal (the largest hole bone encloses in axial
slabs) on the midsagittal line. The pedicle is cut by coronal slabs of one side from the canal's anterior
wall back to the slab where the arch widens most (the root of the transverse and articular processes); its
centre is the centroid of those slabs under soft-minimum weights of their areas, its axis aims at the body
centre, and its width and height are chords of the coronal slab through the centre. A pair of pedicle centres that
cannot be right (not mirror images of each other, or below the body's mid-height) is reported missing, never handed
on. See docs/landmarks.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import ndimage, optimize

from ..imaging.volume import Volume
from ..planning.frames import unit
from .model import Landmark, LandmarkSet
from .surfaces import MASK_SMOOTHING_VOXELS

LEVELS = ("L1", "L2", "L3", "L4", "L5")
SIDES = ("left", "right")
SAMPLE_MM = 0.75
SCAN_SUPERIOR = np.array([0.0, 0.0, 1.0])
# Half-width of the midsagittal strip on which the canal's anterior and posterior walls are read.
MIDLINE_MM = 2.0
# Axial slabs within this height of the body centre are searched for the canal (a hole enclosed by bone).
CANAL_SEARCH_MM, MIN_CANAL_AREA_MM2 = 10.0, 20.0
# The endplates are fitted on the body's columns (cells of this size) within this radius of the body centre.
ENDPLATE_CORE_MM, ENDPLATE_CELL_MM = 12.0, 1.5
# Largest angle between the endplates' bisector and the column's axis (the hint): a lumbar body's endplates tilt
# ~5-20 deg from it. Beyond this the fit read something else as an endplate (a neighbour's bone in a level cut in
# the wrong place, a cropped mask's cut face) and is not used: it turned the frame off the canal.
MAX_ENDPLATE_TILT_DEG = 40.0
# Points (about) used to fit the plane of symmetry.
SYMMETRY_SAMPLES = 4000
# Mirror distances count up to this (mm) in the plane of symmetry's fit.
SYMMETRY_CAP_MM = 4.0
# Grid of the plane's search around the start: (limit, count) of yaw (deg), roll (deg) and shift (mm).
SYMMETRY_SEARCH = ((15.0, 21), (6.0, 5), (4.0, 9))
# Points closer than this to the midsagittal plane belong to neither side's pedicle.
SIDE_GAP_MM = 2.0
# Slab step and thickness along the posterior axis for the pedicle search.
SLAB_MM = 1.0
# Slabs whose area exceeds the smallest by this fraction weigh 1/e as much in the isthmus (a soft minimum).
ISTHMUS_SOFTNESS = 0.1
# Largest in-plane distance from the pedicle centre of a point counted in its cross-section.
SECTION_RADIUS_MM = 10.0
# Left and right pedicle centres mirror each other across the plane of symmetry: within 0.2-2.7 mm on the sample
# (TotalSegmentator's and the fallback's labels, L1-L4) and up to 7 mm on VerSe's L5 at 3 mm (both within 1.3 mm of
# the 1 mm ones); 12-20 mm where the fallback's L5 label put one pedicle 19-21 mm off.
MAX_PEDICLE_MIRROR_GAP_MM = 10.0
# The pedicles arise from the body's upper half: their centres lie 1-5 mm above the body centre on the sample
# (TotalSegmentator's and the fallback's labels) and on VerSe, at 1 and 3 mm. A centre this far below it sits on
# something else (L1 on a variant of the fallback's labels: 8-12 mm below it and 3-27 mm off).
MAX_PEDICLE_BELOW_BODY_MM = 4.0


@dataclass(frozen=True)
class VertebraCloud:
    """Points (N, 3) RAS mm inside one vertebra; ``at_edge`` marks points in the grid's outermost voxel."""

    points: np.ndarray
    at_edge: np.ndarray


@dataclass(frozen=True)
class VertebraFrame:
    """Body centre (RAS mm) and unit axes; local coordinates are (left, posterior, superior) mm."""

    origin: np.ndarray
    left: np.ndarray
    posterior: np.ndarray
    superior: np.ndarray

    @property
    def axes(self) -> np.ndarray:
        return np.array([self.left, self.posterior, self.superior])

    def local(self, points: np.ndarray) -> np.ndarray:
        return (np.asarray(points) - self.origin) @ self.axes.T

    def ras(self, local: np.ndarray) -> np.ndarray:
        return np.asarray(local) @ self.axes + self.origin


def vertebra_cloud(labels: Volume, value: int) -> VertebraCloud | None:
    """Points every SAMPLE_MM inside the smoothed mask of ``value`` (None when the label is absent)."""
    mask = labels.array == value
    if not mask.any():
        return None
    spacing_kji = np.array(labels.spacing[::-1], dtype=float)
    field = ndimage.gaussian_filter(mask.astype(np.float32), MASK_SMOOTHING_VOXELS)
    occupied = np.nonzero(field > 0.25)
    low = np.array([index.min() for index in occupied], dtype=float)
    high = np.array([index.max() for index in occupied], dtype=float)
    axes = [np.arange(lo, hi + 1e-6, SAMPLE_MM / step) for lo, hi, step in zip(low, high, spacing_kji)]
    kji = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    inside = ndimage.map_coordinates(field, kji.T, order=1, mode="constant") > 0.5
    kji = kji[inside]
    shape = np.array(mask.shape)
    at_edge = np.any((kji < 1.0) | (kji > shape - 2.0), axis=1)
    return VertebraCloud(labels.ras_of_index(kji[:, ::-1]), at_edge)


def vertebra_frame(points: np.ndarray, superior_hint: np.ndarray, iterations: int = 4) -> tuple[VertebraFrame, float, float] | None:
    """The vertebra's frame and the canal's anterior/posterior walls (local posterior mm); None without a canal.

    Starts from the thickest part of the vertebra (inside the body) and ``superior_hint``. Each pass aims the
    posterior axis from the body centre through the canal's centre (both lie on the plane of symmetry), re-takes
    the body as everything anterior to the canal, and the bisector of its endplates' normals as the superior
    axis. The left axis is then refined to the normal of the vertebra's plane of bilateral symmetry."""
    hint = unit(superior_hint)
    centre, superior = points[_thickest_part(points)].mean(axis=0), hint
    for _ in range(iterations):
        seed = VertebraFrame(centre, *_axes(points.mean(axis=0) - centre, superior))
        canal = _canal(seed.local(points))
        if canal is None:
            return None
        frame = VertebraFrame(centre, *_axes(seed.ras(canal.mean(axis=0)) - centre, superior))
        body = points[frame.local(points)[:, 1] < _canal_walls(frame.local(seed.ras(canal)))[0]]
        centre = body.mean(axis=0)
        fitted = _endplate_axis(body, VertebraFrame(centre, frame.left, frame.posterior, frame.superior))
        if np.degrees(np.arccos(np.clip(fitted @ hint, -1.0, 1.0))) <= MAX_ENDPLATE_TILT_DEG:
            superior = fitted
    left = _symmetry_normal(points, VertebraFrame(centre, *_axes(frame.posterior, superior)))
    posterior = unit(np.cross(superior, left))
    frame = VertebraFrame(centre, left, posterior, np.cross(left, posterior))
    canal = _canal(frame.local(points))
    if canal is None:
        return None
    return frame, *_canal_walls(canal)


def _canal_walls(canal: np.ndarray) -> tuple[float, float]:
    """Anterior and posterior walls (local posterior mm) of the canal points, read on the midsagittal strip."""
    midline = canal[np.abs(canal[:, 0]) < MIDLINE_MM, 1]
    depths = midline if len(midline) else canal[:, 1]
    return float(depths.min()), float(depths.max())


def _symmetry_normal(points: np.ndarray, frame: VertebraFrame) -> np.ndarray:
    """Normal (RAS, on the side of ``frame.left``) of the plane that best mirrors the vertebra onto itself.

    The plane minimises the mean squared distance from each mirrored point to the vertebra, capped at
    SYMMETRY_CAP_MM so that asymmetric parts (transverse processes of unequal length, a cut field of view) weigh
    no more than that; it is searched on a grid of turns and shifts of the frame's midsagittal plane, then
    refined. Mirror-ICP (nearest-point pairs, worst 20 % left out) stopped about where it started, and its
    start (body centre -> canal centre) moved with the segmentation: L5's plane differed by 4-7 deg between
    two segmentations or voxel sizes, which moved its pedicle centres 2-3 mm."""
    distance = _distance_field(points)
    subset = points[:: max(1, len(points) // SYMMETRY_SAMPLES)]

    def mismatch(turn: np.ndarray) -> float:
        normal, offset = _turned_plane(frame, *turn)
        mirrored = subset - 2.0 * (subset @ normal - offset)[:, None] * normal
        return float(np.mean(np.minimum(distance(mirrored), SYMMETRY_CAP_MM) ** 2))

    grid = np.stack(np.meshgrid(*(np.linspace(-limit, limit, count) for limit, count in SYMMETRY_SEARCH),
                                indexing="ij"), axis=-1).reshape(-1, 3)
    start = grid[np.argmin([mismatch(turn) for turn in grid])]
    best = optimize.minimize(mismatch, start, method="Nelder-Mead", options={"xatol": 0.05, "fatol": 1e-4}).x
    return _turned_plane(frame, *best)[0]


def _turned_plane(frame: VertebraFrame, yaw_deg: float, roll_deg: float, shift_mm: float) -> tuple[np.ndarray, float]:
    """Normal and offset (normal . x = offset) of the frame's midsagittal plane turned ``yaw_deg`` about the
    superior axis, then ``roll_deg`` about the posterior axis, and shifted ``shift_mm`` along its normal."""
    yaw, roll = np.radians(yaw_deg), np.radians(roll_deg)
    normal = np.cos(yaw) * frame.left + np.sin(yaw) * frame.posterior
    normal = np.cos(roll) * normal + np.sin(roll) * frame.superior
    return normal, float(normal @ frame.origin + shift_mm)


def _distance_field(points: np.ndarray, step: float = 1.0) -> Callable[[np.ndarray], np.ndarray]:
    """Distance (mm, trilinear) from any RAS position to the nearest cell of ``points`` rastered at ``step``."""
    grid, low = _raster(points, step)
    margin = int(np.ceil(SYMMETRY_CAP_MM / step)) + 1  # beyond it every distance is capped anyway
    distance = ndimage.distance_transform_edt(~np.pad(grid, margin)) * step
    low = low - margin * step
    return lambda positions: ndimage.map_coordinates(distance, ((positions - low) / step).T, order=1,
                                                     mode="nearest")


def _endplate_axis(body: np.ndarray, frame: VertebraFrame, iterations: int = 8, tolerance_deg: float = 0.5) -> np.ndarray:
    """Bisector (RAS) of the normals of planes fitted to the top and bottom of the body's central columns,
    re-fitted in the columns of each new estimate (one fit only goes part of the way on a tilted L5).

    The body's least-spread axis is a near-tie (a lumbar body is about as high as it is deep) that tilted
    25-50 deg on L5, whose wedge and pedicle roots skew it; the endplates stay flat."""
    superior = frame.superior
    body = body[np.linalg.norm(body - frame.origin, axis=1) < 2.5 * ENDPLATE_CORE_MM]  # the core at any tilt
    for _ in range(iterations):
        frame = VertebraFrame(frame.origin, *_axes(frame.posterior, superior))
        previous, superior = superior, _endplate_bisector(frame, body)
        if superior @ previous > np.cos(np.radians(tolerance_deg)):
            break
    return superior


def _endplate_bisector(frame: VertebraFrame, body: np.ndarray) -> np.ndarray:
    """One fit: the bisector (RAS) of the top and bottom planes of the body's columns along ``frame.superior``."""
    local = frame.local(body)
    core = local[np.hypot(local[:, 0], local[:, 1]) < ENDPLATE_CORE_MM]
    cells = np.round(core[:, :2] / ENDPLATE_CELL_MM).astype(int)
    cells -= cells.min(axis=0)
    keys, column = np.unique(cells[:, 0] * (cells[:, 1].max() + 1) + cells[:, 1], return_inverse=True)
    top = np.full(len(keys), -np.inf)
    bottom = np.full(len(keys), np.inf)
    np.maximum.at(top, column, core[:, 2])
    np.minimum.at(bottom, column, core[:, 2])
    plane_xy = np.c_[np.divmod(keys, cells[:, 1].max() + 1)] * ENDPLATE_CELL_MM  # cell offsets tilt no plane
    normals = [_plane_normal(plane_xy, heights) for heights in (top, bottom)]
    return unit((normals[0] + normals[1]) @ frame.axes)


def _plane_normal(xy: np.ndarray, heights: np.ndarray, trim_mm: float = 1.5) -> np.ndarray:
    """Unit normal (pointing to +height) of the plane height = a x + b y + c, refitted without the cells
    farther than ``trim_mm`` from the first fit (osteophytes, the concave endplate centre's rim)."""
    design = np.c_[xy, np.ones(len(xy))]
    keep = np.ones(len(xy), dtype=bool)
    for _ in range(2):
        coefficients = np.linalg.lstsq(design[keep], heights[keep], rcond=None)[0]
        keep = np.abs(design @ coefficients - heights) < trim_mm
    return unit(np.array([-coefficients[0], -coefficients[1], 1.0]))


def _axes(backwards: np.ndarray, superior: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(left, posterior, superior) unit axes: posterior = ``backwards`` made perpendicular to ``superior``."""
    posterior = unit(backwards - (backwards @ superior) * superior)
    return np.cross(posterior, superior), posterior, superior


def _thickest_part(points: np.ndarray, radius_mm: float = 12.0) -> np.ndarray:
    """Points within ``radius_mm`` of the point farthest from the vertebra's surface: a seed inside the body."""
    grid, low = _raster(points, 2.0)
    depth = ndimage.distance_transform_edt(grid)
    deepest = np.array(np.unravel_index(np.argmax(depth), depth.shape)) * 2.0 + low
    return np.linalg.norm(points - deepest, axis=1) < radius_mm


def _raster(points: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Occupancy image of ``points`` (cells of ``step`` mm, one empty cell of margin) and its cell-0 position."""
    low = points.min(axis=0) - step
    cells = np.round((points - low) / step).astype(int)
    grid = np.zeros(cells.max(axis=0) + 2, dtype=bool)
    grid[tuple(cells.T)] = True
    return grid, low


def _canal(local: np.ndarray) -> np.ndarray | None:
    """Points (local mm, 1 mm cells) of the canal: in each axial slab behind the body centre, the largest hole
    that bone encloses (smaller ones are cavities of the mask, e.g. inside the body)."""
    holes = []
    for height in np.arange(-CANAL_SEARCH_MM, CANAL_SEARCH_MM + 1e-6, 2.0):
        slab = local[(np.abs(local[:, 2] - height) < 1.0) & (local[:, 1] > 0.0)]
        if len(slab) == 0:
            continue
        image, low = _raster(slab[:, :2], 1.0)
        image = ndimage.binary_closing(image) | image
        components, count = ndimage.label(ndimage.binary_fill_holes(image) & ~image)
        if count == 0:
            continue
        sizes = np.bincount(components.ravel())[1:]
        if sizes.max() >= MIN_CANAL_AREA_MM2:
            cells = np.argwhere(components == np.argmax(sizes) + 1) * 1.0 + low
            holes.append(np.c_[cells, np.full(len(cells), height)])
    return np.concatenate(holes) if holes else None


@dataclass(frozen=True)
class Pedicle:
    centre: np.ndarray  # RAS mm
    axis: np.ndarray  # unit, RAS, from the isthmus centre towards the body centre
    width_mm: float  # transverse (medio-lateral) chord of the isthmus slab through the centre
    height_mm: float  # cranio-caudal chord of the isthmus slab through the centre
    touches_edge: bool


def find_pedicle(cloud: VertebraCloud, local: np.ndarray, frame: VertebraFrame, anterior_wall: float,
                 posterior_wall: float, side: str) -> Pedicle | None:
    """The pedicle of ``side``: coronal 1 mm slabs from the canal's anterior wall back to the root of the
    transverse and articular processes (``_processes_root``) cut the pedicle; the centre is the mean of the
    slabs' centroids, each weighted by how close its area is to the smallest (a soft minimum: an argmin jumped
    between near-tied slabs). The axis aims from that centre at the body centre: the pedicle's own long axis
    is a near-tie on short, wide pedicles (it turned up to 61 deg between two segmentations of one L5)."""
    sign = 1.0 if side == "left" else -1.0
    on_side = local[:, 0] * sign > SIDE_GAP_MM
    positions = np.arange(anterior_wall, posterior_wall + 1e-6, SLAB_MM)
    slabs = [on_side & (np.abs(local[:, 1] - position) < SLAB_MM / 2) for position in positions]
    areas = np.array([slab.sum() for slab in slabs], dtype=float)
    if len(areas) < 3 or (areas == 0).any():
        return None
    pedicle = slice(0, _processes_root(areas) + 1)
    weights = np.exp(-(areas[pedicle] / areas[pedicle].min() - 1.0) / ISTHMUS_SOFTNESS)
    centroids = np.array([local[slab].mean(axis=0) for slab in slabs[pedicle]])
    centre = weights @ centroids / weights.sum()
    section = _section(local, on_side, centre)
    if not section.any():
        return None
    width, height = _chords(local[section] - centre)
    return Pedicle(frame.ras(centre), unit(-centre @ frame.axes), width, height, bool(cloud.at_edge[section].any()))


def _processes_root(areas: np.ndarray) -> int:
    """Index of the slab where the arch widens most above the narrowest slab in front of it: the root of the
    transverse and articular processes. The plain widest slab was at times the first, which takes in the
    back of the body (a wide body lip at 3 mm, L1 of a third segmentation): the pedicle shrank to one slab."""
    return int(np.argmax(areas - np.minimum.accumulate(areas)))


def _section(local: np.ndarray, on_side: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Points of the coronal slab through ``centre`` that form the bony region around it (within
    SECTION_RADIUS_MM: the section of the pedicle, not of the whole side of the arch)."""
    offset = local - centre
    slab = on_side & (np.abs(offset[:, 1]) < SLAB_MM / 2) & (np.hypot(offset[:, 0], offset[:, 2]) < SECTION_RADIUS_MM)
    if not slab.any():
        return slab
    image, cells, low = _coronal_raster(offset[slab])
    components, _ = ndimage.label(image)
    own = components[tuple(cells.T)]
    keep = np.zeros_like(slab)
    keep[np.flatnonzero(slab)[own == own[np.argmin(np.hypot(*(cells + low).T))]]] = True
    return keep


def _coronal_raster(offset: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image, cells, low): a coronal slab's points (``offset`` local mm) rastered in SAMPLE_MM cells of (left,
    superior), closed over one cell and filled, each point's cell, and the offset (cells) of image cell (0, 0).
    The vertebra's sample lattice, turned into the local frame, leaves single empty cells inside a slab; a mask
    whose pedicle marrow stayed out (the fallback's at 3 mm) leaves a hole in its section."""
    cells = np.round(offset[:, [0, 2]] / SAMPLE_MM).astype(int)
    low = cells.min(axis=0)
    cells -= low
    image = np.zeros(cells.max(axis=0) + 1, dtype=bool)
    image[tuple(cells.T)] = True
    return ndimage.binary_fill_holes(ndimage.binary_closing(image) | image), cells, low


def _chords(offset: np.ndarray) -> tuple[float, float]:
    """Transverse width and height (mm) of a coronal section (``offset`` from its centre, local mm): the runs of
    its outline's raster through the covered cell nearest the centre (the old chords of the samples themselves
    gave the fallback's L1 a 0 mm width and height: its centre lay in the unfilled marrow of a ring)."""
    image, _, low = _coronal_raster(offset)
    covered = np.argwhere(image)
    row, column = covered[np.argmin(np.hypot(*(covered + low).T))]
    return _run_length(image[:, column], row) * SAMPLE_MM, _run_length(image[row, :], column) * SAMPLE_MM


def _run_length(line: np.ndarray, index: int) -> int:
    """Number of consecutive True cells of ``line`` in the run that contains ``index``."""
    low, high = index, index
    while low > 0 and line[low - 1]:
        low -= 1
    while high + 1 < len(line) and line[high + 1]:
        high += 1
    return high - low + 1


def lumbar_landmarks(clouds: Mapping[str, VertebraCloud], method_prefix: str = "") -> LandmarkSet:
    """Body centre and left/right pedicle landmarks of L1-L5 from ``clouds`` (level "L3" -> points)."""
    result = LandmarkSet()
    for index, level in enumerate(LEVELS):
        names = [f"{level}_body_center"] + [f"{level}_pedicle_center_{side}" for side in SIDES]
        cloud = clouds.get(level)
        if cloud is None:
            _missing(result, names, method_prefix, f"vertebrae_{level} is not in the segmentation")
            continue
        found = vertebra_frame(cloud.points, _superior_hint(clouds, index))
        if found is None:
            _missing(result, names, method_prefix, f"no spinal canal found behind the vertebral body of {level}")
            continue
        frame, anterior_wall, posterior_wall = found
        local = frame.local(cloud.points)
        if cloud.at_edge[local[:, 1] < anterior_wall].any():
            _missing(result, names, method_prefix, f"the body of {level} is cut by the field of view")
            continue
        result.add(Landmark(names[0], frame.origin, 1.0, f"{method_prefix}centroid of the body (anterior to the canal)",
                            extras={"left_axis": frame.left, "posterior_axis": frame.posterior,
                                    "superior_axis": frame.superior,
                                    "canal_depth_mm": posterior_wall - anterior_wall}))
        pedicles = {side: find_pedicle(cloud, local, frame, anterior_wall, posterior_wall, side) for side in SIDES}
        doubt = _implausible_pedicles(frame, pedicles)
        for side, name in zip(SIDES, names[1:]):
            _add_pedicle(result, name, pedicles[side], method_prefix, doubt)
    return result


def _implausible_pedicles(frame: VertebraFrame, pedicles: Mapping[str, Pedicle | None]) -> str:
    """Why this pair of pedicle centres cannot be right ("" when it can): a centre well below the body centre, or
    left and right not mirror images across the vertebra's plane of symmetry (the frame's left axis through the
    body centre; a label that gives one side's arch to a neighbour moves that side's pedicle only). A screw plan must
    not start from them."""
    local = {side: frame.local(pedicle.centre) for side, pedicle in pedicles.items() if pedicle is not None}
    for side, (_, _, height) in local.items():
        if height < -MAX_PEDICLE_BELOW_BODY_MM:
            return (f"implausible: the {side} pedicle centre lies {-height:.0f} mm below the body centre (the pedicles "
                    f"arise from the body's upper half); the vertebra's segmentation is unreliable here")
    if len(local) < 2:
        return ""
    left, right = local["left"], local["right"]
    gap = float(np.linalg.norm(left * np.array([-1.0, 1.0, 1.0]) - right))
    if gap <= MAX_PEDICLE_MIRROR_GAP_MM:
        return ""
    return (f"implausible: the left and right pedicle centres are {gap:.0f} mm from mirroring each other (expected "
            f"<= {MAX_PEDICLE_MIRROR_GAP_MM:.0f} mm); the vertebra's segmentation is unreliable here")


def _superior_hint(clouds: Mapping[str, VertebraCloud], index: int) -> np.ndarray:
    """Towards the adjacent cranial vertebra (anatomy, so it follows a rotated scan); with neither adjacent
    lumbar vertebra present, the scan's superior (farther levels are too curved by the lordosis to use)."""
    own = clouds[LEVELS[index]]
    upper = clouds.get(LEVELS[index - 1]) if index > 0 else None
    lower = clouds.get(LEVELS[index + 1]) if index + 1 < len(LEVELS) else None
    if upper is None and lower is None:
        return SCAN_SUPERIOR
    return unit((upper or own).points.mean(axis=0) - (lower or own).points.mean(axis=0))


def _add_pedicle(result: LandmarkSet, name: str, pedicle: Pedicle | None, method_prefix: str, doubt: str) -> None:
    if doubt:
        _missing(result, [name], method_prefix, doubt)
    elif pedicle is None:
        _missing(result, [name], method_prefix, "no pedicle found between the canal walls on this side")
    elif pedicle.touches_edge:
        _missing(result, [name], method_prefix, "the pedicle is cut by the field of view")
    else:
        result.add(Landmark(name, pedicle.centre, 1.0, f"{method_prefix}centroid of the pedicle isthmus section",
                            extras={"direction": pedicle.axis, "isthmus_width_mm": pedicle.width_mm,
                                    "isthmus_height_mm": pedicle.height_mm}))


def _missing(result: LandmarkSet, names: list[str], method_prefix: str, reason: str) -> None:
    for name in names:
        result.add(Landmark(name, None, 0.0, method_prefix.rstrip(": "), missing_reason=reason))
