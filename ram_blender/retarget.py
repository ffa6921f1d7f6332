"""Retargeting: put a captured person's motion on another armature (the artist's character).

Not a copy of local rotations. Rest poses are aligned first, in armature space where both characters
face the same way: for each mapped target bone, ``Q`` is the smallest rotation taking its rest direction
(its Y axis, head to tail) onto the source bone's rest direction. Posed, the target bone's rotation
(target armature space) is::

    W_t(f) = K @ P_s(f) @ P_s0.T @ Q @ R_t0

with ``P_s(f)``/``P_s0`` the source bone's posed/rest armature-space rotations (read from its action's
keys by :mod:`action_pose`, no scene evaluation), ``K`` the source armature's rotation seen from the
target's and ``R_t0`` the target bone's rest rotation, so the target bone's Y axis points where the
source bone's does in the world (T-pose vs A-pose and bone rolls absorbed in ``Q @ R_t0``). Local
rotations are taken against each bone's effective parent: its nearest mapped ancestor, or the one a
preset names (Rigify's FK controls hang under constraint-driven helper bones).

The hips: the point between the target's thighs follows the point between the source's, scaled by
``ratio`` (the target's hip height over the source's, each above its lowest rest bone) about each
floor, travel measured from where the target stands; then the whole body moves vertically so the foot
that carries it (in contact, else the lower) lifts as far above where it stands at rest as the person's,
scaled (:mod:`foot_height`: legs of other proportions would otherwise float or sink a few centimetres).
The bone that carries it (the pelvis's, or a ``root_motion`` bone such as Rigify's torso) is keyed with
a location; so is any mapped bone its chain does not carry (a bone parented to helpers at rest).

Keys go into an action named after the person, played by an NLA track on the target (bulk
``foreach_set``); the source is only read; the target's active action is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import bpy
import numpy as np
from mathutils import Matrix, Quaternion

from ram_core.contract.skeleton import JOINT_NAMES, PARENTS, matrix_to_quaternion, two_bone_reach

from . import bone_map_state, bone_maps, foot_height, foot_pin
from .action_pose import action_of, armature_pose
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


def _hip_anchor(obj: bpy.types.Object, hips: str, left: str | None, right: str | None) -> np.ndarray:
    """The rest point ``(3,)`` (armature space) standing for the hip joints: midway between the two thigh
    heads, or the hips bone's head when either thigh is not known."""
    bones = obj.data.bones
    if left in bones and right in bones:
        return 0.5 * (np.array(bones[left].head_local) + np.array(bones[right].head_local))
    return np.array(bones[hips].head_local)


def _rest_floor(obj: bpy.types.Object) -> float:
    """The lowest world height of ``obj``'s rest bones (heads and tails): where it stands."""
    mw = obj.matrix_world
    return min(min((mw @ b.head_local).z, (mw @ b.tail_local).z) for b in obj.data.bones)


def _effective_parents(
    target: bpy.types.Object, mapped: set[str], parents: dict[str, str | None]
) -> dict[str, str | None]:
    """For each mapped bone, the mapped bone it moves with: ``parents``' entry if it has one, else its
    nearest mapped ancestor (bones between stay at rest), None for none."""
    out: dict[str, str | None] = {}
    for name in mapped:
        if name in parents:
            out[name] = parents[name] if parents[name] in mapped else None
            continue
        up = target.data.bones[name].parent
        while up is not None and up.name not in mapped:
            up = up.parent
        out[name] = up.name if up is not None else None
    return out


def _source_range(source: bpy.types.Object) -> np.ndarray:
    action = action_of(source)
    if action is None:
        raise ValueError(f"{source.name} has no action to retarget")
    first, last = (int(round(v)) for v in action.frame_range)
    return np.arange(first, last + 1)


