"""What the artist put on RAM's own armature survives a new import or capture of the scene (it is re-keyed
in place, not rebuilt); RAM's keys the artist edited are kept in their old action, renamed, and said."""

from __future__ import annotations

import json
import subprocess
import sys

import bpy
import numpy as np
import pytest

from ram_blender import session
from ram_blender.importer.keys import action_fcurves
from ram_blender.importer.plan import FRAME_OFFSET
from ram_core.contract.coords import camera_points_to_blender
from ram_core.contract.results import load_results, save_results
from ram_core.contract.skeleton import JOINT_NAMES
from tests.fixtures.artist import look_hat_and_wave


def person(track_id):
    return next(item.object for item in bpy.context.scene.ram.tracks if item.track_id == track_id)


def put_work_on(obj):
    """The artist's work on RAM's armature itself: a bone constraint, an empty parented to a bone, custom
    properties on the object, its data and a pose bone, a keyed custom property and a bone's scale in RAM's
    own action, their own action in an NLA strip, the object moved, a bone of their own."""
    look_hat_and_wave(obj)
    obj["mood"] = 0.0
    obj.keyframe_insert('["mood"]', frame=3)  # a curve RAM does not write, in RAM's action
    obj["mood"] = 1.0
    obj.keyframe_insert('["mood"]', frame=9)
    obj.pose.bones["left_hand"].scale = (1.5, 1.5, 1.5)
    obj.pose.bones["left_hand"].keyframe_insert("scale", frame=10)
    obj.data["rig_version"] = 2
    obj.pose.bones["spine1"]["stiffness"] = 0.25
    obj.location.x += 0.5
    bpy.context.view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    tail = obj.data.edit_bones.new("tail")
    tail.head, tail.tail = (0.0, -0.1, 0.9), (0.0, -0.4, 0.8)
    tail.parent = obj.data.edit_bones["pelvis"]
    bpy.ops.object.mode_set(mode="OBJECT")


def work_on(obj):
    """What :func:`put_work_on` made, as seen on ``obj`` now (comparable across imports and sessions)."""
    anim = obj.animation_data
    curves = {
        (fc.data_path, fc.array_index): [tuple(round(c, 5) for c in k.co) for k in fc.keyframe_points]
        for fc in action_fcurves(anim.action)
        if fc.data_path in ('["mood"]', 'pose.bones["left_hand"].scale')
    }
    hat = bpy.data.objects["hat"]
    return {
        "constraints": [(c.name, c.type, c.target.name) for c in obj.pose.bones["head"].constraints],
        "hat": (hat.parent.name, hat.parent_type, hat.parent_bone),
        "properties": (obj.get("mood"), obj.data.get("rig_version"), obj.pose.bones["spine1"].get("stiffness")),
        "curves": sorted(curves.items()),
        "nla": [[(s.name, s.action.name, s.blend_type) for s in t.strips] for t in anim.nla_tracks],
        "bone": obj.data.bones["tail"].parent.name if "tail" in obj.data.bones else None,
    }


def moved(results_file, name="moved.ram.npz", dx=0.3):
    """The capture again, with track 1 moved ``dx`` m along the camera's x (another capture's motion)."""
    raw = load_results(results_file)
    for t in raw.tracks:
        if t.track_id == 1:
            t.joints[..., 0] += dx
            t.transl[..., 0] += dx
    return save_results(raw, results_file.parent / name)


