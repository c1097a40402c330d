"""The shipped model on the real sample CT (never trained on): integrity, manifest honesty, sides, Dice floors.

Dice is against TotalSegmentator's output for this CT, not manual truth. The floors sit a little under
the Dice recorded in the manifest, so a damaged or regressed model fails here.
"""

import numpy as np
import pytest
import torch

from SurgicalAIPlannerLib.imaging import load_ct, load_labelmap
from SurgicalAIPlannerLib.segmentation.bundle import load_bundle, resolve_bundle
from SurgicalAIPlannerLib.segmentation.engine import DEFAULT_MODEL, segment
from SurgicalAIPlannerLib.segmentation.evaluation import dice_per_bone
from SurgicalAIPlannerLib.segmentation.labels import BY_NAME
from SurgicalAIPlannerLib.segmentation.totalseg import to_project_labels

MARGIN = 0.05


@pytest.fixture(scope="module")
def shipped():
    return load_bundle(resolve_bundle(DEFAULT_MODEL))


@pytest.fixture(scope="module")
def model_result(sample_ct_file):
    return segment(load_ct(sample_ct_file), DEFAULT_MODEL, "cpu", progress=lambda *_: None)


def test_shipped_weights_match_their_sha256_and_are_small(shipped):
    shipped.load_network(torch.device("cpu"))  # raises BundleError on a sha256 mismatch
    assert (shipped.folder / "models" / "model.pt").stat().st_size < 10 * 2**20


def test_manifest_states_data_licences_and_the_reference_used(shipped):
    manifest = shipped.manifest
    assert "CC BY-NC" in str(manifest["training"]["sources"])
    assert "example_ct" in manifest["training"]["not_used"]
    assert "not manual truth" in manifest["measured_dice"]["reference"]


def test_dice_stays_at_the_recorded_level(shipped, model_result, sample_labels_file, sample_label_table):
    reference = to_project_labels(load_labelmap(sample_labels_file).array.astype(np.int64), sample_label_table)
    recorded = shipped.manifest["measured_dice"]["per_label"]
    measured = dice_per_bone(model_result.labels.array, reference, list(recorded))
    regressed = {name: (round(measured[name], 3), value) for name, value in recorded.items()
                 if value > MARGIN and measured[name] < value - MARGIN}
    assert not regressed, f"Dice (measured, recorded) fell: {regressed}"


def test_left_hip_and_femur_lie_on_the_patients_left(model_result):
    labels = model_result.labels
    for name in ("hip_left", "hip_right", "femur_left", "femur_right"):
        where = np.argwhere(labels.array == BY_NAME[name].value)
        assert len(where), f"{name} is missing"
        centroid_x = labels.ras_of_index(where[:, ::-1])[:, 0].mean()
        assert (centroid_x < 0) == name.endswith("_left"), f"{name} centroid at RAS x = {centroid_x:.1f} mm"


def test_auto_does_not_pick_a_model_that_measured_below_the_fallback(shipped, tiny_bone_bundle) -> None:
    """The shipped model's manifest records that it is worse than the classical fallback on the real CT."""
    from SurgicalAIPlannerLib.segmentation.engine import _fit_for_auto, _resolve_method

    assert shipped.manifest["auto_select"]["use"] is False
    assert "classical fallback" in shipped.manifest["auto_select"]["why"]
    assert _resolve_method("auto") == "classical"
    assert _resolve_method("bone_ct_small") == str(shipped.folder)  # still available by name
    assert _fit_for_auto(tiny_bone_bundle)  # a bundle without the verdict is chosen automatically
