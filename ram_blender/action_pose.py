"""An armature's pose read straight from its action's keys: numpy forward kinematics over the rest bones.

No scene evaluation (``frame_set`` per frame is what makes a naive bake slow): each F-Curve is sampled
in numpy where its keys are LINEAR or CONSTANT without modifiers (what RAM writes), and with
``FCurve.evaluate`` per frame otherwise (hand-made Bezier keys, modifiers). Channels without a curve
keep the pose bone's current value. Constraints, drivers and NLA strips are not read: this is the
action's own pose, which for a RAM armature is the motion.
"""

from __future__ import annotations

import re

import bpy
import numpy as np

from .importer.keys import ACTION_PROP, action_fcurves

_PATH = re.compile(r'^pose\.bones\["((?:[^"\\]|\\.)*)"\]\.(location|rotation_quaternion|rotation_euler|scale)$')
_INTERP = {"CONSTANT": 0, "LINEAR": 1}


def sample_fcurve(fc: bpy.types.FCurve, frames: np.ndarray) -> np.ndarray:
    """``fc``'s value at each of ``frames`` ``(T,)``, as Blender evaluates it (held flat outside its keys)."""
    n = len(fc.keyframe_points)
    if n == 0:
        return np.array([fc.evaluate(float(f)) for f in frames])
    modes = np.empty(n, dtype=np.int32)
    fc.keyframe_points.foreach_get("interpolation", modes)
    simple = {_INTERP["CONSTANT"], _INTERP["LINEAR"]}
    if len(fc.modifiers) or not set(np.unique(modes).tolist()) <= simple or fc.extrapolation != "CONSTANT":
        return np.array([fc.evaluate(float(f)) for f in frames])
    co = np.empty(2 * n, dtype=np.float64)
    fc.keyframe_points.foreach_get("co", co)
    x, y = co[0::2], co[1::2]
    f = np.asarray(frames, dtype=np.float64)
    out = np.interp(f, x, y)
    k = np.clip(np.searchsorted(x, f, side="right") - 1, 0, n - 1)  # the key at or before each frame
    held = modes[k] == _INTERP["CONSTANT"]
    out[held] = y[k[held]]
    return out


def quaternion_matrices(q: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` of quaternions ``(..., 4)`` (w, x, y, z; normalised here)."""
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        -2,
    )


def euler_matrices(e: np.ndarray, order: str) -> np.ndarray:
    """Rotation matrices ``(T, 3, 3)`` of Euler angles ``(T, 3)`` (radians, x y z) in Blender's ``order``
    (``"XYZ"``: X applied first)."""
    out = np.broadcast_to(np.eye(3), (len(e), 3, 3)).copy()
    for axis in order:
        i = "XYZ".index(axis)
        c, s = np.cos(e[:, i]), np.sin(e[:, i])
        m = np.broadcast_to(np.eye(3), (len(e), 3, 3)).copy()
        a, b = [k for k in range(3) if k != i]
        m[:, a, a], m[:, b, b] = c, c
        sign = -1.0 if i != 1 else 1.0  # Y's sine sits the other way round
        m[:, a, b], m[:, b, a] = sign * s, -sign * s
        out = m @ out
    return out


def bones_in_order(bones: bpy.types.ArmatureBones) -> list[bpy.types.Bone]:
    """Bones with every parent before its children."""
    out: list[bpy.types.Bone] = []
    todo = [b for b in bones if b.parent is None]
    while todo:
        b = todo.pop(0)
        out.append(b)
        todo.extend(b.children)
    return out


def action_of(obj: bpy.types.ID) -> bpy.types.Action | None:
    """The action holding ``obj``'s motion: RAM's (``ram_action``, even when pushed to the NLA), else the active one."""
    action = obj.get(ACTION_PROP)
    if isinstance(action, bpy.types.Action):
        return action
    return obj.animation_data.action if obj.animation_data else None


def _channels(obj: bpy.types.Object, action: bpy.types.Action | None, frames: np.ndarray) -> dict[str, dict]:
    """Per pose bone, its ``location``/``rotation_*``/``scale`` sampled at ``frames``: ``(T, C)`` each."""
    t = len(frames)
    out: dict[str, dict] = {}
    curves: dict[tuple[str, str], dict[int, bpy.types.FCurve]] = {}
    for fc in action_fcurves(action) if action is not None else []:
        m = _PATH.match(fc.data_path)
        if m:
            curves.setdefault((m.group(1).replace('\\"', '"'), m.group(2)), {})[fc.array_index] = fc
    for pb in obj.pose.bones:
        rot_path = {"QUATERNION": "rotation_quaternion", "AXIS_ANGLE": "rotation_axis_angle"}.get(
            pb.rotation_mode, "rotation_euler"
        )
        chans = {}
        for prop in ("location", rot_path, "scale"):
            value = np.array(getattr(pb, prop), dtype=np.float64)
            keyed = curves.get((pb.name, prop), {})
            arr = np.broadcast_to(value, (t, len(value))).copy()
            for i, fc in keyed.items():
                if i < len(value):
                    arr[:, i] = sample_fcurve(fc, frames)
            chans[prop] = arr
        out[pb.name] = chans
    return out


def armature_pose(
    obj: bpy.types.Object, frames: np.ndarray, action: bpy.types.Action | None = None
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Posed armature-space rotations ``(T, 3, 3)`` and head positions ``(T, 3)`` of every bone of ``obj``
    at ``frames`` ``(T,)``, from ``action`` (default :func:`action_of`) and the rest bones."""
    if action is None:
        action = action_of(obj)
    chans = _channels(obj, action, np.asarray(frames, dtype=np.float64))
    rots: dict[str, np.ndarray] = {}
    heads: dict[str, np.ndarray] = {}
    for bone in bones_in_order(obj.data.bones):
        pb = obj.pose.bones[bone.name]
        c = chans[bone.name]
        if pb.rotation_mode == "QUATERNION":
            basis = quaternion_matrices(c["rotation_quaternion"])
        elif pb.rotation_mode == "AXIS_ANGLE":
            aa = c["rotation_axis_angle"]
            half = 0.5 * aa[:, 0]
            axis = aa[:, 1:] / np.maximum(np.linalg.norm(aa[:, 1:], axis=1, keepdims=True), 1e-12)
            basis = quaternion_matrices(np.concatenate([np.cos(half)[:, None], np.sin(half)[:, None] * axis], 1))
        else:
            basis = euler_matrices(c["rotation_euler"], pb.rotation_mode)
        basis = basis * c["scale"][:, None, :]
        rest = np.array(bone.matrix_local)
        if bone.parent is None:
            frame_rot = np.broadcast_to(rest[:3, :3], basis.shape)
            head = np.broadcast_to(rest[:3, 3], (len(basis), 3))
        else:
            rel = np.linalg.inv(np.array(bone.parent.matrix_local)) @ rest
            p_rot = rots[bone.parent.name]
            frame_rot = p_rot @ rel[:3, :3]
            head = heads[bone.parent.name] + np.einsum("tij,j->ti", p_rot, rel[:3, 3])
        heads[bone.name] = head + np.einsum("tij,tj->ti", frame_rot, c["location"])
        rots[bone.name] = frame_rot @ basis
    return rots, heads
