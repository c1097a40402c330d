"""Voxelizing meshes and drawing phantom CTs: volumes, frames, tissues, noise, pose, determinism, saving."""

from __future__ import annotations

import numpy as np
import pytest
from vtkmodules.util import numpy_support
from vtkmodules.vtkFiltersSources import vtkSphereSource

from SurgicalAIPlannerLib.imaging import load_ct, load_labelmap
from SurgicalAIPlannerLib.phantoms import (BoneMesh, CTParameters, PhantomSpec, build_phantom, empty_grid,
                                           load_staple_dataset, save_phantom, synthesize_ct, voxelize)


def sphere_mesh(centre: tuple[float, float, float], radius: float, name: str = "femur_left") -> BoneMesh:
    source = vtkSphereSource()
    source.SetCenter(*centre)
    source.SetRadius(radius)
    source.SetThetaResolution(96)
    source.SetPhiResolution(96)
    source.Update()
    polydata = source.GetOutput()
    points = numpy_support.vtk_to_numpy(polydata.GetPoints().GetData()).astype(float)
    faces = numpy_support.vtk_to_numpy(polydata.GetPolys().GetConnectivityArray()).reshape(-1, 3)
    return BoneMesh(name, points, faces)


@pytest.mark.parametrize("frame", ["RAS", "LPS"])
def test_sphere_voxelizes_to_its_volume_and_place(frame):
    sphere = sphere_mesh((-40.0, 12.0, 30.0), 20.0)
    grid = empty_grid((np.array([-70.0, -20.0, 0.0]), np.array([-10.0, 45.0, 60.0])), 1.0, frame)
    labels = voxelize([sphere], grid, {"femur_left": 4})
    inside = np.argwhere(labels.array == 4)[:, ::-1]
    assert labels.frame == frame
    assert len(inside) == pytest.approx(4 / 3 * np.pi * 20.0**3, rel=0.02)
    np.testing.assert_allclose(labels.ras_of_index(inside).mean(axis=0), [-40.0, 12.0, 30.0], atol=0.1)


def test_meshes_not_in_the_table_are_left_out_and_bad_values_refused():
    grid = empty_grid((np.zeros(3), np.full(3, 30.0)), 2.0)
    sphere = sphere_mesh((15.0, 15.0, 15.0), 8.0, name="talus_left")
    assert not voxelize([sphere], grid, {"femur_left": 4}).array.any()
    with pytest.raises(ValueError, match="outside 1..65535"):
        voxelize([sphere], grid, {"talus_left": 0})
    with pytest.raises(ValueError, match="empty field of view"):
        empty_grid((np.full(3, 30.0), np.zeros(3)), 1.0)


def test_ct_has_cortex_cancellous_soft_tissue_air_and_seeded_noise():
    grid = empty_grid((np.zeros(3), np.full(3, 160.0)), 1.0)
    labels = voxelize([sphere_mesh((80.0, 80.0, 80.0), 25.0)], grid, {"femur_left": 4})
    params = CTParameters(seed=3, noise_sd_hu=15.0, blur_sigma_mm=0.0, cortical_thickness_mm=3.0,
                          muscle_thickness_mm=20.0, fat_thickness_mm=10.0)
    ct = synthesize_ct(labels, params)
    k = 80  # the axial slice through the centre; index = mm on this grid
    profile = ct.array[k, 80, :].astype(float)  # along x through the centre
    assert abs(profile[80] - params.cancellous_hu) < 60  # centre: cancellous
    assert abs(profile[80 + 24] - params.cortical_hu) < 60  # 1 mm inside the surface: cortex
    assert abs(np.median(profile[80 + 30:80 + 40]) - params.muscle_hu) < 30  # 5-15 mm outside: muscle
    assert abs(np.median(profile[80 + 48:80 + 52]) - params.fat_hu) < 30  # 23-27 mm outside: fat
    assert abs(np.median(ct.array[:10, :10, :10]) - params.air_hu) < 30  # far corner: air
    air = ct.array[:10, :10, :10].astype(float)
    assert np.std(air[air > -1024]) == pytest.approx(15.0, rel=0.15)
    assert np.array_equal(ct.array, synthesize_ct(labels, params).array)
    assert not np.array_equal(ct.array, synthesize_ct(labels, CTParameters(seed=4, noise_sd_hu=15.0)).array)


def test_sampled_parameters_are_seeded_and_checked():
    assert CTParameters.sampled(5) == CTParameters.sampled(5) != CTParameters.sampled(6)
    assert CTParameters.sampled(5, noise_sd_hu=0.0).noise_sd_hu == 0.0
    with pytest.raises(ValueError, match="unknown CTParameters"):
        CTParameters.sampled(5, colour=1.0)
    with pytest.raises(ValueError, match="cortical_thickness_mm"):
        CTParameters(cortical_thickness_mm=-1.0)


def test_posed_knee_phantom_keeps_labels_on_the_posed_meshes(staple_root, tmp_path):
    meshes = load_staple_dataset("ICL_MRI", staple_root)
    spec = PhantomSpec("ICL_MRI", spacing=3.0, region="knee", seed=11, frame="LPS", include_foot=False,
                       ct=CTParameters(seed=2))
    phantom = build_phantom(spec, meshes)
    assert set(phantom.names.values()) == {"femur_right", "tibia_right", "fibula_right", "patella_right"}
    assert not np.allclose(phantom.pose_ras, np.eye(4))
    patella = np.argwhere(phantom.labels.array == 16)[:, ::-1]
    np.testing.assert_allclose(phantom.labels.ras_of_index(patella).mean(axis=0),
                               phantom.meshes["patella_right"].points.mean(axis=0), atol=3.0)
    assert phantom.labels.ras_of_index(patella).mean(axis=0)[0] > 0  # a right knee stays on RAS +x
    bone = phantom.ct.array[phantom.labels.array > 0]
    assert np.median(bone) > 200 and np.median(phantom.ct.array[phantom.labels.array == 0]) < 100
    again = build_phantom(spec, meshes)
    assert np.array_equal(again.ct.array, phantom.ct.array) and np.array_equal(again.labels.array, phantom.labels.array)

    paths = save_phantom(phantom, tmp_path, "icl_knee")
    ct, labels = load_ct(paths["ct"]), load_labelmap(paths["labels"])
    assert np.array_equal(ct.array, phantom.ct.array) and np.array_equal(labels.array, phantom.labels.array)
    np.testing.assert_allclose(labels.ijk_to_ras(), phantom.labels.ijk_to_ras(), atol=1e-4)


def test_supersampled_hip_phantom_of_both_sides(staple_root):
    spec = PhantomSpec("JIA_MRI", spacing=3.0, region="hip", seed=1, supersample=3, frame="RAS", include_foot=False)
    phantom = build_phantom(spec)
    centroids = {name: phantom.labels.ras_of_index(np.argwhere(phantom.labels.array == value)[:, ::-1]).mean(axis=0)
                 for value, name in phantom.names.items()}
    assert centroids["hip_left"][0] < -40 < 40 < centroids["hip_right"][0]
    assert centroids["femur_left"][0] < 0 < centroids["femur_right"][0]
    with pytest.raises(ValueError, match="odd"):
        PhantomSpec("JIA_MRI", supersample=2)
