"""The bone label table, its SNOMED CT terminology and the ``labels`` command."""

import json

from SurgicalAIPlannerLib.cli import main
from SurgicalAIPlannerLib.segmentation.labels import BONES, BY_NAME, label_table, terminology_entry

ISSUE_NAMES = {
    "hip_left", "hip_right", "sacrum", "femur_left", "femur_right", *(f"vertebrae_L{i}" for i in range(1, 6)),
    "tibia_left", "tibia_right", "fibula_left", "fibula_right", "patella_left", "patella_right",
}


def test_table_names_follow_totalsegmentator_and_values_are_unique():
    table = label_table()
    assert set(table) == ISSUE_NAMES
    assert len(set(table.values())) == len(table)
    assert 0 not in table.values()


def test_terminology_codes_side_and_structure():
    left, right = terminology_entry("hip_left"), terminology_entry("hip_right")
    assert "SCT^7771000^Left" in left and "SCT^24028007^Right" in right
    assert "SCT^49668003^L5 vertebra" in terminology_entry("vertebrae_L5")
    assert "SCT^54735007^Sacrum" in terminology_entry("sacrum") and "^Left" not in terminology_entry("sacrum")
    assert all(terminology_entry(bone.name).count("~") == 6 for bone in BONES)


def test_mirror_names_pair_left_and_right():
    assert BY_NAME["femur_left"].mirror_name == "femur_right"
    assert BY_NAME["sacrum"].mirror_name == "sacrum"


def test_labels_command_prints_the_table_as_json(capsys):
    assert main(["labels", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == label_table()
