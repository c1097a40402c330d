"""The tilted lumbosacral disc (segmentation/disc_plane.py) on synthetic vertebral bodies with a known disc plane."""

import numpy as np
import pytest

from SurgicalAIPlannerLib.segmentation.disc_plane import find_tilted_disc

SPACING_MM = 3.0
SHAPE = (40, 40, 30)  # [z, y, x]
AXES = tuple(np.arange(n) * SPACING_MM for n in (SHAPE[2], SHAPE[1], SHAPE[0]))  # RAS x, y, z mm
MIDLINE_MM = AXES[0][SHAPE[2] // 2]
DISC_CENTRE = np.array([MIDLINE_MM, 60.0, 60.0])  # RAS mm


def bodies_with_a_disc(tilt_deg: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(HU, bone mask) of two fatty-marrow bodies (70-130 HU, like an older patient's L5) under 300 HU endplates,
    parted by a 9 mm disc (80 HU) whose plane rises towards the back (-y) by ``tilt_deg``; 20 HU noise. The whole
    column is bone in the mask, as the axial hole filling makes it at 3 mm."""
    z, y, x = np.meshgrid(AXES[2], AXES[1], AXES[0], indexing="ij")
    normal = np.array([np.sin(np.radians(tilt_deg)), np.cos(np.radians(tilt_deg))])  # (y, z)
    along = (y - DISC_CENTRE[1]) * normal[0] + (z - DISC_CENTRE[2]) * normal[1]
    rng = np.random.default_rng(seed)
    hu = 100.0 + 30.0 * rng.standard_normal(SHAPE).clip(-1, 1)
    hu[(np.abs(along) > 4.5) & (np.abs(along) <= 7.5)] = 300.0
    hu[np.abs(along) <= 4.5] = 80.0
    hu += 20.0 * rng.standard_normal(SHAPE)
    bone = (np.abs(x - MIDLINE_MM) < 20.0) & (y > 40.0) & (y < 80.0)
    hu[~bone] = -80.0
    return hu.astype(np.int16), bone


@pytest.mark.parametrize("tilt_deg", [0.0, 20.0, 40.0])
def test_the_disc_plane_is_found_at_its_tilt(tilt_deg):
    hu, bone = bodies_with_a_disc(tilt_deg)
    axial_guess_z = DISC_CENTRE[2] + 6.0  # the area-minimum estimate is a few mm off
    disc = find_tilted_disc(hu, bone, AXES, MIDLINE_MM, axial_guess_z, bodies_back_y=40.0)
    assert disc is not None
    assert abs(disc.tilt_deg - tilt_deg) <= 5.0, disc
    distance = abs((DISC_CENTRE - disc.point) @ disc.normal)
    assert distance <= 2.0, f"the found plane passes {distance:.1f} mm from the disc's centre"


def test_the_posterior_endplate_rim_lies_above_a_sloping_disc():
    """Laterality of the tilt: a sacral base sloping down to the front leaves its back edge above the plane's
    centre height, its front edge below (anterior is +y in RAS)."""
    hu, bone = bodies_with_a_disc(40.0)
    disc = find_tilted_disc(hu, bone, AXES, MIDLINE_MM, DISC_CENTRE[2], bodies_back_y=40.0)
    back, front = np.array([50.0]), np.array([70.0])
    height = np.array([DISC_CENTRE[2]])
    assert not disc.above(back, height)[0] and disc.above(front, height)[0]


def test_bone_without_a_darker_band_gives_no_plane():
    hu, bone = bodies_with_a_disc(30.0)
    hu[bone] = np.random.default_rng(1).normal(150.0, 20.0, bone.sum()).astype(np.int16)
    assert find_tilted_disc(hu, bone, AXES, MIDLINE_MM, DISC_CENTRE[2], bodies_back_y=40.0) is None
