"""Bulk keyframes for both Action API shapes (Blender 4.2 ``action.fcurves``; 4.4+ slotted actions)."""

from __future__ import annotations

import hashlib

import bpy
import numpy as np

# FCurve keyframe interpolation enum values as ``foreach_set`` expects them. No BEZIER: ``set_keys`` leaves
# the handles uncomputed, which only these two never read.
INTERPOLATION = {"CONSTANT": 0, "LINEAR": 1}
# Keyframe types as ``foreach_set`` expects them (the enum's values, the same in 4.2 and 5.x). The keys of
# predicted frames (the fit's motion where the person was not seen) are breakdowns: the Dope Sheet and the
# timeline draw them smaller and in another colour, so the artist sees which poses were not observed.
KEY_TYPE = {"KEYFRAME": 0, "BREAKDOWN": 2}
PREDICTED_KEY_TYPE = "BREAKDOWN"


# The custom property by which an object knows the action RAM keys its motion in (an ID pointer), so a
# rebuild finds it even after the artist assigned another action or pushed RAM's into the NLA.
ACTION_PROP = "ram_action"
# The same for the action holding the object's own channels (visibility, the predicted flag), kept out
# of the bone action so that action can drive another rig through the NLA without hiding it.
CHANNELS_PROP = "ram_channels"
CHANNELS_STRIP = "RAM channels"
# What RAM keyed in one of its actions: the F-curves it wrote, one ``data_path[index]`` a line, and a digest
# of their keys as it wrote them. Those curves are RAM's; every other curve in the action is the artist's.
# Keys that no longer match the digest were edited by the artist (:func:`keys_edited`).
KEYED_CURVES_PROP = "ram_keyed_curves"
KEYED_DIGEST_PROP = "ram_keyed_digest"


def ensure_action(obj: bpy.types.Object, name: str) -> bpy.types.Action:
    """RAM's action for ``obj``: the one it already has (:data:`ACTION_PROP`), else a new one, assigned."""
    action = obj.get(ACTION_PROP)
    if isinstance(action, bpy.types.Action):
        return action
    action = bpy.data.actions.new(name)
    if obj.animation_data is None:
        obj.animation_data_create()
    obj.animation_data.action = action
    obj[ACTION_PROP] = action
    return action


def channels_action(obj: bpy.types.Object, name: str) -> bpy.types.Action:
    """RAM's object-channel action for ``obj`` (made, unassigned, if it has none)."""
    action = obj.get(CHANNELS_PROP)
    if isinstance(action, bpy.types.Action):
        return action
    action = bpy.data.actions.new(name)
    obj[CHANNELS_PROP] = action
    return action


def place_channels_strip(obj: bpy.types.Object, action: bpy.types.Action) -> None:
    """Play ``action`` as the only strip of an NLA track (its old strip replaced, so it spans the keys now
    in it); HOLD keeps its first and last values outside. The active action plays on top, untouched."""
    anim = obj.animation_data or obj.animation_data_create()
    home = None
    for track in anim.nla_tracks:
        for strip in list(track.strips):
            if strip.action == action:
                track.strips.remove(strip)
                home = track
    if home is None:
        home = anim.nla_tracks.new()
        home.name = CHANNELS_STRIP
    strip = home.strips.new(CHANNELS_STRIP, int(action.frame_range[0]), action)
    strip.extrapolation = "HOLD"


def new_fcurve(action: bpy.types.Action, obj: bpy.types.ID, data_path: str, index: int, group: str) -> bpy.types.FCurve:
    """``action``'s F-Curve animating ``obj``'s ``data_path[index]`` (made if missing), whichever API Blender has.

    Blender 4.4+ makes curves only for the data-block the action is assigned to: an action the artist
    moved off (into the NLA) is assigned back for the call.
    """
    if hasattr(action, "fcurve_ensure_for_datablock"):
        anim = obj.animation_data or obj.animation_data_create()
        if anim.action == action:
            return action.fcurve_ensure_for_datablock(obj, data_path, index=index, group_name=group)
        previous = anim.action
        anim.action = action
        try:
            return action.fcurve_ensure_for_datablock(obj, data_path, index=index, group_name=group)
        finally:
            anim.action = previous
    found = action.fcurves.find(data_path, index=index)
    return found or action.fcurves.new(data_path, index=index, action_group=group)


def action_fcurves(action: bpy.types.Action) -> list[bpy.types.FCurve]:
    """Every F-Curve of ``action``: its legacy list or all channelbags of all layers' strips."""
    if hasattr(action, "layers") and len(action.layers):
        return [
            fc for layer in action.layers for strip in layer.strips for bag in strip.channelbags for fc in bag.fcurves
        ]
    return list(action.fcurves)


