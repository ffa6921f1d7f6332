"""Each person's body: the open body by default, SMPL's with a model, the tube proxy on request; each
skinned so that Blender deforms it like linear blend skinning on the person's skeleton."""

from __future__ import annotations

import bpy
import numpy as np
import pytest

from ram_blender import session
from ram_blender.importer.build import BuildOptions
from ram_blender.importer.plan import FRAME_OFFSET
from ram_core.contract.colors import track_color
from ram_core.contract.coords import camera_points_to_blender
from ram_core.contract.open_body import fit_to_joints, load_open_body
from ram_core.contract.results import load_results, save_results
from ram_core.contract.skeleton import JOINT_NAMES, forward_kinematics
from ram_core.contract.smpl_model import default_rest_joints, load_smpl_model, shaped_vertices, smpl_rest_joints
from tests.fixtures.smpl import make_test_smpl_npz


def skinned_in_blender(verts, weights, rest, track, i):
    """Linear blend skinning of rest ``verts`` ``(V, 3)`` on ``rest`` ``(24, 3)`` (SMPL's body frame) to
    record ``i``'s pose, in Blender's world (the camera at the origin)."""
    joints, rots = forward_kinematics(
        track.global_orient[i : i + 1].astype(float),
        track.body_pose[i : i + 1].astype(float),
        rest,
        track.transl[i : i + 1],
    )
    per_joint = np.einsum("jab,vjb->vja", rots[0], verts[:, None, :] - rest[None]) + joints[0][None]
    return camera_points_to_blender(np.einsum("vj,vja->va", weights, per_joint))


def lbs_in_blender(model, track, i):
    """SMPL's linear blend skinning (no pose blend shapes) of record ``i``, in Blender's world."""
    betas = track.betas.mean(axis=0)
    return skinned_in_blender(shaped_vertices(model, betas), model.weights, smpl_rest_joints(model, betas), track, i)


def evaluated_world(body):
    """``body``'s deformed vertices ``(V, 3)`` in the world at the current frame."""
    evaluated = body.evaluated_get(bpy.context.evaluated_depsgraph_get())
    mesh = evaluated.to_mesh()
    co = np.empty(3 * len(mesh.vertices))
    mesh.vertices.foreach_get("co", co)
    evaluated.to_mesh_clear()
    return co.reshape(-1, 3) @ np.array(body.matrix_world)[:3, :3].T + np.array(body.matrix_world)[:3, 3]


def ram_bodies(arm):
    return [c for c in arm.children if c.get("ram_body")]


def test_skinned_body_follows_smpl_lbs(empty_scene, results_file, tmp_path):
    path = tmp_path / "model.npz"
    make_test_smpl_npz(path)
    model = load_smpl_model(path)
    objects = session.import_results(bpy.context, str(results_file), BuildOptions(smpl_model=model))
    results = load_results(results_file)
    bodies = [o for o in bpy.data.objects if o.type == "MESH"]
    assert len(bodies) == len(objects)
    body, arm, track = bodies[0], objects[0], results.tracks[0]
    assert body.parent == arm and body.modifiers[0].object == arm
    assert [g.name for g in body.vertex_groups] == list(JOINT_NAMES)
    assert len(body.data.vertices) == model.num_vertices
    for i in (2, 11):
        bpy.context.scene.frame_set(int(track.frame[i]) + FRAME_OFFSET)
        np.testing.assert_allclose(evaluated_world(body), lbs_in_blender(model, track, i), atol=1e-3)


def test_the_smpl_body_has_the_persons_solved_size(empty_scene, tmp_path):
    """A person the scene solve scaled 1.2 gets SMPL's body scaled with their skeleton."""
    from synth import make_results

    make_test_smpl_npz(tmp_path / "model.npz")
    model = load_smpl_model(tmp_path / "model.npz")
    raw = make_results()
    raw.tracks[0].scale[:] = 1.2
    path = save_results(raw, tmp_path / "scaled.ram.npz")
    arm = session.import_results(bpy.context, str(path), BuildOptions(smpl_model=model))[0]
    track = load_results(path).tracks[0]
    betas = track.betas.mean(axis=0)
    i = 5
    bpy.context.scene.frame_set(int(track.frame[i]) + FRAME_OFFSET)
    rest, verts = 1.2 * smpl_rest_joints(model, betas), 1.2 * shaped_vertices(model, betas)
    (body,) = ram_bodies(arm)
    np.testing.assert_allclose(
        evaluated_world(body), skinned_in_blender(verts, model.weights, rest, track, i), atol=1e-3
    )


def test_the_open_body_is_the_default_and_follows_the_skeleton(empty_scene, results_file):
    """Without an SMPL model each person gets the open body fitted to their rest skeleton, in their colour."""
    objects = session.import_results(bpy.context, str(results_file))
    results = load_results(results_file)
    open_body = load_open_body()
    assert bpy.context.scene.ram.body == "open"
    for arm, track in zip(objects, results.tracks):
        (body,) = ram_bodies(arm)
        assert body["ram_body"] == "open" and body.parent == arm
        assert [(m.type, m.object) for m in body.modifiers] == [("ARMATURE", arm)]
        assert [g.name for g in body.vertex_groups] == list(JOINT_NAMES)  # none for other bones (a root)
        assert len(body.data.vertices) == open_body.num_vertices
        assert len(body.data.polygons) == len(open_body.faces)
        assert np.allclose(body.data.materials[0].diffuse_color[:3], track_color(track.track_id), atol=1e-6)
        # The fixture's skeleton has other proportions than the body's: it is fitted onto it, and then
        # Blender deforms it as linear blend skinning on that skeleton does.
        rest = results.meta.rest_joints * float(np.median(track.scale))
        verts = fit_to_joints(open_body.vertices, open_body.weights, open_body.rest_joints, rest)
        i = len(track) // 2
        bpy.context.scene.frame_set(int(track.frame[i]) + FRAME_OFFSET)
        np.testing.assert_allclose(
            evaluated_world(body), skinned_in_blender(verts, open_body.weights, rest, track, i), atol=1e-3
        )


