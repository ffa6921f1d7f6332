"""A scene's capture: import a results file, apply the edit log, rebuild the armatures.

One capture per scene: its raw results file (never modified) plus the edit log in ``scene.ram``.
Operators call these functions; each raises a domain error with a clear message.
"""

from __future__ import annotations

import logging
from pathlib import Path

import bpy
import numpy as np

from ram_core.contract.colors import track_color
from ram_core.contract.results import Results, ResultsFormatError, load_results
from ram_core.contract.smpl_model import SmplModelError, load_smpl_model

from . import edits
from .importer.build import (
    BuildOptions,
    build_setting,
    name_survivors,
    ram_made,
    remove_collection,
    restore_names,
    set_aside,
)
from .importer.carry import carry_people, edited_name, edited_note, keep_edited_actions
from .importer.hand_over import hand_over
from .importer.plan import FRAME_OFFSET, frame_timeline, video_frame_at
from .importer.update import update_results
from .preferences import settings

log = logging.getLogger(__name__)

DOMAIN_ERRORS = (ResultsFormatError, SmplModelError, edits.EditError, FileNotFoundError)

_cache: dict[tuple[str, float], Results] = {}


def _raw_results(path: str, importing: bool = False) -> Results:
    """The raw results at ``path``, read once per file version. Missing, the error says what to do: a
    file to import is named as any other missing file; the scene's own capture (the .blend moved without
    it) can be pointed at again in the Capture panel."""
    p = Path(bpy.path.abspath(path))
    if p.is_dir():
        raise FileNotFoundError(f"{p}: is a folder; choose a results file (.ram.npz)")
    if not p.is_file():
        if importing:
            raise FileNotFoundError(f"{p}: no such file")
        raise FileNotFoundError(
            f"{p}: this scene's results file is missing; put it back, or set Results file in Sidebar > RAM > "
            "Capture to where it is now"
        )
    key = (str(p), p.stat().st_mtime)
    if key not in _cache:
        _cache.clear()
        _cache[key] = load_results(p)
    return _cache[key]


def build_options(
    context: bpy.types.Context,
    with_mesh: bool = True,
    body: str = "",
    ground_plane: bool | None = None,
    scene_camera: bool = False,
) -> BuildOptions:
    """Options from the preferences and the scene's import: the SMPL body when an SMPL model (.npz) is set
    and ``with_mesh``, else ``body`` (``"open"`` or ``"proxy"``; empty: the preference's); the foot lock;
    the ground plane (None: the preference's); whether the capture camera replaces the scene's camera."""
    s = settings(context)
    model = load_smpl_model(s.smpl_model) if (with_mesh and s.smpl_model) else None
    return BuildOptions(
        smpl_model=model,
        body=body or s.body,
        foot_lock=context.scene.ram.foot_lock,
        ground_plane=s.ground_plane if ground_plane is None else ground_plane,
        scene_camera=scene_camera,
    )


def import_results(
    context: bpy.types.Context, path: str, options: BuildOptions | None = None
) -> list[bpy.types.Object]:
    """Make ``path`` the scene's capture (fresh edit log) and build its armatures.

    On any failure the scene keeps its previous capture: collection, results path and edit log.
    """
    state = context.scene.ram
    _raw_results(path, importing=True)  # fail before touching the scene
    options = options or build_options(context)
    previous = (state.results_path, state.edit_log)
    blend_saved = bool(bpy.data.filepath)
    state.results_path = bpy.path.relpath(str(Path(path).resolve())) if blend_saved else str(Path(path).resolve())
    state.edit_log = "[]"
    try:
        objects = _build_fresh(context, options)
    except BaseException:
        state.results_path, state.edit_log = previous
        raise
    state.body = options.body  # rebuilds keep to it
    state.foot_lock = options.foot_lock  # rebuilds keep to it
    state.ground_plane = options.ground_plane  # rebuilds keep to it
    return objects


def edited(context: bpy.types.Context) -> edits.EditedResults:
    state = context.scene.ram
    return edits.apply_edits(_raw_results(state.results_path), edits.log_from_json(state.edit_log))


