"""Shared fixtures: paths to the real data in ../shared/data and the bundled sample."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
TOTALSEG_DIR = SHARED_DATA / "totalseg-example-ct"


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