def test_the_open_body_has_each_persons_solved_height(empty_scene, tmp_path):
    """On the default skeleton (the lite backend's) a person scaled 1.1 by the scene solve is 1.1 times the
    body's stature tall at rest, soles where the scaled body's are."""
    from synth import make_meta, make_random_track

    from ram_core.contract.results import Results

    rest = default_rest_joints()
    track = make_random_track(np.random.default_rng(1), 1, np.arange(10), rest)
    track.scale[:] = 1.1
    path = save_results(Results(make_meta(rest, 10), [track]), tmp_path / "tall.ram.npz")
    (arm,) = session.import_results(bpy.context, str(path))
    (body,) = ram_bodies(arm)
    co = np.empty(3 * len(body.data.vertices))
    body.data.vertices.foreach_get("co", co)
    co = co.reshape(-1, 3)
    open_body = load_open_body()
    assert np.ptp(co[:, 2]) == pytest.approx(1.1 * open_body.stature_m, abs=1e-3)
    foot = open_body.rest_joints[JOINT_NAMES.index("left_foot"), 1] - open_body.vertices[:, 1].min()
    assert co[:, 2].min() == pytest.approx(arm.data.bones["left_foot"].head_local.z - 1.1 * foot, abs=2e-3)


def test_the_tube_proxy_on_request_follows_the_bones(empty_scene, results_file):
    """With ``body="proxy"`` each person gets a tube per bone, bound rigidly, in the person's colour."""
    objs = session.import_results(bpy.context, str(results_file), BuildOptions(body="proxy"))
    results = load_results(results_file)
    assert bpy.context.scene.ram.body == "proxy"
    for arm in objs:
        proxies = [c for c in arm.children if c.type == "MESH"]
        assert len(proxies) == 1
        proxy = proxies[0]
        assert proxy["ram_body"] == "proxy"
        assert proxy.modifiers[0].type == "ARMATURE" and proxy.modifiers[0].object == arm
        assert np.allclose(proxy.data.materials[0].diffuse_color[:3], track_color(arm["ram_track_id"]), atol=1e-6)
        track = results.track(arm["ram_track_id"])
        frame = int(track.frame[len(track) // 2]) + 1
        bpy.context.scene.frame_set(frame)
        depsgraph = bpy.context.evaluated_depsgraph_get()
        evaluated = proxy.evaluated_get(depsgraph).to_mesh()
        verts = np.array([proxy.matrix_world @ v.co for v in evaluated.vertices])
        proxy.evaluated_get(depsgraph).to_mesh_clear()
        # The pelvis tube's first ring (its first 8 vertices) is centred on the posed pelvis head.
        pelvis_head = np.array(arm.matrix_world @ arm.pose.bones["pelvis"].head)
        assert np.linalg.norm(verts[:8].mean(axis=0) - pelvis_head) < 1e-4
        # The tubes moved with the bones: the head ring is near the posed head bone.
        head_index = 15
        ring = verts[head_index * 16 : head_index * 16 + 8].mean(axis=0)
        assert np.linalg.norm(ring - np.array(arm.matrix_world @ arm.pose.bones["head"].head)) < 1e-4


def test_edits_keep_the_body_the_import_chose(empty_scene, results_file):
    """A rebuild after an edit keeps each person's body kind and object (the proxy stays the proxy)."""
    from ram_blender import edits

    objects = session.import_results(bpy.context, str(results_file), BuildOptions(body="proxy"))
    before = {arm.name: ram_bodies(arm) for arm in objects}
    session.add_edit(bpy.context, edits.Edit("swap", 1, b=2, frame=20))
    session.rebuild(bpy.context, force=True)
    for arm in objects:
        assert ram_bodies(arm) == before[arm.name] and before[arm.name][0]["ram_body"] == "proxy"


def test_the_body_is_a_choice_in_the_dialogs_and_ram_capture(empty_scene, results_file):
    from ram_blender import cli
    from ram_blender.importer.build import BODIES
    from ram_blender.operators.capture import RAM_OT_capture_video

    assert BODIES == ("open", "proxy")
    assert "body" in RAM_OT_capture_video.__annotations__
    assert cli.parse_args(["clip.mp4", "-o", "out", "--body", "proxy"]).body == "proxy"
    assert cli.parse_args(["clip.mp4", "-o", "out"]).body == ""  # the preference's
    assert bpy.ops.ram.import_results(filepath=str(results_file), body="proxy") == {"FINISHED"}
    state = bpy.context.scene.ram
    assert state.body == "proxy"
    assert {b["ram_body"] for t in state.tracks for b in ram_bodies(t.object)} == {"proxy"}
