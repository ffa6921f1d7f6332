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


def _video_results(tmp_path, video):
    from synth import make_meta, make_random_track

    meta = dataclasses.replace(make_meta(), video_path=str(video))
    track = make_random_track(np.random.default_rng(4), 1, np.arange(10), meta.rest_joints)
    return save_results(Results(meta, [track]), tmp_path / "clip.ram.npz")


def test_capture_camera_shows_the_video_in_camera_view(empty_scene, tmp_path):
    import shutil
    from pathlib import Path

    video = Path(shutil.copy(Path(__file__).parents[1] / "data/synth/couple/clip.mp4", tmp_path / "clip.mp4"))
    session.import_results(bpy.context, str(_video_results(tmp_path, video)))
    blend = tmp_path / "scene.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    bpy.ops.wm.open_mainfile(filepath=str(blend))  # what the artist finds on opening the file
    cam = bpy.context.scene.camera.data
    assert cam.show_background_images and len(cam.background_images) == 1
    bg = cam.background_images[0]
    assert bg.source == "MOVIE_CLIP" and not bg.use_camera_clip and bg.show_background_image
    clip = bg.clip
    assert Path(bpy.path.abspath(clip.filepath)).resolve() == video.resolve() and not clip.is_missing
    # Blender frame = video frame + 1, as the keys: the clip's first frame (video frame 0) plays on frame 1.
    assert clip.frame_start == 1 and clip.frame_offset == 0
    assert tuple(clip.size) == (640, 480) and clip.frame_duration == 75

    # The video gone: the .blend opens and a re-import builds all but the background.
    video.unlink()
    bpy.ops.wm.open_mainfile(filepath=str(blend))
    assert bpy.context.scene.camera.data.background_images[0].clip is not None  # shows nothing, no error
    session.import_results(bpy.context, str(tmp_path / "clip.ram.npz"))
    cam = bpy.context.scene.camera
    assert cam.name.startswith("RAM camera") and len(cam.data.background_images) == 0
    assert any(o.type == "ARMATURE" for o in bpy.context.scene.objects)


def test_a_phone_video_stored_turned_shows_upright_behind_the_capture(empty_scene, tmp_path):
    """A portrait video stored landscape with a rotation tag (90 degrees clockwise, as phones write): the capture
    saw it upright (480 x 640). Blender 5 reads the movie upright; Blender 4.2 reads it as stored (640 x 480), and
    the background is turned clockwise and scaled to fill the portrait frame (it was squeezed, lying on its side)."""
    import math
    from pathlib import Path

    from synth import make_meta, make_random_track

    from tests.fixtures.bad_inputs import rotation_tagged_mp4

    video = rotation_tagged_mp4(Path(__file__).parents[1] / "data/synth/couple/clip.mp4", tmp_path / "phone.mp4", 90)
    meta = dataclasses.replace(make_meta(), video_path=str(video), width=480, height=640, video_rotation=90)
    track = make_random_track(np.random.default_rng(5), 1, np.arange(10), meta.rest_joints)
    session.import_results(bpy.context, str(save_results(Results(meta, [track]), tmp_path / "phone.ram.npz")))
    scene = bpy.context.scene
    assert (scene.render.resolution_x, scene.render.resolution_y) == (480, 640)
    (bg,) = scene.camera.data.background_images
    if tuple(bg.clip.size) == (640, 480):  # read as stored
        assert math.isclose(bg.rotation, math.pi / 2, rel_tol=1e-6) and math.isclose(bg.scale, 640 / 480, rel_tol=1e-6)
    else:
        assert tuple(bg.clip.size) == (480, 640) and bg.rotation == 0 and bg.scale == 1


def test_a_scene_with_its_own_camera_keeps_it_unless_asked(addon, tmp_path):
    """The default startup scene has a camera: it stays the scene camera (and is never removed), the import
    says how to render from RAM's; asked (Use as Scene Camera), RAM's becomes the scene camera."""
    bpy.ops.wm.read_homefile(use_empty=False)  # Blender's startup scene: Cube, Light, Camera
    scene = bpy.context.scene
    own = scene.camera
    assert own is not None and own.name == "Camera"
    path = str(_video_results(tmp_path, tmp_path / "gone.mp4"))
    session.take_notes()
    session.import_results(bpy.context, path)
    assert scene.camera == own
    (note,) = session.take_notes()
    assert "scene camera stays 'Camera'" in note and "'RAM camera gone'" in note and "Use as Scene Camera" in note

    assert bpy.ops.ram.import_results(filepath=path, scene_camera=True) == {"FINISHED"}
    assert scene.camera.name == "RAM camera gone" and scene.camera.type == "CAMERA"
    assert (scene.render.resolution_x, scene.render.resolution_y) == (640, 480)
    assert bpy.data.objects.get("Camera") == own and own.name in scene.objects  # the artist's camera is kept
    # A re-import keeps the scene camera on RAM's new one, and says nothing.
    session.import_results(bpy.context, path)
    assert scene.camera.name == "RAM camera gone" and session.take_notes() == []


def test_the_artists_clip_of_the_video_keeps_its_settings_and_a_reimport_reuses_rams(empty_scene, tmp_path):
    import shutil
    from pathlib import Path

    video = Path(shutil.copy(Path(__file__).parents[1] / "data/synth/couple/clip.mp4", tmp_path / "clip.mp4"))
    own = bpy.data.movieclips.load(str(video))  # loaded for tracking, say, and moved along the timeline
    own.frame_start = 50
    path = str(_video_results(tmp_path, video))
    session.import_results(bpy.context, path)
    session.import_results(bpy.context, path)
    clips = [bg.clip for bg in bpy.context.scene.camera.data.background_images]
    assert len(clips) == 1 and clips[0] != own and clips[0].frame_start == 1 and own.frame_start == 50
    assert len(bpy.data.movieclips) == 2  # the re-import reused RAM's clip
