"""Export the scene's people (FBX, BVH, AMASS .npz) into a folder."""

from __future__ import annotations

from pathlib import Path

import bpy

from ram_core.contract.errors import one_line

from .. import export, session


class RAM_OT_export_people(bpy.types.Operator):
    """Write one file per person and format into a folder"""

    bl_idname = "ram.export_people"
    bl_label = "Export RAM People"

    directory: bpy.props.StringProperty(subtype="DIR_PATH")
    fbx: bpy.props.BoolProperty(name="FBX", default=True)
    bvh: bpy.props.BoolProperty(name="BVH", default=True)
    npz: bpy.props.BoolProperty(name="AMASS .npz", default=True)
    bvh_y_up: bpy.props.BoolProperty(
        name="BVH Y up", description="Y up as most tools expect (off: Blender's Z up)", default=True
    )

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return len(context.scene.ram.tracks) > 0

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context: bpy.types.Context) -> set[str]:
        formats = tuple(f for f in export.FORMATS if getattr(self, f))
        objects = [t.object for t in context.scene.ram.tracks if t.object is not None]
        try:
            results = session.edited(context).results
            stem = Path(results.meta.video_path).stem or "capture"
            written = export.export_people(
                objects, results, bpy.path.abspath(self.directory), stem, formats, self.bvh_y_up
            )
        except OSError as e:  # the folder: "PATH: reason", not "[Errno 13] ..." (or a traceback)
            self.report({"ERROR"}, one_line(e))
            return {"CANCELLED"}
        except (*session.DOMAIN_ERRORS, ValueError, RuntimeError) as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Wrote {len(written)} files to {self.directory}")
        return {"FINISHED"}
