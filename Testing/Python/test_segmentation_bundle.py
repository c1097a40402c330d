"""MONAI bundle + manifest: loading, sha256 check at load, clear errors, the ``models`` command."""

import json
import shutil

import pytest
import torch

from SurgicalAIPlannerLib.cli import main
from SurgicalAIPlannerLib.segmentation.bundle import MANIFEST, WEIGHTS, BundleError, load_bundle, resolve_bundle, sha256_of


def test_bundle_loads_with_monai_layout_and_matching_sha256(tiny_bone_bundle):
    for part in ("configs/metadata.json", "configs/inference.json", WEIGHTS, MANIFEST):
        assert (tiny_bone_bundle / part).is_file()
    bundle = load_bundle(tiny_bone_bundle)
    assert bundle.manifest["weights_sha256"] == sha256_of(tiny_bone_bundle / WEIGHTS)
    network = bundle.load_network(torch.device("cpu"))
    with torch.no_grad():
        assert network(torch.zeros(1, 1, 16, 16, 16)).shape == (1, len(bundle.labels) + 1, 16, 16, 16)


def test_tampered_weights_are_refused_naming_the_file(tiny_bone_bundle, tmp_path):
    copy = shutil.copytree(tiny_bone_bundle, tmp_path / "tampered")
    with (copy / WEIGHTS).open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(BundleError, match=r"model\.pt: sha256 .* does not match"):
        load_bundle(copy).load_network(torch.device("cpu"))


def test_manifest_without_required_keys_is_refused(tiny_bone_bundle, tmp_path):
    copy = shutil.copytree(tiny_bone_bundle, tmp_path / "incomplete")
    manifest = json.loads((copy / MANIFEST).read_text())
    del manifest["spacing_mm"]
    (copy / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="manifest.json: lacks spacing_mm"):
        load_bundle(copy)


def test_unknown_model_name_lists_installed_ones(tiny_bone_bundle):
    with pytest.raises(BundleError, match="installed: tiny"):
        resolve_bundle("no_such_model", root=tiny_bone_bundle.parent)


def test_models_command_lists_manifest(tiny_bone_bundle, monkeypatch, capsys):
    monkeypatch.setenv("SURGICAL_PLANNER_RESOURCES", str(tiny_bone_bundle.parent.parent))
    (tiny_bone_bundle.parent.parent / "Models").mkdir(exist_ok=True)
    shutil.copytree(tiny_bone_bundle, tiny_bone_bundle.parent.parent / "Models" / "tiny", dirs_exist_ok=True)
    assert main(["models", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["tiny"]["weights_sha256"] == sha256_of(tiny_bone_bundle / WEIGHTS)