def _contact(
    source: bpy.types.Object, frames: np.ndarray, curves: dict[str, np.ndarray] | None, fps: float
) -> dict[str, np.ndarray]:
    """Per side, foot contact ``(T,)`` at ``frames``: the capture's contact ``curves``, else from the feet's motion."""
    if curves is not None:
        return curves
    _rots, heads = armature_pose(source, frames)
    mw = np.array(source.matrix_world)
    out = {}
    for side in ("left", "right"):
        ankle = heads[f"{side}_ankle"] @ mw[:3, :3].T + mw[:3, 3]
        out[side] = foot_pin.contact_from_motion(ankle, fps)
    return out


def _euler_keys(quats: np.ndarray, mode: str) -> np.ndarray:
    """Euler angles ``(T, 3)`` in ``mode`` for quaternions ``(T, 4)``, each continuous with the last."""
    eulers = np.empty((len(quats), 3))
    prev = Quaternion(quats[0]).to_euler(mode)
    for i, qv in enumerate(quats):
        prev = Quaternion(qv).to_euler(mode, prev)
        eulers[i] = prev
    return eulers


def _topological(eff: dict[str, str | None]) -> list[str]:
    """The bones of ``eff`` with each one's effective parent before it."""
    out: list[str] = []
    seen: set[str] = set()

    def visit(name: str, depth: int = 0) -> None:
        if name in seen or depth > len(eff):
            return
        parent = eff[name]
        if parent is not None:
            visit(parent, depth + 1)
        seen.add(name)
        out.append(name)

    for name in eff:
        visit(name)
    return out


def joints_of(mapping: dict[str, str]) -> set[str]:
    """The SMPL joints ``mapping`` drives (not its ``root_motion`` entry)."""
    return {j for j in mapping if j != bone_maps.ROOT_MOTION}


def _unit(m: np.ndarray) -> np.ndarray:
    """``m`` ``(..., 3, 3)`` with unit columns (scale removed)."""
    return m / np.linalg.norm(m, axis=-2, keepdims=True)


