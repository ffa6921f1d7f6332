"""Importing a test-made results file: exact bones, rest matrices and posed joints in real Blender."""

from __future__ import annotations

import bpy
import numpy as np
import pytest
from mathutils import Vector

from ram_blender import session
from ram_blender.importer.build import PREDICTED_PROP, TRACK_ID_PROP
from ram_blender.importer.keys import PREDICTED_KEY_TYPE, action_fcurves
from ram_blender.importer.plan import FRAME_OFFSET, plan_skeleton
from ram_core.contract.colors import track_color
from ram_core.contract.coords import camera_points_to_blender
from ram_core.contract.results import load_results, save_results
from ram_core.contract.skeleton import JOINT_NAMES, PARENTS


@pytest.fixture
def imported(empty_scene, results_file):
    objects = session.import_results(bpy.context, str(results_file))
    return objects, load_results(results_file)


def test_one_armature_per_track_with_smpl_bones(imported):
    objects, results = imported
    assert [o[TRACK_ID_PROP] for o in objects] == [t.track_id for t in results.tracks]
    for obj in objects:
        assert obj.type == "ARMATURE"
        bones = obj.data.bones
        assert sorted(b.name for b in bones) == sorted(JOINT_NAMES)
        for j, name in enumerate(JOINT_NAMES):
            parent = bones[name].parent
            assert (parent.name if parent else None) == (JOINT_NAMES[PARENTS[j]] if PARENTS[j] >= 0 else None)


def test_rest_matrices_match_the_plan(imported):
    objects, results = imported
    skeleton = plan_skeleton(results.meta.rest_joints)
    for obj in objects:
        got = np.array([np.array(obj.data.bones[n].matrix_local) for n in JOINT_NAMES])
        np.testing.assert_allclose(got, skeleton.rest_matrices, atol=1e-5)
        heads = np.array([obj.data.bones[n].head_local for n in JOINT_NAMES])
        np.testing.assert_allclose(heads, skeleton.heads, atol=1e-6)


