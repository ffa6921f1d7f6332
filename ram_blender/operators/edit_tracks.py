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
        if self.op == "rename":
            return context.window_manager.invoke_props_dialog(self)
        if self.op == "delete":
            return context.window_manager.invoke_confirm(self, event)
        return self.execute(context)

    def draw(self, context: bpy.types.Context) -> None:
        names = {"rename": ("name",), "delete": (), "split": ("frame",)}.get(self.op, ("track_b", "frame"))
        for prop in names:
            self.layout.prop(self, prop)

    def execute(self, context: bpy.types.Context) -> set[str]:
        frame = self.frame - session.FRAME_OFFSET if self.frame >= 0 else session.video_frame(context)
        try:
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
