"""The RAM tab in the 3D view's sidebar: capture, the track list and the edit buttons. Panels only draw."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import bpy


class FrameHint(NamedTuple):
    """What a swap and a split would do at the current frame, and the line that says so."""

    swap: bool
    split: bool
    text: str


def _inside(track: Any, frame: int) -> bool:
    """Whether ``track`` (a track-list row, Blender frames) has frames before ``frame`` and at or after it."""
    return bool(track.frame_first < frame <= track.frame_last)


def frame_hint(active: Any, other: Any | None, frame: int) -> FrameHint:
    """Swap needs one of the two tracks, split the active one, to have frames on both sides of ``frame``
    (Blender frames, as the rows show them); the edit refuses otherwise, so the buttons say it first."""
    split = _inside(active, frame)
    swap = other is not None and (split or _inside(other, frame))
    span = f"track {active.track_id} is {active.frame_first}-{active.frame_last}"
    if split:
        text = f"Swap/split act from frame {frame}"
    elif swap:
        text = f"Frame {frame}: swap only ({span})"
    else:
        text = f"Frame {frame}: nothing to swap or split here ({span})"
    return FrameHint(swap, split, text)


class RAM_UL_tracks(bpy.types.UIList):
    """One row per track: colour, id, name, frame range and share of predicted frames."""

    def draw_item(self, context, layout, data, item, icon, active_data, active_property, index=0, flt_flag=0):
        row = layout.row(align=True)
        swatch = row.row()
        swatch.ui_units_x = 1
        swatch.prop(item, "color", text="")
        row.label(text=f"{item.track_id}")
        row.prop(item, "label", text="", emboss=False)
        row.label(text=f"{item.frame_first}-{item.frame_last}")
        row.label(text=f"{item.predicted_share:.0f}% pred")


class RAM_PT_capture(bpy.types.Panel):
    bl_idname = "RAM_PT_capture"
    bl_label = "Capture"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "RAM"

    def draw(self, context: bpy.types.Context) -> None:
        state = context.scene.ram
        col = self.layout.column()
        col.operator("ram.capture_video", icon="FILE_MOVIE")
        col.operator("ram.import_results", icon="IMPORT")
        if state.capture_running:
            col.progress(factor=state.capture_progress / 100.0, text=state.capture_status or "Capturing")
        if state.results_path and Path(bpy.path.abspath(state.results_path)).is_file():
            col.label(text=f"Results: {bpy.path.basename(state.results_path)}", icon="FILE")
        elif state.results_path:  # the .blend moved without its capture: edits and exports need it
            col.alert = True
            col.label(text="Results file missing: point this at it", icon="ERROR")
            col.prop(state, "results_path", text="")


class RAM_PT_tracks(bpy.types.Panel):
    bl_idname = "RAM_PT_tracks"
    bl_label = "Tracks"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "RAM"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return bool(context.scene.ram.results_path)

    def draw(self, context: bpy.types.Context) -> None:
        state = context.scene.ram
        layout = self.layout
        layout.template_list("RAM_UL_tracks", "", state, "tracks", state, "active_track", rows=4)
        if not state.tracks:
            return
        active = state.tracks[min(state.active_track, len(state.tracks) - 1)]
        other = next(
            (t for t in state.tracks if str(t.track_id) == state.other_track and t.track_id != active.track_id), None
        )
        layout.prop(state, "other_track", text="Other track")
        frame = context.scene.frame_current
        hint = frame_hint(active, other, frame)

        grid = layout.grid_flow(columns=2, align=True)
        for op_name, icon, enabled in (
            ("swap", "UV_SYNC_SELECT", hint.swap),
            ("merge", "AUTOMERGE_ON", other is not None),
            ("split", "SCULPTMODE_HLT", hint.split),
            ("delete", "TRASH", True),
        ):
            cell = grid.row()
            cell.enabled = enabled
            op = cell.operator("ram.edit_tracks", text=op_name.title(), icon=icon)
            op.op = op_name
            op.track_a = active.track_id
            op.track_b = other.track_id if other is not None else active.track_id
            op.frame = frame
        row = layout.row(align=True)
        op = row.operator("ram.edit_tracks", text="Rename", icon="SORTALPHA")
        op.op = "rename"
        op.track_a = active.track_id
        op.name = active.label
        layout.label(text=hint.text, icon="INFO" if hint.split else "ERROR")
        row = layout.row(align=True)
        row.operator("ram.undo_edit", icon="LOOP_BACK")
        row.operator("ram.rebuild", icon="FILE_REFRESH", text="")
        layout.operator("ram.export_people", icon="EXPORT")
        layout.operator("ram.retarget", icon="ARMATURE_DATA")