def test_posed_joints_match_the_file_to_a_millimetre(imported):
    objects, results = imported
    scene = bpy.context.scene
    worst = 0.0
    for obj, track in zip(objects, results.tracks):
        for i in sorted({0, 1, len(track) // 3, len(track) // 2, len(track) - 1}):
            scene.frame_set(int(track.frame[i]) + FRAME_OFFSET)
            got = np.array([obj.matrix_world @ obj.pose.bones[n].head for n in JOINT_NAMES])
            want = camera_points_to_blender(track.joints[i])
            worst = max(worst, float(np.abs(got - want).max()))
    assert worst < 1e-3, f"worst joint error {worst * 1000:.3f} mm"


def test_keys_predicted_curve_colour_and_scene(imported):
    objects, results = imported
    scene = bpy.context.scene
    assert (scene.render.fps, scene.frame_start, scene.frame_end) == (25, 1, 40)
    for obj, track in zip(objects, results.tracks):
        curves = {(fc.data_path, fc.array_index): fc for fc in action_fcurves(obj.animation_data.action)}
        rot = curves[('pose.bones["left_knee"].rotation_quaternion', 0)]
        assert len(rot.keyframe_points) == len(track)
        frames = np.empty(2 * len(track))
        rot.keyframe_points.foreach_get("co", frames)
        np.testing.assert_array_equal(frames[0::2], track.frame + FRAME_OFFSET)
        vals = frames[1::2]
        mid = 0.5 * (frames[0] + frames[2])
        assert rot.evaluate(mid) == pytest.approx(0.5 * (vals[0] + vals[1]), abs=1e-6)  # LINEAR between keys
        # Object channels live in their own action, played by an NLA strip, not in the bone action.
        assert not [p for p, _ in curves if not p.startswith("pose.bones")]
        channels = {(fc.data_path, fc.array_index): fc for fc in action_fcurves(obj["ram_channels"])}
        assert {p for p, _ in channels} == {f'["{PREDICTED_PROP}"]', "hide_viewport", "hide_render"}
        assert [s.action for t in obj.animation_data.nla_tracks for s in t.strips] == [obj["ram_channels"]]
        pred = channels[(f'["{PREDICTED_PROP}"]', 0)]
        flags = [pred.evaluate(f) for f in track.frame + FRAME_OFFSET]
        np.testing.assert_array_equal(np.array(flags) > 0.5, track.predicted)
        assert all(k.interpolation == "CONSTANT" for k in pred.keyframe_points)
        # The pose keys of predicted frames are marked on the timeline (the Dope Sheet draws their type).
        for fc in (rot, curves[('pose.bones["pelvis"].location', 2)]):
            types = [k.type for k in fc.keyframe_points]
            assert types == [PREDICTED_KEY_TYPE if p else "KEYFRAME" for p in track.predicted]
        np.testing.assert_allclose(obj.color[:3], track_color(track.track_id), atol=1e-6)


def test_people_are_hidden_outside_their_frames(imported):
    objects, results = imported
    late = objects[-1]
    first = int(results.tracks[-1].frame[0]) + FRAME_OFFSET
    body = next(c for c in late.children if c.type == "MESH")
    bpy.context.scene.frame_set(first - 1)
    assert late.hide_viewport and late.hide_render
    assert body.hide_viewport and body.hide_render
    bpy.context.scene.frame_set(first)
    assert not late.hide_viewport and not late.hide_render
    assert not body.hide_viewport and not body.hide_render


def test_track_list_rows(imported):
    objects, results = imported
    rows = bpy.context.scene.ram.tracks
    assert [r.track_id for r in rows] == [t.track_id for t in results.tracks]
    for row, track, obj in zip(rows, results.tracks, objects):
        assert row.object == obj
        assert (row.frame_first, row.frame_last) == (track.frame[0] + FRAME_OFFSET, track.frame[-1] + FRAME_OFFSET)
        assert row.predicted_share == pytest.approx(100 * track.predicted.mean(), abs=1e-4)
    bpy.context.scene.ram.active_track = 1
    assert bpy.context.view_layer.objects.active == objects[1]
    assert objects[1].select_get() and not objects[0].select_get()


def test_import_operator_reports_a_bad_file(empty_scene, tmp_path):
    bad = tmp_path / "bad.npz"
    np.savez(bad, nothing=np.zeros(3))
    with pytest.raises(RuntimeError, match="not a RAM results file"):
        bpy.ops.ram.import_results(filepath=str(bad))
    assert len(bpy.data.objects) == 0


def test_a_failed_import_keeps_the_scenes_capture(imported, results_file, tmp_path, monkeypatch):
    from ram_blender.importer import keys

    scene = bpy.context.scene
    state = scene.ram
    before_objects = sorted(o.name for o in state.collection.objects)
    before = (state.collection.name, state.results_path, state.edit_log, scene.camera, scene.frame_end)
    before_keys = {a.name: [len(fc.keyframe_points) for fc in keys.action_fcurves(a)] for a in bpy.data.actions}
    calls = []

    def fail_on_the_second_person(*args, **kwargs):
        calls.append(1)
        if len(calls) == 150:  # about 106 curves a person: half-way through re-keying the copy of the second
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)

    real = keys.set_keys
    monkeypatch.setattr(keys, "set_keys", fail_on_the_second_person)
    raw = load_results(results_file)
    for t in raw.tracks:  # another capture's motion: each person is re-keyed
        t.joints[..., 0] += 0.1
    other = save_results(raw, tmp_path / "other.ram.npz")
    with pytest.raises(RuntimeError, match="disk on fire"):
        session.import_results(bpy.context, str(other))
    assert (state.collection.name, state.results_path, state.edit_log, scene.camera, scene.frame_end) == before
    assert sorted(o.name for o in state.collection.objects) == before_objects
    assert not [o for o in bpy.data.objects if o.name.endswith("(replaced)") or o.users_collection == ()]
    assert len(bpy.data.collections) == 1
    assert {a.name: [len(fc.keyframe_points) for fc in keys.action_fcurves(a)] for a in bpy.data.actions} == before_keys


def test_a_solved_scene_stands_on_blenders_floor_with_each_persons_size(empty_scene, results_file, tmp_path):
    from ram_core.contract.results import save_results
    from ram_core.scene.solve import Scene, apply_scene, world_from_floor

    pitch = np.radians(20.0)  # a camera 2.5 m up, looking 20 degrees down
    floor = np.array([0.0, -np.cos(pitch), -np.sin(pitch), 2.5])
    raw = load_results(results_file)
    scales = {t.track_id: 0.9 + 0.1 * i for i, t in enumerate(raw.tracks)}
    scene_results = apply_scene(raw, Scene("solved: test", world_from_floor(floor), floor, scales, {}))
    path = save_results(scene_results, tmp_path / "scene.ram.npz")
    objects = session.import_results(bpy.context, str(path))
    results = load_results(path)
    world = results.meta.world_from_camera
    worst = 0.0
    for obj, track in zip(objects, results.tracks):
        for i in sorted({0, len(track) // 2, len(track) - 1}):
            bpy.context.scene.frame_set(int(track.frame[i]) + FRAME_OFFSET)
            got = np.array([obj.matrix_world @ obj.pose.bones[n].head for n in JOINT_NAMES])
            want = track.joints[i].astype(np.float64) @ world[:3, :3].T + world[:3, 3]
            worst = max(worst, float(np.abs(got - want).max()))
        thigh = obj.data.bones["left_knee"].head_local - obj.data.bones["left_hip"].head_local
        rest = results.meta.rest_joints
        assert thigh.length == pytest.approx(scales[track.track_id] * np.linalg.norm(rest[4] - rest[1]), rel=1e-5)
    assert worst < 1e-3, f"worst joint error {worst * 1000:.3f} mm"
    camera = bpy.context.scene.camera
    np.testing.assert_allclose(np.array(camera.matrix_world.translation), [0.0, 0.0, 2.5], atol=1e-6)
    looking = np.array(camera.matrix_world.to_3x3() @ Vector((0, 0, -1)))
    assert np.degrees(np.arcsin(-looking[2])) == pytest.approx(20.0, abs=1e-4)  # looking down, as filmed


def test_a_variable_frame_rate_capture_is_keyed_at_each_frames_time(empty_scene, results_file, tmp_path):
    import dataclasses

    from ram_core.contract.results import save_results

    raw = load_results(results_file)
    n = raw.meta.frame_end - raw.meta.frame_start
    times = np.where(np.arange(n) < 20, 0.02 * np.arange(n), 0.4 + 0.06 * (np.arange(n) - 20))  # 50 fps, then 16.7
    raw.meta = dataclasses.replace(raw.meta, frame_times=times)
    path = save_results(raw, tmp_path / "vfr.ram.npz")
    objects = session.import_results(bpy.context, str(path))
    results = load_results(path)
    scene = bpy.context.scene
    at = FRAME_OFFSET + times * results.meta.fps  # where each video frame's time falls at the scene's 25 fps
    assert (scene.render.fps, scene.frame_start, scene.frame_end) == (25, 1, int(np.ceil(at[-1])))
    worst = 0.0
    for obj, track in zip(objects, results.tracks):
        curves = {(fc.data_path, fc.array_index): fc for fc in action_fcurves(obj.animation_data.action)}
        rot = curves[('pose.bones["left_knee"].rotation_quaternion', 0)]
        co = np.empty(2 * len(track))
        rot.keyframe_points.foreach_get("co", co)
        np.testing.assert_allclose(co[0::2], at[track.frame], atol=1e-4)
        for i in sorted({0, len(track) // 2, len(track) - 1}):
            whole = int(np.floor(at[track.frame[i]]))
            scene.frame_set(whole, subframe=float(at[track.frame[i]] - whole))
            got = np.array([obj.matrix_world @ obj.pose.bones[name].head for name in JOINT_NAMES])
            worst = max(worst, float(np.abs(got - camera_points_to_blender(track.joints[i])).max()))
    assert worst < 1e-3, f"worst joint error {worst * 1000:.3f} mm"
    from ram_blender.export import amass_arrays

    np.testing.assert_allclose(amass_arrays(results.tracks[1], results)["times"], times[results.tracks[1].frame])
    late, first = objects[-1], int(results.tracks[-1].frame[0])
    scene.frame_set(int(np.floor(at[first])) - 1)
    assert late.hide_viewport
    scene.frame_set(int(np.ceil(at[first])))
    assert not late.hide_viewport
    # An edit at a Blender frame starts at the first video frame keyed there or after: frame 26 (at 20.0)
    # for Blender frame 19, where frame 25 is keyed at 18.5.
    assert (at[25], at[26]) == pytest.approx((18.5, 20.0))
    assert bpy.ops.ram.edit_tracks(op="split", track_a=1, frame=19) == {"FINISHED"}
    keyed = {}
    for obj in bpy.context.scene.ram.collection.objects:
        if obj.type == "ARMATURE":
            fc = next(f for f in action_fcurves(obj.animation_data.action) if f.data_path.endswith("location"))
            keyed[obj[TRACK_ID_PROP]] = (fc.keyframe_points[0].co[0], fc.keyframe_points[-1].co[0])
    new = max(keyed)
    assert keyed[1][1] == pytest.approx(at[25], abs=1e-4) and keyed[new][0] == pytest.approx(at[26], abs=1e-4)


def test_a_grounded_variable_frame_rate_capture_keys_the_root_and_the_feet_at_each_frames_time(
    empty_scene, results_file, tmp_path
):
    import dataclasses

    from ram_blender.importer.build import CONTACT_PROPS
    from ram_blender.importer.plan import ROOT
    from ram_core.contract.results import save_results
    from ram_core.scene.solve import Scene, apply_scene, world_from_floor

    floor = np.array([0.0, -np.cos(0.3), -np.sin(0.3), 2.5])
    raw = apply_scene(load_results(results_file), Scene("solved: test", world_from_floor(floor), floor, {}, {}))
    n = raw.meta.frame_end - raw.meta.frame_start
    times = np.where(np.arange(n) < 20, 0.02 * np.arange(n), 0.4 + 0.06 * (np.arange(n) - 20))
    raw.meta = dataclasses.replace(raw.meta, frame_times=times)
    objects = session.import_results(bpy.context, str(save_results(raw, tmp_path / "vfr.ram.npz")))
    at = FRAME_OFFSET + times * raw.meta.fps
    obj, track = objects[0], raw.tracks[0]
    root = next(f for f in action_fcurves(obj.animation_data.action) if f.data_path == f'pose.bones["{ROOT}"].location')
    co = np.empty(2 * len(root.keyframe_points))
    root.keyframe_points.foreach_get("co", co)
    np.testing.assert_allclose(co[0::2], at[track.frame], atol=1e-4)
    contact = next(f for f in action_fcurves(obj.data.animation_data.action) if CONTACT_PROPS[0] in f.data_path)
    assert contact.keyframe_points[-1].co[0] == pytest.approx(at[track.frame[-1]], abs=1e-4)
