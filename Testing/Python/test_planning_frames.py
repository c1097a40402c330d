"""Pelvic frame and Murray cup angles against analytic cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from SurgicalAIPlannerLib.planning.cup_angles import CupOrientation, convert, cup_axis, cup_orientation
from SurgicalAIPlannerLib.planning.frames import PelvicFrame

# A pelvis tilted 12° (flexion about x), 5° oblique and 8° rotated, shifted away from the origin.
PELVIS_ROTATION = Rotation.from_euler("xyz", [12.0, 5.0, -8.0], degrees=True).as_matrix()
PELVIS_ORIGIN = np.array([3.0, 120.0, 210.0])


def tilted_app_frame() -> PelvicFrame:
    """Landmarks placed in the rotated pelvis: ASIS 230 mm apart, pubic tubercles 85 mm below in the APP."""
    def ras(point):
        return PELVIS_ORIGIN + PELVIS_ROTATION @ np.asarray(point, float)
    return PelvicFrame.from_app(ras([-115, 0, 0]), ras([115, 0, 0]), ras([-20, 0, -85]), ras([20, 0, -85]))


def murray_radiographic_axis(inclination: float, anteversion: float, side: str) -> np.ndarray:
    """Axis written straight from Murray's figure, in the rotated pelvis (independent of cup_axis)."""
    ri, ra = np.radians(inclination), np.radians(anteversion)
    lateral_x = -1.0 if side == "left" else 1.0
    local = np.array([lateral_x * np.sin(ri) * np.cos(ra), np.sin(ra), -np.cos(ri) * np.cos(ra)])
    return PELVIS_ROTATION @ local


def test_app_frame_recovers_the_pelvis_rotation():
    frame = tilted_app_frame()
    np.testing.assert_allclose(frame.rotation, PELVIS_ROTATION, atol=1e-12)
    np.testing.assert_allclose(frame.origin, PELVIS_ORIGIN, atol=1e-12)
    assert np.isclose(np.linalg.det(frame.rotation), 1.0)


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("inclination, anteversion", [(40, 15), (45, 20), (30, 5), (55, -10), (62.5, 31.25)])
def test_radiographic_angles_of_a_known_axis(side, inclination, anteversion):
    frame = tilted_app_frame()
    measured = cup_orientation(murray_radiographic_axis(inclination, anteversion, side), frame, side)
    assert abs(measured.inclination - inclination) < 0.01
    assert abs(measured.anteversion - anteversion) < 0.01


@pytest.mark.parametrize("inclination, anteversion", [(40, 15), (50, 25), (35, 0)])
def test_operative_and_anatomic_match_murrays_conversion_formulas(inclination, anteversion):
    ri, ra = np.radians(inclination), np.radians(anteversion)
    radiographic = CupOrientation(inclination, anteversion, "radiographic")
    operative = convert(radiographic, "operative", tilted_app_frame(), "left")
    anatomic = convert(radiographic, "anatomic", tilted_app_frame(), "right")
    assert abs(operative.inclination - np.degrees(np.arcsin(np.sin(ri) * np.cos(ra)))) < 0.01
    assert abs(operative.anteversion - np.degrees(np.arctan(np.tan(ra) / np.cos(ri)))) < 0.01
    assert abs(anatomic.inclination - np.degrees(np.arccos(np.cos(ri) * np.cos(ra)))) < 0.01
    assert abs(anatomic.anteversion - np.degrees(np.arctan(np.tan(ra) / np.sin(ri)))) < 0.01


@pytest.mark.parametrize("definition", ["radiographic", "operative", "anatomic"])
def test_axis_and_angles_round_trip_in_every_definition(definition):
    frame = tilted_app_frame()
    wanted = CupOrientation(43.0, 17.0, definition)
    back = cup_orientation(cup_axis(wanted, frame, "left"), frame, "left", definition)
    assert abs(back.inclination - 43.0) < 1e-9 and abs(back.anteversion - 17.0) < 1e-9


def test_left_and_right_cups_mirror():
    """Mirroring the left axis through the pelvis' sagittal plane gives the right cup with equal angles."""
    frame = tilted_app_frame()
    left_axis = cup_axis(CupOrientation(40.0, 15.0), frame, "left")
    x_axis = frame.rotation[:, 0]
    mirrored = left_axis - 2.0 * np.dot(left_axis, x_axis) * x_axis
    right = cup_orientation(mirrored, frame, "right")
    assert abs(right.inclination - 40.0) < 1e-9 and abs(right.anteversion - 15.0) < 1e-9
    # The same vector read as a left cup points medially: an impossible cup, not a 40/15 one.
    assert cup_orientation(mirrored, frame, "left").inclination < 0


def test_retroverted_cup_has_negative_anteversion():
    frame = tilted_app_frame()
    axis = murray_radiographic_axis(40.0, -8.0, "right")
    assert cup_orientation(axis, frame, "right").anteversion == pytest.approx(-8.0, abs=0.01)


def test_table_frame_keeps_the_asis_line_and_takes_the_scanner_vertical():
    """Without pubic tubercles: x along the ASIS line (patient's right), z the scanner's superior made
    perpendicular to it, y anterior; for a pelvis tilted 10° forward the APP and this frame differ by that tilt."""
    tilt = Rotation.from_euler("x", 10.0, degrees=True).as_matrix()  # anterior pelvic tilt about the left-right axis
    asis_left, asis_right = tilt @ np.array([-115.0, 0.0, 0.0]), tilt @ np.array([115.0, 0.0, 0.0])
    pubic_left, pubic_right = tilt @ np.array([-20.0, 0.0, -85.0]), tilt @ np.array([20.0, 0.0, -85.0])
    table = PelvicFrame.from_asis_and_scanner(asis_left, asis_right)
    np.testing.assert_allclose(table.rotation, np.eye(3), atol=1e-12)
    app = PelvicFrame.from_app(asis_left, asis_right, pubic_left, pubic_right)
    angle = np.degrees(np.arccos(np.clip(app.superior @ table.superior, -1.0, 1.0)))
    assert angle == pytest.approx(10.0, abs=1e-9)
    assert table.lateral("left")[0] < 0 < table.lateral("right")[0]  # the patient's left is RAS -x