def solve(
    source: bpy.types.Object,
    target: bpy.types.Object,
    mapping: dict[str, str],
    frames: np.ndarray,
    floor_z: float = 0.0,
    parents: dict[str, str | None] | None = None,
    pin: dict[str, np.ndarray] | None = None,
    also: dict[str, str] | None = None,
    contact: np.ndarray | None = None,
    fps: float = 30.0,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], float]:
    """The target's pose that follows ``source``: local rotations ``(T, 3, 3)`` per driven target bone,
    locations ``(T, 3)`` for the bones that must move (the root-motion bone, bones detached from their
    chain) and the size ratio. ``mapping`` is already limited to bones both have and holds ``"pelvis"``;
    ``parents`` as in :func:`retarget`; ``pin``: per side (``"left"``/``"right"``) contact ``(T,)``
    during which that ankle is held (:mod:`foot_pin`); ``also``: a second target bone per joint that
    follows it too (Rigify's deform bones); ``contact``: the capture's foot contact ``(T, 2)`` (left,
    right; 0 to 1) if it has any, and ``fps`` the frame rate, for choosing the foot that carries the body
    (:mod:`foot_height`)."""
    also = {j: b for j, b in (also or {}).items() if j in joints_of(mapping)}
    rots, heads = armature_pose(source, frames)
    n = len(frames)
    s_world = np.array(source.matrix_world)
    t_world = np.array(target.matrix_world)
    k = _rot(target.matrix_world).T @ _rot(source.matrix_world)
    joints = {j: b for j, b in mapping.items() if j != bone_maps.ROOT_MOTION}
    hips = joints["pelvis"]
    root = mapping.get(bone_maps.ROOT_MOTION, hips)
    rest = {name: np.array(target.data.bones[name].matrix_local) for name in {*joints.values(), *also.values(), root}}

    # Where the hips go: the point between the thighs, scaled about each character's floor.
    s_hips = ("left_hip", "right_hip")
    thighs = all(j in joints for j in s_hips)
    s_anchor = 0.5 * (heads["left_hip"] + heads["right_hip"]) if thighs else heads["pelvis"]
    s_anchor_w = s_anchor @ s_world[:3, :3].T + s_world[:3, 3]
    s_rest = _hip_anchor(source, "pelvis", *(s_hips if thighs else (None, None)))
    t_rest = _hip_anchor(target, hips, *((joints[j] for j in s_hips) if thighs else (None, None)))
    s_rest_z = (s_world @ np.append(s_rest, 1.0))[2]
    t_rest_w = (t_world @ np.append(t_rest, 1.0))[:3]
    t_floor, s_floor = _rest_floor(target), _rest_floor(source)
    ratio = float((t_rest_w[2] - t_floor) / max(s_rest_z - s_floor, 1e-6))
    desired = np.empty((n, 3))
    desired[:, :2] = t_rest_w[:2] + ratio * (s_anchor_w[:, :2] - s_anchor_w[0, :2])
    desired[:, 2] = t_floor + ratio * (s_anchor_w[:, 2] - floor_z)
    inv = np.linalg.inv(t_world)
    desired_w = desired
    desired = desired @ inv[:3, :3].T + inv[:3, 3]

    # Each mapped bone's armature-space rotation: the source bone's turn since rest (seen from the
    # target), applied to the target's rest swung onto the source bone's rest direction. The swing is
    # taken in armature space, where both characters face the same way, so it never holds a heading.
    turn: dict[str, np.ndarray] = {}
    world: dict[str, np.ndarray] = {}
    for joint, bone in [*joints.items(), *([("pelvis", root)] if root not in joints.values() else [])]:
        s0 = _rot(source.data.bones[joint].matrix_local)
        r_t0 = _unit(rest[bone][:3, :3])
        turn[bone] = np.einsum("ij,tjk->tik", k, _unit(rots[joint])) @ (s0.T @ k.T)
        # a root-motion bone of its own (Rigify's torso) turns with the pelvis, its rest unswung
        q = _align(r_t0[:, 1], s0[:, 1]) if bone in joints.values() else np.eye(3)
        world[bone] = turn[bone] @ (k @ q @ r_t0)
    for joint, bone in also.items():
        s0 = _rot(source.data.bones[joint].matrix_local)
        r_t0 = _unit(rest[bone][:3, :3])
        world[bone] = turn[joints[joint]] @ (k @ _align(r_t0[:, 1], s0[:, 1]) @ r_t0)

    # Where each head belongs: carried rigidly down the SMPL chain from the root (what places the bones
    # nothing carries), then the whole body shifted so the hip anchor, as the rig carries it, lands
    # where it should.
    head: dict[str, np.ndarray] = {root: np.broadcast_to(rest[root][:3, 3], (n, 3))}
    for j, joint in enumerate(JOINT_NAMES):
        if joint not in joints or joints[joint] in head:
            continue
        p = PARENTS[j]
        while p >= 0 and JOINT_NAMES[p] not in joints:
            p = PARENTS[p]
        up = joints[JOINT_NAMES[p]] if p >= 0 else root
        bone = joints[joint]
        head[bone] = head[up] + np.einsum("tij,j->ti", turn[up], k @ (rest[bone][:3, 3] - rest[up][:3, 3]))
    for joint, bone in also.items():
        first = joints[joint]
        head[bone] = head[first] + np.einsum("tij,j->ti", turn[first], k @ (rest[bone][:3, 3] - rest[first][:3, 3]))

    eff = _effective_parents(target, set(world), parents or {})
    local, location, posed = _locals(target, rest, world, head, eff, root, None)
    if thighs:
        anchor = 0.5 * (posed[joints["left_hip"]] + posed[joints["right_hip"]])
    else:
        anchor = posed[hips] + np.einsum(
            "tij,j->ti", world[hips], _unit(rest[hips][:3, :3]).T @ (t_rest - rest[hips][:3, 3])
        )
    shift = desired - anchor

    # The feet: each ankle's lift above where it stands at rest is the person's scaled; the body moves
    # vertically so the foot that carries it gets there (:mod:`foot_height`), every bone keeping its turn.
    sides = [side for side in ("left", "right") if f"{side}_ankle" in joints]
    lift: dict[str, np.ndarray] = {}
    goal_z: dict[str, np.ndarray] = {}
    for side in sides:
        s_stand = (s_world @ np.append(source.data.bones[f"{side}_ankle"].head_local, 1.0))[2] - s_floor
        t_stand = (t_world @ np.append(rest[joints[f"{side}_ankle"]][:3, 3], 1.0))[2] - t_floor
        lift[side] = heads[f"{side}_ankle"] @ s_world[2, :3] + s_world[2, 3] - floor_z - s_stand
        goal_z[side] = t_floor + t_stand + ratio * lift[side]
    if len(sides) == 2:
        now = np.stack([(posed[joints[f"{side}_ankle"]] + shift) @ t_world[2, :3] + t_world[2, 3] for side in sides], 1)
        weight = foot_height.support(np.stack([lift[side] for side in sides], 1), contact, fps)
        rise = foot_height.correction(now, np.stack([goal_z[side] for side in sides], 1), weight)
        shift = shift + rise[:, None] * inv[:3, 2]  # world metres up, in the target's armature space
    head = {name: h + shift for name, h in head.items()}
    local, location, posed = _locals(target, rest, world, head, eff, root, set(location))
    if pin is not None:
        ankles = [(side, [joints.get(f"{side}_{j}") for j in ("hip", "knee", "ankle")]) for side in ("left", "right")]
        for side, (thigh, shin, ankle) in ankles:
            if thigh is None or shin is None or ankle is None:
                continue
            # where the person's ankle is, scaled about the hips, at its height above the floor: the feet
            # at the scaled heights whatever the two characters' leg proportions
            src = heads[f"{side}_ankle"] @ s_world[:3, :3].T + s_world[:3, 3]
            scaled = desired_w + ratio * (src - s_anchor_w)
            scaled[:, 2] = goal_z[side]
            goal = foot_pin.pinned_ankles(scaled @ inv[:3, :3].T + inv[:3, 3], pin[side])
            turn_thigh, turn_shin = two_bone_reach(posed[thigh], posed[shin], posed[ankle], goal)
            for joint, turned in ((f"{side}_hip", turn_thigh), (f"{side}_knee", turn_shin @ turn_thigh)):
                for driven in (joints[joint], also.get(joint)):
                    if driven is not None:
                        world[driven] = turned @ world[driven]
        local, location, posed = _locals(target, rest, world, head, eff, root, set(location))
    return local, location, ratio


