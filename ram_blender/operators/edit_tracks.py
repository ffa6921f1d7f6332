"""Track edits (swap, merge, split, delete, rename), undo of the last edit, rebuild."""

from __future__ import annotations

import bpy

from .. import edits, session

_DESCRIPTIONS = {
    "swap": "Exchange the two tracks from the current frame on (fixes an ID swap)",
    "merge": "Move the other track's frames into this one",
    "split": "This track's frames from the current frame on become a new track",
    "delete": "Remove the track",
    "rename": "Give the track a name",
}


class RAM_OT_edit_tracks(bpy.types.Operator):
    """Edit the capture's tracks; the raw results stay untouched, the edit is appended to the log"""

    bl_idname = "ram.edit_tracks"
    bl_label = "Edit Tracks"
    bl_options = {"REGISTER", "UNDO"}

    op: bpy.props.EnumProperty(name="Edit", items=[(k, k.title(), d) for k, d in _DESCRIPTIONS.items()])
    track_a: bpy.props.IntProperty(name="Track")
    track_b: bpy.props.IntProperty(name="Other track")
    frame: bpy.props.IntProperty(name="From frame", description="Blender frame (the current frame if -1)", default=-1)
    name: bpy.props.StringProperty(name="Name")

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return bool(context.scene.ram.results_path) and len(context.scene.ram.tracks) > 0

    @classmethod
    def description(cls, context: bpy.types.Context, properties: bpy.types.OperatorProperties) -> str:
        return _DESCRIPTIONS[properties.op]

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        wm = context.window_manager
        if self.op == "rename":
            return wm.invoke_props_dialog(self, title=f"Rename track {self.track_a}", confirm_text="Rename")
        if self.op == "delete":
            name = next((t.label for t in context.scene.ram.tracks if t.track_id == self.track_a), "")
            return wm.invoke_confirm(
                self,
                event,
                title=f"Delete track {self.track_a} ({name})?",
                message="Its armature is removed (Ctrl+Z or Undo Last Track Edit brings it back)",
                confirm_text="Delete",
                icon="WARNING",
            )
        return self.execute(context)

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        if self.op in ("swap", "merge"):  # the other track is chosen in the panel's list, shown here by name
            label = next((t.label for t in context.scene.ram.tracks if t.track_id == self.track_b), "")
            layout.label(text=f"With track {self.track_b}  {label}")
        for prop in {"rename": ("name",), "swap": ("frame",), "split": ("frame",)}.get(self.op, ()):
            layout.prop(self, prop)

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            frame = session.video_frame(context, self.frame if self.frame >= 0 else None)
            edit = edits.Edit(
                self.op,
                self.track_a,
                b=self.track_b if self.op in ("swap", "merge") else None,
                frame=frame if self.op in ("swap", "split") else None,
                name=self.name if self.op == "rename" else None,
            )
            session.add_edit(context, edit)
        except session.DOMAIN_ERRORS as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        return {"FINISHED"}


class RAM_OT_undo_edit(bpy.types.Operator):
    """Remove the last track edit from the log and rebuild"""

    bl_idname = "ram.undo_edit"
    bl_label = "Undo Last Track Edit"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return context.scene.ram.edit_log not in ("", "[]")

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            edit = session.undo_edit(context)
        except session.DOMAIN_ERRORS as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Removed {edit.op} of track {edit.a}")
        return {"FINISHED"}


class RAM_OT_rebuild(bpy.types.Operator):
    """Re-key every armature from the results file and the edit log (what you added to them stays)"""

    bl_idname = "ram.rebuild"
    bl_label = "Rebuild Armatures"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return bool(context.scene.ram.results_path)

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            session.rebuild(context, force=True)
        except session.DOMAIN_ERRORS as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        return {"FINISHED"}
