"""The whole pipeline on a phantom with exact truth: the project's own classical segmentation, then detection."""

import functools

import pytest

from SurgicalAIPlannerLib.landmarks.detect import detect_landmarks
from SurgicalAIPlannerLib.landmarks.evaluation import compare
from SurgicalAIPlannerLib.landmarks.model import LandmarkSet
from SurgicalAIPlannerLib.phantoms import PhantomSpec, build_phantom
from SurgicalAIPlannerLib.phantoms.truth import true_landmarks
from SurgicalAIPlannerLib.segmentation.engine import segment
from SurgicalAIPlannerLib.segmentation.labels import names_by_value


@functools.lru_cache(maxsize=None)  # several tests look at the same phantom
def pipeline(spec: PhantomSpec) -> tuple[LandmarkSet, dict]:
    """Detection on the phantom's CT + the classical fallback's labels, and {landmark: comparison row} against the
    mesh truth."""
    phantom = build_phantom(spec, progress=lambda _: None)
    labels = segment(phantom.ct, "classical", progress=lambda *_: None).labels
    detected = detect_landmarks(phantom.ct, labels, names_by_value(), progress=lambda _: None)
    return detected, {row.name: row for row in compare(detected, true_landmarks(phantom))}


def pipeline_errors(spec: PhantomSpec) -> dict:
    return pipeline(spec)[1]


@pytest.fixture(scope="module")
def compared():
    """TLEM2_CT's hip region at 3 mm: two proximal femurs and no pelvis (that dataset has none). The fallback
    calls some bone above the heads hip bone, with no surface in the pubic tubercles' search regions, which used
    to crash the anterior pelvic plane."""
    return pipeline_errors(PhantomSpec("TLEM2_CT", spacing=3.0, region="hip", seed=100))


def test_femoral_head_centres_within_a_millimetre(compared):
    for side in ("left", "right"):
        row = compared[f"femoral_head_center_{side}"]
        assert row.status == "both" and row.error_mm < 1.0, (row.status, row.error_mm)


def test_no_pelvic_landmark_is_invented_without_a_pelvis(compared):
    for name in ("ASIS_left", "ASIS_right", "pubic_tubercle_left", "pubic_tubercle_right"):
        assert compared[name].status == "both missing", (name, compared[name].status)


@pytest.mark.parametrize(("dataset", "spacing", "names", "limit_mm"), [
    # Named section by section, the femoral condyles' lowest 5 mm lay below the joint line's plane and were lost,
    # and the right fibular head went to the tibia: tibial plateau lateral tips 23 / 18 mm, centres 11 / 9 mm off.
    ("JIA_MRI", 1.0, ("tibial_plateau_center", "tibial_plateau_lateral", "tibial_plateau_medial",
                      "femur_knee_center"), 2.0),
    # At 3 mm the lateral epicondyles were 1.56 / 3.25 mm off (knee centres 0.71 / 1.78 mm).
    ("TLEM2_MRI", 3.0, ("lateral_epicondyle", "medial_epicondyle", "femur_knee_center"), 2.0),
])
def test_knee_landmarks_on_the_fallback_segmentation_of_a_knee_phantom(dataset, spacing, names, limit_mm):
    """The knee bones are now settled in 3D after being named section by section (knee_rules._one_piece_per_bone):
    pieces parted by a 3 mm erosion keep one bone each."""
    rows = pipeline_errors(PhantomSpec(dataset, spacing=spacing, region="knee", seed=101))
    for name in names:
        for side in ("left", "right"):
            row = rows[f"{name}_{side}"]
            assert row.status == "both" and row.error_mm <= limit_mm, (row.name, row.status, row.error_mm)


@pytest.mark.parametrize(("dataset", "spacing", "limit_mm"), [("ICL_MRI", 3.0, 3.0), ("TLEM2_MRI", 3.0, 3.0),
                                                          ("ICL_MRI", 1.0, 2.0), ("TLEM2_MRI", 1.0, 2.0)])
