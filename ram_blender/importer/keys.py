"""Bulk keyframes for both Action API shapes (Blender 4.2 ``action.fcurves``; 4.4+ slotted actions)."""

from __future__ import annotations

import bpy
import numpy as np

# FCurve keyframe interpolation enum values as ``foreach_set`` expects them. No BEZIER: ``set_keys`` leaves
# the handles uncomputed, which only these two never read.
INTERPOLATION = {"CONSTANT": 0, "LINEAR": 1}


def ensure_action(obj: bpy.types.Object, name: str) -> bpy.types.Action:
    """A fresh action assigned to ``obj`` (the previous one, if any, is left to Blender's GC)."""
    action = bpy.data.actions.new(name)
    if obj.animation_data is None:
        obj.animation_data_create()
    obj.animation_data.action = action
    return action


def new_fcurve(action: bpy.types.Action, obj: bpy.types.ID, data_path: str, index: int, group: str) -> bpy.types.FCurve:
    """An F-Curve on ``action`` animating ``obj``'s ``data_path[index]``, whichever API Blender has."""
    if hasattr(action, "fcurve_ensure_for_datablock"):
        return action.fcurve_ensure_for_datablock(obj, data_path, index=index, group_name=group)
    return action.fcurves.new(data_path, index=index, action_group=group)


def action_fcurves(action: bpy.types.Action) -> list[bpy.types.FCurve]:
    """Every F-Curve of ``action``: its legacy list or all channelbags of all layers' strips."""
    if hasattr(action, "layers") and len(action.layers):
        return [
            fc for layer in action.layers for strip in layer.strips for bag in strip.channelbags for fc in bag.fcurves
        ]
    return list(action.fcurves)


def set_keys(fcurve: bpy.types.FCurve, frames: np.ndarray, values: np.ndarray, interpolation: str) -> None:
    """Write ``len(frames)`` keys at once: ``frames`` ``(T,)`` strictly increasing Blender frames, ``values`` ``(T,)``.

    No ``fcurve.update()``: the keys arrive sorted and LINEAR/CONSTANT keys never use their Bezier
    handles (Blender's graph editor recalculates handles when a user changes the interpolation);
    skipping it halves the import time.
    """
    n = len(frames)
    points = fcurve.keyframe_points
    points.add(n)
    co = np.empty((n, 2), dtype=np.float32)
    co[:, 0] = frames
    co[:, 1] = values
    points.foreach_set("co", co.ravel())
    points.foreach_set("interpolation", np.full(n, INTERPOLATION[interpolation], dtype=np.int32))


def key_channels(
    action: bpy.types.Action,
    obj: bpy.types.Object,
    data_path: str,
    frames: np.ndarray,
    values: np.ndarray,
    group: str,
    interpolation: str = "LINEAR",
) -> None:
    """Key every component of ``values`` ``(T, C)`` on ``data_path[0..C-1]`` at ``frames`` ``(T,)``."""
    for i in range(values.shape[1]):
        set_keys(new_fcurve(action, obj, data_path, i, group), frames, values[:, i], interpolation)