def rebuild(
    context: bpy.types.Context,
    options: BuildOptions | None = None,
    force: bool = False,
    previous: Results | None = None,
) -> list[bpy.types.Object]:
    """Bring the scene's armatures up to the edited results, in place (see ``importer.update``).

    Only armatures whose tracks changed are re-keyed (every one with ``force``), in their own objects and
    actions, so what the artist added to them stays. ``previous``: the edited results the armatures
    were keyed from (default: the current ones). A scene without a capture collection gets a fresh one.
    """
    state = context.scene.ram
    if state.collection is None:
        return _build_fresh(context, options)
    result = edited(context)
    options = options or build_options(context, state.with_mesh, state.body, state.ground_plane)
    previous = previous if previous is not None else result.results
    objects = update_results(result.results, state.collection, options, result.names, result.colors, force, previous)
    _refresh_tracks(state, result, objects)
    return objects


def _build_fresh(context: bpy.types.Context, options: BuildOptions | None = None) -> list[bpy.types.Object]:
    """Replace the scene's RAM collection with a new one built from the edited results.

    The new collection is built beside the old one, which is removed only once the build succeeded;
    a build that fails leaves the old one exactly as it was. A person in both is a copy of their old
    armature re-keyed in place, so what the artist put on it comes along (``importer.carry``); the
    artist's objects in the old collection, and whatever pointed at its armatures and camera, move to the
    new one (``importer.hand_over``). RAM's actions whose keys the artist edited are kept, renamed, and
    said in one line (:func:`take_notes`).
    """
    scene = context.scene
    state = scene.ram
    _notes.clear()
    result = edited(context)
    options = options or build_options(context, state.with_mesh, state.body, state.ground_plane)
    old = state.collection
    settings_before = _scene_settings(scene)
    renamed = set_aside(old) if old is not None else []
    name = Path(result.results.meta.video_path).stem or "capture"
    collection = bpy.data.collections.new(f"RAM {name}")
    scene.collection.children.link(collection)
    copies: dict[int, bpy.types.ID] = {}
    try:
        if old is not None:
            people = {t.track_id for t in result.results.tracks if len(t)}
            copies = carry_people(old, collection, people, {block.as_pointer(): n for block, n in renamed})
        build_setting(result.results, collection, scene, options)
        # A copy whose motion is built from exactly what it was built from before is not re-keyed: it
        # keeps every key, the artist's edits of RAM's included (the same capture imported again).
        objects = update_results(result.results, collection, options, result.names, result.colors)
    except BaseException:
        remove_collection(collection)
        restore_names(renamed)
        _restore_scene_settings(scene, settings_before)
        raise
    if old is not None:
        kept = keep_edited_actions(old, copies)
        hand_over(old, collection)  # the artist's objects and what pointed at RAM's move to the new capture
        remove_collection(old)
        originals = dict(renamed)
        name_survivors([(block, n) for block, n in renamed if block not in kept])
        for action in kept:
            action.name = edited_name(originals.get(action, action.name))
        if kept:
            _notes.append(edited_note(kept))
            log.warning(_notes[-1])
    elif scene.camera is not None and not ram_made(scene.camera):
        _notes.append(camera_note(scene.camera, collection))
    state.collection = collection
    _refresh_tracks(state, result, objects)
    return objects


def camera_note(camera: bpy.types.Object, collection: bpy.types.Collection) -> str:
    """What a first import into a scene that has its own camera says: that camera stays the scene's, and how
    to render from the capture's instead (F12 then lines up with the video)."""
    ram_camera = next((o.name for o in collection.objects if o.type == "CAMERA" and ram_made(o)), "RAM camera")
    return (
        f"The scene camera stays '{camera.name}'; for renders that line up with the video, make '{ram_camera}' "
        "the scene camera (Use as Scene Camera in the import, or select it and press Ctrl+Numpad 0)"
    )


# One-line notes of the last import for the operator that ran it to report (see take_notes).
_notes: list[str] = []


def take_notes() -> list[str]:
    """The notes the last import left (RAM's actions with the artist's edits kept, say), once."""
    out = list(_notes)
    _notes.clear()
    return out


_SCENE_SETTINGS = (
    "camera",
    "frame_start",
    "frame_end",
    "render.fps",
    "render.fps_base",
    "render.resolution_x",
    "render.resolution_y",
)


