"""The artist's copy of a RAM object is the artist's: a new capture or an edit keeps it, and what the artist
parented to a RAM body follows the new capture's body."""

from __future__ import annotations

import bpy
import numpy as np

from ram_blender import session
from ram_blender.importer.build import RECORD_PROP, RECORDED_PROP, ram_body, ram_made
from ram_blender.importer.keys import action_fcurves
from ram_blender.importer.plan import FRAME_OFFSET


def person(track_id):
    """RAM's armature of ``track_id`` (from the track list: never the artist's copy)."""
    return next(item.object for item in bpy.context.scene.ram.tracks if item.track_id == track_id)


def recapture(results_file, name="again.ram.npz"):
    again = results_file.parent / name
    again.write_bytes(results_file.read_bytes())
    session.import_results(bpy.context, str(again))


def duplicate(obj):
    """Shift+D on ``obj`` (the copy lands in the same collections, with its own data and action)."""
    for o in bpy.context.view_layer.objects:
        o.select_set(False)
    obj.select_set(True)
    bpy.context.view_layer.objects.active = obj
    assert bpy.ops.object.duplicate() == {"FINISHED"}
    return bpy.context.view_layer.objects.active


def keys(obj):
    return sorted(
        (fc.data_path, fc.array_index, len(fc.keyframe_points)) for fc in action_fcurves(obj.animation_data.action)
    )


def make_crowd(scene):
    """A Shift+D copy of person 1 (moved aside, aimed at RAM's person 2 by a constraint), an ``obj.copy()``
    of person 5 and a Shift+D copy of the capture camera, all in the capture's collection."""
    crowd = duplicate(person(1))
    crowd.name = "crowd"
    crowd.location.x += 2.0
    aim = crowd.constraints.new("TRACK_TO")
    aim.target = person(2)
    twin = person(5).copy()
    twin.name = "twin"
    scene.ram.collection.objects.link(twin)
    shot = duplicate(scene.camera)
    shot.name = "shot"
    return crowd, twin, shot


def test_the_artists_duplicates_survive_a_new_capture_with_their_keys(empty_scene, results_file):
    scene = empty_scene
    session.import_results(bpy.context, str(results_file))
    crowd, twin, _ = crowd_of = make_crowd(scene)
    assert not any(ram_made(o) for o in crowd_of) and ram_made(person(1)) and ram_made(scene.camera)
    before = {o.name: keys(o) for o in (crowd, twin)}
    assert all(before.values())

    recapture(results_file)

    new = scene.ram.collection
    for name in ("crowd", "twin", "shot"):
        assert name in bpy.data.objects and name in new.objects, name
    assert {o.name: keys(o) for o in (crowd, twin)} == before
    assert crowd.constraints["Track To"].target == person(2)  # re-pointed at the new capture's person 2
    assert ram_made(scene.camera) and scene.camera.name != "shot"
    assert {item.object.name for item in scene.ram.tracks}.isdisjoint({"crowd", "twin"})
    everything = (*bpy.data.objects, *bpy.data.collections, *bpy.data.actions, *bpy.data.armatures, *bpy.data.cameras)
    assert not [b.name for b in everything if b.name.endswith("(replaced)")]  # what the copies share included


def test_an_edit_rekeys_rams_armature_and_leaves_the_duplicate_alone(empty_scene, results_file):
    session.import_results(bpy.context, str(results_file))
    original = person(1)
    crowd, _, _ = make_crowd(empty_scene)
    before = keys(crowd)
    session.rebuild(bpy.context, force=True)
    assert person(1) == original and keys(crowd) == before and "crowd" in bpy.data.objects


def test_duplicates_survive_a_new_capture_after_save_and_reload(empty_scene, results_file, tmp_path):
    session.import_results(bpy.context, str(results_file))
    make_crowd(empty_scene)
    path = tmp_path / "crowd.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    bpy.ops.wm.open_mainfile(filepath=str(path))
    scene = bpy.context.scene
    assert ram_made(person(1)) and not ram_made(bpy.data.objects["crowd"])  # the record came back with the file
    before = keys(bpy.data.objects["crowd"])

    recapture(results_file)

    new = scene.ram.collection
    assert all(name in new.objects for name in ("crowd", "twin", "shot"))
    assert keys(bpy.data.objects["crowd"]) == before


