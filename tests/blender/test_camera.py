"""The capture camera: Blender's camera sees every joint where the capture's pixel camera saw it."""

from __future__ import annotations

import dataclasses

import bpy
import numpy as np
from bpy_extras.object_utils import world_to_camera_view

from ram_blender import session
from ram_core.contract.results import Results, save_results
from ram_core.contract.skeleton import JOINT_NAMES


def test_capture_camera_reprojects_joints_to_their_pixels(empty_scene, tmp_path):
    from synth import make_meta, make_random_track

    rng = np.random.default_rng(3)
    k = np.array([[700.0, 0.0, 300.0], [0.0, 700.0, 255.0], [0.0, 0.0, 1.0]])  # off-centre principal point
    meta = dataclasses.replace(make_meta(), intrinsics=k, intrinsics_assumed=False)
    track = make_random_track(rng, 1, np.arange(10), meta.rest_joints)
    path = save_results(Results(meta, [track]), tmp_path / "cam.ram.npz")
    session.import_results(bpy.context, str(path))
    scene = bpy.context.scene
    cam = scene.camera
    assert cam is not None and cam.type == "CAMERA"
    assert (scene.render.resolution_x, scene.render.resolution_y) == (meta.width, meta.height)
    arm = next(o for o in scene.objects if o.type == "ARMATURE")
    for f in (0, 4, 9):
        scene.frame_set(f + 1)
        joints = track.joints[f].astype(np.float64)  # camera frame, metres
        expected = (joints @ k.T)[:, :2] / joints[:, 2:3]
        for j, name in enumerate(JOINT_NAMES):
            ndc = world_to_camera_view(scene, cam, arm.matrix_world @ arm.pose.bones[name].head)
            pixel = np.array([ndc.x * meta.width, (1.0 - ndc.y) * meta.height])
            assert np.allclose(pixel, expected[j], atol=0.05), (f, name, pixel, expected[j])
            assert ndc.z > 0 and abs(ndc.z - joints[j, 2]) < 1e-4  # depth along the view axis
    assert cam.matrix_world.to_translation().length < 1e-9
