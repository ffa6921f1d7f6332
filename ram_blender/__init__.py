"""RAM motion capture for Blender: registration only (see the modules for what they do).

bpy and the bpy-facing modules are imported inside :func:`register`, so the add-on's numpy-only
modules (``importer.plan``, ``importer.proxy``, ``edits``, ``capture_job``) import without Blender.
"""

from __future__ import annotations

_cli_handle = None


def classes() -> tuple[type, ...]:
    """Every class the add-on registers, in registration order."""
    from . import bone_map_state, state
    from .operators.bone_map import RAM_OT_bone_map_fill, RAM_OT_bone_map_load, RAM_OT_bone_map_save
    from .operators.capture import RAM_OT_capture_video
    from .operators.edit_tracks import RAM_OT_edit_tracks, RAM_OT_rebuild, RAM_OT_undo_edit
    from .operators.export import RAM_OT_export_people
    from .operators.import_results import RAM_OT_import_results
    from .operators.retarget import RAM_OT_retarget
    from .operators.setup import RAM_OT_convert_smpl, RAM_OT_setup_worker_env
    from .panel import RAM_PT_capture, RAM_PT_tracks, RAM_UL_tracks
    from .preferences import RAM_AddonPreferences
    from .retarget_panel import RAM_PT_retarget, RAM_UL_bone_map

    return (
        RAM_AddonPreferences,
        state.RAM_TrackItem,
        state.RAM_SceneState,
        bone_map_state.RAM_BoneMapItem,
        RAM_OT_capture_video,
        RAM_OT_import_results,
        RAM_OT_edit_tracks,
        RAM_OT_undo_edit,
        RAM_OT_rebuild,
        RAM_OT_export_people,
        RAM_OT_retarget,
        RAM_OT_bone_map_fill,
        RAM_OT_bone_map_save,
        RAM_OT_bone_map_load,
        RAM_OT_setup_worker_env,
        RAM_OT_convert_smpl,
        RAM_UL_tracks,
        RAM_PT_capture,
        RAM_PT_tracks,
        RAM_UL_bone_map,
        RAM_PT_retarget,
    )


def _menu_import(self, context) -> None:
    from .operators.capture import RAM_OT_capture_video
    from .operators.import_results import RAM_OT_import_results

    self.layout.operator(RAM_OT_capture_video.bl_idname, text="Capture from Video (RAM)")
    self.layout.operator(RAM_OT_import_results.bl_idname, text="RAM Results (.npz)")


def register() -> None:
    import bpy

    from . import bone_map_state, cli, state

    global _cli_handle
    for cls in classes():
        bpy.utils.register_class(cls)
    state.register_state()
    bone_map_state.register_state()
    bpy.types.TOPBAR_MT_file_import.append(_menu_import)
    _cli_handle = bpy.utils.register_cli_command(cli.COMMAND, cli.main)


def unregister() -> None:
    import bpy

    from . import bone_map_state, state

    global _cli_handle
    bpy.utils.unregister_cli_command(_cli_handle)
    _cli_handle = None
    bpy.types.TOPBAR_MT_file_import.remove(_menu_import)
    bone_map_state.unregister_state()
    state.unregister_state()
    for cls in reversed(classes()):
        bpy.utils.unregister_class(cls)
