"""Position rules: sides split at the midline (patient left = lower RAS x), lumbar levels counted upwards."""

import numpy as np

from SurgicalAIPlannerLib.segmentation.anatomy_rules import (
    BONE_TYPES,
    assign_sides_and_levels,
    disc_slices,
    flood_by_intensity,
    grow_into,
    label_lumbar_levels,
    type_lookup,
)
from SurgicalAIPlannerLib.segmentation.labels import BY_NAME

SPACING = 3.0
X_MM = np.arange(60) * SPACING - 90.0  # x = 0 at index 30
Z_MM = np.arange(110) * SPACING


def _type(name: str) -> int:
    return BONE_TYPES.index(name) + 1


def _pelvis_and_column() -> np.ndarray:
    types = np.zeros((110, 30, 60), np.uint8)
    types[5:25, 5:25, 5:55] = _type("hip")  # one block across the midline, as at the pubic symphysis
    types[20:30, 5:15, 26:34] = _type("sacrum")
    for level in range(6):  # six 30 mm bodies with 6 mm discs above the sacrum: L5..L1, then T12
        bottom = 32 + level * 12
        types[bottom:bottom + 10, 5:15, 25:35] = _type("vertebra")
    return types


def test_paired_bones_split_at_the_midline():
    labels = assign_sides_and_levels(_pelvis_and_column(), X_MM, Z_MM, SPACING)
    left_x = X_MM[np.nonzero(labels == BY_NAME["hip_left"].value)[2]]
    right_x = X_MM[np.nonzero(labels == BY_NAME["hip_right"].value)[2]]
    assert left_x.max() < 0 <= right_x.min()


def test_levels_count_upwards_from_the_sacrum_and_stop_at_l1():
    labels = assign_sides_and_levels(_pelvis_and_column(), X_MM, Z_MM, SPACING)
    for level in range(5, 0, -1):
        slices = np.unique(np.nonzero(labels == BY_NAME[f"vertebrae_L{level}"].value)[0])
        bottom = 32 + (5 - level) * 12
        assert slices.min() == bottom and slices.max() == bottom + 9, f"L{level} on slices {slices}"
    assert (labels[92:102] == 0).all(), "the sixth vertebra up (T12) must stay unlabelled"


def test_type_lookup_maps_every_bone_to_its_type():
    lookup = type_lookup()
    assert lookup[BY_NAME["femur_left"].value] == lookup[BY_NAME["femur_right"].value] == _type("femur")
    assert lookup[BY_NAME["vertebrae_L3"].value] == _type("vertebra") and lookup[0] == 0


def _column_with_spinous_processes() -> np.ndarray:
    """Five bodies (anterior, y 15-24) each joined by a pedicle to a spinous process hanging 15 mm below it."""
    types = np.zeros((110, 30, 60), np.uint8)
    types[20:30, 15:25, 26:34] = _type("sacrum")
    for level in range(6):
        bottom = 32 + level * 12
        types[bottom:bottom + 10, 15:25, 25:35] = _type("vertebra")  # body
        types[bottom + 1:bottom + 4, 10:15, 28:32] = _type("vertebra")  # pedicles and arch
        types[bottom - 5:bottom + 4, 3:10, 28:32] = _type("vertebra")  # spinous process, down past the disc
    return types


def test_posterior_elements_follow_their_own_body_not_the_slice_level():
    labels = assign_sides_and_levels(_column_with_spinous_processes(), X_MM, Z_MM, SPACING)
    for level in range(5, 0, -1):
        bottom = 32 + (5 - level) * 12
        tip = labels[bottom - 5:bottom - 2, 3:10, 28:32]  # level with the body below
        assert (tip == BY_NAME[f"vertebrae_L{level}"].value).all(), f"L{level} spinous tip: {np.unique(tip)}"


def _column_with_facet_contacts() -> np.ndarray:
    """Six vertebrae whose inferior articular process hangs down to the disc and touches, across the facet
    joint, the superior articular process rising from the pedicle of the vertebra below (as at 3 mm)."""
    types = np.zeros((110, 30, 60), np.uint8)
    types[20:30, 15:25, 26:34] = _type("sacrum")
    for level in range(6):
        bottom = 32 + level * 12
        types[bottom:bottom + 10, 15:25, 25:35] = _type("vertebra")  # body
        types[bottom + 5:bottom + 9, 10:15, 28:32] = _type("vertebra")  # pedicle, upper half of the body
        types[bottom - 1:bottom + 9, 8:10, 28:32] = _type("vertebra")  # inferior articular process, down to the disc
        types[bottom + 8:bottom + 12, 10:12, 28:32] = _type("vertebra")  # superior articular process, up to the facet
    return types


