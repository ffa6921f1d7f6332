"""Retargeting: put a captured person's motion on another armature (the artist's character).

Not a copy of local rotations. Rest poses are aligned first: for each mapped target bone, ``Q`` is the
smallest rotation taking its rest direction (its Y axis, head to tail) onto the source bone's rest
direction. Posed, the target bone's rotation (target armature space) is::

    W_t(f) = K @ P_s(f) @ P_s0.T @ K.T @ Q @ R_t0

with ``P_s(f)``/``P_s0`` the source bone's posed/rest armature-space rotations, ``K`` the source
armature's rotation seen from the target's and ``R_t0`` the target bone's rest rotation, so the target
bone's Y axis is the source bone's (same world direction, T-pose vs A-pose and bone rolls absorbed in
``Q @ R_t0``). Local pose rotations follow from the target's own hierarchy (unmapped bones stay at rest).

Root motion goes to the bone mapped to ``pelvis``: its head follows the source pelvis scaled by
``ratio``, the target's hip height over the source's (each above its lowest rest joint): height above
the floor scales, and horizontal travel scales from where the target stands.

Keys go into a new Action named after the person on the target (bulk ``foreach_set``); the source is
only read. The target's previous action stays in the file (kept with a fake user if nothing else used it).
"""

from __future__ import annotations

from dataclasses import dataclass

import bpy
import numpy as np
from mathutils import Matrix, Quaternion

from ram_core.contract.skeleton import matrix_to_quaternion

from .importer.keys import key_channels
from .importer.plan import continuous_quaternions

SOURCE_PROP = "ram_retarget_source"
TARGET_PROP = "ram_target"


@dataclass(frozen=True)
class RetargetResult:
    action: bpy.types.Action
    bone_map: dict[str, str]
    ratio: float
    frames: np.ndarray


def _rot(m: Matrix) -> np.ndarray:
    """The rotation of a 4x4 ``Matrix`` (scale removed) as ``(3, 3)``."""
    return np.array(m.to_3x3().normalized(), dtype=np.float64)


