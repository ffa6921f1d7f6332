"""Exports per person: BVH and FBX through Blender's exporters (re-imported), AMASS-style .npz."""

from __future__ import annotations

import bpy
import numpy as np
import pytest

from ram_blender import export, session
from ram_blender.importer.build import BuildOptions
from ram_blender.importer.plan import FRAME_OFFSET
from ram_core.contract.coords import camera_points_to_blender
from ram_core.contract.open_body import load_open_body
from ram_core.contract.results import load_results
from ram_core.contract.skeleton import JOINT_NAMES, forward_kinematics


@pytest.fixture
def exported(empty_scene, results_file, tmp_path):
    # The light proxy body: these tests are about the motion; the open body's FBX has its own test.
    objects = session.import_results(bpy.context, str(results_file), BuildOptions(body="proxy"))
    paths = export.export_people(objects, load_results(results_file), tmp_path, "clip", export.FORMATS)
    return objects, load_results(results_file), tmp_path, paths


def test_one_file_per_person_and_format(exported):
    _objects, results, _out, paths = exported
    want = {f"clip_person{t.track_id}.{fmt}" for t in results.tracks for fmt in export.FORMATS}
    assert {p.name for p in paths} == want and all(p.stat().st_size > 0 for p in paths)


def test_fbx_export_prints_nothing(empty_scene, results_file, tmp_path, capsys):
    # Blender's exporter prints three lines per file; a batch's progress lines must not drown in them.
    objects = session.import_results(bpy.context, str(results_file), BuildOptions(body="proxy"))
    export.export_people(objects[:1], load_results(results_file), tmp_path, "clip", ("fbx",))
    assert "FBX export" not in capsys.readouterr().out


def test_amass_npz_reproduces_the_joints_in_blender_space(exported):
    _objects, results, out, _paths = exported
    track = results.tracks[1]
    with np.load(out / f"clip_person{track.track_id}.npz", allow_pickle=False) as z:
        data = {k: z[k] for k in z.files}
    assert data["poses"].shape == (len(track), 72) and data["trans"].shape == (len(track), 3)
    assert data["betas"].shape == (10,) and float(data["mocap_frame_rate"]) == results.meta.fps
    assert str(data["gender"]) == "neutral"
    np.testing.assert_allclose(data["times"], track.frame / results.meta.fps)  # a constant-rate capture
    np.testing.assert_array_equal(data["rest_joints"], results.meta.rest_joints)
    joints, _ = forward_kinematics(
        data["poses"][:, :3], data["poses"][:, 3:].reshape(-1, 23, 3), data["rest_joints"], data["trans"]
    )
    np.testing.assert_allclose(joints, camera_points_to_blender(track.joints), atol=1e-4)


def heads_at(obj, frame):
    bpy.context.scene.frame_set(frame)
    return np.array([obj.matrix_world @ obj.pose.bones[n].head for n in JOINT_NAMES])


def span(track):
    return int(track.frame[0]) + FRAME_OFFSET, int(track.frame[-1]) + FRAME_OFFSET


def worst_mm(imported, original, first, last):
    return 1000 * max(np.abs(heads_at(imported, f) - heads_at(original, f)).max() for f in range(first, last + 1))


def deformed(mesh_obj):
    """``mesh_obj``'s evaluated vertices ``(V, 3)`` in the world at the current frame."""
    evaluated = mesh_obj.evaluated_get(bpy.context.evaluated_depsgraph_get())
    mesh = evaluated.to_mesh()
    co = np.empty(3 * len(mesh.vertices))
    mesh.vertices.foreach_get("co", co)
    evaluated.to_mesh_clear()
    m = np.array(mesh_obj.matrix_world)
    return co.reshape(-1, 3) @ m[:3, :3].T + m[:3, 3]


