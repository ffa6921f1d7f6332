"""Track edits: the numpy edit log, and the same edits through operators, saved, reloaded and undone."""

from __future__ import annotations

from types import SimpleNamespace

import bpy
import numpy as np
import pytest
from synth import make_results

from ram_blender import edits, session
from ram_blender.importer.plan import FRAME_OFFSET


def frames_of(res, tid):
    return res.results.track(tid).frame.tolist()


def test_swap_exchanges_records_from_the_frame_and_twice_is_identity():
    raw = make_results()
    once = edits.apply_edits(raw, [edits.Edit("swap", 1, b=2, frame=20)])
    a, b = once.results.track(1), once.results.track(2)
    np.testing.assert_array_equal(a.body_pose[a.frame >= 20], raw.track(2).body_pose[raw.track(2).frame >= 20])
    np.testing.assert_array_equal(b.transl[b.frame < 20], raw.track(2).transl[raw.track(2).frame < 20])
    twice = edits.apply_edits(raw, [edits.Edit("swap", 1, b=2, frame=20)] * 2)
    for t in raw.tracks:
        np.testing.assert_array_equal(twice.results.track(t.track_id).joints, t.joints)


def test_split_then_merge_round_trips():
    raw = make_results()
    split = edits.apply_edits(raw, [edits.Edit("split", 1, frame=15)])
    assert frames_of(split, 1) == list(range(15)) and frames_of(split, 6) == list(range(15, 40))
    merged = edits.apply_edits(raw, [edits.Edit("split", 1, frame=15), edits.Edit("merge", 1, b=6)])
    assert sorted(t.track_id for t in merged.results.tracks) == [1, 2, 5]
    np.testing.assert_array_equal(merged.results.track(1).global_orient, raw.track(1).global_orient)


def test_merge_prefers_observed_records_on_shared_frames():
    raw = make_results()
    a, b = raw.track(1), raw.track(5)
    res = edits.apply_edits(raw, [edits.Edit("merge", 1, b=5)]).results.track(1)
    assert res.frame.tolist() == sorted(set(a.frame) | set(b.frame))
    for i, f in enumerate(res.frame):
        ia = int(np.flatnonzero(a.frame == f)[0])
        jb = np.flatnonzero(b.frame == f)
        from_b = len(jb) and a.predicted[ia] and not b.predicted[jb[0]]
        want = b.transl[jb[0]] if from_b else a.transl[ia]
        np.testing.assert_array_equal(res.transl[i], want)


def test_delete_rename_and_errors():
    raw = make_results()
    res = edits.apply_edits(raw, [edits.Edit("rename", 2, name="Alice"), edits.Edit("delete", 5)])
    assert [t.track_id for t in res.results.tracks] == [1, 2] and res.names == {2: "Alice"}
    with pytest.raises(edits.EditError, match="no track 9"):
        edits.apply_edits(raw, [edits.Edit("delete", 9)])
    with pytest.raises(edits.EditError, match="two different tracks"):
        edits.Edit("swap", 1, b=1, frame=3)
    with pytest.raises(edits.EditError, match="both sides"):
        edits.apply_edits(raw, [edits.Edit("split", 5, frame=0)])
    log = [edits.Edit("swap", 1, b=2, frame=4), edits.Edit("rename", 1, name="Bob")]
    assert edits.log_from_json(edits.log_to_json(log)) == log


def pelvis_at(obj, frame):
    bpy.context.scene.frame_set(frame)
    return np.array(obj.matrix_world @ obj.pose.bones["pelvis"].head)


def armature(track_id):
    return next(o for o in bpy.data.objects if o.get("ram_track_id") == track_id and o.type == "ARMATURE")


def test_operator_edits_survive_save_reload_and_undo(empty_scene, results_file, tmp_path):
    session.import_results(bpy.context, str(results_file))
    late = FRAME_OFFSET + 30
    p1, p2 = pelvis_at(armature(1), late), pelvis_at(armature(2), late)
    assert bpy.ops.ram.edit_tracks(op="swap", track_a=1, track_b=2, frame=FRAME_OFFSET + 20) == {"FINISHED"}
    assert bpy.ops.ram.edit_tracks(op="split", track_a=5, frame=FRAME_OFFSET + 30) == {"FINISHED"}
    assert bpy.ops.ram.edit_tracks(op="rename", track_a=1, name="Alice") == {"FINISHED"}
    np.testing.assert_allclose(pelvis_at(armature(1), late), p2, atol=1e-5)
    blend = tmp_path / "edited.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.ops.wm.open_mainfile(filepath=str(blend))
    state = bpy.context.scene.ram
    assert [t.track_id for t in state.tracks] == [1, 2, 5, 6] and state.tracks[0].label == "Alice"
    np.testing.assert_allclose(pelvis_at(armature(1), late), p2, atol=1e-5)
    np.testing.assert_allclose(pelvis_at(armature(2), late), p1, atol=1e-5)
    for _ in range(3):
        assert bpy.ops.ram.undo_edit() == {"FINISHED"}
    assert state.edit_log == "[]" and [t.track_id for t in state.tracks] == [1, 2, 5]
    np.testing.assert_allclose(pelvis_at(armature(1), late), p1, atol=1e-5)
    assert bpy.ops.ram.undo_edit.poll() is False


