"""A grounded scene: the synthetic couple clip's people fitted and solved as a capture would be, imported.

The feet stand on z = 0, the camera sees every joint on its pixel, each armature stands on a ``root`` bone
on the floor that carries the travel and heading, the feet's contact curves are the results', an optional
foot lock holds planted feet still, and the object channels stay off the bone action.
"""

from __future__ import annotations

from pathlib import Path

import bpy
import numpy as np
import pytest
from bpy_extras.object_utils import world_to_camera_view
from mathutils import Vector
from synth import make_walking_results

from ram_blender import export, session
from ram_blender.importer.build import CONTACT_PROPS, PREDICTED_PROP, BuildOptions
from ram_blender.importer.keys import ACTION_PROP, action_fcurves
from ram_blender.importer.plan import FRAME_OFFSET, ROOT
from ram_core.contract.results import Results, load_results, save_results
from ram_core.contract.skeleton import JOINT_INDEX, JOINT_NAMES, forward_kinematics

FEET = (JOINT_INDEX["left_foot"], JOINT_INDEX["right_foot"])


@pytest.fixture(scope="module")
def walking():
    return make_walking_results(Path(__file__).resolve().parents[1] / "data" / "synth" / "couple" / "gt.npz")


@pytest.fixture
def walking_file(walking, tmp_path):
    return save_results(walking, tmp_path / "couple.ram.npz")


def world_joints(obj, frame):
    bpy.context.scene.frame_set(int(frame))
    return np.array([obj.matrix_world @ obj.pose.bones[n].head for n in JOINT_NAMES])


def people(objects, results):
    return list(zip(objects, results.tracks, strict=True))


def test_feet_on_the_floor_and_joints_on_their_pixels(empty_scene, walking_file):
    objects = session.import_results(bpy.context, str(walking_file))
    results = load_results(walking_file)
    assert results.meta.world_from_camera is not None
    scene, k = bpy.context.scene, results.meta.intrinsics
    heights, pixel_error = [], 0.0
    for obj, track in people(objects, results):
        for i, frame in enumerate(track.frame):
            got = world_joints(obj, frame + FRAME_OFFSET)
            heights.append(got[list(FEET), 2])
            cam = track.joints[i].astype(np.float64)
            want = (cam @ k.T)[:, :2] / cam[:, 2:3]
            ndc = np.array([world_to_camera_view(scene, scene.camera, Vector(v)) for v in got])
            pixel = np.column_stack([ndc[:, 0] * results.meta.width, (1.0 - ndc[:, 1]) * results.meta.height])
            pixel_error = max(pixel_error, float(np.abs(pixel - want).max()))
    low = float(np.percentile(np.concatenate(heights), 5))
    print(f"grounded: foot joints' p5 height {low * 100:.2f} cm, worst reprojection {pixel_error:.4f} px")
    assert abs(low) < 0.05
    assert pixel_error < 2.0


