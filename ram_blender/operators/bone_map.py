"""The Custom bone map of the active armature: fill it from a preset or by names, save it to a preset
file, load one back. The rows are edited in the Retarget panel's list."""

from __future__ import annotations

import bpy
from bpy_extras.io_utils import ExportHelper, ImportHelper

from .. import bone_map_state, bone_maps

_FILL = [
    ("auto", "Match Names", "Guess each joint's bone from the bone names"),
    ("mixamo", "Mixamo", "mixamorig: bone names"),
    ("ue5", "Unreal Mannequin", "Unreal Engine 5 mannequin bone names"),
    ("rigify", "Rigify (FK)", "A generated Rigify rig's FK controls"),
]


def _armature(context: bpy.types.Context):  # the active armature, or None (operators poll on it)
    obj = context.active_object
    return obj if obj is not None and obj.type == "ARMATURE" else None


class RAM_OT_bone_map_fill(bpy.types.Operator):
    """Fill the active armature's bone map (one row per SMPL joint) from a preset or its bone names"""

    bl_idname = "ram.bone_map_fill"
    bl_label = "Fill Bone Map"
    bl_options = {"REGISTER", "UNDO"}

    preset: bpy.props.EnumProperty(name="From", items=_FILL, default="auto")

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return _armature(context) is not None

    def execute(self, context: bpy.types.Context) -> set[str]:
        obj = _armature(context)
        mapping = bone_maps.bone_map(self.preset, [b.name for b in obj.data.bones])
        bone_map_state.store_map(obj, mapping)
        self.report({"INFO"}, f"{len(mapping)} of 24 joints mapped on {obj.name}")
        return {"FINISHED"}


class RAM_OT_bone_map_save(bpy.types.Operator, ExportHelper):
    """Save the active armature's bone map as a preset file (JSON) to reuse on other files or headless"""

    bl_idname = "ram.bone_map_save"
    bl_label = "Save Bone Map Preset"
    filename_ext = ".json"
    filter_glob: bpy.props.StringProperty(default="*.json", options={"HIDDEN"})

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return _armature(context) is not None

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            path = bone_maps.save_preset(self.filepath, bone_map_state.stored_map(_armature(context)))
        except OSError as e:
            self.report({"ERROR"}, f"could not write {self.filepath}: {e.strerror or e}")
            return {"CANCELLED"}
        self.report({"INFO"}, f"Saved {path.name}")
        return {"FINISHED"}


class RAM_OT_bone_map_load(bpy.types.Operator, ImportHelper):
    """Load a bone map preset file into the active armature's bone map"""

    bl_idname = "ram.bone_map_load"
    bl_label = "Load Bone Map Preset"
    bl_options = {"REGISTER", "UNDO"}
    filter_glob: bpy.props.StringProperty(default="*.json", options={"HIDDEN"})

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return _armature(context) is not None

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            mapping = bone_maps.load_preset(self.filepath)
        except ValueError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        obj = _armature(context)
        missing = sorted(b for b in mapping.values() if b not in obj.data.bones)
        bone_map_state.store_map(obj, mapping)
        if missing:
            self.report({"WARNING"}, f"{obj.name} has no bones {', '.join(missing[:4])}: those joints are not driven")
        return {"FINISHED"}