def test_bad_edit_is_reported_and_changes_nothing(empty_scene, results_file):
    session.import_results(bpy.context, str(results_file))
    with pytest.raises(RuntimeError, match="no track 42"):
        bpy.ops.ram.edit_tracks(op="swap", track_a=1, track_b=42, frame=5)
    assert bpy.context.scene.ram.edit_log == "[]"


def test_blenders_undo_takes_back_an_import_and_each_edit(undo, results_file):
    late = FRAME_OFFSET + 30
    assert bpy.ops.ram.import_results("EXEC_DEFAULT", True, filepath=str(results_file)) == {"FINISHED"}
    p1, p2 = pelvis_at(armature(1), late), pelvis_at(armature(2), late)
    swap = {"op": "swap", "track_a": 1, "track_b": 2, "frame": FRAME_OFFSET + 20}
    assert bpy.ops.ram.edit_tracks("EXEC_DEFAULT", True, **swap) == {"FINISHED"}
    assert bpy.ops.ram.edit_tracks("EXEC_DEFAULT", True, op="delete", track_a=5) == {"FINISHED"}
    state = bpy.context.scene.ram
    assert [t.track_id for t in state.tracks] == [1, 2]
    undo()  # the delete
    state = bpy.context.scene.ram
    assert [t.track_id for t in state.tracks] == [1, 2, 5] and len(edits.log_from_json(state.edit_log)) == 1
    np.testing.assert_allclose(pelvis_at(armature(1), late), p2, atol=1e-5)
    undo()  # the swap
    assert bpy.context.scene.ram.edit_log == "[]"
    np.testing.assert_allclose(pelvis_at(armature(1), late), p1, atol=1e-5)
    undo()  # the import
    assert not bpy.context.scene.ram.results_path and not [o for o in bpy.data.objects if "ram_track_id" in o]
    undo(redo=True)
    undo(redo=True)
    np.testing.assert_allclose(pelvis_at(armature(1), late), p2, atol=1e-5)


def test_rename_and_delete_from_a_click_ask_first(empty_scene, results_file):
    """Without a window Blender runs a dialog's operator at once: what can be checked is that the dialogs'
    invoke (title, message and button texts, on 4.2 as on 5.x) runs and leads to the edit."""
    session.import_results(bpy.context, str(results_file))
    assert bpy.ops.ram.edit_tracks("INVOKE_DEFAULT", op="rename", track_a=1, name="Alice") == {"FINISHED"}
    assert bpy.ops.ram.edit_tracks("INVOKE_DEFAULT", op="delete", track_a=5) == {"FINISHED"}
    state = bpy.context.scene.ram
    assert [(t.track_id, t.label) for t in state.tracks] == [(1, "Alice"), (2, "person 2")]


def test_the_panel_says_where_a_swap_or_split_would_be_refused(empty_scene, results_file):
    from ram_blender.panel import frame_hint

    session.import_results(bpy.context, str(results_file))
    rows = {t.track_id: t for t in bpy.context.scene.ram.tracks}
    one, five = rows[1], rows[5]
    assert (one.frame_first, one.frame_last, five.frame_first, five.frame_last) == (1, 40, 21, 40)
    assert frame_hint(one, five, 20)[:2] == (True, True)
    assert frame_hint(five, one, 5) == (True, False, "Frame 5: swap only (track 5 is 21-40)")
    assert frame_hint(one, five, 45) == (False, False, "Frame 45: nothing to swap or split here (track 1 is 1-40)")
    assert frame_hint(one, None, 20)[:2] == (False, True)
    with pytest.raises(RuntimeError, match="frame 45 is not inside track 1 or 5"):  # the edit agrees
        bpy.ops.ram.edit_tracks(op="swap", track_a=1, track_b=5, frame=45)


