"""Per-scene state stored in the .blend: the results file, the edit log and the track list."""

from __future__ import annotations

import bpy

from .importer.build import BODY_ITEMS


def _select_track(self: RAM_SceneState, context: bpy.types.Context) -> None:
    _keep_other_track(self)
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


def _keep_other_track(self: RAM_SceneState) -> None:
    """Keep *Other track* on a track that is not the active one (the first other track if it is, or is
    gone). Runs whenever the active track is set, which the track list's refresh also does."""
    others = [t.track_id for i, t in enumerate(self.tracks) if i != self.active_track]
    if self.get("other_track", NO_OTHER) not in others:
        self["other_track"] = others[0] if others else NO_OTHER  # the stored number: no items callback


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
_OTHER_ITEMS: list[tuple[str, str, str, int]] = []
NO_OTHER = 0  # the placeholder item's value when there is no other track (also the unset default)


def _other_track_items(self: RAM_SceneState, context: bpy.types.Context) -> list[tuple[str, str, str, int]]:
    """The tracks a swap or merge can pair with the active one (every other track, by id and name).

    Each item's number is its track id, which Blender stores: a choice stays on its track when the list
    changes (with positions as numbers, picking another active track would silently shift it)."""
    active = self.tracks[self.active_track].track_id if 0 <= self.active_track < len(self.tracks) else None
    items = [
        (str(t.track_id), f"{t.track_id}  {t.label}", f"Frames {t.frame_first}-{t.frame_last}", t.track_id)
        for t in self.tracks
        if t.track_id != active
    ]
    _OTHER_ITEMS[:] = items or [("NONE", "(no other track)", "", NO_OTHER)]
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
    body: bpy.props.EnumProperty(
        name="Body",
        description="The body the import gave each person without an SMPL model (edits and rebuilds keep to it)",
        items=BODY_ITEMS,
        default="open",
    )
    foot_lock: bpy.props.BoolProperty(
        name="Foot lock",
        description="The import asked to hold planted feet still (edits and rebuilds keep to it)",
        default=False,
    )
    ground_plane: bpy.props.BoolProperty(
        name="Ground plane",
        description="The import asked for a ground plane under a solved scene (a fresh rebuild keeps to it)",
        default=True,
    )
    tracks: bpy.props.CollectionProperty(type=RAM_TrackItem)
    active_track: bpy.props.IntProperty(name="Active track", update=_select_track)
    other_track: bpy.props.EnumProperty(
        name="Other track", description="Second track for swap and merge", items=_other_track_items
    )
    capture_running: bpy.props.BoolProperty(name="Capture running")
    capture_progress: bpy.props.FloatProperty(name="Progress", subtype="PERCENTAGE", min=0.0, max=100.0)
    capture_status: bpy.props.StringProperty(name="Status")


# The scenes (by session_uid) a capture runs in now: the truth behind ``capture_running``, which a file
# load or an undo past the capture's start brings back as it was stored.
CAPTURING: set[int] = set()


@bpy.app.handlers.persistent
def sync_capture_flags(*_args: object) -> None:
    """Set every scene's ``capture_running`` to whether a capture runs in it now (a capture never
    survives its Blender session, and undo must not leave the Capture button greyed out)."""
    for scene in bpy.data.scenes:
        running = scene.session_uid in CAPTURING
        if scene.ram.capture_running != running:
            scene.ram.capture_running = running
        if not running and scene.ram.capture_status:
            scene.ram.capture_status = ""


_HANDLERS = (bpy.app.handlers.load_post, bpy.app.handlers.undo_post, bpy.app.handlers.redo_post)


def register_state() -> None:
    path = {"name": "Results file", "subtype": "FILE_PATH"}
    # Blender 4.5+ stores "//" (relative to the .blend) paths only when asked to; older ones have no such
    # option and print the ValueError even when it is caught, so ask by version, not by trying.
    if bpy.app.version >= (4, 5, 0):
        RAM_SceneState.results_path = bpy.props.StringProperty(**path, options={"PATH_SUPPORTS_BLEND_RELATIVE"})
    else:
        RAM_SceneState.results_path = bpy.props.StringProperty(**path)
    bpy.types.Scene.ram = bpy.props.PointerProperty(type=RAM_SceneState)
    for handlers in _HANDLERS:
        handlers.append(sync_capture_flags)


def unregister_state() -> None:
    for handlers in _HANDLERS:
        if sync_capture_flags in handlers:
            handlers.remove(sync_capture_flags)
    del bpy.types.Scene.ram
    del RAM_SceneState.results_path
