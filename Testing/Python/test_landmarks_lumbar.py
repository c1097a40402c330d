"""Lumbar landmarks (body centre, pedicle isthmus) on real segmentations: plausibility, laterality, missing levels,
and stability against the segmentation model and the voxel size (VerSe expert masks)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import SHARED_DATA, TOTALSEG_DIR, _existing

from SurgicalAIPlannerLib.imaging import load_ct, load_labelmap
from SurgicalAIPlannerLib.imaging.label_table import read_label_table
from SurgicalAIPlannerLib.landmarks.detect import vertebra_clouds
from SurgicalAIPlannerLib.landmarks.evaluation import coarsened, compare
from SurgicalAIPlannerLib.landmarks.spine import (
    LEVELS,
    SAMPLE_MM,
    Pedicle,
    VertebraFrame,
    _chords,
    _implausible_pedicles,
    lumbar_landmarks,
)
from SurgicalAIPlannerLib.segmentation.engine import segment
from SurgicalAIPlannerLib.segmentation.labels import names_by_value


@pytest.fixture(scope="module")
def sample_labels(sample_labels_file):
    return load_labelmap(sample_labels_file)


@pytest.fixture(scope="module")
def sample_lumbar(sample_labels, sample_label_table):
    return lumbar_landmarks(vertebra_clouds(sample_labels, sample_label_table))


def test_sample_lumbar_landmarks_are_anatomically_plausible(sample_lumbar):
    for level in LEVELS:
        body = sample_lumbar.landmarks[f"{level}_body_center"]
        assert body.present, (level, body.missing_reason)
        frame = np.array([body.extras["left_axis"], body.extras["posterior_axis"], body.extras["superior_axis"]])
        assert body.extras["superior_axis"][2] > 0.7  # supine: endplate normals within ~45 deg of RAS +z (lordosis)
        left, right = (frame @ (sample_lumbar.position(f"{level}_pedicle_center_{side}") - body.position_ras)
                       for side in ("left", "right"))
        assert left[1] > 15.0 and right[1] > 15.0, level  # pedicles lie behind the body centre
        assert left[0] > 8.0 and right[0] < -8.0, level  # one on each side of the midsagittal plane ...
        assert abs(left[0] + right[0]) < 5.0 and abs(left[1] - right[1]) < 5.0, level  # ... mirror images
        for side, medial in (("left", -1.0), ("right", 1.0)):
            direction = sample_lumbar.landmarks[f"{level}_pedicle_center_{side}"].extras["direction"]
            assert direction @ body.extras["posterior_axis"] < -0.3  # the axis points to the body ...
            assert medial * (direction @ body.extras["left_axis"]) > 0.0  # ... converging to the midline
    # Patient's left is RAS -x in this correctly oriented scan (shared/data README).
    assert sample_lumbar.position("L3_pedicle_center_left")[0] < sample_lumbar.position("L3_pedicle_center_right")[0]


def test_laterality_follows_the_vertebra_when_the_scan_is_rotated(sample_labels, sample_label_table, sample_lumbar):
    """Turn the whole label map 180 degrees about the superior axis (RAS z, also LPS z): the patient's left
    pedicle now lies at RAS +x, and must still be called left."""
    turn = np.diag([-1.0, -1.0, 1.0])
    turned = replace(sample_labels, direction=turn @ sample_labels.direction,
                     origin=tuple(turn @ np.asarray(sample_labels.origin)))
    rotated = lumbar_landmarks(vertebra_clouds(turned, sample_label_table))
    for level in ("L2", "L3"):
        for side in ("left", "right"):
            name = f"{level}_pedicle_center_{side}"
            np.testing.assert_allclose(rotated.position(name), turn @ sample_lumbar.position(name), atol=5.0)  # the raster grids of the canal search are RAS-aligned: a rotation shifts their phase
        assert rotated.position(f"{level}_pedicle_center_left")[0] > rotated.position(f"{level}_pedicle_center_right")[0]


def test_a_vertebra_missing_from_the_segmentation_is_reported_missing(sample_labels, sample_label_table):
    l2 = next(value for value, name in sample_label_table.items() if name == "vertebrae_L2")
    without_l2 = replace(sample_labels, array=np.where(sample_labels.array == l2, 0, sample_labels.array))
    landmarks = lumbar_landmarks(vertebra_clouds(without_l2, {l2: "vertebrae_L2", **{
        value: name for value, name in sample_label_table.items() if name in ("vertebrae_L1", "vertebrae_L3")}}))
    for name in ("L2_body_center", "L2_pedicle_center_left", "L2_pedicle_center_right"):
        assert not landmarks.landmarks[name].present
        assert landmarks.landmarks[name].missing_reason == "vertebrae_L2 is not in the segmentation"
    assert "L1_body_center" in landmarks and "L3_pedicle_center_left" in landmarks
    assert "not in the segmentation" in landmarks.landmarks["L5_body_center"].missing_reason


def verse_mask(name: str):
    return load_labelmap(_existing(SHARED_DATA / "xrayto3d-bone-masks" / name))


@pytest.fixture(scope="module")
def totalseg_v1_lumbar():
    """Lumbar landmarks from the TotalSegmentator v1 labels of the same sample CT (another model's output)."""
    labels = load_labelmap(_existing(TOTALSEG_DIR / "example_seg_v1_commit5de6e4d.nii.gz"))
    return lumbar_landmarks(vertebra_clouds(labels, read_label_table(TOTALSEG_DIR / "labels_totalsegmentator_v1_total.csv")))


def test_pedicle_centres_barely_move_when_a_verse_vertebra_is_resampled_to_3mm():
    """VerSe verse004 L4 (expert-corrected mask, 1 x 1 x 2 mm) against the same mask at 3 mm. The former
    argmin-over-slabs isthmus and least-spread endplate axis moved these pedicle centres 4.4 / 4.6 mm."""
    mask = verse_mask("sub-verse004_vert-23-seg-vert_msk.nii.gz")
    names = {1: "vertebrae_L4"}
    fine = lumbar_landmarks(vertebra_clouds(mask, names))
    coarse = lumbar_landmarks(vertebra_clouds(coarsened(mask, 3.0), names))
    errors = {row.name: row.error_mm for row in compare(coarse, fine) if row.status == "both"}
    assert errors["L4_body_center"] < 0.5
    assert errors["L4_pedicle_center_left"] < 1.5 and errors["L4_pedicle_center_right"] < 1.5, errors


def test_a_cropped_verse_l5_with_a_cavity_is_found_at_1_and_3mm():
    """VerSe verse410 L5 (expert mask, cropped laterally, a cavity in the body): the endplate fit on it tipped the
    frame's superior axis 52 deg (1 mm) / 67 deg (3 mm) from the scan's, off the canal ("no spinal canal found").
    An endplate axis more than 40 deg from the column's is now not used."""
    mask = verse_mask("sub-verse410_split-verse267_vert-24-seg-vert_msk_gt.nii.gz")
    names = {1: "vertebrae_L5"}
    fine = lumbar_landmarks(vertebra_clouds(mask, names))
    coarse = lumbar_landmarks(vertebra_clouds(coarsened(mask, 3.0), names))
    errors = {row.name: row.error_mm for row in compare(coarse, fine) if row.status == "both"}
    assert errors.keys() >= {"L5_body_center", "L5_pedicle_center_left", "L5_pedicle_center_right"}, errors
    assert errors["L5_pedicle_center_left"] < 1.5 and errors["L5_pedicle_center_right"] < 1.5, errors


def test_l5_is_found_on_a_verse_mask_and_on_both_sample_segmentations(sample_lumbar, totalseg_v1_lumbar):
    """L5's body is tilted ~25 deg by the lordosis; its least-spread axis tipped the frame off the canal
    ("no spinal canal found") on the VerSe verse004 L5 mask and on the TotalSegmentator v1 L5."""
    verse = lumbar_landmarks(vertebra_clouds(verse_mask("sub-verse004_vert-24-seg-vert_msk.nii.gz"),
                                             {1: "vertebrae_L5"}))
    for landmarks in (verse, totalseg_v1_lumbar, sample_lumbar):
        for name in ("L5_body_center", "L5_pedicle_center_left", "L5_pedicle_center_right"):
            assert landmarks.landmarks[name].present, (name, landmarks.landmarks[name].missing_reason)
    superior = verse.landmarks["L5_body_center"].extras["superior_axis"]
    assert 15.0 < np.degrees(np.arccos(abs(superior[2]))) < 40.0  # the lordotic tilt seen on the mask's sagittal slices


def test_pedicle_centres_barely_move_between_two_segmentation_models(sample_lumbar, totalseg_v1_lumbar):
    """TotalSegmentator v1 vs v2 labels of the sample CT: L1-L4 pedicle centres within 2 mm (the isthmus slab
    used to jump 20 mm on L4 between them)."""
    rows = {row.name: row for row in compare(totalseg_v1_lumbar, sample_lumbar)}
    for level in LEVELS[:4]:
        for side in ("left", "right"):
            row = rows[f"{level}_pedicle_center_{side}"]
            assert row.status == "both" and row.error_mm < 2.0, row


def test_l5_pedicle_centres_barely_move_between_models_and_voxel_sizes(sample_lumbar, totalseg_v1_lumbar,
                                                                       verse_lumbar_at_1_and_3mm):
    """L5 pedicle centres within 1.5 mm between the v1 and v2 labels of the sample CT and between the VerSe
    verse004 L5 mask at 1 and 3 mm. They moved 3.03 and 3.94 mm while the plane of symmetry came from
    mirror-ICP, which stopped about where it started and so turned 4-7 deg between segmentations of L5."""
    for first, second in ((totalseg_v1_lumbar, sample_lumbar), verse_lumbar_at_1_and_3mm["L5"]):
        rows = {row.name: row for row in compare(first, second)}
        for side in ("left", "right"):
            row = rows[f"L5_pedicle_center_{side}"]
            assert row.status == "both" and row.error_mm < 1.5, row


def _axis_angles_deg(first, second, levels) -> dict[str, float]:
    """Angle (degrees) between the pedicle axes of the same pedicle in two landmark sets."""
    angles = {}
    for level in levels:
        for side in ("left", "right"):
            name = f"{level}_pedicle_center_{side}"
            cosine = first.landmarks[name].extras["direction"] @ second.landmarks[name].extras["direction"]
            angles[name] = float(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))))
    return angles