def test_an_inferior_articular_process_touching_the_level_below_stays_with_its_own_vertebra():
    """Through the facet contact the lower vertebra is the nearer body (10 voxel steps against 13), but only by
    stepping upwards; the process's own vertebra reaches it going down from its pedicle."""
    labels = assign_sides_and_levels(_column_with_facet_contacts(), X_MM, Z_MM, SPACING)
    for level in range(4, 0, -1):
        bottom = 32 + (5 - level) * 12
        process_tip = labels[bottom - 1, 8:10, 28:32]
        own_pedicle_and_superior_process = labels[bottom + 5:bottom + 9, 10:12, 28:32]
        assert (process_tip == BY_NAME[f"vertebrae_L{level}"].value).all(), f"L{level} process tip: {np.unique(process_tip)}"
        assert (own_pedicle_and_superior_process == BY_NAME[f"vertebrae_L{level}"].value).all()


def test_bodies_are_cut_along_the_tilted_disc_planes_given():
    """With ``above_disc`` the bodies part along each disc's plane (here rising 30 deg towards the back, -y),
    not at the disc's axial height: in front, the body above reaches under the disc's axial height."""
    column = _pelvis_and_column() == _type("vertebra")
    y_mm = np.arange(column.shape[1]) * SPACING
    slope = np.tan(np.radians(30.0))
    z, y = Z_MM[:, None, None], y_mm[None, :, None]

    def above_disc(disc_z: float) -> np.ndarray:
        return np.broadcast_to(z > disc_z - slope * (y - 30.0), column.shape)

    labels = np.zeros(column.shape, np.uint8)
    label_lumbar_levels(labels, column, Z_MM, Z_MM[31], SPACING, above_disc=above_disc)
    front = column.copy()
    front[:, :10, :] = False  # the bodies' anterior half: cut by the planes (the back half grows from them)
    discs = [Z_MM[d] for d in disc_slices(column, SPACING)]
    for level, (low, high) in zip(range(4, 0, -1), zip(discs, discs[1:] + [np.inf])):
        expected = front & above_disc(low) & ~(above_disc(high) if np.isfinite(high) else False)
        assert (labels[expected] == BY_NAME[f"vertebrae_L{level}"].value).all(), f"L{level}"
    assert (labels[front & ~above_disc(discs[0])] == BY_NAME["vertebrae_L5"].value).all()
    under_the_axial_cut = front & above_disc(discs[0]) & (z <= discs[0])
    assert under_the_axial_cut.any() and (labels[under_the_axial_cut] == BY_NAME["vertebrae_L4"].value).all()


def test_flooding_by_intensity_parts_two_bones_at_the_dark_joint_space_between_them():
    """Two bones (cortex 1400 HU around cancellous 250 HU) fused across a 2-voxel joint space of 175 HU, above any
    bone threshold, seeded off centre (10 voxels into the first bone, 16 into the second): nearest-seed growth puts
    the boundary 3 voxels into the second bone; flooding brightest first puts it in the gap."""
    hu = np.full((5, 5, 40), 250.0)
    hu[:, :, [0, 1, 17, 18, 21, 22, 38, 39]] = 1400.0  # the two bones' cortices
    hu[:, :, 19:21] = 175.0  # the joint space
    region = np.ones(hu.shape, bool)
    seeds = np.zeros(hu.shape, np.uint8)
    seeds[:, :, 10], seeds[:, :, 37] = 1, 2
    nearest = seeds.copy()
    grow_into(nearest, region & (seeds == 0), seeds > 0)
    assert (nearest[:, :, 21:24] == 1).all()
    flooded = seeds.copy()
    flood_by_intensity(flooded, region, hu, 50.0)
    assert (flooded[:, :, :19] == 1).all() and (flooded[:, :, 21:] == 2).all()
    assert set(np.unique(flooded[:, :, 19:21])) <= {1, 2}