def test_other_track_is_a_choice_of_the_other_tracks(empty_scene, results_file):
    from ram_blender.state import _other_track_items

    session.import_results(bpy.context, str(results_file))
    state = bpy.context.scene.ram
    assert state.other_track == "2"  # the first other track after the import, never the active one
    state.active_track = 1
    assert [item[0] for item in _other_track_items(state, bpy.context)] == ["1", "5"]
    state.other_track = "5"
    state.active_track = 0
    assert state.other_track == "5"  # a choice stays on its track when another track becomes active
    state.active_track = 2
    assert state.other_track == "1"  # the chosen track became the active one: the first other instead
    state.active_track, state.other_track = 1, "5"
    assert bpy.ops.ram.edit_tracks(op="merge", track_a=2, track_b=int(state.other_track)) == {"FINISHED"}
    assert [t.track_id for t in state.tracks] == [1, 2]


class FakeLayout:
    """Records what a panel's draw lays out (a background Blender has no region to draw into)."""

    def __init__(self, log: list) -> None:
        self.log = log
        self.enabled = True

    def _child(self, *args, **kwargs) -> FakeLayout:
        return FakeLayout(self.log)

    row = column = grid_flow = _child

    def prop(self, owner, name: str, **kwargs) -> None:
        self.log.append(("prop", name, kwargs.get("text")))

    def label(self, text: str = "", icon: str = "NONE") -> None:
        self.log.append(("label", text, icon))

    def operator(self, idname: str, text: str = "", icon: str = "NONE"):
        props = SimpleNamespace()
        self.log.append(("operator", text or idname, self, props))
        return props

    def template_list(self, *args, **kwargs) -> None:
        pass


def drawn(draw, **attrs) -> list:
    log: list = []
    draw(SimpleNamespace(layout=FakeLayout(log), **attrs), bpy.context)
    return log


def test_the_tracks_panel_and_the_redo_panel_draw(empty_scene, results_file):
    from ram_blender.operators.edit_tracks import RAM_OT_edit_tracks
    from ram_blender.panel import RAM_PT_tracks

    session.import_results(bpy.context, str(results_file))
    state = bpy.context.scene.ram
    state.active_track, state.other_track = 0, "5"
    for frame, enabled, line in (
        (20, {"Swap": True, "Split": True}, ("Swap/split act from frame 20", "INFO")),
        (45, {"Swap": False, "Split": False}, ("Frame 45: nothing to swap or split here (track 1 is 1-40)", "ERROR")),
    ):
        bpy.context.scene.frame_set(frame)
        log = drawn(RAM_PT_tracks.draw)
        ops = {entry[1]: entry for entry in log if entry[0] == "operator"}
        assert {name: ops[name][2].enabled for name in enabled} == enabled
        assert ops["Merge"][2].enabled and ops["Swap"][3].track_b == 5 and ops["Swap"][3].frame == frame
        assert ("label", *line) in log and ("prop", "other_track", "Other track") in log
    swap = drawn(RAM_OT_edit_tracks.draw, op="swap", track_b=5)
    assert swap == [("label", "With track 5  person 5", "NONE"), ("prop", "frame", None)]
    assert drawn(RAM_OT_edit_tracks.draw, op="rename", track_b=1) == [("prop", "name", None)]


def test_a_scene_whose_results_file_moved_says_so_and_takes_its_new_place(empty_scene, results_file, tmp_path):
    """Before: 'results file not found: PATH' from every edit and export, and nothing in the panel to mend it."""
    from ram_blender.panel import RAM_PT_capture

    session.import_results(bpy.context, str(results_file))
    moved = tmp_path / "elsewhere" / results_file.name
    moved.parent.mkdir()
    results_file.rename(moved)
    with pytest.raises(RuntimeError, match=r"this scene's results file is missing; put it back, or set Results file"):
        bpy.ops.ram.rebuild()
    log = drawn(RAM_PT_capture.draw)
    assert ("label", "Results file missing: point this at it", "ERROR") in log and ("prop", "results_path", "") in log
    bpy.context.scene.ram.results_path = str(moved)
    assert bpy.ops.ram.rebuild() == {"FINISHED"}
    assert ("label", f"Results: {moved.name}", "FILE") in drawn(RAM_PT_capture.draw)
    with pytest.raises(RuntimeError, match=r"elsewhere: is a folder; choose a results file"):
        bpy.ops.ram.import_results(filepath=str(moved.parent))
    with pytest.raises(RuntimeError, match=r"gone\.ram\.npz: no such file"):
        bpy.ops.ram.import_results(filepath=str(tmp_path / "gone.ram.npz"))
