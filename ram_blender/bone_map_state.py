"""A character's own bone map, stored on its armature object: one row per SMPL joint naming the bone
that follows it (the Custom map the Retarget panel edits, saves to a preset file and loads back)."""

from __future__ import annotations

import bpy

from ram_core.contract.skeleton import JOINT_NAMES


class RAM_BoneMapItem(bpy.types.PropertyGroup):
    """One SMPL joint and the target bone that follows it (empty: not driven)."""

    joint: bpy.props.StringProperty(name="Joint")
    bone: bpy.props.StringProperty(name="Bone", description="The target bone that follows this joint")


def stored_map(obj: bpy.types.Object) -> dict[str, str]:
    """The map stored on ``obj`` (joints without a bone left out)."""
    return {row.joint: row.bone for row in obj.ram_bone_map if row.bone}


def store_map(obj: bpy.types.Object, mapping: dict[str, str]) -> None:
    """Replace ``obj``'s stored map with ``mapping``: a row for every SMPL joint, in SMPL order."""
    rows = obj.ram_bone_map
    rows.clear()
    for joint in JOINT_NAMES:
        row = rows.add()
        row.joint = joint
        row.bone = mapping.get(joint, "")


def register_state() -> None:
    bpy.types.Object.ram_bone_map = bpy.props.CollectionProperty(type=RAM_BoneMapItem)
    bpy.types.Object.ram_bone_map_index = bpy.props.IntProperty(name="Active joint")


def unregister_state() -> None:
    del bpy.types.Object.ram_bone_map_index
    del bpy.types.Object.ram_bone_map