def test_bvh_is_y_up_and_reimports_with_default_axes(exported):
    objects, results, out, _paths = exported
    for obj, track in zip(objects, results.tracks):
        path = out / f"clip_person{track.track_id}.bvh"
        text = path.read_text()
        offset = np.array(text.split("OFFSET", 1)[1].split("\n", 1)[0].split(), dtype=float)
        x, y, z = obj.data.bones["pelvis"].head_local
        np.testing.assert_allclose(offset, (x, z, -y), atol=1e-5)  # Blender's up is the file's Y
        first, last = span(track)
        assert f"Frames: {last - first + 1}\n" in text  # the person's own frames, no padding
        # A BVH has no start time: Blender's importer starts it at frame_start (1 unless told).
        bpy.ops.import_anim.bvh(filepath=str(path), frame_start=first)
        imported = bpy.context.view_layer.objects.active
        assert imported.type == "ARMATURE" and imported not in objects
        assert {b.name for b in imported.data.bones} == set(JOINT_NAMES)
        assert tuple(imported.animation_data.action.frame_range) == (first, last)
        assert worst_mm(imported, obj, first, last) < 1.0


def test_fbx_reimports_on_the_same_frames_within_a_millimetre_with_the_body(empty_scene, results_file, tmp_path):
    objects = session.import_results(bpy.context, str(results_file))
    results = load_results(results_file)
    a = objects[0]
    target = bpy.data.objects.new("look target", None)
    bpy.context.scene.collection.objects.link(target)
    target.location = (1.0, 2.0, 3.0)
    a.pose.bones["head"].constraints.new("DAMPED_TRACK").target = target  # exported as the artist sees it
    action, names = a.animation_data.action, sorted(o.name for o in bpy.data.objects)
    export.export_people(objects, results, tmp_path, "clip", ("fbx",))
    assert a.animation_data.action == action and sorted(o.name for o in bpy.data.objects) == names
    for obj, track in zip(objects, results.tracks):
        before = set(bpy.data.objects)
        bpy.ops.import_scene.fbx(filepath=str(tmp_path / f"clip_person{track.track_id}.fbx"))  # default options
        new = [o for o in bpy.data.objects if o not in before]
        arm = next(o for o in new if o.type == "ARMATURE")
        assert {b.name for b in arm.data.bones} == set(JOINT_NAMES)
        first, last = span(track)
        assert tuple(arm.animation_data.action.frame_range) == (first, last)
        assert worst_mm(arm, obj, first, last) < 1.0
        body = next(o for o in new if o.type == "MESH")  # the open body, skinned
        assert body.parent == arm and [m.object for m in body.modifiers if m.type == "ARMATURE"] == [arm]
        assert {g.name for g in body.vertex_groups} == set(JOINT_NAMES)
        assert len(body.data.vertices) == load_open_body().num_vertices
        bpy.context.scene.frame_set((first + last) // 2)  # and it deforms as the original does
        original = next(c for c in obj.children if c.get("ram_body"))
        assert np.abs(deformed(body) - deformed(original)).max() < 1e-3


def test_fbx_carries_the_smpl_body(empty_scene, results_file, tmp_path):
    from ram_core.contract.smpl_model import load_smpl_model
    from tests.fixtures.smpl import make_test_smpl_npz

    make_test_smpl_npz(tmp_path / "model.npz")
    model = load_smpl_model(tmp_path / "model.npz")
    objects = session.import_results(bpy.context, str(results_file), BuildOptions(smpl_model=model))
    results = load_results(results_file)
    export.export_people(objects[:1], results, tmp_path, "clip", ("fbx",))
    before = set(bpy.data.objects)
    bpy.ops.import_scene.fbx(filepath=str(tmp_path / f"clip_person{results.tracks[0].track_id}.fbx"))
    body = next(o for o in bpy.data.objects if o not in before and o.type == "MESH")
    assert len(body.data.vertices) == model.num_vertices and body.parent.type == "ARMATURE"


def test_export_keeps_the_selection_and_frame(empty_scene, results_file, tmp_path):
    objects = session.import_results(bpy.context, str(results_file), BuildOptions(body="proxy"))
    scene, view_layer = bpy.context.scene, bpy.context.view_layer
    for o in view_layer.objects:
        o.select_set(False)
    objects[0].select_set(True)  # person 5 (objects[2]) is hidden, so not selectable, at frame 1
    objects[1].select_set(True)
    view_layer.objects.active = objects[1]
    scene.frame_set(7)
    export.export_people(objects, load_results(results_file), tmp_path, "clip", ("fbx", "bvh"))
    assert [o for o in view_layer.objects if o.select_get()] == [objects[0], objects[1]]
    assert view_layer.objects.active == objects[1] and scene.frame_current == 7
    assert (scene.frame_start, scene.frame_end) == (1, 40)


def test_bvh_z_up_on_request(empty_scene, results_file, tmp_path):
    objects = session.import_results(bpy.context, str(results_file))
    export.export_people(objects[:1], load_results(results_file), tmp_path, "z", ("bvh",), bvh_y_up=False)
    first = (tmp_path / "z_person1.bvh").read_text().split("OFFSET", 1)[1].split("\n", 1)[0].split()
    np.testing.assert_allclose(np.array(first, dtype=float), objects[0].data.bones["pelvis"].head_local, atol=1e-5)


def test_an_export_folder_that_cannot_be_written_is_one_line(empty_scene, results_file, tmp_path):
    """Before: a read-only folder gave Blender's Python traceback from inside the BVH writer."""
    import os
    import subprocess

    session.import_results(bpy.context, str(results_file), BuildOptions(body="proxy"))
    a_file = tmp_path / "notes.txt"
    a_file.write_text("the user's")
    with pytest.raises(RuntimeError) as e:
        bpy.ops.ram.export_people(directory=str(a_file / "exports"), fbx=False)
    assert str(e.value).strip() == f"Error: {a_file / 'exports'}: cannot make the output folder (Not a directory)"
    with pytest.raises(RuntimeError) as e:  # Before: "notes.txt: File exists"
        bpy.ops.ram.export_people(directory=str(a_file), fbx=False)
    assert str(e.value).strip() == f"Error: {a_file}: is a file; give a folder"  # as ram-core batch says it
    assert a_file.read_text() == "the user's"
    locked = tmp_path / "locked"
    locked.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "ro,size=16k", "tmpfs", str(locked)]
    if os.geteuid() != 0:
        locked.chmod(0o500)
    elif subprocess.run(mount, capture_output=True, check=False).returncode != 0:
        pytest.skip("as root, a read-only folder needs a read-only mount, and mounting one failed")
    try:
        with pytest.raises(RuntimeError) as e:
            bpy.ops.ram.export_people(directory=str(locked), fbx=False)
        assert "\n" not in str(e.value).strip() and "output folder is not writable" in str(e.value)
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(locked)], capture_output=True, check=False)
        else:
            locked.chmod(0o700)


