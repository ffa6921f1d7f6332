"""Retarget a captured person onto an armature in the scene (the artist's character)."""

from __future__ import annotations

import bpy

from .. import bone_maps
from ..retarget import retarget

_PRESETS = [
    ("auto", "Match Names", "Guess the bone map from the target's bone names"),
    ("mixamo", "Mixamo", "mixamorig: bone names"),
    ("ue5", "Unreal Mannequin", "Unreal Engine 5 mannequin bone names"),
]


class RAM_OT_retarget(bpy.types.Operator):
    """Key a target armature to follow a captured person (a new action named after the person)"""

    bl_idname = "ram.retarget"
    bl_label = "Retarget RAM Person"
    bl_options = {"REGISTER", "UNDO"}

    source: bpy.props.StringProperty(name="Person", description="The captured person's armature")
    target: bpy.props.StringProperty(name="Target", description="The armature to drive")
    preset: bpy.props.EnumProperty(name="Bone Map", items=_PRESETS, default="auto")

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        state = context.scene.ram
        if not self.source and state.tracks:
            row = state.tracks[min(state.active_track, len(state.tracks) - 1)]
            if row.object is not None:
                self.source = row.object.name
        return context.window_manager.invoke_props_dialog(self)

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        layout.prop_search(self, "source", bpy.data, "objects")
        layout.prop_search(self, "target", bpy.data, "objects")
        layout.prop(self, "preset")

    def execute(self, context: bpy.types.Context) -> set[str]:
        source = bpy.data.objects.get(self.source)
        target = bpy.data.objects.get(self.target)
        for label, obj in (("person", source), ("target", target)):
            if obj is None or obj.type != "ARMATURE":
                self.report({"ERROR"}, f"pick an armature as the {label}")
                return {"CANCELLED"}
        if source == target:
            self.report({"ERROR"}, "the target must be another armature than the person")
            return {"CANCELLED"}
        try:
            mapping = bone_maps.bone_map(self.preset, [b.name for b in target.data.bones])
            result = retarget(context.scene, source, target, mapping)
        except ValueError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        self.report(
            {"INFO"},
            f"Retargeted {source.name} onto {target.name}: {len(result.bone_map)} bones, "
            f"{len(result.frames)} frames, size ratio {result.ratio:.2f}",
        )
        return {"FINISHED"}