def set_keys(
    fcurve: bpy.types.FCurve,
    frames: np.ndarray,
    values: np.ndarray,
    interpolation: str,
    hold: np.ndarray | None = None,
    predicted: np.ndarray | None = None,
) -> None:
    """Replace ``fcurve``'s keys with ``len(frames)`` keys at once: ``frames`` ``(T,)`` strictly increasing
    Blender frames, ``values`` ``(T,)``; keys where ``hold`` ``(T,)`` is True are CONSTANT (the value holds
    to the next key); keys where ``predicted`` ``(T,)`` is True are of type :data:`PREDICTED_KEY_TYPE`.
    The curve's modifiers and other settings stay.

    No ``fcurve.update()``: the keys arrive sorted and LINEAR/CONSTANT keys never use their Bezier
    handles (Blender's graph editor recalculates handles when a user changes the interpolation);
    skipping it halves the import time.
    """
    n = len(frames)
    points = fcurve.keyframe_points
    points.clear()
    points.add(n)
    co = np.empty((n, 2), dtype=np.float32)
    co[:, 0] = frames
    co[:, 1] = values
    points.foreach_set("co", co.ravel())
    modes = np.full(n, INTERPOLATION[interpolation], dtype=np.int32)
    if hold is not None:
        modes[hold] = INTERPOLATION["CONSTANT"]
    points.foreach_set("interpolation", modes)
    if predicted is not None and np.any(predicted):
        kinds = np.where(predicted, KEY_TYPE[PREDICTED_KEY_TYPE], KEY_TYPE["KEYFRAME"]).astype(np.int32)
        points.foreach_set("type", kinds)


def key_channels(
    action: bpy.types.Action,
    obj: bpy.types.Object,
    data_path: str,
    frames: np.ndarray,
    values: np.ndarray,
    group: str,
    interpolation: str = "LINEAR",
    hold: np.ndarray | None = None,
    predicted: np.ndarray | None = None,
) -> list[bpy.types.FCurve]:
    """Key every component of ``values`` ``(T, C)`` on ``data_path[0..C-1]`` at ``frames`` ``(T,)``
    (replacing the keys there; ``hold`` and ``predicted`` as in :func:`set_keys`); returns the curves."""
    curves = []
    for i in range(values.shape[1]):
        fcurve = new_fcurve(action, obj, data_path, i, group)
        set_keys(fcurve, frames, values[:, i], interpolation, hold, predicted)
        curves.append(fcurve)
    return curves


def _curve_name(fcurve: bpy.types.FCurve) -> str:
    return f"{fcurve.data_path}[{fcurve.array_index}]"


def _keys_digest(curves: dict[str, bpy.types.FCurve | None]) -> str:
    """A digest of the named curves' keys (frame, value, interpolation); a missing curve counts too."""
    h = hashlib.sha1()
    for name in sorted(curves):
        h.update(name.encode())
        fcurve = curves[name]
        n = -1 if fcurve is None else len(fcurve.keyframe_points)
        h.update(np.int64(n).tobytes())
        if fcurve is not None and n > 0:
            co = np.empty(2 * n, dtype=np.float32)
            modes = np.empty(n, dtype=np.int32)
            fcurve.keyframe_points.foreach_get("co", co)
            fcurve.keyframe_points.foreach_get("interpolation", modes)
            h.update(co.tobytes())
            h.update(modes.tobytes())
    return h.hexdigest()


def mark_keyed(action: bpy.types.Action, fcurves: list[bpy.types.FCurve]) -> None:
    """Record on ``action`` that RAM just wrote ``fcurves`` (:data:`KEYED_CURVES_PROP`) and their keys'
    digest, before anything of the artist's is put back on them."""
    curves = {_curve_name(fc): fc for fc in fcurves}
    action[KEYED_CURVES_PROP] = "\n".join(sorted(curves))
    action[KEYED_DIGEST_PROP] = _keys_digest(curves)


def keys_edited(action: bpy.types.Action, rekeyed: bpy.types.Action | None = None) -> bool:
    """Whether the keys RAM last wrote in ``action`` were changed since (a key moved, added, deleted or
    given another interpolation; a curve deleted).

    An action keyed by an older RAM has no record (:func:`has_record`): it counts as unchanged only if its
    curves hold exactly the keys RAM just wrote in its copy ``rekeyed`` (the same capture imported again),
    else as edited, since nothing tells that it was not.
    """
    names, digest = action.get(KEYED_CURVES_PROP), action.get(KEYED_DIGEST_PROP)
    if not has_record(action):
        if rekeyed is None or not has_record(rekeyed):
            return True
        names, digest = rekeyed[KEYED_CURVES_PROP], rekeyed[KEYED_DIGEST_PROP]
    present = {_curve_name(fc): fc for fc in action_fcurves(action)}
    return _keys_digest({n: present.get(n) for n in names.split("\n") if n}) != digest


def same_keys(action: bpy.types.Action, other: bpy.types.Action) -> bool:
    """Whether ``other`` holds the same keys as ``action`` on the curves RAM writes in ``action`` (all its
    curves if it has no record): ``other`` plays what ``action`` played, edits of RAM's keys included."""
    if has_record(action):
        names = [n for n in action[KEYED_CURVES_PROP].split("\n") if n]
    else:
        names = [_curve_name(fc) for fc in action_fcurves(action)]
    mine = {_curve_name(fc): fc for fc in action_fcurves(action)}
    theirs = {_curve_name(fc): fc for fc in action_fcurves(other)}
    return _keys_digest({n: mine.get(n) for n in names}) == _keys_digest({n: theirs.get(n) for n in names})


def has_record(action: bpy.types.Action) -> bool:
    """Whether ``action`` records the curves RAM wrote in it (:func:`mark_keyed`; not before this version)."""
    return isinstance(action.get(KEYED_CURVES_PROP), str) and isinstance(action.get(KEYED_DIGEST_PROP), str)