def assert_follows(track_id, keep=()):
    """RAM's armature plays the scene's results (the artist's bone constraint and NLA strips muted, but
    those playing the actions in ``keep``)."""
    obj = person(track_id)
    track = session.edited(bpy.context).results.track(track_id)
    strips = [s for t in obj.animation_data.nla_tracks for s in t.strips if s.action not in keep]
    muted = [*obj.pose.bones["head"].constraints, *strips]
    for m in muted:
        m.mute = True
    try:
        for i in (0, len(track) // 2, len(track) - 1):
            bpy.context.scene.frame_set(int(track.frame[i]) + FRAME_OFFSET)
            got = np.array([obj.matrix_world @ obj.pose.bones[n].head for n in JOINT_NAMES])[:20]
            want = camera_points_to_blender(track.joints[i])[:20] + np.array(obj.location)  # where the artist moved it
            np.testing.assert_allclose(got, want, atol=1e-3)
    finally:
        for m in muted:
            m.mute = False


def test_the_artists_work_on_rams_armature_survives_a_new_import(empty_scene, results_file):
    session.import_results(bpy.context, str(results_file))
    put_work_on(person(1))
    before = work_on(person(1))
    old_pointer = person(1).as_pointer()

    session.import_results(bpy.context, str(moved(results_file)))

    obj = person(1)
    assert obj.as_pointer() != old_pointer and obj.name == "RAM person 1"  # RAM's new armature, the copy
    assert work_on(obj) == before
    assert_follows(1)  # RAM's keys are the new capture's
    assert session.take_notes() == []  # nothing of RAM's was edited: nothing to say
    assert not [a.name for a in bpy.data.actions if "(edited)" in a.name or "(replaced)" in a.name]
    assert sorted(o.name for o in bpy.context.scene.ram.collection.objects if o.type == "ARMATURE") == [
        "RAM person 1",
        "RAM person 2",
        "RAM person 5",
    ]
    assert (
        len([a for a in bpy.data.actions if a.name.startswith("RAM person 1 ")]) == 4
    )  # motion, channels, contact, body


def test_rams_keys_the_artist_edited_are_kept_in_their_old_action(empty_scene, results_file):
    session.import_results(bpy.context, str(results_file))
    obj = person(1)
    action = obj.animation_data.action
    fc = next(f for f in action_fcurves(action) if f.data_path == 'pose.bones["head"].rotation_quaternion')
    fc.keyframe_points[5].co.y += 0.2  # a pose corrected by hand, on RAM's own curve
    edited = fc.keyframe_points[5].co.y
    assert bpy.ops.ram.import_results("EXEC_DEFAULT", filepath=str(moved(results_file))) == {"FINISHED"}

    kept = bpy.data.actions["RAM person 1 motion (edited)"]
    assert kept.use_fake_user and kept != person(1).animation_data.action
    fc = next(f for f in action_fcurves(kept) if f.data_path == 'pose.bones["head"].rotation_quaternion')
    assert fc.keyframe_points[5].co.y == pytest.approx(edited)
    assert_follows(1)
    assert session.take_notes() == []  # the operator reported it (and took it)

    session.import_results(bpy.context, str(moved(results_file, "again.ram.npz", 0.1)))
    assert session.take_notes() == []  # RAM's keys from the last import were not edited: nothing more to keep
    assert [a.name for a in bpy.data.actions if "(edited)" in a.name] == ["RAM person 1 motion (edited)"]


FRESH_SESSION = """
import json, sys
import bpy
bpy.ops.wm.open_mainfile(filepath=sys.argv[1])
obj = bpy.data.objects["RAM person 1"]
action = obj.animation_data.action
bags = [b for l in getattr(action, "layers", ()) for s in l.strips for b in s.channelbags]
curves = [c for b in bags for c in b.fcurves] if bags else list(action.fcurves)
hat = bpy.data.objects["hat"]
print(json.dumps({
    "constraints": [c.name for c in obj.pose.bones["head"].constraints],
    "hat": [hat.parent.name, hat.parent_bone],
    "mood": [tuple(k.co) for c in curves if c.data_path == '["mood"]' for k in c.keyframe_points],
    "strips": [s.action.name for t in obj.animation_data.nla_tracks for s in t.strips],
    "edited": [a.name for a in bpy.data.actions if a.name.endswith("(edited)") and a.use_fake_user],
    "tail": "tail" in obj.data.bones,
}))
"""


def test_a_reimported_file_reopens_with_the_artists_work(empty_scene, results_file, tmp_path):
    blend = tmp_path / "scene.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    session.import_results(bpy.context, str(results_file))
    put_work_on(person(1))
    fc = next(f for f in action_fcurves(person(1).animation_data.action) if f.data_path.endswith("location"))
    fc.keyframe_points[0].co.y += 0.1
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    bpy.ops.wm.open_mainfile(filepath=str(blend))  # the re-import happens in a reopened file
    session.import_results(bpy.context, str(moved(results_file)))
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    done = subprocess.run(
        [sys.executable, "-c", FRESH_SESSION, str(blend)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got == {
        "constraints": ["look"],
        "hat": ["RAM person 1", "head"],
        "mood": [[3.0, 0.0], [9.0, 1.0]],
        "strips": ["RAM person 1 channels", "wave"],
        "edited": ["RAM person 1 motion (edited)"],
        "tail": True,
    }


def test_actions_from_an_earlier_ram_are_kept_unless_the_same_capture_comes_again(empty_scene, results_file):
    """Actions keyed before RAM recorded its keys: the same capture again tells they were not edited (their
    keys equal the new ones); another capture cannot tell, so they are kept, and the note says why."""
    from ram_blender.importer.keys import KEYED_CURVES_PROP, KEYED_DIGEST_PROP

    def as_saved_by_an_earlier_ram():
        for action in bpy.data.actions:
            for prop in (KEYED_CURVES_PROP, KEYED_DIGEST_PROP):
                action.pop(prop, None)

    session.import_results(bpy.context, str(results_file))
    as_saved_by_an_earlier_ram()
    again = results_file.parent / "same.ram.npz"
    again.write_bytes(results_file.read_bytes())
    session.import_results(bpy.context, str(again))
    assert session.take_notes() == [] and not [a for a in bpy.data.actions if a.name.endswith("(edited)")]
    as_saved_by_an_earlier_ram()
    session.import_results(bpy.context, str(moved(results_file)))
    (note,) = session.take_notes()
    kept = [a.name for a in bpy.data.actions if a.name.endswith("(edited)")]
    assert kept == ["RAM person 1 motion (edited)"]  # track 1's motion moved; its visibility and contact did not
    assert "1 saved by an earlier RAM may not hold any" in note


def test_rams_action_pushed_into_the_nla_under_the_artists_own_stays_there(empty_scene, results_file):
    session.import_results(bpy.context, str(results_file))
    obj = person(1)
    anim = obj.animation_data
    ram_action = anim.action
    anim.nla_tracks.new().strips.new("RAM motion", 1, ram_action)  # pushed down
    mine = bpy.data.actions.new("my layer")
    anim.action = mine
    obj.pose.bones["head"].keyframe_insert("scale", frame=4)

    session.import_results(bpy.context, str(moved(results_file)))

    anim = person(1).animation_data
    assert anim.action == mine  # the artist's active action, as they left it
    played = [s.action for t in anim.nla_tracks for s in t.strips]
    assert person(1)["ram_action"] in played and person(1)["ram_action"].name == "RAM person 1 motion"
    anim.action = None  # RAM's keys (the new capture's) play from the strip
    assert_follows(1, keep=(person(1)["ram_action"],))


def test_the_same_capture_again_keeps_rams_keys_the_artist_edited_on_the_armature(empty_scene, results_file):
    """Nothing to re-key (the same records, rest and camera): the copy plays every key it had, the artist's
    edit of RAM's keys included, and nothing is set aside or said."""
    session.import_results(bpy.context, str(results_file))
    fc = next(f for f in action_fcurves(person(1).animation_data.action) if f.data_path.endswith("location"))
    fc.keyframe_points[3].co.y += 0.25
    edited = tuple(fc.keyframe_points[3].co)
    again = results_file.parent / "same.ram.npz"
    again.write_bytes(results_file.read_bytes())
    session.import_results(bpy.context, str(again))
    fc = next(f for f in action_fcurves(person(1).animation_data.action) if f.data_path.endswith("location"))
    assert tuple(fc.keyframe_points[3].co) == pytest.approx(edited)
    assert session.take_notes() == [] and not [a for a in bpy.data.actions if a.name.endswith("(edited)")]