def test_the_artists_child_of_a_body_follows_the_new_capture_body(empty_scene, results_file):
    scene = empty_scene
    session.import_results(bpy.context, str(results_file))
    body = ram_body(person(1))
    badge = bpy.data.objects.new("badge", None)
    scene.collection.objects.link(badge)
    badge.parent = body
    badge.location = (0.1, 0.2, 1.3)
    wrap = bpy.data.objects.new("wrap", bpy.data.meshes.new("wrap"))
    scene.collection.objects.link(wrap)
    shrink = wrap.modifiers.new("shrink", "SHRINKWRAP")
    shrink.target = body
    scene.frame_set(FRAME_OFFSET + 10)
    world = np.array(badge.matrix_world)

    recapture(results_file)

    scene.frame_set(FRAME_OFFSET + 10)
    assert badge.parent == ram_body(person(1)) and shrink.target == ram_body(person(1))
    assert np.allclose(np.array(badge.matrix_world), world, atol=1e-5)


def test_a_child_of_a_gone_persons_body_stays_where_it_was(empty_scene, results_file):
    from ram_core.contract.results import load_results, save_results

    scene = empty_scene
    session.import_results(bpy.context, str(results_file))
    gone = max(t.track_id for t in load_results(results_file).tracks)
    badge = bpy.data.objects.new("badge", None)
    scene.collection.objects.link(badge)
    badge.parent = ram_body(person(gone))
    badge.location = (0.1, 0.2, 1.3)
    scene.frame_set(FRAME_OFFSET + 10)
    world = np.array(badge.matrix_world)

    raw = load_results(results_file)
    raw.tracks = [t for t in raw.tracks if t.track_id != gone]
    session.import_results(bpy.context, str(save_results(raw, results_file.parent / "fewer.ram.npz")))

    assert badge.parent is None and np.allclose(np.array(badge.matrix_world), world, atol=1e-5)


def test_a_capture_from_before_records_is_replaced_as_before(empty_scene, results_file):
    """A file saved by an older RAM: its objects carry only their marks (no record, no recorded mark)."""
    scene = empty_scene
    session.import_results(bpy.context, str(results_file))
    old = scene.ram.collection
    del old[RECORD_PROP]
    for obj in old.objects:
        del obj[RECORDED_PROP]
    prop = bpy.data.objects.new("prop", None)
    old.objects.link(prop)
    assert ram_made(person(1)) and ram_made(scene.camera) and not ram_made(prop)
    hat = bpy.data.objects.new("hat", None)
    scene.collection.objects.link(hat)
    hat.parent = person(1)

    recapture(results_file)

    new = scene.ram.collection
    assert new != old and "prop" in new.objects and hat.parent == person(1)
    assert len([o for o in bpy.data.objects if o.type == "ARMATURE"]) == len(scene.ram.tracks)
    assert len([o for o in bpy.data.objects if o.type == "CAMERA"]) == 1
    assert not [b.name for b in (*bpy.data.objects, *bpy.data.collections) if b.name.endswith("(replaced)")]


def test_the_record_follows_undo(undo, results_file):
    assert bpy.ops.ram.import_results("EXEC_DEFAULT", True, filepath=str(results_file)) == {"FINISHED"}
    make_crowd(bpy.context.scene)
    bpy.ops.ed.undo_push(message="crowd")
    again = results_file.parent / "again.ram.npz"
    again.write_bytes(results_file.read_bytes())
    assert bpy.ops.ram.import_results("EXEC_DEFAULT", True, filepath=str(again)) == {"FINISHED"}
    undo()
    assert ram_made(person(1)) and not ram_made(bpy.data.objects["crowd"])
    assert bpy.ops.ram.import_results("EXEC_DEFAULT", True, filepath=str(again)) == {"FINISHED"}
    assert all(name in bpy.context.scene.ram.collection.objects for name in ("crowd", "twin", "shot"))


def test_the_artists_child_of_a_body_follows_a_change_of_body(empty_scene, results_file):
    from ram_blender.importer.build import BuildOptions

    session.import_results(bpy.context, str(results_file))
    badge = bpy.data.objects.new("badge", None)
    empty_scene.collection.objects.link(badge)
    badge.parent = ram_body(person(1))
    session.rebuild(bpy.context, BuildOptions(body="proxy"), force=True)
    body = ram_body(person(1))
    assert body.get("ram_body") == "proxy" and badge.parent == body
    assert len([o for o in empty_scene.ram.collection.objects if o.type == "MESH" and ram_made(o)]) == 3
