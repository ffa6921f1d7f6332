"""What the artist adds to an armature survives track edits and rebuilds; gaps hide and flag, never glide."""

from __future__ import annotations

import bpy
import numpy as np
import pytest

from ram_blender import edits, session
from ram_blender.importer.build import PREDICTED_PROP
from ram_blender.importer.keys import action_fcurves
from ram_blender.importer.plan import FRAME_OFFSET
from ram_core.contract.coords import SMPL_TO_BLENDER, camera_points_to_blender
from ram_core.contract.skeleton import JOINT_NAMES
from tests.fixtures.artist import look_hat_and_wave


def armature(track_id):
    return next(o for o in bpy.data.objects if o.get("ram_track_id") == track_id and o.type == "ARMATURE")


def add_artist_work(obj):
    """A constraint on the head, an empty parented to the head, an NLA strip, a hand key, a property."""
    look_hat_and_wave(obj)
    obj.pose.bones["left_hand"].scale = (1.5, 1.5, 1.5)
    obj.pose.bones["left_hand"].keyframe_insert("scale", frame=10)  # a hand key in RAM's own action
    obj["mood"] = "happy"


def artist_work(obj):
    """What :func:`add_artist_work` made, as seen on ``obj`` now (comparable between edits)."""
    head = obj.pose.bones["head"]
    hand_keys = [
        (tuple(k.co), fc.array_index)
        for fc in action_fcurves(obj.animation_data.action)
        if fc.data_path == 'pose.bones["left_hand"].scale'
        for k in fc.keyframe_points
    ]
    return {
        "constraint": [(c.name, c.target.name if c.target else None) for c in head.constraints],
        "children": sorted((c.name, c.parent_type, c.parent_bone) for c in obj.children if not c.get("ram_body")),
        "nla": [[s.name for s in t.strips] for t in obj.animation_data.nla_tracks],
        "hand keys": sorted(hand_keys),
        "mood": obj.get("mood"),
    }


def joints_at(obj, frame):
    bpy.context.scene.frame_set(frame)
    return np.array([obj.matrix_world @ obj.pose.bones[n].head for n in JOINT_NAMES])