@pytest.fixture(scope="module")
def verse_lumbar_at_1_and_3mm():
    """{level: (landmarks of the 1 mm VerSe verse004 mask, landmarks of the same mask at 3 mm)} for L4 and L5."""
    pairs = {}
    for file, level in (("sub-verse004_vert-23-seg-vert_msk.nii.gz", "L4"), ("sub-verse004_vert-24-seg-vert_msk.nii.gz", "L5")):
        mask, names = verse_mask(file), {1: f"vertebrae_{level}"}
        pairs[level] = (lumbar_landmarks(vertebra_clouds(mask, names)),
                        lumbar_landmarks(vertebra_clouds(coarsened(mask, 3.0), names)))
    return pairs


def test_pedicle_axes_keep_their_direction_across_segmentations_and_voxel_sizes(
        sample_lumbar, totalseg_v1_lumbar, verse_lumbar_at_1_and_3mm):
    """The axis used to be the principal line of the isthmus slabs' centroids, a near-tie on short pedicles:
    13 deg apart on average, 61 deg on the sample L5, between v1 and v2 labels or 1 and 3 mm voxels."""
    between_models = _axis_angles_deg(totalseg_v1_lumbar, sample_lumbar, LEVELS)
    assert max(between_models.values()) < 5.0, between_models
    for level, (fine, coarse) in verse_lumbar_at_1_and_3mm.items():
        between_voxel_sizes = _axis_angles_deg(fine, coarse, [level])
        assert max(between_voxel_sizes.values()) < 10.0, between_voxel_sizes


