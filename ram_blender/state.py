"""Per-scene state stored in the .blend: the results file, the edit log and the track list."""

from __future__ import annotations

import bpy


def _select_track(self: RAM_SceneState, context: bpy.types.Context) -> None:
    if not 0 <= self.active_track < len(self.tracks):
        return
    obj = self.tracks[self.active_track].object
    if obj is None or obj.name not in context.view_layer.objects:
        return
    for other in context.view_layer.objects.selected:
        if other is not None:  # an object just removed (a re-import) may linger here until the next update
            other.select_set(False)
    obj.select_set(True)
    context.view_layer.objects.active = obj


def _row_changed(self: RAM_TrackItem, context: bpy.types.Context) -> None:
    from . import session  # session imports bpy operators' helpers; state must register without it

    session.track_row_changed(context, self)


class RAM_TrackItem(bpy.types.PropertyGroup):
    """One row of the track list (a display copy; the truth is the results file plus the edit log, and a
    name or colour typed here is recorded there as an edit)."""

    track_id: bpy.props.IntProperty(name="ID")
    label: bpy.props.StringProperty(name="Name", update=_row_changed)
    color: bpy.props.FloatVectorProperty(name="Colour", subtype="COLOR", size=3, min=0.0, max=1.0, update=_row_changed)
    frame_first: bpy.props.IntProperty(name="First frame")
    frame_last: bpy.props.IntProperty(name="Last frame")
    predicted_share: bpy.props.FloatProperty(name="Predicted", subtype="PERCENTAGE", min=0.0, max=100.0)
    object: bpy.props.PointerProperty(name="Armature", type=bpy.types.Object)


# Blender keeps only pointers to a dynamic enum's strings: the items must outlive the callback.
_OTHER_ITEMS: list[tuple[str, str, str]] = []


def _other_track_items(self: RAM_SceneState, context: bpy.types.Context) -> list[tuple[str, str, str]]:
    """The tracks a swap or merge can pair with the active one (every other track, by id and name)."""
    active = self.tracks[self.active_track].track_id if 0 <= self.active_track < len(self.tracks) else None
    items = [
        (str(t.track_id), f"{t.track_id}  {t.label}", f"Frames {t.frame_first}-{t.frame_last}")
        for t in self.tracks
        if t.track_id != active
    ]
    _OTHER_ITEMS[:] = items or [("", "(no other track)", "")]
    return _OTHER_ITEMS


class RAM_SceneState(bpy.types.PropertyGroup):
    # results_path is added by register_state(): its options depend on the Blender version.
    edit_log: bpy.props.StringProperty(name="Edit log", description="JSON list of track edits", default="[]")
    collection: bpy.props.PointerProperty(type=bpy.types.Collection)
    with_mesh: bpy.props.BoolProperty(
        name="Body mesh",
        description="The import asked for SMPL body meshes (edits and rebuilds keep to it)",
        default=True,
    )
    foot_lock: bpy.props.BoolProperty(
        name="Foot lock",
        description="The import asked to hold planted feet still (edits and rebuilds keep to it)",
        default=False,
    )
    tracks: bpy.props.CollectionProperty(type=RAM_TrackItem)
    active_track: bpy.props.IntProperty(name="Active track", update=_select_track)
    other_track: bpy.props.EnumProperty(
        name="Other track", description="Second track for swap and merge", items=_other_track_items
    )
    capture_running: bpy.props.BoolProperty(name="Capture running")
    capture_progress: bpy.props.FloatProperty(name="Progress", subtype="PERCENTAGE", min=0.0, max=100.0)
    capture_status: bpy.props.StringProperty(name="Status")


@bpy.app.handlers.persistent
def _clear_capture_flags(_file: str) -> None:
    """A capture never survives its Blender session: a file saved mid-capture must not look busy when opened."""
    for scene in bpy.data.scenes:
        if scene.ram.capture_running:
            scene.ram.capture_running = False
            scene.ram.capture_status = ""


def register_state() -> None:
    path = {"name": "Results file", "subtype": "FILE_PATH"}
    # Blender 4.5+ stores "//" (relative to the .blend) paths only when asked to; older ones have no such
    # option and print the ValueError even when it is caught, so ask by version, not by trying.
    if bpy.app.version >= (4, 5, 0):
        RAM_SceneState.results_path = bpy.props.StringProperty(**path, options={"PATH_SUPPORTS_BLEND_RELATIVE"})
    else:
        RAM_SceneState.results_path = bpy.props.StringProperty(**path)
    bpy.types.Scene.ram = bpy.props.PointerProperty(type=RAM_SceneState)
    bpy.app.handlers.load_post.append(_clear_capture_flags)


def unregister_state() -> None:
    if _clear_capture_flags in bpy.app.handlers.load_post:
        bpy.app.handlers.load_post.remove(_clear_capture_flags)
    del bpy.types.Scene.ram
    del RAM_SceneState.results_path