def test_a_blend_moved_without_its_results_still_exports_fbx_and_bvh(empty_scene, results_file, tmp_path):
    """The armatures in the .blend are enough for FBX and BVH; the AMASS .npz (made from the results' SMPL
    parameters) is skipped with one line saying what is missing and what to do."""
    import shutil

    objects = session.import_results(bpy.context, str(results_file), BuildOptions(body="proxy"))
    tracks = load_results(results_file).tracks
    spans = {obj.name: span(t) for obj, t in zip(objects, tracks)}
    blend = tmp_path / "shot.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.copy(blend, moved / "shot.blend")  # without synthetic.ram.npz
    results_file.unlink()
    bpy.ops.wm.open_mainfile(filepath=str(moved / "shot.blend"))
    out = tmp_path / "out"
    assert bpy.ops.ram.export_people(directory=str(out)) == {"FINISHED"}
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(f"synthetic_person{t.track_id}.{f}" for t in tracks for f in ("fbx", "bvh"))
    for obj in (t.object for t in bpy.context.scene.ram.tracks):
        first, last = spans[obj.name]
        text = (out / f"synthetic_person{obj['ram_track_id']}.bvh").read_text()
        assert f"Frames: {last - first + 1}\n" in text  # the person's own frames, as with the results file
    with pytest.raises(RuntimeError) as e:  # npz alone: nothing to write, one line naming the file
        bpy.ops.ram.export_people(directory=str(out), fbx=False, bvh=False)
    assert "synthetic.ram.npz: this scene's results file is missing" in str(e.value)
    assert "\n" not in str(e.value).strip()