def test_l1_to_l4_isthmus_widths_are_anatomical(sample_lumbar, totalseg_v1_lumbar, verse_lumbar_at_1_and_3mm):
    """Transverse isthmus widths of L1-L4 within 8-19 mm (anatomy about 8-18 mm; the model masks are a little
    fat). They used to reach the 20 mm section cap on L4, cut across an axis that was not robust. L5 is left
    out: its section takes in the transverse process's root (docs/landmarks.md)."""
    sets = [(sample_lumbar, LEVELS[:4]), (totalseg_v1_lumbar, LEVELS[:4]),
            *((landmarks, ["L4"]) for landmarks in verse_lumbar_at_1_and_3mm["L4"])]
    for landmarks, levels in sets:
        for level in levels:
            for side in ("left", "right"):
                width = landmarks.landmarks[f"{level}_pedicle_center_{side}"].extras["isthmus_width_mm"]
                assert 8.0 <= width <= 19.0, (level, side, width)


def test_upper_lumbar_pedicles_on_the_fallback_segmentation(sample_ct_file, sample_lumbar):
    """The classical fallback cuts L1 too high (its body takes in part of T12's): the endplate fit then tipped L1's
    frame 69 deg and its canal was lost ("no spinal canal found"). With the tilt guard and the discs cut along their
    tilted planes, L1-L4's pedicle centres lie within the issue's 1.5 mm of those found on TotalSegmentator v2's
    labels (a model's output, not truth; measured 0.2-1.44 mm; L4 right was 1.71 mm with axial cuts). The fallback's
    L5 label gives S1 L5's inferior articular processes (docs/landmarks.md): its pedicle centres, 8 and 21 mm off,
    are 20 mm from mirroring each other and are reported missing as implausible, not handed to a screw plan."""
    labels = segment(load_ct(sample_ct_file), "classical", progress=lambda *_: None).labels
    fallback = lumbar_landmarks(vertebra_clouds(labels, names_by_value()))
    rows = {row.name: row for row in compare(fallback, sample_lumbar)}
    for level in ("L1", "L2", "L3", "L4"):
        for side in ("left", "right"):
            row = rows[f"{level}_pedicle_center_{side}"]
            assert row.status == "both" and row.error_mm <= 1.5, (row.name, row.status, row.error_mm)
            width = fallback.landmarks[row.name].extras["isthmus_width_mm"]
            assert 8.0 <= width <= 19.0, (row.name, width)  # L1 right was 0 mm: its centre lay in a ring's hole
    for side in ("left", "right"):
        l5 = fallback.landmarks[f"L5_pedicle_center_{side}"]
        assert l5.position_ras is None and "implausible" in l5.missing_reason, (l5.position_ras, l5.missing_reason)