def test_pubic_tubercles_on_the_fallback_segmentation_of_a_pelvis_phantom(dataset, spacing, limit_mm):
    """The pubic tubercles lie beside the symphysis. Parting the hips at the midline plane cut these posed pelvises a
    voxel off the symphysis's gap, which moved both tubercles the same way: 3.7 / 7.1 mm (ICL_MRI) and 4.3 / 3.9 mm
    (TLEM2_MRI) off at 3 mm. The hips now part along the gap (classical._part_hips_at_the_symphysis), on a finer CT
    again at its own resolution, where ICL_MRI's 4 mm gap is not bridged (right tubercle 2.8 mm off on the 3 mm
    grid alone, 7.1 mm before). TLEM2_MRI's 2 mm gap stays above the bone threshold even at 1 mm (tubercles 3.5 mm
    off when grown through bone voxels first); flooded brightest first, the sides meet in it."""
    rows = pipeline_errors(PhantomSpec(dataset, spacing=spacing, region="hip", seed=100))
    for side in ("left", "right"):
        row = rows[f"pubic_tubercle_{side}"]
        assert row.status == "both" and row.error_mm <= limit_mm, (row.name, row.status, row.error_mm)


@pytest.mark.parametrize("dataset", ["JIA_MRI", "TLEM2_MRI"])
def test_femoral_neck_axes_on_the_fallback_segmentation_of_a_pelvis_phantom(dataset):
    """The plane that parted femur from hip bone (below the head centre, lateral to it) gave the femur the socket's
    lower rim, and the neck ring took it in: neck axes 4.1 mm / 9.5 deg (JIA_MRI left), 9.7 mm / 20.4 deg and
    5.0 mm / 11.1 deg (TLEM2_MRI) off at 3 mm; with the phantoms' own labels 0.2-2.4 mm / 0.8-5.5 deg. The bone
    around the head is now named by what it is joined to (classical._part_neck_from_socket)."""
    rows = pipeline_errors(PhantomSpec(dataset, spacing=3.0, region="hip", seed=100))
    for side in ("left", "right"):
        row = rows[f"femoral_neck_axis_{side}"]
        assert row.status == "both" and row.error_mm <= 3.0 and row.angle_deg <= 6.0, (row.name, row.error_mm,
                                                                                       row.angle_deg)


def test_a_greater_trochanter_above_the_head_centre_stays_femur():
    """TLEM2_MRI's pelvis in pose 103 raises the left femur so that the greater trochanter's tip lies above the head
    centre, which the split's plane gives to the hip bone; cut off from the pelvis, that piece was then dropped, and
    the trochanter's tip landed 7.2 mm off (1.1 mm with the phantom's own labels)."""
    row = pipeline_errors(PhantomSpec("TLEM2_MRI", spacing=3.0, region="hip", seed=103))["greater_trochanter_left"]
    assert row.status == "both" and row.error_mm <= 2.0, (row.status, row.error_mm)


@pytest.mark.parametrize(("dataset", "closed", "limit_mm"), [("TLEM2_MRI", True, 3.0), ("JIA_MRI", False, 3.0)])
def test_acetabulum_centres_on_the_fallback_segmentation_of_a_pelvis_phantom(dataset, closed, limit_mm):
    """A 3 mm CT fuses TLEM2_MRI's 3 mm hip joints: the fallback's hip label hugs the head, and a sphere fit of it
    mixed head and socket points and slid medially, 5.2 / 6.4 mm off (0.7 / 0.4 mm with the phantom's own labels).
    Such a socket is now recognised and the head centre stands in, saying so, without a radius or an opening it did
    not measure. JIA_MRI's joints stay open enough for its sockets to be fitted (2.7 / 1.0 mm off), and their openings
    (rim planes) to be measured: 1.1 / 0.9 deg off (the old axis through the socket surface's centroid: 2.4 / 6.8)."""
    detected, rows = pipeline(PhantomSpec(dataset, spacing=3.0, region="hip", seed=100))
    for side in ("left", "right"):
        name = f"acetabulum_center_{side}"
        row, extras = rows[name], detected.landmarks[name].extras
        assert row.status == "both" and row.error_mm <= limit_mm, (row.name, row.status, row.error_mm)
        assert extras.get("closed_joint", False) is closed, (name, detected.landmarks[name].method)
        assert ("radius_mm" in extras and "inclination_deg" in extras) is not closed, (name, sorted(extras))
        assert closed or row.angle_deg <= 3.0, (name, row.angle_deg)


