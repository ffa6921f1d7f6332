"""Retarget a captured person onto an armature in the scene (the artist's character)."""

from __future__ import annotations

import bpy

from ..retarget import retarget_preset

_PRESETS = [
    ("auto", "Match Names", "Guess the bone map from the target's bone names"),
    ("rigify", "Rigify (FK)", "A generated Rigify rig: its FK controls, IK/FK switches keyed to FK"),
    ("rigify_def", "Rigify (DEF bones)", "A generated Rigify rig: its FK controls and its deform bones keyed directly"),
    ("mixamo", "Mixamo", "mixamorig: bone names"),
    ("ue5", "Unreal Mannequin", "Unreal Engine 5 mannequin bone names"),
    ("custom", "Custom", "The target's own bone map (Retarget panel), or a preset file"),
]


class RAM_OT_retarget(bpy.types.Operator):
    """Key a target armature to follow a captured person (an action named after the person, on an NLA track)"""

    bl_idname = "ram.retarget"
    bl_label = "Retarget RAM Person"
    bl_options = {"REGISTER", "UNDO"}

    source: bpy.props.StringProperty(name="Person", description="The captured person's armature")
    target: bpy.props.StringProperty(name="Target", description="The armature to drive")
    preset: bpy.props.EnumProperty(name="Bone Map", items=_PRESETS, default="auto")
    pin_feet: bpy.props.BoolProperty(
        name="Pin Feet",
        description="Hold each ankle still while its foot is in contact (the capture's contact, else the feet's motion)",
        default=False,
    )
    preset_file: bpy.props.StringProperty(
        name="Preset File",
        description="Custom: a bone map preset (.json) instead of the target's own map",
        subtype="FILE_PATH",
    )

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
        if self.preset == "custom":
            layout.prop(self, "preset_file")
        layout.prop(self, "pin_feet")

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
            preset = bpy.path.abspath(self.preset_file) if self.preset == "custom" and self.preset_file else self.preset
            result = retarget_preset(context.scene, source, target, preset, pin_feet=self.pin_feet)
        except ValueError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        self.report(
            {"INFO"},
            f"Retargeted {source.name} onto {target.name}: {len(result.bone_map)} bones, "
            f"{len(result.frames)} frames, size ratio {result.ratio:.2f}, NLA track 'RAM {source.name}'",
        )
        active = target.animation_data.action
        if active is not None:
            self.report({"WARNING"}, f"{target.name}'s active action {active.name} plays over the retargeted track")
        return {"FINISHED"}
