"""A lumbar disc as a tilted plane, found between the bright endplates of the bodies above and below it
(canonical RAS grid).

The discs are tilted, L5/S1 most: the sacral base slopes down towards the front by ~30-50 degrees (sacral slope),
so an axial cut at the disc's height gives S1's posterior-superior rim to L5 and L5's anterior-inferior body to the
sacrum (likewise, less tilted, higher up). At 3 mm a disc is no gap in the bone mask (the axial hole filling closes
it), but on the CT it is a band of disc tissue (~60-100 HU) between two cortical endplates (~200-400 HU). The plane
is the tilt and offset whose thin slab through the vertebral bodies is darkest against slabs 3-9 mm to either side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BODY_HALF_WIDTH_MM = 12.0  # the bodies' central part: lateral to it the alae and transverse processes intrude
SEARCH_HEIGHT_MM = 40.0  # the region's reach above and below the axial disc estimate
TILTS_DEG = np.arange(0.0, 60.1, 2.5)  # up to the steepest sacral slopes (~60 degrees); 0: an axial disc
OFFSETS_MM = np.arange(-15.0, 15.1, 1.0)  # along the normal from the axial estimate; < half a level (~35 mm)
DISC_HALF_THICKNESS_MM = 1.5
ENDPLATE_REACH_MM = (3.0, 9.0)  # where the endplates and the bodies' rims lie, from the disc's middle
MIN_CONTRAST_HU = 40.0  # the darker endplate side must stand this far above the disc band
MIN_SAMPLES = 12


@dataclass(frozen=True)
class DiscPlane:
    """A disc's mid-plane: a point on it and its unit normal (pointing cranially), RAS mm, and the darkness."""

    point: np.ndarray
    normal: np.ndarray
    tilt_deg: float
    contrast_hu: float

    def height_at(self, y: float) -> float:
        """RAS z (mm) of the plane at RAS y (mm)."""
        return float(self.point[2] - (y - self.point[1]) * self.normal[1] / self.normal[2])

    def above(self, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Whether RAS (y, z) lies above the plane (the plane is level along x)."""
        return (y - self.point[1]) * self.normal[1] + (z - self.point[2]) * self.normal[2] > 0


def find_tilted_disc(ct_hu: np.ndarray, bone: np.ndarray, axes, midline: float, disc_z: float,
                     bodies_back_y: float) -> DiscPlane | None:
    """The darkest tilted band through the vertebral bodies near ``disc_z`` (mm), None when no band stands out.

    ``bodies_back_y`` is the vertebral bodies' back (RAS y; anterior is +y): the arch behind it has no disc.
    """
    x, y, z = axes[0][None, None, :], axes[1][None, :, None], axes[2][:, None, None]
    region = bone & (np.abs(x - midline) < BODY_HALF_WIDTH_MM) & (y >= bodies_back_y)
    region &= np.abs(z - disc_z) < SEARCH_HEIGHT_MM
    if not region.any():
        return None
    ys = np.broadcast_to(y, bone.shape)[region]
    zs = np.broadcast_to(z, bone.shape)[region]
    hu = ct_hu[region].astype(float)
    level = np.abs(zs - disc_z) <= 6.0  # the bodies' centre at the disc's height: where the tilt turns about
    centre = np.array([midline, float(np.median(ys[level] if level.any() else ys)), disc_z])
    best = None
    for tilt in TILTS_DEG:
        normal = np.array([0.0, np.sin(np.radians(tilt)), np.cos(np.radians(tilt))])
        along = (ys - centre[1]) * normal[1] + (zs - centre[2]) * normal[2]
        for offset in OFFSETS_MM:
            contrast = _band_contrast(along - offset, hu)
            if contrast is not None and (best is None or contrast > best.contrast_hu):
                best = DiscPlane(centre + offset * normal, normal, float(tilt), contrast)
    return best if best is not None and best.contrast_hu >= MIN_CONTRAST_HU else None


def _band_contrast(distance: np.ndarray, hu: np.ndarray) -> float | None:
    """How much darker the slab at distance 0 is than the darker of its two sides, None with too few samples."""
    band = np.abs(distance) <= DISC_HALF_THICKNESS_MM
    near, far = ENDPLATE_REACH_MM
    sides = [(distance > near) & (distance <= far), (distance < -near) & (distance >= -far)]
    if band.sum() < MIN_SAMPLES or any(side.sum() < MIN_SAMPLES for side in sides):
        return None
    return min(float(hu[side].mean()) for side in sides) - float(hu[band].mean())
