"""With an SMPL model: a shaped, skinned body per person that Blender deforms like SMPL's LBS."""

from __future__ import annotations

import bpy
import numpy as np

from ram_blender import session
from ram_blender.importer.build import BuildOptions
from ram_blender.importer.plan import FRAME_OFFSET
from ram_core.contract.coords import camera_points_to_blender
from ram_core.contract.results import load_results
from ram_core.contract.skeleton import JOINT_NAMES, forward_kinematics
from ram_core.contract.smpl_model import load_smpl_model, shaped_vertices, smpl_rest_joints
from tests.fixtures.smpl import make_test_smpl_npz


def lbs_in_blender(model, track, i):
    """SMPL's linear blend skinning (no pose blend shapes) of record ``i``, in Blender's world."""
    betas = track.betas.mean(axis=0)
    rest = smpl_rest_joints(model, betas)
    verts = shaped_vertices(model, betas)
    joints, rots = forward_kinematics(
        track.global_orient[i : i + 1].astype(float),
        track.body_pose[i : i + 1].astype(float),
        rest,
        track.transl[i : i + 1],
    )
    per_joint = np.einsum("jab,vjb->vja", rots[0], verts[:, None, :] - rest[None]) + joints[0][None]
    return camera_points_to_blender(np.einsum("vj,vja->va", model.weights, per_joint))


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
        evaluated = body.evaluated_get(bpy.context.evaluated_depsgraph_get())
        mesh = evaluated.to_mesh()
        co = np.empty(3 * len(mesh.vertices))
        mesh.vertices.foreach_get("co", co)
        evaluated.to_mesh_clear()
        got = co.reshape(-1, 3) @ np.array(body.matrix_world)[:3, :3].T + np.array(body.matrix_world)[:3, 3]
        np.testing.assert_allclose(got, lbs_in_blender(model, track, i), atol=1e-3)


def test_proxy_body_follows_the_bones_without_an_smpl_model(empty_scene, results_file):
    """Without an SMPL model each person gets a tube per bone, bound rigidly, in the person's colour."""
    from ram_core.contract.colors import track_color

    objs = session.import_results(bpy.context, str(results_file))
    results = load_results(results_file)
    for arm in objs:
        proxies = [c for c in arm.children if c.type == "MESH"]
        assert len(proxies) == 1
        proxy = proxies[0]
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
