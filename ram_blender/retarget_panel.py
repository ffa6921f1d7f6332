"""The Retarget panel in the RAM tab: the active armature's own bone map (Custom) as a list. Panels only draw."""

from __future__ import annotations

import bpy


class RAM_UL_bone_map(bpy.types.UIList):
    """One row per SMPL joint: the joint and the target bone that follows it."""

    def draw_item(self, context, layout, data, item, icon, active_data, active_property, index=0, flt_flag=0):
        row = layout.row(align=True)
        row.label(text=item.joint)
        row.prop_search(item, "bone", data.data, "bones", text="")


class RAM_PT_retarget(bpy.types.Panel):
    bl_idname = "RAM_PT_retarget"
    bl_label = "Retarget"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "RAM"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        layout.operator("ram.retarget", icon="ARMATURE_DATA")
        obj = context.active_object
        if obj is None or obj.type != "ARMATURE":
            layout.label(text="Select a character's armature to edit its bone map")
            return
        layout.label(text=f"Bone map of {obj.name} (Custom)")
        row = layout.row(align=True)
        row.operator_menu_enum("ram.bone_map_fill", "preset", text="Fill", icon="AUTO")
        row.operator("ram.bone_map_load", text="", icon="FILEBROWSER")
        row.operator("ram.bone_map_save", text="", icon="FILE_TICK")
        if len(obj.ram_bone_map):
            layout.template_list("RAM_UL_bone_map", "", obj, "ram_bone_map", obj, "ram_bone_map_index", rows=8)