EPICONDYLES = ("femur_knee_center", "lateral_epicondyle", "medial_epicondyle")
PLATEAU = ("tibial_plateau_center", "tibial_plateau_medial", "tibial_plateau_lateral")


@pytest.mark.parametrize(("dataset", "seed", "names"), [
    # The patella's lower pole stayed femur: lateral epicondyles 15.7 / 9.7 mm off, knee centres 7.8 / 4.9 mm.
    ("TLEM2_MRI", 100, EPICONDYLES), ("TLEM2_CT", 101, EPICONDYLES),
    # The medial femoral condyle's bottom became tibia: right medial plateau tip 14.4 mm off, centre 7.0 mm.
    ("TLEM2_CT", 100, PLATEAU),
])
def test_knee_bones_fused_on_a_1_mm_ct_are_parted_on_the_ct(dataset, seed, names):
    """TLEM2's joint spaces are 1.7-3 mm on the meshes: blurred as a CT blurs, they stay above the bone threshold
    on the knee rules' 1.5 mm grid. Flooded by intensity on the CT's own 1 mm grid from both bones' cores, two
    neighbouring bones meet in the dark joint space between them."""
    rows = pipeline_errors(PhantomSpec(dataset, spacing=1.0, region="knee", seed=seed))
    for name in names:
        for side in ("left", "right"):
            row = rows[f"{name}_{side}"]
            assert row.status == "both" and row.error_mm <= 2.0, (row.name, row.status, row.error_mm)


def test_ankle_landmarks_on_the_fallback_segmentation_keep_the_malleoli():
    """The fallback cut the foot off at the ankle line's plane, and the malleoli with it (they reach 10-20 mm below
    it beside the talus): JIA_MRI's ankle centres were 10.8 / 11.4 mm off, its lateral malleoli 16.9 / 18.8 mm.
    The foot is now parted from the shank in 3D (knee_rules._without_the_foot)."""
    rows = pipeline_errors(PhantomSpec("JIA_MRI", spacing=3.0, region="ankle", seed=102))
    for name in ("ankle_center", "medial_malleolus", "lateral_malleolus"):
        for side in ("left", "right"):
            row = rows[f"{name}_{side}"]
            assert row.status == "both" and row.error_mm <= 2.0, (row.name, row.status, row.error_mm)


@pytest.mark.parametrize(("dataset", "spacing"), [("ICL_MRI", 3.0), ("ICL_MRI", 1.0), ("JIA_MRI", 3.0)])
def test_a_fibula_with_as_much_bone_below_the_ankle_line_as_in_view_above_keeps_its_malleolus(dataset, spacing):
    """An ankle scan shows 75-90 mm of shank: the fibula's piece then held about as much bone below the ankle line
    (its malleolus) as above, and a shank piece "mostly below the line" was cut at the line as if fused with the
    foot: its malleolus went to the foot and the ankle was refused (ICL_MRI at 1 mm and 3 mm, JIA_MRI's right at
    3 mm). Only a piece that runs into the foot (longer front to back below the line) is cut now."""
    detected, rows = pipeline(PhantomSpec(dataset, spacing=spacing, region="ankle", seed=100))
    for name in ("lateral_malleolus_right", "ankle_center_right"):
        row = rows[name]
        assert row.status == "both" and row.error_mm <= 2.0, (name, row.status, detected.landmarks[name].missing_reason)


