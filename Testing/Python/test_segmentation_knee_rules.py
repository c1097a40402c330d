"""The classical fallback on knee scans: phantoms from real bone shapes with exact labels (STAPLE meshes)."""

from dataclasses import replace

import numpy as np
import pytest

from SurgicalAIPlannerLib.phantoms import PhantomSpec, build_phantom
from SurgicalAIPlannerLib.segmentation.engine import segment
from SurgicalAIPlannerLib.segmentation.evaluation import dice_per_bone
from SurgicalAIPlannerLib.segmentation.labels import BY_NAME
from SurgicalAIPlannerLib.segmentation.resample import to_canonical

KNEE_BONES = ("femur", "patella", "tibia", "fibula")


@pytest.fixture(scope="module")
def knees():
    """Both knees of JIA_MRI at 3 mm, on the canonical RAS grid (x = patient's left to right)."""
    phantom = build_phantom(PhantomSpec("JIA_MRI", spacing=3.0, region="knee", seed=101), progress=lambda _: None)
    return to_canonical(phantom.ct, (3.0,) * 3), to_canonical(phantom.labels, (3.0,) * 3, is_label=True)


def _classical(ct):
    return segment(ct, "classical", progress=lambda *_: None).labels.array


def test_both_knees_get_femur_patella_tibia_and_fibula_on_their_sides(knees):
    ct, truth = knees
    names = [f"{bone}_{side}" for bone in KNEE_BONES for side in ("left", "right")]
    scores = dice_per_bone(_classical(ct), truth.array, names)
    assert min(scores.values()) > 0.9, scores


@pytest.mark.parametrize("side", ["left", "right"])
def test_a_lone_knee_takes_its_side_from_the_fibula(knees, side):
    """One leg in view: no midline to go by. The fibula lies lateral to the tibia, so the left leg's fibula is at
    lower RAS x; a mistake here would name every bone of the leg for the wrong side."""
    ct, truth = knees
    half = ct.array.shape[2] // 2
    keep = slice(0, half) if side == "left" else slice(half, None)
    shift = 0.0 if side == "left" else half * ct.spacing[0]
    lone = replace(ct, array=np.ascontiguousarray(ct.array[..., keep]),
                   origin=(ct.origin[0] + shift, ct.origin[1], ct.origin[2]))
    labels = _classical(lone)
    wrong = "right" if side == "left" else "left"
    assert not np.isin(labels, [BY_NAME[f"{bone}_{wrong}"].value for bone in KNEE_BONES]).any()
    scores = dice_per_bone(labels, truth.array[..., keep], [f"{bone}_{side}" for bone in KNEE_BONES])
    assert min(scores.values()) > 0.9, scores


def test_proximal_femurs_without_a_knee_get_no_tibia():
    """TLEM2_CT's hip region holds two proximal femurs and no pelvis: a limb scan, but the narrowing under the
    trochanters has no fibula beside it, so it is no knee joint."""
    phantom = build_phantom(PhantomSpec("TLEM2_CT", spacing=3.0, region="hip", seed=100), progress=lambda _: None)
    labels = _classical(phantom.ct)
    assert not np.isin(labels, [BY_NAME[f"{bone}_{side}"].value for bone in ("tibia", "fibula", "patella")
                                for side in ("left", "right")]).any()
    scores = dice_per_bone(labels, phantom.labels.array, ["femur_left", "femur_right"])
    assert min(scores.values()) > 0.95, scores