def test_a_root_bone_on_the_floor_carries_travel_and_heading(empty_scene, walking_file):
    objects = session.import_results(bpy.context, str(walking_file))
    results = load_results(walking_file)
    for obj, track in people(objects, results):
        bones = obj.data.bones
        assert bones[ROOT].parent is None and bones["pelvis"].parent == bones[ROOT]
        np.testing.assert_allclose(bones[ROOT].head_local, (0, 0, 0), atol=1e-9)
        start = world_joints(obj, track.frame[0] + FRAME_OFFSET)[0]
        np.testing.assert_allclose(np.array(obj.matrix_world.translation), (start[0], start[1], 0.0), atol=1e-6)
        travel = []
        for frame in track.frame[:: max(1, len(track) // 8)] + FRAME_OFFSET:
            pelvis = world_joints(obj, frame)[0]
            root = obj.matrix_world @ obj.pose.bones[ROOT].matrix
            root_head = np.array(root.translation)
            assert root_head[2] == pytest.approx(0.0, abs=1e-6)  # on the floor
            np.testing.assert_allclose(root_head[:2], pelvis[:2], atol=1e-5)  # under the pelvis
            turn = np.array(root.to_3x3())
            np.testing.assert_allclose(turn[:, 2], (0, 0, 1), atol=1e-6)  # a turn about Z only
            front = np.array(obj.matrix_world.to_3x3() @ obj.pose.bones["pelvis"].matrix.to_3x3() @ _front(obj))
            flat = front[:2] / np.linalg.norm(front[:2])  # the root bone (its Y) points where the pelvis faces
            np.testing.assert_allclose(turn[:2, 1], flat, atol=2e-3)  # within 0.1 degree (walking upright)
            travel.append(root_head[:2])
        assert np.ptp(np.array(travel), axis=0).max() > 0.5  # they walk: the root travels


def _front(obj):
    """The pelvis's rest front (-Y in armature space) in the pelvis bone's own axes."""
    return obj.data.bones["pelvis"].matrix_local.to_3x3().inverted() @ Vector((0.0, -1.0, 0.0))


def test_contact_curves_are_the_results_contact(empty_scene, walking_file):
    objects = session.import_results(bpy.context, str(walking_file))
    results = load_results(walking_file)
    for obj, track in people(objects, results):
        action = obj.data.animation_data.action
        assert action == obj.data[ACTION_PROP] and action not in (obj.animation_data.action, obj["ram_channels"])
        curves = {fc.data_path: fc for fc in action_fcurves(action)}
        assert set(curves) == {f'["{p}"]' for p in CONTACT_PROPS}
        for k, prop in enumerate(CONTACT_PROPS):
            got = np.array([curves[f'["{prop}"]'].evaluate(f) for f in track.frame + FRAME_OFFSET])
            np.testing.assert_allclose(got, track.contact[:, k], atol=1e-6)
        i = int(np.argmax(track.contact[:, 0]))
        bpy.context.scene.frame_set(int(track.frame[i]) + FRAME_OFFSET)
        assert obj.data[CONTACT_PROPS[0]] == pytest.approx(float(track.contact[i, 0]), abs=1e-6)


def planted_drift(obj, track) -> float:
    """The most any planted foot joint moves (world, metres) from its mean within one contact run."""
    worst = 0.0
    joints = np.array([world_joints(obj, f + FRAME_OFFSET) for f in track.frame])
    for k, foot in enumerate(FEET):
        edges = np.diff(np.concatenate([[0], (track.contact[:, k] >= 0.5).astype(int), [0]]))
        for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
            run = joints[a:b, foot]
            worst = max(worst, float(np.linalg.norm(run - run.mean(axis=0), axis=-1).max()))
    return worst


def test_the_foot_lock_holds_planted_feet(empty_scene, walking_file):
    free = session.import_results(bpy.context, str(walking_file))
    results = load_results(walking_file)
    before = max(planted_drift(o, t) for o, t in people(free, results))
    assert not bpy.context.scene.ram.foot_lock  # off by default
    assert bpy.ops.ram.import_results(filepath=str(walking_file), foot_lock=True) == {"FINISHED"}
    session.rebuild(bpy.context, force=True)  # a rebuild keeps to the import's choice
    locked = [row.object for row in bpy.context.scene.ram.tracks]
    after = max(planted_drift(o, t) for o, t in people(locked, results))
    print(f"foot lock: planted foot drift {before * 100:.2f} cm -> {after * 100:.3f} cm")
    assert before > 0.01 and after < 0.01
    for obj, track in people(locked, results):  # above the hips nothing moved
        for i in (0, len(track) // 2):
            got = world_joints(obj, track.frame[i] + FRAME_OFFSET)
            world = results.meta.world_from_camera
            want = track.joints[i].astype(np.float64) @ world[:3, :3].T + world[:3, 3]
            upper = [j for j, n in enumerate(JOINT_NAMES) if n.split("_")[-1] not in ("hip", "knee", "ankle", "foot")]
            np.testing.assert_allclose(got[upper], want[upper], atol=1e-3)
    session.import_results(bpy.context, str(walking_file), BuildOptions(foot_lock=False))
    assert not bpy.context.scene.ram.foot_lock  # each import says


def test_exports_round_trip_on_the_grounded_scene(empty_scene, walking_file, tmp_path):
    objects = session.import_results(bpy.context, str(walking_file))
    results = load_results(walking_file)
    obj, track = objects[0], results.tracks[0]
    export.export_people([obj], results, tmp_path, "g", export.FORMATS)
    first, last = int(track.frame[0]) + FRAME_OFFSET, int(track.frame[-1]) + FRAME_OFFSET
    seen = set(bpy.data.objects)
    bpy.ops.import_scene.fbx(filepath=str(tmp_path / "g_person1.fbx"))
    fbx = next(o for o in bpy.data.objects if o not in seen and o.type == "ARMATURE")
    assert ROOT in fbx.data.bones and fbx.data.bones["pelvis"].parent.name == ROOT
    bpy.ops.import_anim.bvh(filepath=str(tmp_path / "g_person1.bvh"), frame_start=first)
    bvh = bpy.context.view_layer.objects.active
    for other in (fbx, bvh):
        worst = max(np.abs(world_joints(other, f) - world_joints(obj, f)).max() for f in range(first, last + 1))
        assert worst < 1e-3, (other.name, worst)
    with np.load(tmp_path / "g_person1.npz") as z:
        joints, _ = forward_kinematics(
            z["poses"][:, :3], z["poses"][:, 3:].reshape(-1, 23, 3), z["rest_joints"], z["trans"]
        )
    world = results.meta.world_from_camera
    scale = float(np.median(track.scale))
    want = track.joints.astype(np.float64) @ world[:3, :3].T + world[:3, 3]
    # AMASS has no per-track size: the pelvis lands exactly, the limbs are the unscaled skeleton's.
    np.testing.assert_allclose(joints[:, 0], want[:, 0], atol=1e-4)
    assert scale != pytest.approx(1.0, abs=1e-3)


def test_the_bone_action_on_another_rig_carries_no_object_channels(empty_scene, walking_file):
    objects = session.import_results(bpy.context, str(walking_file))
    results = load_results(walking_file)
    obj, track = objects[1], results.tracks[1]
    other = obj.copy()
    other.data = obj.data.copy()
    for key in list(other.keys()):
        del other[key]
    other.animation_data_clear()
    other.data.animation_data_clear()
    bpy.context.scene.collection.objects.link(other)
    anim = other.animation_data_create()
    anim.nla_tracks.new().strips.new("reused", int(track.frame[0]) + FRAME_OFFSET, obj[ACTION_PROP])
    paths = {fc.data_path for fc in action_fcurves(obj[ACTION_PROP])}
    assert all(p.startswith("pose.bones") for p in paths)
    assert not any(PREDICTED_PROP in p or "hide" in p or "contact" in p for p in paths)
    hidden = int(track.frame[0]) + FRAME_OFFSET - 1 if track.frame[0] > 0 else int(track.frame[-1]) + FRAME_OFFSET + 1
    bpy.context.scene.frame_set(hidden)
    assert obj.hide_viewport and not other.hide_viewport and not other.hide_render
    frame = int(track.frame[len(track) // 2]) + FRAME_OFFSET
    np.testing.assert_allclose(world_joints(other, frame), world_joints(obj, frame), atol=1e-5)


def test_a_gap_on_the_grounded_scene_is_hidden_and_held(empty_scene, walking, tmp_path):
    track = walking.tracks[0]
    keep = (track.frame < 30) | (track.frame >= 40)
    path = save_results(Results(walking.meta, [track.select(keep), *walking.tracks[1:]]), tmp_path / "gap.ram.npz")
    obj = session.import_results(bpy.context, str(path))[0]
    held = world_joints(obj, 29 + FRAME_OFFSET)
    for frame in range(30 + FRAME_OFFSET, 40 + FRAME_OFFSET):
        np.testing.assert_array_equal(world_joints(obj, frame), held)  # no glide, and hidden, and flagged
        assert obj.hide_viewport and obj.hide_render and obj[PREDICTED_PROP] == 1.0
        assert obj.data[CONTACT_PROPS[0]] == 0.0 and obj.data[CONTACT_PROPS[1]] == 0.0
    world = walking.meta.world_from_camera
    back = track.joints[int(np.flatnonzero(track.frame == 40)[0])].astype(np.float64)
    np.testing.assert_allclose(world_joints(obj, 40 + FRAME_OFFSET), back @ world[:3, :3].T + world[:3, 3], atol=1e-3)
    assert not obj.hide_viewport and obj[PREDICTED_PROP] == 0.0


def test_retarget_follows_the_pelvis_world_motion_on_the_grounded_scene(empty_scene, walking_file):
    from ram_blender.retarget import retarget

    source = session.import_results(bpy.context, str(walking_file))[0]
    target = source.copy()
    target.data = source.data.copy()
    for key in list(target.keys()):
        del target[key]
    target.animation_data_clear()
    for pb in target.pose.bones:  # the copy keeps the source's current pose; retarget leaves the root alone
        pb.matrix_basis.identity()
    bpy.context.scene.collection.objects.link(target)
    result = retarget(bpy.context.scene, source, target, {n: n for n in JOINT_NAMES})
    assert result.ratio == pytest.approx(1.0, rel=1e-6)
    # The copy follows the person's world motion (root travel and heading included): at most a constant
    # shift, where the retarget anchors the travel to where the target stands.
    frames = result.frames[:: max(1, len(result.frames) // 6)]
    shift = [world_joints(target, f) - world_joints(source, f) for f in frames]
    np.testing.assert_allclose(np.array(shift), np.broadcast_to(shift[0][0], (len(frames), 24, 3)), atol=1e-4)
    assert np.linalg.norm(shift[0][0]) < 0.05


def test_a_rebuild_grounds_an_armature_made_before_the_root_bone(empty_scene, walking_file, monkeypatch):
    """A .blend from before the root bone: its solved capture's armatures get the root in place."""
    from ram_blender.importer import build

    monkeypatch.setattr(build, "grounded", lambda results: False)
    obj = session.import_results(bpy.context, str(walking_file))[0]
    assert ROOT not in obj.data.bones
    pointer = obj.as_pointer()
    monkeypatch.undo()
    session.rebuild(bpy.context, force=True)
    assert obj.as_pointer() == pointer and obj.data.bones["pelvis"].parent.name == ROOT
    results = load_results(walking_file)
    track, world = results.tracks[0], results.meta.world_from_camera
    for i in (0, len(track) - 1):
        want = track.joints[i].astype(np.float64) @ world[:3, :3].T + world[:3, 3]
        np.testing.assert_allclose(world_joints(obj, track.frame[i] + FRAME_OFFSET), want, atol=1e-3)


def test_an_edit_that_moves_a_persons_start_moves_the_object_and_keeps_the_artists_move(empty_scene, walking, tmp_path):
    from ram_blender import edits

    late = walking.tracks[0].select(walking.tracks[0].frame >= 10)
    path = save_results(Results(walking.meta, [late, *walking.tracks[1:]]), tmp_path / "late.ram.npz")
    obj = session.import_results(bpy.context, str(path))[0]
    pointer = obj.as_pointer()
    obj.location.x += 1.0  # the artist moves person 1 a metre along X
    session.add_edit(bpy.context, edits.Edit("swap", 1, b=2, frame=5))  # person 1 now starts as person 2 did
    assert obj.as_pointer() == pointer
    track, world = session.edited(bpy.context).results.track(1), walking.meta.world_from_camera
    assert track.frame[0] == 5
    first = track.joints[0].astype(np.float64) @ world[:3, :3].T + world[:3, 3]
    np.testing.assert_allclose(np.array(obj.matrix_world.translation), (first[0, 0] + 1.0, first[0, 1], 0.0), atol=1e-5)
    for i in (0, len(track) // 2):
        want = track.joints[i].astype(np.float64) @ world[:3, :3].T + world[:3, 3] + (1.0, 0.0, 0.0)
        np.testing.assert_allclose(world_joints(obj, track.frame[i] + FRAME_OFFSET), want, atol=1e-3)
    curves = {fc.data_path: fc for fc in action_fcurves(obj.data.animation_data.action)}
    for k, prop in enumerate(CONTACT_PROPS):  # re-keyed with the edit
        got = [curves[f'["{prop}"]'].evaluate(f) for f in track.frame + FRAME_OFFSET]
        np.testing.assert_allclose(got, track.contact[:, k], atol=1e-6)


def test_an_smpl_body_is_sized_and_placed_like_its_bones(empty_scene, walking_file, tmp_path):
    """The skinned body follows SMPL's skinning of the person's solved size in the solved world."""
    from ram_core.contract.smpl_model import load_smpl_model, shaped_vertices, smpl_rest_joints
    from tests.fixtures.smpl import make_test_smpl_npz

    make_test_smpl_npz(tmp_path / "model.npz")
    model = load_smpl_model(tmp_path / "model.npz")
    objects = session.import_results(bpy.context, str(walking_file), BuildOptions(smpl_model=model))
    results = load_results(walking_file)
    world = results.meta.world_from_camera
    for obj, track in people(objects, results):
        body = next(c for c in obj.children if c.get("ram_body"))
        betas, size = track.betas.mean(axis=0), float(np.median(track.scale))
        rest = smpl_rest_joints(model, betas) * size
        i = len(track) // 2
        joints, rots = forward_kinematics(
            track.global_orient[i : i + 1].astype(float),
            track.body_pose[i : i + 1].astype(float),
            rest,
            track.transl[i : i + 1],
        )
        verts = shaped_vertices(model, betas) * size
        per_joint = np.einsum("jab,vjb->vja", rots[0], verts[:, None, :] - rest[None]) + joints[0][None]
        want = np.einsum("vj,vja->va", model.weights, per_joint) @ world[:3, :3].T + world[:3, 3]
        bpy.context.scene.frame_set(int(track.frame[i]) + FRAME_OFFSET)
        evaluated = body.evaluated_get(bpy.context.evaluated_depsgraph_get())
        mesh = evaluated.to_mesh()
        co = np.empty(3 * len(mesh.vertices))
        mesh.vertices.foreach_get("co", co)
        evaluated.to_mesh_clear()
        m = np.array(body.matrix_world)
        np.testing.assert_allclose(co.reshape(-1, 3) @ m[:3, :3].T + m[:3, 3], want, atol=1e-3)
