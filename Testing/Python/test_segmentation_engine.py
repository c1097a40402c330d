"""Inference plumbing on the real sample CT: grids, slab streaming, orientation, CLI and its errors."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from monai.inferers import sliding_window_inference

from SurgicalAIPlannerLib.cli import main
from SurgicalAIPlannerLib.imaging import load_ct, load_labelmap
from SurgicalAIPlannerLib.segmentation.engine import segment
from SurgicalAIPlannerLib.segmentation.inference import slab_inference
from SurgicalAIPlannerLib.segmentation.intensity import normalize_hu
from SurgicalAIPlannerLib.segmentation.labels import label_table


@pytest.fixture(scope="module")
def sample_ct(sample_ct_file):
    return load_ct(sample_ct_file)


def test_result_is_on_the_input_grid_with_table_values(sample_ct, tiny_bone_bundle):
    messages = []
    result = segment(sample_ct, str(tiny_bone_bundle), "cpu", progress=lambda share, text: messages.append((share, text)))
    labels = result.labels
    assert labels.array.shape == sample_ct.array.shape and labels.frame == sample_ct.frame
    np.testing.assert_allclose(labels.ijk_to_ras(), sample_ct.ijk_to_ras(), atol=1e-4)
    assert set(np.unique(labels.array)) <= {0, *label_table().values()}
    shares = [share for share, _ in messages]
    assert shares == sorted(shares) and shares[-1] == 1.0 and any("inference" in text for _, text in messages)


def _voxelwise_network() -> torch.nn.Module:
    """A 1x1x1 convolution: each voxel's class depends on its own HU only (no window context), so any
    difference between streamed and whole-volume inference can only come from misplaced slabs."""
    network = torch.nn.Conv3d(1, 17, kernel_size=1)
    with torch.no_grad():
        network.weight.copy_(torch.linspace(-8.0, 8.0, 17).view(17, 1, 1, 1, 1))
        network.bias.copy_(-torch.linspace(-8.0, 8.0, 17) ** 2 / 4.0)
    return network.eval()


def test_slab_streaming_matches_whole_volume_inference(sample_ct):
    network, window = _voxelwise_network(), (-1000.0, 1500.0)
    hu = np.ascontiguousarray(sample_ct.array[:, ::2, ::2])
    streamed = slab_inference(hu, network, window, (16, 16, 16), torch.device("cpu"), 0.25, 2, lambda *_: None)
    with torch.inference_mode():
        whole = sliding_window_inference(normalize_hu(torch.from_numpy(hu), window)[None, None], (16, 16, 16), 2,
                                         network, overlap=0.25, mode="gaussian")[0].argmax(0).numpy()
    assert len(np.unique(whole)) > 3, "the test network should split the CT into several classes"
    np.testing.assert_array_equal(streamed, whole)


def test_orientation_of_the_input_does_not_change_the_answer(sample_ct, tiny_bone_bundle):
    """The same CT stored flipped along i (other direction sign) must give the same labels in space."""
    flipped = replace(sample_ct, array=np.ascontiguousarray(sample_ct.array[:, :, ::-1]),
                      origin=tuple(sample_ct.ras_of_index([[sample_ct.shape_ijk[0] - 1, 0, 0]])[0] * [-1, -1, 1]),
                      direction=np.asarray(sample_ct.direction) @ np.diag([-1.0, 1.0, 1.0]))
    np.testing.assert_allclose(flipped.ras_of_index([[0, 0, 0]]), sample_ct.ras_of_index([[sample_ct.shape_ijk[0] - 1, 0, 0]]))
    a = segment(sample_ct, str(tiny_bone_bundle), "cpu", progress=lambda *_: None).labels.array
    b = segment(flipped, str(tiny_bone_bundle), "cpu", progress=lambda *_: None).labels.array[:, :, ::-1]
    assert np.mean(a == b) > 0.99


def test_segment_command_writes_a_readable_label_map(sample_ct_file, tmp_path):
    output = tmp_path / "bones.nii.gz"
    assert main(["segment", str(sample_ct_file), "--output", str(output), "--model", "classical"]) == 0
    written = load_labelmap(output)
    assert written.array.shape == load_ct(sample_ct_file).array.shape
    assert {1, 2}.issubset(set(np.unique(written.array)))
    assert not list(tmp_path.glob(".*")), "a temporary file was left behind"


def test_segment_command_errors_are_clear(sample_ct_file, tiny_bone_bundle, tmp_path, capsys):
    output = tmp_path / "bones.nii.gz"
    assert main(["segment", str(sample_ct_file), "--output", str(output), "--model", str(tmp_path / "nope")]) == 2
    assert "neither a bundle folder nor an installed model" in capsys.readouterr().err
    if not torch.cuda.is_available():
        assert main(["segment", str(sample_ct_file), "--output", str(output), "--model", str(tiny_bone_bundle),
                     "--device", "cuda"]) == 2
        assert "--device cuda was asked for" in capsys.readouterr().err
    assert not output.exists()
