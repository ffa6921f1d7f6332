"""Inverse kinematics: SMPL joint rotations that pose a rest skeleton onto observed joint positions.

Analytic and vectorised over frames (the only Python loop runs over the 24 joints in hierarchy
order). Every joint's global rotation ``G_j`` is chosen so that ``G_j (rest[c] - rest[j])`` points
along ``target[c] - target[j]`` for its children ``c``; the local rotation is ``G_parent^T G_j``. So the
posed skeleton keeps the rest skeleton's bone lengths (constant per track) and only directions are
fitted.

* A joint with several children (pelvis, spine3) or a leaf with hints: weighted Kabsch over the unit
  directions of its children and hint points.
* A joint with one child: the smallest rotation (swing) that aligns the child's direction, then a
  twist about that direction from the hint points (e.g. the ankle for the hip: the knee bends about
  its own axis), weighted by how far each hint lies off the axis. No hint: no twist.
* A joint's confidence weights its vectors against the joint's others but never drops one: every
  vector with a direction counts with at least ``IkOptions.weight_floor``, so a self-occluded limb
  (low visibility, but a position the landmark model still guessed) follows that guess instead of
  staying in the rest pose (a T-pose arm). Only a joint with no vector at all (a missing or
  non-finite target) keeps the identity local rotation.
* Optionally the rotation between pelvis and thorax (spine3) is spread evenly over spine1/2/3,
  for targets whose spine points are interpolated rather than observed.

Frames: rest joints and hint rest directions in SMPL's canonical body frame (y up, x left, z front);
targets and hint points in any right-handed frame (the camera's, for the lite backend). The result's
``global_orient`` maps the body frame into the targets' frame, as SMPL's does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ram_core.contract.skeleton import (
    JOINT_INDEX,
    NUM_JOINTS,
    PARENTS,
    axis_angle_to_matrix,
    children,
    global_to_local,
    matrix_to_axis_angle,
)

_EPS = 1e-9
SPINE_CHAIN = (JOINT_INDEX["spine1"], JOINT_INDEX["spine2"], JOINT_INDEX["spine3"])


@dataclass(frozen=True)
class Hint:
    """An extra observed point that fixes part of one joint's rotation.

    ``point`` indexes the hint points passed to :func:`solve_rotations`. ``rest_direction`` is where
    the point lies from ``joint`` in the rest pose (SMPL body frame; only its direction matters, and
    for a one-child joint only its part across the bone, which sets the twist). ``scale`` multiplies
    the hint's weight relative to the others of the same joint.
    """

    joint: int
    point: int
    rest_direction: tuple[float, float, float]
    scale: float = 1.0


@dataclass(frozen=True)
class IkOptions:
    """``weight_floor``: the least weight a vector with a direction counts with, however low its joints'
    confidence (see the module's docstring). ``spine_split``: spread the pelvis-to-thorax rotation evenly
    over spine1/2/3 instead of fitting each to its own target."""

    weight_floor: float = 0.05
    spine_split: bool = False


def _norm(v: np.ndarray) -> np.ndarray:
    """``|v|`` over the last axis: ``np.linalg.norm``'s arithmetic (the same bits) without its overhead."""
    return np.sqrt(np.add.reduce(v * v, axis=-1))


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.cross`` of 3-vectors over the last axis (the same arithmetic, so the same bits), without its overhead."""
    out = np.empty(np.broadcast_shapes(a.shape, b.shape))
    out[..., 0] = a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1]
    out[..., 1] = a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2]
    out[..., 2] = a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    return out


def unit_vectors(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``v / |v|`` (zero where ``|v|`` is ~0) and ``|v|``, over the last axis."""
    n = _norm(v)[..., None]
    return v / np.where(n > _EPS, n, 1.0), n[..., 0]


def _swing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(T, 3, 3)`` smallest rotations taking unit vectors ``a`` ``(T, 3)`` to unit vectors ``b``."""
    cross = _cross(a, b)
    sin = _norm(cross)
    cos = np.einsum("ti,ti->t", a, b)
    axis = cross / np.where(sin > _EPS, sin, 1.0)[:, None]
    # Opposite vectors: any axis across ``a`` will do.
    opposite = (sin <= 1e-7) & (cos < 0)
    if np.any(opposite):
        helper = np.where(np.abs(a[:, :1]) < 0.9, np.array([[1.0, 0.0, 0.0]]), np.array([[0.0, 1.0, 0.0]]))
        perp, _ = unit_vectors(_cross(a, helper))
        axis = np.where(opposite[:, None], perp, axis)
    angle = np.arctan2(sin, cos)
    return axis_angle_to_matrix(axis * angle[:, None])


def _kabsch(rest_dirs: np.ndarray, obs_dirs: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted Kabsch: rotations ``R`` ``(T, 3, 3)`` minimising ``sum_k w_k |R rest_k - obs_k|^2``.

    Args:
        rest_dirs: ``(T, K, 3)`` unit directions in the body frame.
        obs_dirs: ``(T, K, 3)`` unit observed directions.
        w: ``(T, K)`` weights (0 where unused).

    Returns:
        The rotations and a ``(T,)`` mask of frames where they are determined (two or more
        non-parallel directions).
    """
    h = np.einsum("tk,tki,tkj->tij", w, rest_dirs, obs_dirs)
    u, s, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(np.swapaxes(vt, -1, -2) @ np.swapaxes(u, -1, -2)))
    d = np.where(d == 0, 1.0, d)
    fix = np.ones((len(h), 3))
    fix[:, 2] = d
    rot = np.swapaxes(vt, -1, -2) @ (fix[:, :, None] * np.swapaxes(u, -1, -2))
    ok = s[:, 1] > 1e-6 * np.maximum(s[:, 0], _EPS)
    return rot, ok & (s[:, 0] > _EPS)


