"""Reading the real STAPLE bone meshes: frames (RAS out), names, laterality, 1-based connectivity, bad files."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io

from SurgicalAIPlannerLib.imaging.volume import LPS_TO_RAS
from SurgicalAIPlannerLib.phantoms import MeshLoadError, available_datasets, load_staple_dataset
from SurgicalAIPlannerLib.phantoms.meshes import read_triangulation, validate_triangles

# STAPLE reference hip joint centres in each dataset's own mesh frame (mm, shared/data/README.md).
STAPLE_HIP_R = {"ICL_MRI": ((80.2, -26.6, 18.4), "RAS"), "JIA_MRI": ((-82.8, -39.4, -192.6), "LPS"),
                "TLEM2_MRI": ((-78.3, 22.5, 880.8), "LPS"), "TLEM2_CT": ((-64.0, -146.8, -318.9), "LPS")}


def test_all_four_datasets_are_found(staple_root):
    assert available_datasets(staple_root) == ["ICL_MRI", "JIA_MRI", "TLEM2_CT", "TLEM2_MRI"]


@pytest.mark.parametrize("dataset", ["ICL_MRI", "JIA_MRI", "TLEM2_MRI", "TLEM2_CT"])
def test_meshes_arrive_in_ras_with_the_patients_sides(staple_root, dataset):
    bones = load_staple_dataset(dataset, staple_root)
    centre, frame = STAPLE_HIP_R[dataset]
    hip_centre_ras = (LPS_TO_RAS if frame == "LPS" else np.eye(3)) @ np.array(centre)
    head = bones["femur_right"].points
    # The right hip centre is the centre of the right femoral head: 15-30 mm (a head radius) from its surface.
    assert 15.0 < np.linalg.norm(head - hip_centre_ras, axis=1).min() < 30.0
    assert hip_centre_ras[0] > 0, "RAS: the patient's right is +x"
    for bone in ("femur", "tibia", "hip"):
        if f"{bone}_left" in bones and f"{bone}_right" in bones:
            assert bones[f"{bone}_left"].points[:, 0].mean() < bones[f"{bone}_right"].points[:, 0].mean() - 80
    # Superior is +z: the femur lies above the tibia.
    assert bones["femur_right"].points[:, 2].mean() > bones["tibia_right"].points[:, 2].mean() + 250


def test_pelvis_and_tibia_files_are_split_into_bones(staple_root):
    jia = load_staple_dataset("JIA_MRI", staple_root)
    assert {"hip_left", "hip_right", "sacrum", "fibula_left", "fibula_right"} <= set(jia)
    assert abs(jia["sacrum"].points[:, 0].mean()) < 15.0  # the central piece of pelvis.mat
    assert jia["fibula_right"].points[:, 0].mean() > jia["tibia_right"].points[:, 0].mean()  # lateral, on the right
    icl = load_staple_dataset("ICL_MRI", staple_root)
    assert icl["fibula_right"].source.name == "fibula_r.mat"
    assert "femur_left" not in icl and "hip_left" not in load_staple_dataset("TLEM2_CT", staple_root)


def test_connectivity_is_converted_from_one_based(staple_root):
    path = staple_root / "bone_datasets" / "ICL_MRI" / "tri" / "patella_r.mat"
    points, faces = read_triangulation(path)
    assert faces.min() == 0 and faces.max() == len(points) - 1
    with pytest.raises(MeshLoadError, match="1-based"):
        validate_triangles(path, points, faces)  # already 0-based: index 0 is out of range


def test_files_that_are_not_triangulations_are_named_in_the_error(tmp_path, staple_root):
    with pytest.raises(MeshLoadError, match="does not exist"):
        read_triangulation(tmp_path / "missing.mat")
    not_a_mesh = tmp_path / "matrix.mat"
    scipy.io.savemat(not_a_mesh, {"values": np.eye(3)})
    with pytest.raises(MeshLoadError, match=r"matrix\.mat: holds no MATLAB triangulation"):
        read_triangulation(not_a_mesh)
    garbage = tmp_path / "garbage.mat"
    garbage.write_bytes(b"not a MAT file at all")
    with pytest.raises(MeshLoadError, match="garbage.mat"):
        read_triangulation(garbage)
    with pytest.raises(MeshLoadError, match="unknown dataset"):
        load_staple_dataset("MC22", staple_root)
