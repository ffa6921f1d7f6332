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
        state = context.scene.ram
        objects = [t.object for t in state.tracks if t.object is not None]
        skipped = ""
        try:
            try:
                results = session.edited(context).results
                stem = Path(results.meta.video_path).stem or "capture"
            except FileNotFoundError as e:  # a .blend moved without its results: the armatures are enough for FBX, BVH
                results, stem = None, capture_stem(state)
                if "npz" in formats:
                    formats = tuple(f for f in formats if f != "npz")
                    skipped = f"; no AMASS .npz (made from the results file): {e}"
                if not formats:
                    raise
            written = export.export_people(
                objects, results, bpy.path.abspath(self.directory), stem, formats, self.bvh_y_up
            )
        except OSError as e:  # the folder: "PATH: reason", not "[Errno 13] ..." (or a traceback)
            self.report({"ERROR"}, one_line(e))
            return {"CANCELLED"}
        except (*session.DOMAIN_ERRORS, ValueError, RuntimeError) as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        self.report({"WARNING"} if skipped else {"INFO"}, f"Wrote {len(written)} files to {self.directory}{skipped}")
        return {"FINISHED"}


def capture_stem(state: bpy.types.PropertyGroup) -> str:
    """The video's stem without its results file: from the capture collection's name (``RAM clip``), else the
    results file's (``clip.ram.npz``)."""
    collection = state.collection.name if state.collection is not None else ""
    if collection.startswith("RAM "):
        return collection.removeprefix("RAM ")
    name = Path(bpy.path.abspath(state.results_path)).name
    return name.removesuffix(".ram.npz") if name.endswith(".ram.npz") else "capture"