def test_pedicles_that_do_not_mirror_each_other_or_lie_low_are_reported_missing():
    """A pair whose left centre is 12 mm lower than the right's mirror image (one side's arch mislabelled), and a
    symmetric pair 8 mm below the body centre (pedicles arise from the body's upper half)."""
    frame = VertebraFrame(np.zeros(3), np.array([-1.0, 0, 0]), np.array([0, -1.0, 0]), np.array([0, 0, 1.0]))  # RAS

    def pedicle(local: list[float]) -> Pedicle:
        return Pedicle(frame.ras(np.array(local, dtype=float)), np.array([0, 1.0, 0]), 10.0, 15.0, False)

    assert _implausible_pedicles(frame, {"left": pedicle([18, 20, 3]), "right": pedicle([-19, 21, 4])}) == ""
    doubt = _implausible_pedicles(frame, {"left": pedicle([18, 20, 14]), "right": pedicle([-19, 21, 2])})
    assert doubt.startswith("implausible") and "mirroring" in doubt and "12 mm" in doubt, doubt
    doubt = _implausible_pedicles(frame, {"left": pedicle([18, 20, -8]), "right": pedicle([-18, 20, -8])})
    assert doubt.startswith("implausible") and "8 mm below the body centre" in doubt, doubt


def test_isthmus_chords_span_a_hollow_section_on_a_turned_lattice():
    """A pedicle section whose marrow stayed out of the mask (a ring, 10 mm across, 4 mm hole), sampled on the
    vertebra's 0.75 mm lattice turned 30 deg into the local frame: its width and height are the outline's."""
    step, turn = SAMPLE_MM, np.radians(30.0)
    lattice = np.stack(np.meshgrid(*(np.arange(-8.0, 8.0, step),) * 2), axis=-1).reshape(-1, 2) + 0.3
    turned = lattice @ np.array([[np.cos(turn), np.sin(turn)], [-np.sin(turn), np.cos(turn)]])
    ring = turned[(np.hypot(*turned.T) <= 5.0) & (np.hypot(*turned.T) >= 2.0)]
    offset = np.c_[ring[:, 0], np.zeros(len(ring)), ring[:, 1]]  # (left, posterior, superior) mm
    width, height = _chords(offset)
    assert 9.0 <= width <= 11.5 and 9.0 <= height <= 11.5, (width, height)