def _scene_settings(scene: bpy.types.Scene) -> dict[str, object]:
    """What building a capture changes on the scene itself (restored if the build fails)."""
    return {key: scene.path_resolve(key) for key in _SCENE_SETTINGS}


def _restore_scene_settings(scene: bpy.types.Scene, values: dict[str, object]) -> None:
    for key, value in values.items():
        owner, _, attr = key.rpartition(".")
        setattr(scene.path_resolve(owner) if owner else scene, attr, value)


# Set while the track list is being written, so its rows' update callbacks do not record edits.
_refreshing = False


def _refresh_tracks(state: bpy.types.PropertyGroup, result: edits.EditedResults, objects: list) -> None:
    """Rewrite the track list from the edited results; rows are updated in place when the tracks are the
    same ones (a rename or colour typed into a row must not delete that row under its own callback)."""
    global _refreshing
    by_id = {obj["ram_track_id"]: obj for obj in objects}
    tracks = result.results.tracks
    _refreshing = True
    try:
        if [item.track_id for item in state.tracks] != [t.track_id for t in tracks]:
            state.tracks.clear()
            for t in tracks:
                state.tracks.add().track_id = t.track_id
        for item, t in zip(state.tracks, tracks):
            label = result.names.get(t.track_id, f"person {t.track_id}")
            color = result.colors.get(t.track_id, track_color(t.track_id))
            if item.label != label:
                item.label = label
            if tuple(round(c, 6) for c in item.color) != tuple(round(c, 6) for c in color):
                item.color = color
            item.frame_first = int(t.frame[0]) + FRAME_OFFSET
            item.frame_last = int(t.frame[-1]) + FRAME_OFFSET
            item.predicted_share = 100.0 * float(np.mean(t.predicted))
            item.object = by_id.get(t.track_id)
    finally:
        _refreshing = False
    state.active_track = min(state.active_track, max(len(state.tracks) - 1, 0))


def add_edit(context: bpy.types.Context, edit: edits.Edit) -> list[bpy.types.Object]:
    """Append ``edit`` to the log (checked by applying it first) and bring the armatures up to it."""
    state = context.scene.ram
    previous = edited(context).results
    log_ = edits.append(edits.log_from_json(state.edit_log), edit)
    edits.apply_edits(_raw_results(state.results_path), log_)
    state.edit_log = edits.log_to_json(log_)
    return rebuild(context, previous=previous)


def track_row_changed(context: bpy.types.Context, item: bpy.types.PropertyGroup) -> None:
    """A name or colour typed into the track list becomes a rename or colour edit (so it persists)."""
    if _refreshing or not context.scene.ram.results_path:
        return
    current = edited(context)
    tid = item.track_id
    try:
        if item.label and item.label != current.names.get(tid, f"person {tid}"):
            add_edit(context, edits.Edit("rename", tid, name=item.label))
        color = tuple(round(c, 6) for c in item.color)
        if color != tuple(round(c, 6) for c in current.colors.get(tid, track_color(tid))):
            add_edit(context, edits.Edit("color", tid, color=tuple(item.color)))
    except DOMAIN_ERRORS as e:
        log.warning("track %d: %s", tid, e)


def undo_edit(context: bpy.types.Context) -> edits.Edit:
    """Drop the last edit from the log and rebuild; returns the edit dropped."""
    state = context.scene.ram
    log_ = edits.log_from_json(state.edit_log)
    if not log_:
        raise edits.EditError("the edit log is empty")
    previous = edited(context).results
    state.edit_log = edits.log_to_json(log_[:-1])
    rebuild(context, previous=previous)
    return log_[-1]


def video_frame(context: bpy.types.Context, blender_frame: int | None = None) -> int:
    """Blender frame ``blender_frame`` (None: the current one) as a video frame index (what edits store): the
    first video frame keyed at or after it, which for a variable-frame-rate capture is not a fixed offset."""
    frame = context.scene.frame_current if blender_frame is None else blender_frame
    path = context.scene.ram.results_path
    return video_frame_at(frame, frame_timeline(_raw_results(path).meta) if path else None)