def test_two_ankles_closer_than_a_knee_is_wide_are_two_legs():
    """TLEM2_MRI's ankles span 147 mm with 12 mm between them: taken for one leg, the right tibia was named a
    fibula and the left ankle centre landed 55 mm off. Two legs apart are two legs; where the fallback's fibula then
    loses its malleolus (fused with the talus at 3 mm), the ankle is reported missing, not invented."""
    detected, rows = pipeline(PhantomSpec("TLEM2_MRI", spacing=3.0, region="ankle", seed=102))
    for side in ("left", "right"):
        assert rows[f"medial_malleolus_{side}"].status == "both"
        assert rows[f"medial_malleolus_{side}"].error_mm <= 5.0, rows[f"medial_malleolus_{side}"].error_mm
        centre = rows[f"ankle_center_{side}"]
        assert centre.status == "missed" or centre.error_mm <= 2.0, (centre.status, centre.error_mm)
        if centre.status == "missed":
            assert "malleolus is not in the label" in detected.landmarks[f"ankle_center_{side}"].missing_reason
            # Its tibia's label may then hold that malleolus and the talus: the medial malleolus asks to be checked.
            medial = detected.landmarks[f"medial_malleolus_{side}"]
            assert medial.confidence == 0.5 and "check it" in medial.method, (medial.confidence, medial.method)


@pytest.mark.parametrize(("seed", "limit_mm"), [(100, 3.0), (101, 8.0)])
def test_knee_and_ankle_landmarks_of_a_whole_leg_scan(seed, limit_mm):
    """A hip-to-foot CT through the fallback. Seed 100: a narrowing between talus and calcaneus, with 153 mm of foot
    above it, passed for the left ankle; the foot stayed in the leg and the knee rules named the whole tibia femur
    (the left knee's landmarks 245-249 mm off). Seed 101: the legs, tilted in the scan, cross the pelvis's midline at
    the ankles, and splitting them there gave the right tibia's malleolus to fibula_left (34-56 mm off); and a left
    tibia grown into the tarsals put its medial malleolus 139 mm off. Every knee and ankle landmark found must lie
    near its truth (fused ankles may refuse the lateral malleolus and the ankle centre, saying why)."""
    detected, rows = pipeline(PhantomSpec("JIA_MRI", spacing=3.0, region="full", seed=seed))
    knee_and_ankle = ("femur_knee_center", "medial_epicondyle", "lateral_epicondyle", "tibial_plateau_center",
                      "tibial_plateau_medial", "tibial_plateau_lateral", "medial_malleolus")
    for name, row in rows.items():
        if name.rsplit("_", 1)[0] in knee_and_ankle:
            assert row.status == "both" and row.error_mm <= limit_mm, (name, row.status, row.error_mm)
    for side in ("left", "right"):
        ankle = detected.landmarks[f"ankle_center_{side}"]
        assert ankle.present or ankle.missing_reason, side



@pytest.mark.parametrize(("dataset", "seed"), [("ICL_MRI", 100), ("ICL_MRI", 103), ("TLEM2_MRI", 103)])
def test_hip_and_knee_landmarks_of_a_one_legged_or_tilted_whole_leg_scan(dataset, seed):
    """ICL_MRI has a pelvis and one (right) leg: over a hip-to-foot scan's sections the body outline's centre was
    the leg's, 95 mm beside the pelvis's midline, and the pelvis rules named hip bone femur and lumbar spine (right
    head 126 mm off, a left femur invented). TLEM2_MRI seed 103: legs tilted so far that the right shank lies left
    of the pelvis's midline; the midline lay 45 mm off (left head 54 mm off, the pelvis named lumbar spine), and
    then the right shank went to the left leg. ICL_MRI seed 103: its one leg, tilted, crosses the pelvis's midline,
    and the shank beyond it became a left leg (left knee and ankle landmarks invented). The midline now comes from
    the trunk's sections; two legs side by side are named by which lies farther left, and a scan with one femur and
    no two legs side by side has one leg."""
    detected, rows = pipeline(PhantomSpec(dataset, spacing=3.0, region="full", seed=seed))
    limits_mm = {"femoral_head_center": 1.0, "ASIS": 3.0, "pubic_tubercle": 3.0, "femur_knee_center": 2.0,
                 "lateral_epicondyle": 2.0, "medial_epicondyle": 2.0}
    compared = 0
    for name, row in rows.items():
        assert row.status != "invented", (name, detected.landmarks[name].method)
        limit = limits_mm.get(name.rsplit("_", 1)[0])
        if limit is not None and row.status != "both missing":
            assert row.status == "both" and row.error_mm <= limit, (name, row.status, row.error_mm)
            compared += 1
    assert compared == (8 if dataset == "ICL_MRI" else 12)  # the four APP points and each leg's four
