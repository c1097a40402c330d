"""Shared fixtures: paths to the real data in ../shared/data and the bundled sample."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
TOTALSEG_DIR = SHARED_DATA / "totalseg-example-ct"


def without_lowest_slices(volume, count: int):
    """``volume`` with its ``count`` lowest slices cut off (the sample's slices run upwards, k along +z): the sample
    CT as a lumbar CT that stops above the hip joints."""
    origin = np.asarray(volume.origin) + np.asarray(volume.direction)[:, 2] * count * volume.spacing[2]
    return replace(volume, array=volume.array[count:].copy(), origin=tuple(origin))


def _existing(path: Path) -> Path:
    """Fail (not skip) when the shared data is missing: the tests need the real files."""
    assert path.exists(), f"{path} is missing: the tests expect ../shared/data beside the repository"
    return path


@pytest.fixture(scope="session")
def dicom_series_dir() -> Path:
    return _existing(TOTALSEG_DIR / "example_ct_dicom")


@pytest.fixture(scope="session")
def sample_ct_file() -> Path:
    return _existing(REPO_ROOT / "Resources" / "SampleData" / "example_ct.nii.gz")


@pytest.fixture(scope="session")
def sample_labels_file() -> Path:
    return _existing(REPO_ROOT / "Resources" / "SampleData" / "example_seg_fast_force_split.nii.gz")


@pytest.fixture(scope="session")
def sample_label_table() -> dict[int, str]:
    from SurgicalAIPlannerLib.imaging.label_table import read_label_table

    return read_label_table(_existing(REPO_ROOT / "Resources" / "SampleData" / "labels_totalsegmentator_v2_total.csv"))


@pytest.fixture(scope="session")
def headless_context():
    """One real MRML scene with Slicer's module logics, shared by the tests that only add nodes."""
    from SurgicalAIPlannerLib.scene import new_headless_context

    return new_headless_context()


BONE_MESHES_DIR = SHARED_DATA / "bone-meshes" / "msk-STAPLE"


@pytest.fixture(scope="session")
def staple_root() -> Path:
    """The STAPLE bone meshes (CC BY-NC: tests only, never copied into the repository)."""
    return _existing(BONE_MESHES_DIR / "bone_datasets").parent


def _analytic_hip_landmarks(native_lld_mm: float = 0.0, shaft_in_view: bool = False):
    """A neutral pelvis (APP = RAS axes, ASIS midpoint at RAS (0, 0, 0)) with mirror-symmetric hips, in RAS mm.

    Hip centres 88 mm lateral, 35 mm posterior, 65 mm below the ASIS line; head radius 24 mm; neck at CCD 130°
    with 12° anteversion. ``native_lld_mm`` lowers the right lesser trochanter (right leg longer).
    """
    import numpy as np

    from SurgicalAIPlannerLib.landmarks.model import Landmark, LandmarkSet

    landmarks = LandmarkSet()

    def add(name, position, **extras):
        landmarks.add(Landmark(name, np.asarray(position, float), 1.0, "analytic", extras=extras))

    for side, sign in (("left", -1.0), ("right", 1.0)):
        medial = -sign
        neck = np.array([medial * np.sin(np.radians(50)) * np.cos(np.radians(12)),
                         np.sin(np.radians(50)) * np.sin(np.radians(12)), np.cos(np.radians(50))])
        add(f"ASIS_{side}", [sign * 115.0, 0.0, 0.0])
        add(f"pubic_tubercle_{side}", [sign * 20.0, 0.0, -85.0])
        add(f"acetabulum_center_{side}", [sign * 88.0, -35.0, -65.0], radius_mm=25.0)
        add(f"femoral_head_center_{side}", [sign * 88.0, -35.0, -65.0], radius_mm=24.0, neck_axis=neck.tolist())
        add(f"greater_trochanter_{side}", [sign * 156.0, -42.0, -72.0])
        lowered = native_lld_mm if side == "right" else 0.0
        add(f"lesser_trochanter_{side}", [sign * 98.0, -43.0, -120.0 - lowered])
        if shaft_in_view:
            add(f"femoral_shaft_axis_{side}", [sign * 127.0, -42.5, -96.0], direction=[0.0, 0.0, 1.0])
    return landmarks


@pytest.fixture(scope="session")
def analytic_hip_landmarks():
    """Builder of analytic (known-answer) hip landmark sets; see ``_analytic_hip_landmarks``."""
    return _analytic_hip_landmarks


@pytest.fixture(scope="session")
def tiny_bone_bundle(tmp_path_factory) -> Path:
    """A real MONAI bundle (small untrained U-Net, seeded) written by the project's own bundle writer.

    For testing the bundle format and the inference plumbing, not segmentation quality.
    """
    import torch

    from SurgicalAIPlannerLib.segmentation.bundle import save_bundle
    from SurgicalAIPlannerLib.segmentation.labels import BONES, label_table
    from SurgicalAIPlannerLib.segmentation.network import build_network

    torch.manual_seed(0)
    network_def = {"_target_": "monai.networks.nets.UNet", "spatial_dims": 3, "in_channels": 1,
                   "out_channels": len(BONES) + 1, "channels": [4, 8], "strides": [2], "num_res_units": 0}
    manifest = {"name": "tiny", "version": "0.0.1", "labels": label_table(), "spacing_mm": [6.0, 6.0, 6.0],
                "window_hu": [-1000.0, 1500.0], "patch_size": [16, 16, 16],
                "sliding_window": {"overlap": 0.25, "mode": "gaussian", "batch": 2}, "measured_dice": None}
    folder = tmp_path_factory.mktemp("models") / "tiny"
    return save_bundle(folder, build_network(network_def), network_def, manifest, {"version": "0.0.1"},
                       {"roi_size": [16, 16, 16]})
