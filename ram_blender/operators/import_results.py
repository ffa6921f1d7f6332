"""File > Import > RAM results (.npz)."""

from __future__ import annotations

from dataclasses import replace

import bpy
from bpy_extras.io_utils import ImportHelper

from .. import preferences, session
from ..importer.build import BODY_ITEMS


class RAM_OT_import_results(bpy.types.Operator, ImportHelper):
    """Build one animated armature per person from a RAM results file"""

    bl_idname = "ram.import_results"
    bl_label = "Import RAM Results"
    bl_options = {"REGISTER", "UNDO"}

    filename_ext = ".npz"
    filter_glob: bpy.props.StringProperty(default="*.npz", options={"HIDDEN"})
    with_mesh: bpy.props.BoolProperty(
        name="Body mesh",
        description="Add a skinned SMPL body per person (needs the SMPL model preference)",
        default=True,
    )
    body: bpy.props.EnumProperty(
        name="Body", description="The body each person gets without an SMPL model", items=BODY_ITEMS
    )
    foot_lock: bpy.props.BoolProperty(
        name="Foot lock",
        description="Hold each planted foot still through its contact with the floor (bends the legs; solved scenes)",
        default=False,
    )

    ground_plane: bpy.props.BoolProperty(
        name="Ground plane",
        description="Add a floor plane at z = 0 (a Cycles shadow catcher) when the capture has a solved scene",
        default=True,
    )
    scene_camera: bpy.props.BoolProperty(
        name="Use as Scene Camera",
        description="Render (F12) from the capture camera even if the scene has a camera of its own (which stays "
        "in the scene); off: only a scene without a camera gets it",
        default=False,
    )

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        self.body = preferences.settings(context).body
        self.ground_plane = preferences.settings(context).ground_plane
        return ImportHelper.invoke(self, context, event)

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            options = replace(
                session.build_options(context, self.with_mesh, self.body, self.ground_plane, self.scene_camera),
                foot_lock=self.foot_lock,
            )
            objects = session.import_results(context, self.filepath, options)
            context.scene.ram.with_mesh = self.with_mesh
        except session.DOMAIN_ERRORS as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Imported {len(objects)} people from {bpy.path.basename(self.filepath)}")
        for note in session.take_notes():
            self.report({"WARNING"}, note)
        return {"FINISHED"}