def assert_motion_matches(context, track_id):
    """The armature's joints follow the edited track (the artist's constraint is muted for the check)."""
    obj = armature(track_id)
    track = session.edited(context).results.track(track_id)
    mutes = [(c, c.mute) for c in obj.pose.bones["head"].constraints]
    for c, _ in mutes:
        c.mute = True
    strips = [(s, s.mute) for t in obj.animation_data.nla_tracks for s in t.strips]
    for s, _ in strips:
        s.mute = True
    try:
        for i in (0, len(track) // 2, len(track) - 1):
            got = joints_at(obj, int(track.frame[i]) + FRAME_OFFSET)[:20]  # not the hands: the hand key scales them
            np.testing.assert_allclose(got, camera_points_to_blender(track.joints[i])[:20], atol=1e-3)
    finally:
        for c, m in mutes:
            c.mute = m
        for s, m in strips:
            s.mute = m


@pytest.fixture
def worked(empty_scene, results_file):
    session.import_results(bpy.context, str(results_file))
    a = armature(1)
    add_artist_work(a)
    return a, artist_work(a)


def test_edits_to_other_tracks_leave_the_armature_untouched(worked):
    a, before = worked
    pointer, digest, action = a.as_pointer(), a["ram_digest"], a.animation_data.action
    session.add_edit(bpy.context, edits.Edit("swap", 2, b=5, frame=25))
    session.add_edit(bpy.context, edits.Edit("split", 5, frame=30))
    session.add_edit(bpy.context, edits.Edit("merge", 2, b=6))
    session.add_edit(bpy.context, edits.Edit("delete", 5))
    session.undo_edit(bpy.context)
    assert armature(1).as_pointer() == pointer and a["ram_digest"] == digest and a.animation_data.action == action
    assert artist_work(a) == before


EDITS_OF_A = {
    "swap": edits.Edit("swap", 1, b=2, frame=20),
    "merge": edits.Edit("merge", 1, b=5),
    "split": edits.Edit("split", 1, frame=15),
    "rename": edits.Edit("rename", 1, name="Alice"),
    "color": edits.Edit("color", 1, color=(0.1, 0.9, 0.2)),
}


@pytest.mark.parametrize("op", [*EDITS_OF_A, "rebuild", "undo"])
def test_an_edit_of_the_armatures_own_track_keeps_the_artists_work(worked, op):
    a, before = worked
    pointer, action = a.as_pointer(), a.animation_data.action
    if op == "rebuild":
        session.rebuild(bpy.context, force=True)
    elif op == "undo":
        session.add_edit(bpy.context, EDITS_OF_A["swap"])
        session.undo_edit(bpy.context)
    else:
        session.add_edit(bpy.context, EDITS_OF_A[op])
    assert armature(1).as_pointer() == pointer and a.animation_data.action == action
    assert artist_work(a) == before
    assert_motion_matches(bpy.context, 1)
    if op == "rename":
        assert a.name == "Alice" and bpy.context.scene.ram.tracks[0].label == "Alice"
    if op == "color":
        np.testing.assert_allclose(a.color[:3], (0.1, 0.9, 0.2), atol=1e-6)
        body = next(c for c in a.children if c.get("ram_body"))
        np.testing.assert_allclose(body.data.materials[0].diffuse_color[:3], (0.1, 0.9, 0.2), atol=1e-6)


def test_the_artists_modifier_and_material_on_the_body_survive_edits(empty_scene, results_file):
    session.import_results(bpy.context, str(results_file))
    body = next(c for c in armature(1).children if c.get("ram_body"))
    body.modifiers.new("smooth", "SUBSURF")
    cloth = bpy.data.materials.new("cloth")
    body.data.materials.append(cloth)
    for edit in (EDITS_OF_A["swap"], EDITS_OF_A["color"]):
        session.add_edit(bpy.context, edit)
    session.rebuild(bpy.context, force=True)
    assert next(c for c in armature(1).children if c.get("ram_body")) == body
    assert [m.name for m in body.modifiers] == ["Armature", "smooth"]
    assert body.data.materials[1] == cloth and tuple(cloth.diffuse_color) != (0.1, 0.9, 0.2, 1.0)


def test_deleting_a_track_keeps_the_artists_objects_where_they_were(worked):
    _a, _before = worked
    scene = bpy.context.scene
    scene.frame_set(12)
    hat = bpy.data.objects["hat"]
    where = np.array(hat.matrix_world)
    session.add_edit(bpy.context, edits.Edit("delete", 1))
    assert "hat" in bpy.data.objects and hat.parent is None
    np.testing.assert_allclose(np.array(hat.matrix_world), where, atol=1e-6)
    assert not [o for o in bpy.data.objects if o.get("ram_track_id") == 1]
    assert bpy.data.actions["wave"].use_fake_user  # the artist's action is theirs to delete


def test_names_and_colours_typed_in_the_track_list_are_edits(empty_scene, results_file, tmp_path):
    session.import_results(bpy.context, str(results_file))
    row = bpy.context.scene.ram.tracks[1]
    row.label = "Bo"
    row.color = (0.2, 0.3, 0.9)
    row.color = (0.3, 0.3, 0.9)  # a drag: one edit, not two
    log_ = edits.log_from_json(bpy.context.scene.ram.edit_log)
    assert [(e.op, e.a) for e in log_] == [("rename", 2), ("color", 2)]
    session.rebuild(bpy.context, force=True)
    blend = tmp_path / "looks.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    bpy.ops.wm.open_mainfile(filepath=str(blend))
    b = armature(2)
    assert b.name == "Bo" and bpy.context.scene.ram.tracks[1].label == "Bo"
    np.testing.assert_allclose(b.color[:3], (0.3, 0.3, 0.9), atol=1e-6)
    np.testing.assert_allclose(bpy.context.scene.ram.tracks[1].color, (0.3, 0.3, 0.9), atol=1e-6)


def test_a_gap_is_hidden_flagged_and_held_not_glided(empty_scene, results_file):
    session.import_results(bpy.context, str(results_file))
    track = session.edited(bpy.context).results.track(2)  # frames 0-9 and 18-39
    obj = armature(2)
    body = next(c for c in obj.children if c.get("ram_body"))
    last, back = 9 + FRAME_OFFSET, 18 + FRAME_OFFSET
    held = joints_at(obj, last)
    for frame in range(last + 1, back):
        assert (joints_at(obj, frame) == held).all(), frame
        assert obj.hide_viewport and obj.hide_render and body.hide_viewport and body.hide_render
        assert obj[PREDICTED_PROP] == 1.0
    for frame, i in ((last, 9), (back, 10)):
        np.testing.assert_allclose(joints_at(obj, frame), camera_points_to_blender(track.joints[i]), atol=1e-3)
        assert not obj.hide_viewport and not body.hide_render
        assert obj[PREDICTED_PROP] == float(track.predicted[i])


def test_a_gap_made_by_a_merge_is_hidden_flagged_and_held_not_glided(empty_scene, results_file):
    session.import_results(bpy.context, str(results_file))
    session.add_edit(bpy.context, edits.Edit("split", 1, frame=10))  # person 1 keeps frames 0-9
    session.add_edit(bpy.context, edits.Edit("merge", 1, b=5))  # person 5 walks on from frame 20
    track, obj = session.edited(bpy.context).results.track(1), armature(1)
    assert list(track.frame[9:11]) == [9, 20]
    held = joints_at(obj, 9 + FRAME_OFFSET)
    for frame in range(10 + FRAME_OFFSET, 20 + FRAME_OFFSET):
        assert (joints_at(obj, frame) == held).all(), frame
        assert obj.hide_viewport and obj.hide_render and obj[PREDICTED_PROP] == 1.0
    np.testing.assert_allclose(joints_at(obj, 20 + FRAME_OFFSET), camera_points_to_blender(track.joints[10]), atol=1e-3)
    assert not obj.hide_viewport


def test_a_swap_that_moves_nothing_is_refused(empty_scene, results_file):
    session.import_results(bpy.context, str(results_file))
    with pytest.raises(RuntimeError, match="frame 45 is not inside track 1 or 5"):
        bpy.ops.ram.edit_tracks(op="swap", track_a=1, track_b=5, frame=45)
    with pytest.raises(edits.EditError, match="not inside"):
        edits.apply_edits(session.edited(bpy.context).results, [edits.Edit("swap", 1, b=5, frame=0)])


def test_with_an_smpl_body_a_reshaped_person_keeps_the_artists_work(empty_scene, results_file, tmp_path, monkeypatch):
    """A swap changes the person's mean shape: the same bones move to the new rest, the body is reshaped."""
    from test_mesh import lbs_in_blender

    from ram_blender.importer.build import BuildOptions
    from ram_core.contract.smpl_model import load_smpl_model, smpl_rest_joints
    from tests.fixtures.smpl import make_test_smpl_npz

    make_test_smpl_npz(tmp_path / "model.npz")
    model = load_smpl_model(tmp_path / "model.npz")
    options = BuildOptions(smpl_model=model)
    monkeypatch.setattr(session, "build_options", lambda *args, **kwargs: options)
    session.import_results(bpy.context, str(results_file), options)
    a = armature(1)
    add_artist_work(a)
    before, body = artist_work(a), next(c for c in a.children if c.get("ram_body"))
    heads_before = np.array([a.data.bones[n].head_local for n in JOINT_NAMES])
    session.add_edit(bpy.context, edits.Edit("swap", 1, b=2, frame=20))
    track = session.edited(bpy.context).results.track(1)
    heads = np.array([a.data.bones[n].head_local for n in JOINT_NAMES])
    assert np.abs(heads - heads_before).max() > 1e-3  # the shape really changed
    want = smpl_rest_joints(model, track.betas.mean(axis=0))
    np.testing.assert_allclose(heads, want @ SMPL_TO_BLENDER.T, atol=1e-5)
    assert artist_work(a) == before and next(c for c in a.children if c.get("ram_body")) == body
    for c in a.pose.bones["head"].constraints:
        c.mute = True
    for t in a.animation_data.nla_tracks:
        for strip in t.strips:
            strip.mute = True
    a.pose.bones["left_hand"].scale = (1, 1, 1)
    for fc in action_fcurves(a.animation_data.action):
        if fc.data_path == 'pose.bones["left_hand"].scale':
            fc.mute = True
    i = 25
    bpy.context.scene.frame_set(int(track.frame[i]) + FRAME_OFFSET)
    evaluated = body.evaluated_get(bpy.context.evaluated_depsgraph_get())
    mesh = evaluated.to_mesh()
    co = np.empty(3 * len(mesh.vertices))
    mesh.vertices.foreach_get("co", co)
    evaluated.to_mesh_clear()
    got = co.reshape(-1, 3) @ np.array(body.matrix_world)[:3, :3].T + np.array(body.matrix_world)[:3, 3]
    np.testing.assert_allclose(got, lbs_in_blender(model, track, i), atol=1e-3)


def curve_values(obj, path, frame):
    """RAM's action's curves on ``path`` evaluated at ``frame``, by component."""
    curves = sorted(
        (fc for fc in action_fcurves(obj["ram_action"]) if fc.data_path == path), key=lambda fc: fc.array_index
    )
    return np.array([fc.evaluate(frame) for fc in curves])


@pytest.mark.parametrize(
    ("edit", "kept"),
    [
        (edits.Edit("split", 1, frame=30), True),  # frame 11 is before the split: untouched
        (edits.Edit("swap", 1, b=2, frame=20), True),
        (edits.Edit("swap", 1, b=2, frame=5), False),  # frame 11 is now person 2's motion
        (None, True),  # a forced rebuild
    ],
)
def test_hand_keys_on_rams_channels_stay_on_frames_the_edit_did_not_change(empty_scene, results_file, edit, kept):
    session.import_results(bpy.context, str(results_file))
    a = armature(1)
    bpy.context.scene.frame_set(11)
    tweak = np.array([0.9, 0.1, 0.3, -0.2]) / np.linalg.norm([0.9, 0.1, 0.3, -0.2])
    a.pose.bones["head"].rotation_quaternion = tweak
    a.pose.bones["head"].keyframe_insert("rotation_quaternion", frame=11)
    between = (0.0, 0.0, 0.0)
    a.pose.bones["pelvis"].location = between
    a.pose.bones["pelvis"].keyframe_insert("location", frame=12.5)  # between RAM's keys
    if edit is None:
        session.rebuild(bpy.context, force=True)
    else:
        session.add_edit(bpy.context, edit)
    got = curve_values(a, 'pose.bones["head"].rotation_quaternion', 11)
    loc = curve_values(a, 'pose.bones["pelvis"].location', 12.5)
    if kept:
        np.testing.assert_allclose(got, tweak, atol=1e-6)
        np.testing.assert_allclose(loc, between, atol=1e-6)
    else:
        assert np.abs(got - tweak).max() > 1e-2 and np.abs(loc).max() > 1e-2
        assert_motion_matches(bpy.context, 1)


def test_on_a_solved_scene_an_edit_resizes_the_same_armature_and_exports_round_trip(
    empty_scene, results_file, tmp_path
):
    """With a floor and per-person sizes: a swap gives person 1 another size; its bones are resized in
    place (the artist's work stays), the joints land in the solved world, and both exports round-trip."""
    from ram_blender import export
    from ram_core.contract.results import load_results, save_results
    from ram_core.scene.solve import Scene, apply_scene, world_from_floor

    pitch = np.radians(20.0)
    floor = np.array([0.0, -np.cos(pitch), -np.sin(pitch), 2.5])
    raw = load_results(results_file)
    scales = {1: 0.85, 2: 1.1, 5: 1.0}
    path = save_results(
        apply_scene(raw, Scene("solved: test", world_from_floor(floor), floor, scales, {})), tmp_path / "s.ram.npz"
    )
    session.import_results(bpy.context, str(path))
    a = armature(1)
    add_artist_work(a)
    before, pointer = artist_work(a), a.as_pointer()
    thigh_before = (a.data.bones["left_knee"].head_local - a.data.bones["left_hip"].head_local).length
    session.add_edit(bpy.context, edits.Edit("swap", 1, b=2, frame=5))  # most of track 1 is now person 2's
    assert armature(1).as_pointer() == pointer and artist_work(a) == before
    thigh = (a.data.bones["left_knee"].head_local - a.data.bones["left_hip"].head_local).length
    assert thigh / thigh_before == pytest.approx(1.1 / 0.85, rel=1e-4)
    world = session.edited(bpy.context).results.meta.world_from_camera
    track = session.edited(bpy.context).results.track(1)
    for c in a.pose.bones["head"].constraints:
        c.mute = True
    for t in a.animation_data.nla_tracks:
        for strip in t.strips:
            strip.mute = strip.action.name == "wave"
    # Frames 0-4 keep person 1's records, sized 0.85: one armature has one size (the track's median).
    for i in (10, len(track) // 2, len(track) - 1):
        got = joints_at(a, int(track.frame[i]) + FRAME_OFFSET)[:20]
        want = track.joints[i].astype(np.float64) @ world[:3, :3].T + world[:3, 3]
        np.testing.assert_allclose(got, want[:20], atol=1e-3)
    export.export_people([a], session.edited(bpy.context).results, tmp_path, "s", ("fbx", "bvh"))
    first, last = int(track.frame[0]) + FRAME_OFFSET, int(track.frame[-1]) + FRAME_OFFSET
    seen = set(bpy.data.objects)
    bpy.ops.import_scene.fbx(filepath=str(tmp_path / "s_person1.fbx"))
    fbx = next(o for o in bpy.data.objects if o not in seen and o.type == "ARMATURE")
    bpy.ops.import_anim.bvh(filepath=str(tmp_path / "s_person1.bvh"), frame_start=first)
    bvh = bpy.context.view_layer.objects.active
    for other in (fbx, bvh):
        worst = max(np.abs(joints_at(other, f) - joints_at(a, f)).max() for f in range(first, last + 1))
        assert worst < 1e-3, (other.name, worst)


def test_a_new_import_hands_the_artists_objects_and_references_to_the_new_capture(empty_scene, results_file):
    """A re-capture replaces the armatures; before, it deleted the artist's objects in the capture's
    collection, cleared constraints aimed at RAM's armatures and moved their children (15 m on the street)."""
    from ram_core.contract.results import load_results, save_results

    scene = bpy.context.scene
    session.import_results(bpy.context, str(results_file))
    old = scene.ram.collection
    gone = max(t.track_id for t in load_results(results_file).tracks)
    prop = bpy.data.objects.new("prop", None)
    old.objects.link(prop)
    props = bpy.data.collections.new("props")
    old.children.link(props)
    rig = bpy.data.objects.new("rig", bpy.data.armatures.new("rig"))
    scene.collection.objects.link(rig)
    follow = rig.constraints.new("COPY_LOCATION")
    follow.target = armature(1)
    rig["step"] = 0.0
    var = rig.driver_add('["step"]').driver.variables.new()  # reads RAM's contact curve on the armature data
    var.targets[0].id_type = "ARMATURE"
    var.targets[0].id = armature(1).data
    var.targets[0].data_path = '["ram_contact_left"]'
    add_artist_work(armature(1))
    hat = next(c for c in armature(1).children if c.name == "hat")
    heroes = bpy.data.collections.new("heroes")  # the artist's collection, also holding RAM person 1
    scene.collection.children.link(heroes)
    heroes.objects.link(armature(1))
    cap = bpy.data.objects.new("cap", None)
    scene.collection.objects.link(cap)
    cap.parent = armature(gone)
    cap.location = (0.3, 0.2, 0.1)
    scene.frame_set(FRAME_OFFSET + 10)
    cap_world = np.array(cap.matrix_world)
    assert scene.camera.get("ram_camera")

    raw = load_results(results_file)
    raw.tracks = [t for t in raw.tracks if t.track_id != gone]
    session.import_results(bpy.context, str(save_results(raw, results_file.parent / "again.ram.npz")))

    new = scene.ram.collection
    assert new != old and "prop" in new.objects and "props" in new.children
    assert follow.target == armature(1) and hat.parent == armature(1) and hat.parent_bone == "head"
    assert var.targets[0].id == armature(1).data
    assert list(heroes.objects) == [armature(1)] and armature(1).name in new.objects
    assert scene.camera is not None and scene.camera.name in new.objects
    assert cap.parent is None and np.allclose(np.array(cap.matrix_world), cap_world, atol=1e-5)
    assert bpy.data.actions["wave"].use_fake_user  # the artist's NLA action outlives the old armature
    assert not [b.name for b in (*bpy.data.objects, *bpy.data.collections) if b.name.endswith("(replaced)")]
    assert len(bpy.data.collections) == 3  # the new capture's and the artist's "props" and "heroes"


def test_undo_of_a_new_import_brings_back_the_old_capture_with_the_artists_work(undo, results_file):
    assert bpy.ops.ram.import_results("EXEC_DEFAULT", True, filepath=str(results_file)) == {"FINISHED"}
    old = bpy.context.scene.ram.collection.name
    add_artist_work(armature(1))
    bpy.data.collections[old].objects.link(bpy.data.objects.new("prop", None))
    before = artist_work(armature(1))
    bpy.ops.ed.undo_push(message="artist work")
    again = results_file.parent / "again.ram.npz"
    again.write_bytes(results_file.read_bytes())
    assert bpy.ops.ram.import_results("EXEC_DEFAULT", True, filepath=str(again)) == {"FINISHED"}
    assert artist_work(armature(1)) == before  # what was on the old armature itself came along
    undo()
    assert bpy.context.scene.ram.collection.name == old and "prop" in bpy.context.scene.ram.collection.objects
    assert artist_work(armature(1)) == before