def _twist(axis: np.ndarray, pred: np.ndarray, obs: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Rotations about unit ``axis`` ``(T, 3)`` that best turn ``pred`` onto ``obs`` (``(T, K, 3)``) across it.

    Each hint votes with its angle, weighted by ``w`` times its lever arms across the axis, so a hint
    lying on the axis (a straight knee) carries no weight.
    """
    along_p = np.einsum("tki,ti->tk", pred, axis)[..., None] * axis[:, None, :]
    along_o = np.einsum("tki,ti->tk", obs, axis)[..., None] * axis[:, None, :]
    p_perp, o_perp = pred - along_p, obs - along_o
    cos = np.einsum("tk,tki,tki->t", w, p_perp, o_perp)
    sin = np.einsum("tk,tki,ti->t", w, _cross(p_perp, o_perp), axis)
    angle = np.where(np.hypot(sin, cos) > 1e-8, np.arctan2(sin, cos), 0.0)
    return axis_angle_to_matrix(axis * angle[:, None])


def solve_global_rotations(
    targets: np.ndarray,
    rest_joints: np.ndarray,
    weights: np.ndarray | None = None,
    hint_points: np.ndarray | None = None,
    hint_weights: np.ndarray | None = None,
    hints: Sequence[Hint] = (),
    options: IkOptions = IkOptions(),
) -> np.ndarray:
    """Global joint rotations ``(T, 24, 3, 3)`` (body frame -> targets' frame); see :func:`solve_rotations`."""
    targets = np.asarray(targets, dtype=np.float64)
    rest = np.asarray(rest_joints, dtype=np.float64)
    n = targets.shape[0]
    w_joint = np.ones((n, NUM_JOINTS)) if weights is None else np.asarray(weights, dtype=np.float64)
    if hints:
        hint_points = np.asarray(hint_points, dtype=np.float64)
        hint_weights = (
            np.ones(hint_points.shape[:2]) if hint_weights is None else np.asarray(hint_weights, dtype=np.float64)
        )
    plans = _joint_plans(rest.tobytes(), tuple(hints))

    glob = np.empty((n, NUM_JOINTS, 3, 3))
    eye = np.broadcast_to(np.eye(3), (n, 3, 3))
    for j, plan in enumerate(plans):
        if options.spine_split and j in SPINE_CHAIN[:2]:
            continue  # filled in when spine3 is solved
        if options.spine_split and j == SPINE_CHAIN[2]:
            parent_rot = glob[:, PARENTS[SPINE_CHAIN[0]]]  # the pelvis: spine3 is fitted relative to it
        else:
            parent_rot = eye if PARENTS[j] < 0 else glob[:, PARENTS[j]]
        if plan is None:
            glob[:, j] = parent_rot
            continue
        # Vectors from this joint: children first, then hints.
        kids, points, scales, rest_unit = plan
        n_children = len(kids)
        obs_vecs = targets[:, kids] - targets[:, j, None]
        vec_w = np.minimum(w_joint[:, j, None], w_joint[:, kids])
        if len(points):
            obs_vecs = np.concatenate([obs_vecs, hint_points[:, points] - targets[:, j, None]], axis=1)
            vec_w = np.concatenate([vec_w, hint_weights[:, points] * scales], axis=1)
        rest_dir = _frames_of(rest_unit, n)
        obs_dir, obs_len = unit_vectors(obs_vecs)
        usable = np.isfinite(obs_len) & (obs_len > _EPS)
        obs_dir = np.where(usable[..., None], obs_dir, 0.0)
        obs_len = np.where(usable, obs_len, 0.0)
        w = np.nan_to_num(vec_w, nan=0.0)
        w = np.where(usable, np.maximum(w, options.weight_floor), 0.0)

        if n_children == 1:
            rot = _single_child(parent_rot, rest_dir, obs_dir, obs_len, w)
        else:
            rot = _kabsch_or_swing(parent_rot, rest_dir, obs_dir, w)
        if options.spine_split and j == SPINE_CHAIN[2]:
            step = axis_angle_to_matrix(matrix_to_axis_angle(np.swapaxes(parent_rot, -1, -2) @ rot) / 3.0)
            glob[:, SPINE_CHAIN[0]] = parent_rot @ step
            glob[:, SPINE_CHAIN[1]] = glob[:, SPINE_CHAIN[0]] @ step
            rot = glob[:, SPINE_CHAIN[1]] @ step
        glob[:, j] = rot
    return glob


def _frames_of(unit: np.ndarray, n: int) -> np.ndarray:
    """``unit`` ``(K, 3)`` repeated over ``n`` frames, laid out in memory as the stacked per-frame copies
    used to be (coordinate, frame, vector order): ``einsum`` sums in memory order, so this layout keeps the
    rotations the same to the last bit."""
    if n == 1:
        return unit[None].copy()
    out = np.empty((3, n, len(unit))).transpose(1, 2, 0)
    out[...] = unit
    return out


_JointPlan = tuple[list[int], list[int], np.ndarray, np.ndarray]


@lru_cache(maxsize=8)
def _joint_plans(rest_bytes: bytes, hints: tuple[Hint, ...]) -> tuple[_JointPlan | None, ...]:
    """Per joint, what :func:`solve_global_rotations` builds its vectors from, the same for every call with
    this rest skeleton (``(24, 3)`` float64 as bytes) and these hints: the children, the hint points, the
    hints' scales and the unit rest directions ``(K, 3)`` (children first, then hints); None for a joint
    with neither (a leaf without hints)."""
    rest = np.frombuffer(rest_bytes, dtype=np.float64).reshape(NUM_JOINTS, 3)
    plans: list[_JointPlan | None] = []
    for j in range(NUM_JOINTS):
        kids = children(j)
        mine = [hint for hint in hints if hint.joint == j]
        vecs = [rest[c] - rest[j] for c in kids] + [np.asarray(h.rest_direction, dtype=np.float64) for h in mine]
        if not vecs:
            plans.append(None)
            continue
        unit, _ = unit_vectors(np.stack(vecs))
        plans.append((kids, [h.point for h in mine], np.array([h.scale for h in mine], dtype=np.float64), unit))
    return tuple(plans)


def _single_child(
    parent_rot: np.ndarray, rest_dir: np.ndarray, obs_dir: np.ndarray, obs_len: np.ndarray, w: np.ndarray
) -> np.ndarray:
    """Swing onto the child's direction (vector 0), then twist from the hints (vectors 1..)."""
    from_dir = np.einsum("tij,tj->ti", parent_rot, rest_dir[:, 0])
    seen = w[:, 0] > 0
    swing = _swing(from_dir, np.where(seen[:, None], obs_dir[:, 0], from_dir))
    rot = swing @ parent_rot
    if rest_dir.shape[1] > 1:
        pred = np.einsum("tij,tkj->tki", rot, rest_dir[:, 1:])
        obs = obs_dir[:, 1:] * obs_len[:, 1:, None]
        axis = np.where(seen[:, None], obs_dir[:, 0], from_dir)
        rot = _twist(axis, pred, obs, w[:, 1:]) @ rot
    return rot


def _kabsch_or_swing(parent_rot: np.ndarray, rest_dir: np.ndarray, obs_dir: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Kabsch where two or more directions are seen; else swing onto the best one; else the parent's."""
    rot, ok = _kabsch(rest_dir, obs_dir, w)
    best = np.argmax(w, axis=1)
    idx = np.arange(len(w))
    from_dir = np.einsum("tij,tj->ti", parent_rot, rest_dir[idx, best])
    seen = w[idx, best] > 0
    swing = _swing(from_dir, np.where(seen[:, None], obs_dir[idx, best], from_dir)) @ parent_rot
    return np.where(ok[:, None, None], rot, swing)


def solve_rotations(
    targets: np.ndarray,
    rest_joints: np.ndarray,
    weights: np.ndarray | None = None,
    hint_points: np.ndarray | None = None,
    hint_weights: np.ndarray | None = None,
    hints: Sequence[Hint] = (),
    options: IkOptions = IkOptions(),
) -> tuple[np.ndarray, np.ndarray]:
    """SMPL rotations that pose ``rest_joints`` onto ``targets``.

    Args:
        targets: ``(T, 24, 3)`` observed joint positions (any right-handed metric frame, e.g. camera).
        rest_joints: ``(24, 3)`` rest skeleton, SMPL body frame, metres.
        weights: ``(T, 24)`` confidence per joint in [0, 1] (None: all 1). A bone's weight is the
            smaller of its two joints', and at least ``options.weight_floor``.
        hint_points: ``(T, K, 3)`` extra observed points (same frame as ``targets``) used by ``hints``.
        hint_weights: ``(T, K)`` their confidences (None: all 1).
        hints: which joint each hint point informs, and where it lies in the rest pose.
        options: see :class:`IkOptions`.

    Returns:
        ``global_orient`` ``(T, 3)`` (body frame -> targets' frame) and ``body_pose`` ``(T, 23, 3)``,
        local axis-angle in radians, as SMPL. ``forward_kinematics(global_orient, body_pose,
        rest_joints)`` reproduces every observed bone direction; positions then follow from the rest
        skeleton's bone lengths and the pelvis (add ``targets[:, 0] - rest_joints[0]`` as ``transl``).
    """
    glob = solve_global_rotations(targets, rest_joints, weights, hint_points, hint_weights, hints, options)
    return global_to_local(glob)
