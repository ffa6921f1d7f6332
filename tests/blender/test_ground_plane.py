"""The ground plane: a floor object at z = 0 under a solved capture's paths, a Cycles shadow catcher, kept
(not duplicated) through edits and rebuilds, removed with the capture, optional at import and in ``ram_capture``."""

from __future__ import annotations

from pathlib import Path

import bpy
import numpy as np
import pytest
from synth import make_walking_results

from ram_blender import cli, edits, session
from ram_blender.importer.build import GROUND_NAME, GROUND_PROP, BuildOptions, ram_ground, remove_collection
from ram_blender.importer.plan import GROUND_MARGIN
from ram_core.contract.coords import blender_from_camera
from ram_core.contract.results import Results, save_results


@pytest.fixture(scope="module")
def walking():
    return make_walking_results(Path(__file__).resolve().parents[1] / "data" / "synth" / "couple" / "gt.npz")


@pytest.fixture
def walking_file(walking, tmp_path):
    return save_results(walking, tmp_path / "couple.ram.npz")


def corners(obj) -> np.ndarray:
    co = np.empty(3 * len(obj.data.vertices))
    obj.data.vertices.foreach_get("co", co)
    return co.reshape(-1, 3)


def paths(results: Results) -> np.ndarray:
    """Every joint of every record, Blender's world ``(N, 3)``."""
    world = blender_from_camera(results.meta.world_from_camera)
    joints = np.concatenate([t.joints.reshape(-1, 3) for t in results.tracks]).astype(np.float64)
    return joints @ world[:3, :3].T + world[:3, 3]


def grounds() -> list:
    return [o for o in bpy.data.objects if o.get(GROUND_PROP)]


def test_a_solved_capture_gets_one_shadow_catching_floor_under_the_paths(empty_scene, walking_file, walking):
    session.import_results(bpy.context, str(walking_file))
    collection = bpy.context.scene.ram.collection
    ground = ram_ground(collection)
    assert ground is not None and ground.name == GROUND_NAME and ground.type == "MESH"
    assert ground.is_shadow_catcher and len(ground.data.polygons) == 1
    co = corners(ground)
    np.testing.assert_allclose(co[:, 2], 0.0, atol=1e-6)
    xy = paths(walking)[:, :2]
    lo, hi = co[:, :2].min(axis=0), co[:, :2].max(axis=0)
    np.testing.assert_allclose(lo, xy.min(axis=0) - GROUND_MARGIN, atol=1e-4)
    np.testing.assert_allclose(hi, xy.max(axis=0) + GROUND_MARGIN, atol=1e-4)
    assert ground.data.materials[0].name == GROUND_NAME


def test_the_floor_is_kept_through_edits_and_rebuilds_and_goes_with_the_capture(empty_scene, walking_file, walking):
    session.import_results(bpy.context, str(walking_file))
    ground = ram_ground(bpy.context.scene.ram.collection)
    ground.location.z = 0.01  # the artist's nudge
    uid = ground.session_uid
    session.add_edit(bpy.context, edits.Edit("delete", walking.tracks[1].track_id))
    session.rebuild(bpy.context, force=True)
    assert [g.session_uid for g in grounds()] == [uid]  # the same object, not a second one
    assert ground.location.z == pytest.approx(0.01)
    left = Results(walking.meta, [walking.tracks[0]])
    np.testing.assert_allclose(corners(ground)[:, :2].max(axis=0), paths(left)[:, :2].max(axis=0) + GROUND_MARGIN, 1e-4)
    cone = bpy.data.objects.new("traffic cone", None)  # the artist's prop, standing on RAM's floor
    bpy.context.scene.collection.objects.link(cone)
    cone.parent = ground
    session.import_results(bpy.context, str(walking_file))  # a re-import replaces it
    assert len(grounds()) == 1 and grounds()[0].name == GROUND_NAME
    assert cone.parent == grounds()[0]  # handed to the new floor, not left unparented
    assert len([m for m in bpy.data.materials if m.name.startswith(GROUND_NAME)]) == 1
    remove_collection(bpy.context.scene.ram.collection)
    assert not grounds()
    assert not [m for m in bpy.data.meshes if m.name.startswith(GROUND_NAME)]
    assert not [m for m in bpy.data.materials if m.name.startswith(GROUND_NAME)]


def test_a_failed_import_leaves_the_one_floor_it_had(empty_scene, walking_file, tmp_path, monkeypatch):
    from ram_blender.importer import update

    session.import_results(bpy.context, str(walking_file))
    uid = ram_ground(bpy.context.scene.ram.collection).session_uid

    def fail(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(update, "update_person", fail)  # after the new floor was made (people are re-keyed copies)
    other = tmp_path / "other.ram.npz"
    other.write_bytes(walking_file.read_bytes())
    with pytest.raises(RuntimeError, match="disk on fire"):
        session.import_results(bpy.context, str(other))
    assert [(g.session_uid, g.name) for g in grounds()] == [(uid, GROUND_NAME)]
    assert [m.name for m in bpy.data.meshes if m.name.startswith(GROUND_NAME)] == [GROUND_NAME]


def test_the_floor_is_optional_and_only_for_solved_scenes(empty_scene, walking_file, results_file):
    session.import_results(bpy.context, str(walking_file), BuildOptions(ground_plane=False))
    assert not grounds() and not bpy.context.scene.ram.ground_plane
    session.rebuild(bpy.context, force=True)  # a rebuild keeps to the import's choice
    bpy.context.scene.ram.collection = None  # a fresh rebuild, too
    session.rebuild(bpy.context)
    assert not grounds()
    session.import_results(bpy.context, str(results_file))  # no scene solve: no floor
    assert not grounds()


def test_the_floor_is_a_choice_in_the_dialogs_and_ram_capture(empty_scene, walking_file):
    from ram_blender.operators.capture import RAM_OT_capture_video

    assert "ground_plane" in RAM_OT_capture_video.__annotations__
    assert bpy.ops.ram.import_results(filepath=str(walking_file), ground_plane=False) == {"FINISHED"}
    assert not grounds() and not bpy.context.scene.ram.ground_plane
    assert bpy.ops.ram.import_results(filepath=str(walking_file)) == {"FINISHED"}  # on by default
    assert len(grounds()) == 1 and bpy.context.scene.ram.ground_plane
    assert cli.parse_args(["v.mp4", "-o", "out"]).ground_plane is None  # the preference's
    assert cli.parse_args(["v.mp4", "-o", "out", "--no-ground-plane"]).ground_plane is False
    assert cli.parse_args(["v.mp4", "-o", "out", "--ground-plane"]).ground_plane is True
