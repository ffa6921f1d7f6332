"""Bone maps without Blender: presets, name matching and preset files."""

from __future__ import annotations

import json

import pytest

from ram_blender import bone_maps
from ram_core.contract.skeleton import JOINT_NAMES


def test_a_preset_file_round_trips_in_smpl_order_with_the_root_motion_entry(tmp_path):
    mapping = {"head": "Head", "pelvis": "Hips", bone_maps.ROOT_MOTION: "torso", "left_knee": ""}
    path = bone_maps.save_preset(tmp_path / "rig.txt", mapping)
    assert path.name == "rig.json"
    doc = json.loads(path.read_text())
    assert list(doc["bones"]) == ["pelvis", "head", bone_maps.ROOT_MOTION]  # SMPL order, empty rows dropped
    assert bone_maps.load_preset(path) == {"pelvis": "Hips", "head": "Head", bone_maps.ROOT_MOTION: "torso"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "is not a bone map preset"),
        ('{"bones": {}}', "not a RAM bone map preset"),
        ('{"format": "ram-bone-map", "version": 99, "bones": {}}', "newer bone map preset"),
        ('{"format": "ram-bone-map", "bones": {"elbow": "x"}}', "unknown joints elbow"),
    ],
)
def test_a_bad_preset_file_is_refused_in_one_line(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as err:
        bone_maps.load_preset(path)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="no bone map preset at"):
        bone_maps.load_preset(tmp_path / "missing.json")


def test_the_rigify_maps_drive_every_body_joint_but_the_hands():
    body = set(JOINT_NAMES) - {"left_hand", "right_hand"}
    assert set(bone_maps.RIGIFY) - {bone_maps.ROOT_MOTION} == body
    assert set(bone_maps.RIGIFY_DEF) == body
    assert set(bone_maps.RIGIFY_PARENTS) == set(bone_maps.RIGIFY.values())  # every control says what moves it