def _align(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation taking unit vector ``a`` onto unit vector ``b``."""
    v = np.cross(a, b)
    c = float(np.dot(a, b))
    if c < -1.0 + 1e-9:  # opposite: half a turn about any axis perpendicular to a
        axis = np.cross(a, [1.0, 0.0, 0.0])
        if np.linalg.norm(axis) < 1e-6:
            axis = np.cross(a, [0.0, 1.0, 0.0])
        axis /= np.linalg.norm(axis)
        return 2.0 * np.outer(axis, axis) - np.eye(3)
    k = np.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])
    return np.eye(3) + k + k @ k / (1.0 + c)


def _rest_height(obj: bpy.types.Object, bone: str) -> float:
    """Height (world) of ``bone``'s rest head above the lowest rest head or tail of ``obj``."""
    mw = obj.matrix_world
    z = [(mw @ b.head_local).z for b in obj.data.bones] + [(mw @ b.tail_local).z for b in obj.data.bones]
    return float((mw @ obj.data.bones[bone].head_local).z - min(z))


def _ordered(bones: bpy.types.ArmatureBones) -> list[bpy.types.Bone]:
    """Bones with every parent before its children."""
    out: list[bpy.types.Bone] = []
    todo = [b for b in bones if b.parent is None]
    while todo:
        b = todo.pop(0)
        out.append(b)
        todo.extend(b.children)
    return out


def _sample_source(
    scene: bpy.types.Scene, source: bpy.types.Object, joints: list[str], frames: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Posed armature-space rotations ``(T, J, 3, 3)`` of ``joints`` and the world pelvis head ``(T, 3)``."""
    previous = scene.frame_current
    rots = np.empty((len(frames), len(joints), 3, 3))
    pelvis = np.empty((len(frames), 3))
    root = source.pose.bones[joints[0]]
    try:
        for i, f in enumerate(frames):
            scene.frame_set(int(f))
            for j, name in enumerate(joints):
                rots[i, j] = _rot(source.pose.bones[name].matrix)
            pelvis[i] = source.matrix_world @ root.head
    finally:
        scene.frame_set(previous)
    return rots, pelvis


def _action_for(target: bpy.types.Object, name: str, source: bpy.types.Object) -> bpy.types.Action:
    """The action retargeted from ``source`` before (cleared), else a new one; assigned to ``target``."""
    anim = target.animation_data or target.animation_data_create()
    action = next(
        (a for a in bpy.data.actions if a.get(SOURCE_PROP) == source.name and a.get(TARGET_PROP) == target.name),
        None,
    )
    if action is None:
        action = bpy.data.actions.new(name)
        action[SOURCE_PROP] = source.name
        action[TARGET_PROP] = target.name
    previous = anim.action
    if previous is not None and previous != action and previous.users <= 1:
        previous.use_fake_user = True  # nothing the artist made is lost
    anim.action = action
    if hasattr(action, "layers"):
        for layer in list(action.layers):
            action.layers.remove(layer)
    else:
        action.fcurves.clear()
    return action


def retarget(
    scene: bpy.types.Scene,
    source: bpy.types.Object,
    target: bpy.types.Object,
    mapping: dict[str, str],
    frames: np.ndarray | None = None,
    floor_z: float = 0.0,
) -> RetargetResult:
    """Key ``target`` to follow ``source`` (a RAM armature) through ``mapping`` (SMPL joint -> target
    bone) at ``frames`` (default: the source action's range); ``floor_z`` is the source's floor."""
    mapping = {j: b for j, b in mapping.items() if j in source.pose.bones and b in target.data.bones}
    if "pelvis" not in mapping:
        raise ValueError("the bone map has no target bone for the pelvis: map the rig's hips bone")
    if frames is None:
        act = source.animation_data.action if source.animation_data else None
        if act is None:
            raise ValueError(f"{source.name} has no action to retarget")
        first, last = (int(round(v)) for v in act.frame_range)
        frames = np.arange(first, last + 1)
    frames = np.asarray(frames, dtype=np.int64)
    joints = ["pelvis", *[j for j in mapping if j != "pelvis"]]
    src_rot, src_pelvis = _sample_source(scene, source, joints, frames)

    k = _rot(target.matrix_world).T @ _rot(source.matrix_world)
    hips = mapping["pelvis"]
    ratio = _rest_height(target, hips) / max(_rest_height(source, "pelvis"), 1e-6)
    t_world = target.matrix_world
    t_floor = min(min((t_world @ b.head_local).z, (t_world @ b.tail_local).z) for b in target.data.bones)
    hips_rest = np.array(t_world @ target.data.bones[hips].head_local)
    desired = np.empty_like(src_pelvis)
    desired[:, :2] = hips_rest[:2] + ratio * (src_pelvis[:, :2] - src_pelvis[0, :2])
    desired[:, 2] = t_floor + ratio * (src_pelvis[:, 2] - floor_z)
    inv = np.array(t_world.inverted())
    desired_arm = desired @ inv[:3, :3].T + inv[:3, 3]

    by_target = {b: joints.index(j) for j, b in mapping.items()}
    n = len(frames)
    posed_rot: dict[str, np.ndarray] = {}
    posed_pos: dict[str, np.ndarray] = {}
    local: dict[str, np.ndarray] = {}
    root_loc = np.zeros((n, 3))
    for bone in _ordered(target.data.bones):
        rest = np.array(bone.matrix_local)
        if bone.parent is None:
            base_rot = np.broadcast_to(rest[:3, :3], (n, 3, 3))
            base_pos = np.broadcast_to(rest[:3, 3], (n, 3))
        else:
            rel = np.linalg.inv(np.array(bone.parent.matrix_local)) @ rest
            p_rot, p_pos = posed_rot[bone.parent.name], posed_pos[bone.parent.name]
            base_rot = p_rot @ rel[:3, :3]
            base_pos = p_pos + np.einsum("tij,j->ti", p_rot, rel[:3, 3])
        base_rot = base_rot / np.linalg.norm(base_rot, axis=1, keepdims=True)
        if bone.name in by_target:
            s = by_target[bone.name]
            src = source.data.bones[joints[s]]
            s0 = k @ _rot(src.matrix_local)
            r_t0 = rest[:3, :3] / np.linalg.norm(rest[:3, :3], axis=0)
            q = _align(r_t0[:, 1], s0[:, 1])
            world = np.einsum("ij,tjk->tik", k, src_rot[:, s]) @ (s0.T @ q @ r_t0)
            local[bone.name] = np.swapaxes(base_rot, 1, 2) @ world
            posed_rot[bone.name] = world
        else:
            posed_rot[bone.name] = base_rot
        if bone.name == hips:
            root_loc = np.einsum("tji,tj->ti", base_rot, desired_arm - base_pos)
            posed_pos[bone.name] = desired_arm
        else:
            posed_pos[bone.name] = np.ascontiguousarray(base_pos)

    action = _action_for(target, source.name, source)
    keyed = frames.astype(np.float64)
    for bone_name, rot in local.items():
        pb = target.pose.bones[bone_name]
        quats = continuous_quaternions(matrix_to_quaternion(rot))
        if pb.rotation_mode == "AXIS_ANGLE":
            pb.rotation_mode = "QUATERNION"
        if pb.rotation_mode == "QUATERNION":
            key_channels(action, target, f'pose.bones["{bone_name}"].rotation_quaternion', keyed, quats, bone_name)
        else:
            eulers = np.empty((n, 3))
            prev = Quaternion(quats[0]).to_euler(pb.rotation_mode)
            for i, qv in enumerate(quats):
                prev = Quaternion(qv).to_euler(pb.rotation_mode, prev)  # continuous with the last key
                eulers[i] = prev
            key_channels(action, target, f'pose.bones["{bone_name}"].rotation_euler', keyed, eulers, bone_name)
    key_channels(action, target, f'pose.bones["{hips}"].location', keyed, root_loc, hips)
    return RetargetResult(action=action, bone_map=mapping, ratio=ratio, frames=frames)