def test_a_lone_femur_without_fibula_takes_its_side_from_the_scanner_axis():
    """No fibula to go by: the leg's centre left (RAS x < 0) or right of the scanner axis decides, logged as a guess.
    TLEM2_CT's left proximal femur lies at RAS x < 0."""
    phantom = build_phantom(PhantomSpec("TLEM2_CT", spacing=3.0, region="hip", seed=100), progress=lambda _: None)
    ct = to_canonical(phantom.ct, (3.0,) * 3)
    left_half = replace(ct, array=np.ascontiguousarray(ct.array[..., : ct.array.shape[2] // 2]))
    labels = _classical(left_half)
    assert np.any(labels == BY_NAME["femur_left"].value)
    assert not np.isin(labels, [BY_NAME[f"{bone}_right"].value for bone in KNEE_BONES]).any()


def test_a_finer_knee_ct_keeps_its_fibulas_and_patellas():
    """Knee CTs are usually thin-slice. On the 3 mm grid a 1.5 mm CT's fibulas lost a third of their voxels (Dice
    0.70/0.71) and its patellofemoral gap closed (right patella 0.80); limb scans now run on a grid as fine as the
    CT's coarsest spacing, down to 1.5 mm."""
    phantom = build_phantom(PhantomSpec("JIA_MRI", spacing=1.5, region="knee", seed=101), progress=lambda _: None)
    names = [f"{bone}_{side}" for bone in KNEE_BONES for side in ("left", "right")]
    scores = dice_per_bone(_classical(phantom.ct), phantom.labels.array, names)
    assert min(scores[f"fibula_{side}"] for side in ("left", "right")) > 0.75, scores
    assert scores["patella_right"] > 0.85, scores
    assert min(scores[f"{bone}_{side}"] for bone in ("femur", "tibia") for side in ("left", "right")) > 0.9, scores


def test_an_ankle_scan_gets_tibias_and_fibulas_and_no_femur():
    """Two shanks and feet, no knee: the narrowing rule took the ankle for a knee (its foot bones for a tibia and
    fibula) and called the shanks femur (tibia Dice 0.02-0.07). The ankle is now found (a shank above, a longer
    foot below), the foot left unlabelled, and two bones side by side without a knee are a tibia and a fibula."""
    phantom = build_phantom(PhantomSpec("TLEM2_CT", spacing=3.0, region="ankle", seed=102), progress=lambda _: None)
    labels = _classical(phantom.ct)
    assert not np.isin(labels, [BY_NAME[f"{bone}_{side}"].value for bone in ("femur", "patella")
                                for side in ("left", "right")]).any()
    scores = dice_per_bone(labels, phantom.labels.array, ["tibia_left", "tibia_right", "fibula_left", "fibula_right"])
    assert min(scores["tibia_left"], scores["tibia_right"]) > 0.85, scores
    # The distal fibula fuses with the tibia at 3 mm near the joint.
    assert min(scores["fibula_left"], scores["fibula_right"]) > 0.5, scores


def test_legs_with_feet_crossing_the_midline_are_a_limb_scan():
    """TLEM2_CT's legs (no pelvis in that dataset) down to the feet, which cross the midline: the midline test took
    them for a pelvis and invented hip bones (femurs 0, tibias 0.03). Only bone within 300 mm of the top counts."""
    phantom = build_phantom(PhantomSpec("TLEM2_CT", spacing=3.0, region="full", seed=102), progress=lambda _: None)
    labels = _classical(phantom.ct)
    assert not np.isin(labels, [BY_NAME[name].value for name in ("hip_left", "hip_right", "sacrum")]).any()
    names = [f"{bone}_{side}" for bone in ("femur", "tibia") for side in ("left", "right")]
    scores = dice_per_bone(labels, phantom.labels.array, names)
    assert min(scores.values()) > 0.9, scores


def test_a_patella_touching_the_femur_in_a_section_is_still_patella():
    """TLEM2_CT's patellas touch the trochlea in some 3 mm sections (partial volume across the joint), where the
    whole section became femur (patellas 0.79 / 0.83). A 1.5 mm erosion parts them there."""
    phantom = build_phantom(PhantomSpec("TLEM2_CT", spacing=3.0, region="knee", seed=101), progress=lambda _: None)
    scores = dice_per_bone(_classical(phantom.ct), phantom.labels.array, ["patella_left", "patella_right"])
    assert min(scores.values()) > 0.95, scores
