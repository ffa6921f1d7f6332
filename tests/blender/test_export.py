"""Exports per person: BVH and FBX through Blender's exporters (re-imported), AMASS-style .npz."""

from __future__ import annotations

import bpy
import numpy as np
import pytest

from ram_blender import export, session
from ram_blender.importer.plan import FRAME_OFFSET
from ram_core.contract.coords import camera_points_to_blender
from ram_core.contract.results import load_results
from ram_core.contract.skeleton import JOINT_NAMES, forward_kinematics


@pytest.fixture
def exported(empty_scene, results_file, tmp_path):
    objects = session.import_results(bpy.context, str(results_file))
    paths = export.export_people(objects, load_results(results_file), tmp_path, "clip", export.FORMATS)
    return objects, load_results(results_file), tmp_path, paths


def test_one_file_per_person_and_format(exported):
    _objects, results, _out, paths = exported
    want = {f"clip_person{t.track_id}.{fmt}" for t in results.tracks for fmt in export.FORMATS}
    assert {p.name for p in paths} == want and all(p.stat().st_size > 0 for p in paths)


def test_amass_npz_reproduces_the_joints_in_blender_space(exported):
    _objects, results, out, _paths = exported
    track = results.tracks[1]
    with np.load(out / f"clip_person{track.track_id}.npz", allow_pickle=False) as z:
        data = {k: z[k] for k in z.files}
    assert data["poses"].shape == (len(track), 72) and data["trans"].shape == (len(track), 3)
    assert data["betas"].shape == (10,) and float(data["mocap_frame_rate"]) == results.meta.fps
    assert str(data["gender"]) == "neutral"
    joints, _ = forward_kinematics(
        data["poses"][:, :3], data["poses"][:, 3:].reshape(-1, 23, 3), results.meta.rest_joints, data["trans"]
    )
    np.testing.assert_allclose(joints, camera_points_to_blender(track.joints), atol=1e-4)


def test_bvh_reimports_with_the_same_motion(exported):
    objects, results, out, _paths = exported
    track = results.tracks[0]
    # Blender's BVH exporter writes Blender's own axes, so re-import them unchanged (Y forward, Z up).
    bpy.ops.import_anim.bvh(
        filepath=str(out / f"clip_person{track.track_id}.bvh"), rotate_mode="NATIVE", axis_forward="Y", axis_up="Z"
    )
    imported = bpy.context.view_layer.objects.active
    assert imported.type == "ARMATURE" and imported not in objects
    assert {b.name for b in imported.data.bones} == set(JOINT_NAMES)
    scene = bpy.context.scene
    for i in (3, 17):
        scene.frame_set(int(track.frame[i]) + FRAME_OFFSET)
        got = np.array([imported.matrix_world @ imported.pose.bones[n].head for n in JOINT_NAMES])
        np.testing.assert_allclose(got, camera_points_to_blender(track.joints[i]), atol=2e-3)


def test_fbx_reimports_an_animated_armature(exported):
    _objects, results, out, _paths = exported
    before = set(bpy.data.objects)
    bpy.ops.import_scene.fbx(filepath=str(out / f"clip_person{results.tracks[0].track_id}.fbx"))
    new = [o for o in bpy.data.objects if o not in before and o.type == "ARMATURE"]
    assert len(new) == 1 and {b.name for b in new[0].data.bones} == set(JOINT_NAMES)
    assert new[0].animation_data is not None and new[0].animation_data.action is not None