def _locals(
    target: bpy.types.Object,
    rest: dict[str, np.ndarray],
    world: dict[str, np.ndarray],
    head: dict[str, np.ndarray],
    eff: dict[str, str | None],
    root: str,
    detached: set[str] | None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Local rotations, the locations to key and the posed heads (armature space) of the driven bones
    given their armature-space rotations ``world`` and where their heads belong ``head``; ``detached``
    (None: found here) are the bones that get location keys."""
    n = len(world[root])
    local: dict[str, np.ndarray] = {}
    location: dict[str, np.ndarray] = {}
    posed: dict[str, np.ndarray] = {}
    for name in _topological(eff):
        e = eff[name]
        if e is None:
            base_rot = np.broadcast_to(_unit(rest[name][:3, :3]), (n, 3, 3))
            base_pos = np.broadcast_to(rest[name][:3, 3], (n, 3))
        else:
            rel = np.linalg.inv(rest[e]) @ rest[name]
            base_rot = _unit(world[e] @ rel[:3, :3])
            base_pos = posed[e] + np.einsum("tij,j->ti", world[e], rel[:3, 3])
        local[name] = np.swapaxes(base_rot, 1, 2) @ world[name]
        loc = np.einsum("tji,tj->ti", base_rot, head[name] - base_pos)
        # A bone its effective parent carries needs no location; one nothing carries (the root, a deform
        # bone hanging from helpers at rest) is moved to where the SMPL chain puts it.
        keep = name == root or e is None if detached is None else name in detached
        if keep:
            location[name] = loc
            posed[name] = head[name]
        else:
            posed[name] = np.ascontiguousarray(base_pos)
    return local, location, posed


def _nla_home(target: bpy.types.Object, action: bpy.types.Action, track_name: str) -> None:
    """Play ``action`` as the strip of the target's NLA track ``track_name``: a strip already playing it
    keeps its place (start, blending, the artist's settings) and is stretched to the keys now there."""
    anim = target.animation_data or target.animation_data_create()
    first, last = action.frame_range
    for track in anim.nla_tracks:
        for strip in track.strips:
            if strip.action == action:
                strip.action_frame_start, strip.action_frame_end = first, last
                strip.frame_end = strip.frame_start + (last - first) * strip.scale * strip.repeat
                return
    track = anim.nla_tracks.new()
    track.name = track_name
    strip = track.strips.new(track_name, int(first), action)
    strip.extrapolation = "HOLD"


def _action_for(target: bpy.types.Object, source: bpy.types.Object) -> bpy.types.Action:
    """The action retargeted from ``source`` onto ``target`` before (its keys cleared), else a new one
    named after the person."""
    action = next(
        (a for a in bpy.data.actions if a.get(SOURCE_PROP) == source.name and a.get(TARGET_PROP) == target.name),
        None,
    )
    if action is None:
        action = bpy.data.actions.new(f"{source.name} on {target.name}")
        action[SOURCE_PROP] = source.name
        action[TARGET_PROP] = target.name
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
    parents: dict[str, str | None] | None = None,
    settings: dict[str, float] | None = None,
    pin_feet: bool = False,
    also: dict[str, str] | None = None,
) -> RetargetResult:
    """Key ``target`` to follow ``source`` (a RAM armature) through ``mapping`` (SMPL joint -> target
    bone) at ``frames`` (default: the source action's range); ``floor_z`` is the source's floor (world
    metres). ``parents`` names, for target bones whose rest parent is not what moves them (Rigify's FK
    controls hang under constraint-driven helper bones), the mapped bone they move with.

    The source is read from its action's keys (no scene evaluation); the result is an action on an NLA
    track of the target named after the person (:func:`_nla_home`). ``settings`` (data path -> value)
    are keyed constant in it too (Rigify's IK/FK switches). ``pin_feet`` holds each ankle still while
    its foot is in contact (:mod:`foot_pin`; off by default). ``also`` maps joints to a second bone
    each, keyed too (Rigify's deform bones)."""
    mapping = {
        j: b
        for j, b in mapping.items()
        if (j in source.pose.bones or j == bone_maps.ROOT_MOTION) and b in target.data.bones
    }
    if "pelvis" not in mapping:
        raise ValueError("the bone map has no target bone for the pelvis: map the rig's hips bone")
    frames = np.asarray(_source_range(source) if frames is None else frames, dtype=np.int64)
    fps = scene.render.fps / scene.render.fps_base
    curves = foot_pin.contact_curves(source, frames)
    contact = None if curves is None else np.stack([curves["left"], curves["right"]], axis=1)
    pin = _contact(source, frames, curves, fps) if pin_feet else None
    also = {j: b for j, b in (also or {}).items() if j in mapping and b in target.data.bones}
    local, location, ratio = solve(source, target, mapping, frames, floor_z, parents, pin, also, contact, fps)

    action = _action_for(target, source)
    keyed = frames.astype(np.float64)
    for bone_name, rot in local.items():
        pb = target.pose.bones[bone_name]
        quats = continuous_quaternions(matrix_to_quaternion(rot))
        if pb.rotation_mode == "AXIS_ANGLE":
            pb.rotation_mode = "QUATERNION"
        if pb.rotation_mode == "QUATERNION":
            key_channels(action, target, f'pose.bones["{bone_name}"].rotation_quaternion', keyed, quats, bone_name)
        else:
            eulers = _euler_keys(quats, pb.rotation_mode)
            key_channels(action, target, f'pose.bones["{bone_name}"].rotation_euler', keyed, eulers, bone_name)
    for bone_name, loc in location.items():
        key_channels(action, target, f'pose.bones["{bone_name}"].location', keyed, loc, bone_name)
    for path, value in (settings or {}).items():
        group = path.split('"')[1] if '"' in path else "RAM"
        key_channels(action, target, path, keyed[[0, -1]], np.array([[value], [value]]), group, "CONSTANT")
    _nla_home(target, action, f"RAM {source.name}")
    return RetargetResult(action=action, bone_map=mapping, ratio=ratio, frames=frames)


def rigify_switches(target: bpy.types.Object) -> dict[str, float]:
    """Rigify's IK/FK switches of ``target`` set to FK and its neck and head follow set to 1, as data paths
    to key: the limbs follow their FK controls and the head its neck."""
    out = {f'pose.bones["{pb.name}"]["IK_FK"]': 1.0 for pb in target.pose.bones if "IK_FK" in pb}
    torso = target.pose.bones.get("torso")
    for follow in ("neck_follow", "head_follow"):  # neck and head turn with what carries them, as SMPL's do
        if torso is not None and follow in torso:
            out[f'pose.bones["torso"]["{follow}"]'] = 1.0
    return out


def rigify_def_settings(target: bpy.types.Object, influence: float) -> dict[str, float]:
    """The constraints of Rigify's body deform bones (those in :data:`bone_maps.RIGIFY_DEF` and the DEF
    bones hanging from them) at ``influence``, as data paths to key: 0 when the deform bones are keyed
    directly, 1 when the FK controls drive them (Blender keeps an animated value after its strip stops, so
    the FK choice keys them back on)."""
    body = {b for b in bone_maps.RIGIFY_DEF.values() if b in target.data.bones}
    todo = [target.data.bones[b] for b in body]
    while todo:
        for child in todo.pop().children:
            if child.name.startswith("DEF-") and child.name not in body:
                body.add(child.name)
                todo.append(child)
    return {
        f'pose.bones["{name}"].constraints["{c.name}"].influence': influence
        for name in sorted(body)
        for c in target.pose.bones[name].constraints
    }


def map_for(
    target: bpy.types.Object, preset: str
) -> tuple[dict[str, str], dict[str, str | None], dict[str, float], dict[str, str]]:
    """The bone map, effective parents, constant settings and second bones for ``preset``: ``auto``,
    ``mixamo``, ``ue5``, ``rigify`` (FK controls), ``rigify_def`` (FK controls and the deform bones),
    ``custom`` (the map stored on ``target``) or a preset file's path (``.json``)."""
    names = [b.name for b in target.data.bones]
    if preset == "custom":
        mapping = {j: b for j, b in bone_map_state.stored_map(target).items() if b in target.data.bones}
        if not mapping:
            raise ValueError(f"{target.name} has no bone map of its own: fill one in the Retarget panel first")
        return mapping, {}, {}, {}
    if preset.lower().endswith(".json"):
        return bone_maps.load_preset(preset), {}, {}, {}
    if preset in ("rigify", "rigify_def"):
        if "torso" not in target.data.bones or "spine_fk" not in target.data.bones:
            raise ValueError(f"{target.name} is not a generated Rigify rig (no torso and spine_fk controls)")
        mapping = bone_maps.bone_map("rigify", names)
        if preset == "rigify":
            settings = {**rigify_switches(target), **rigify_def_settings(target, 1.0)}
            return mapping, dict(bone_maps.RIGIFY_PARENTS), settings, {}
        parents = {**bone_maps.RIGIFY_PARENTS, **bone_maps.RIGIFY_DEF_PARENTS}
        settings = {**rigify_switches(target), **rigify_def_settings(target, 0.0)}
        return mapping, parents, settings, dict(bone_maps.RIGIFY_DEF)
    return bone_maps.bone_map(preset, names), {}, {}, {}


def retarget_preset(
    scene: bpy.types.Scene,
    source: bpy.types.Object,
    target: bpy.types.Object,
    preset: str,
    floor_z: float = 0.0,
    pin_feet: bool = False,
) -> RetargetResult:
    """:func:`retarget` with the map, parents and settings :func:`map_for` gives for ``preset``."""
    mapping, parents, settings, also = map_for(target, preset)
    return retarget(
        scene,
        source,
        target,
        mapping,
        floor_z=floor_z,
        parents=parents,
        settings=settings,
        pin_feet=pin_feet,
        also=also,
    )
