"""The SMPL 24-joint skeleton: names, hierarchy and forward kinematics.

This is the one place the joint table lives. Frames: SMPL's canonical body frame is
y up, x to the body's left, z to the body's front; positions are in metres.
"""

from __future__ import annotations

import numpy as np

JOINT_NAMES: tuple[str, ...] = (
    "pelvis",
    "left_hip",
    "right_hip",
    "spine1",
    "left_knee",
    "right_knee",
    "spine2",
    "left_ankle",
    "right_ankle",
    "spine3",
    "left_foot",
    "right_foot",
    "neck",
    "left_collar",
    "right_collar",
    "head",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hand",
    "right_hand",
)

PARENTS: tuple[int, ...] = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)

NUM_JOINTS = len(JOINT_NAMES)
NUM_BODY_JOINTS = NUM_JOINTS - 1  # body_pose excludes the root (global_orient)
NUM_BETAS = 10

JOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(JOINT_NAMES)}


_EYE3 = np.eye(3)


def children(joint: int) -> list[int]:
    """Indices of the joints whose parent is ``joint``."""
    return [i for i, p in enumerate(PARENTS) if p == joint]


def axis_angle_to_matrix(rotvec: np.ndarray) -> np.ndarray:
    """Rodrigues' formula.

    Args:
        rotvec: ``(..., 3)`` axis-angle vectors (radians).

    Returns:
        ``(..., 3, 3)`` rotation matrices.
    """
    rotvec = np.asarray(rotvec, dtype=np.float64)
    angle = np.sqrt(np.add.reduce(rotvec * rotvec, axis=-1))[..., None]  # np.linalg.norm's arithmetic
    axis = rotvec / np.where(angle > 1e-12, angle, 1.0)
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    k = np.zeros((*rotvec.shape[:-1], 3, 3))
    k[..., 0, 1], k[..., 0, 2] = -z, y
    k[..., 1, 0], k[..., 1, 2] = z, -x
    k[..., 2, 0], k[..., 2, 1] = -y, x
    s = np.sin(angle)[..., None]
    c = np.cos(angle)[..., None]
    return _EYE3 + s * k + (1.0 - c) * (k @ k)


def matrix_to_axis_angle(rot: np.ndarray) -> np.ndarray:
    """Inverse of :func:`axis_angle_to_matrix`, stable near 0 and pi.

    Args:
        rot: ``(..., 3, 3)`` rotation matrices.

    Returns:
        ``(..., 3)`` axis-angle vectors with angle in ``[0, pi]``.
    """
    return quaternion_to_axis_angle(matrix_to_quaternion(rot))


def matrix_to_quaternion(rot: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` to unit quaternions ``(..., 4)`` as (w, x, y, z), w >= 0."""
    rot = np.asarray(rot, dtype=np.float64)
    m = rot.reshape(-1, 3, 3)
    tr = m[:, 0, 0] + m[:, 1, 1] + m[:, 2, 2]
    # Four candidate formulas; each row uses the one with the largest (best-conditioned) pivot.
    cand = np.stack(
        [
            np.stack([1 + tr, m[:, 2, 1] - m[:, 1, 2], m[:, 0, 2] - m[:, 2, 0], m[:, 1, 0] - m[:, 0, 1]], -1),
            np.stack(
                [m[:, 2, 1] - m[:, 1, 2], 1 + 2 * m[:, 0, 0] - tr, m[:, 0, 1] + m[:, 1, 0], m[:, 0, 2] + m[:, 2, 0]], -1
            ),
            np.stack(
                [m[:, 0, 2] - m[:, 2, 0], m[:, 0, 1] + m[:, 1, 0], 1 + 2 * m[:, 1, 1] - tr, m[:, 1, 2] + m[:, 2, 1]], -1
            ),
            np.stack(
                [m[:, 1, 0] - m[:, 0, 1], m[:, 0, 2] + m[:, 2, 0], m[:, 1, 2] + m[:, 2, 1], 1 + 2 * m[:, 2, 2] - tr], -1
            ),
        ],
        axis=1,
    )
    pivot = np.stack([1 + tr, 1 + 2 * m[:, 0, 0] - tr, 1 + 2 * m[:, 1, 1] - tr, 1 + 2 * m[:, 2, 2] - tr], -1)
    best = np.argmax(pivot, axis=-1)
    q = cand[np.arange(len(m)), best]
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    q *= np.where(q[:, :1] < 0, -1.0, 1.0)
    return q.reshape(*rot.shape[:-2], 4)


def axis_angle_to_quaternion(rotvec: np.ndarray) -> np.ndarray:
    """Axis-angle ``(..., 3)`` (radians) -> unit quaternions ``(..., 4)`` (w, x, y, z)."""
    rotvec = np.asarray(rotvec, dtype=np.float64)
    angle = np.linalg.norm(rotvec, axis=-1, keepdims=True)
    scale = np.where(angle > 1e-12, np.sin(angle / 2) / np.where(angle > 1e-12, angle, 1.0), 0.5)
    return np.concatenate([np.cos(angle / 2), rotvec * scale], axis=-1)


def quaternion_to_axis_angle(quat: np.ndarray) -> np.ndarray:
    """Unit quaternions ``(..., 4)`` (w, x, y, z) to axis-angle ``(..., 3)``."""
    quat = np.asarray(quat, dtype=np.float64)
    quat = quat * np.where(quat[..., :1] < 0, -1.0, 1.0)
    xyz = quat[..., 1:]
    sin_half = np.linalg.norm(xyz, axis=-1, keepdims=True)
    angle = 2.0 * np.arctan2(sin_half, quat[..., :1])
    scale = np.where(sin_half > 1e-12, angle / np.where(sin_half > 1e-12, sin_half, 1.0), 2.0)
    return xyz * scale


def quaternion_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product of quaternions ``(..., 4)`` (w, x, y, z): the rotation ``b`` then ``a``."""
    a, b = np.asarray(a), np.asarray(b)
    aw, ax, ay, az = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    bw, bx, by, bz = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    out = np.empty(np.broadcast_shapes(a.shape, b.shape), dtype=np.result_type(a, b))
    out[..., 0] = aw * bw - ax * bx - ay * by - az * bz
    out[..., 1] = aw * bx + ax * bw + ay * bz - az * by
    out[..., 2] = aw * by - ax * bz + ay * bw + az * bx
    out[..., 3] = aw * bz + ax * by - ay * bx + az * bw
    return out


def rotation_between(q_from: np.ndarray, q_to: np.ndarray) -> np.ndarray:
    """Axis-angle ``(..., 3)`` of the shortest rotation from ``q_from`` to ``q_to`` (either sign of ``q_to``)."""
    delta = quaternion_multiply(q_from * np.array([1.0, -1.0, -1.0, -1.0]), q_to)
    return quaternion_to_axis_angle(delta)  # takes the w >= 0 hemisphere: the short way round


def slerp(q0: np.ndarray, q1: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """Spherical interpolation of unit quaternions ``(..., 4)`` the short way; ``t`` broadcasts over ``...``."""
    step = rotation_between(q0, q1)
    return quaternion_multiply(q0, axis_angle_to_quaternion(step * np.asarray(t, dtype=np.float64)[..., None]))


def swing_matrices(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(T, 3, 3)`` the smallest rotations taking directions ``a`` ``(T, 3)`` onto ``b`` ``(T, 3)`` (any length)."""
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    v = np.cross(a, b)
    c = np.clip(np.sum(a * b, axis=-1), -1.0 + 1e-9, None)
    k = np.zeros((len(a), 3, 3))
    k[:, 0, 1], k[:, 0, 2], k[:, 1, 2] = -v[:, 2], v[:, 1], -v[:, 0]
    k -= np.swapaxes(k, 1, 2)
    return np.eye(3) + k + k @ k / (1.0 + c)[:, None, None]


def two_bone_reach(
    hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray, goal: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Two-bone IK: world rotations ``(T, 3, 3)`` for the upper bone and (applied after it) the lower bone
    that bring the end from ``ankle`` to ``goal`` (all ``(T, 3)``) with the root ``hip`` fixed and both
    lengths kept, bending in the plane the limb bends in now; a goal out of reach is approached as far as
    the straightened limb allows."""
    a = np.linalg.norm(knee - hip, axis=1)
    b = np.linalg.norm(ankle - knee, axis=1)
    to_goal = goal - hip
    c = np.clip(np.linalg.norm(to_goal, axis=1), np.abs(a - b) + 1e-6, a + b - 1e-6)
    u = to_goal / np.maximum(np.linalg.norm(to_goal, axis=1, keepdims=True), 1e-9)
    bend = knee - hip
    v = bend - np.sum(bend * u, axis=1, keepdims=True) * u  # the knee's side of the hip-goal line
    straight = np.linalg.norm(v, axis=1) < 1e-6
    v[straight] = np.cross(u[straight], [1.0, 0.0, 0.0])  # a straight limb: bend it any way (rare)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    x = (a * a - b * b + c * c) / (2.0 * c)
    new_knee = hip + x[:, None] * u + np.sqrt(np.maximum(a * a - x * x, 0.0))[:, None] * v
    upper = swing_matrices(knee - hip, new_knee - hip)
    moved = np.einsum("tij,tj->ti", upper, ankle - knee)
    lower = swing_matrices(moved, hip + c[:, None] * u - new_knee)
    return upper, lower


def forward_kinematics(
    global_orient: np.ndarray,
    body_pose: np.ndarray,
    rest_joints: np.ndarray,
    transl: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pose the skeleton as SMPL does (rotations about each rest joint, root about the pelvis).

    Args:
        global_orient: ``(T, 3)`` root axis-angle (radians), body frame -> camera frame.
        body_pose: ``(T, 23, 3)`` local axis-angle per non-root joint.
        rest_joints: ``(24, 3)`` rest joint positions, SMPL canonical frame, metres.
        transl: ``(T, 3)`` root translation in metres, or None for zero.

    Returns:
        ``(T, 24, 3)`` posed joint positions and ``(T, 24, 3, 3)`` global joint rotations.
    """
    rots = axis_angle_to_matrix(np.concatenate([global_orient[:, None, :], body_pose], axis=1))
    rest = np.asarray(rest_joints, dtype=np.float64)
    n = rots.shape[0]
    g_rot = np.empty((n, NUM_JOINTS, 3, 3))
    g_pos = np.empty((n, NUM_JOINTS, 3))
    g_rot[:, 0] = rots[:, 0]
    g_pos[:, 0] = rest[0]
    for j in range(1, NUM_JOINTS):
        p = PARENTS[j]
        g_rot[:, j] = g_rot[:, p] @ rots[:, j]
        g_pos[:, j] = g_pos[:, p] + g_rot[:, p] @ (rest[j] - rest[p])
    if transl is not None:
        g_pos = g_pos + np.asarray(transl, dtype=np.float64)[:, None, :]
    return g_pos, g_rot


def global_to_local(glob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Global rotations ``(T, 24, 3, 3)`` -> (``global_orient`` ``(T, 3)``, ``body_pose`` ``(T, 23, 3)``)."""
    parents = np.asarray(PARENTS[1:])
    local = np.swapaxes(glob[:, parents], -1, -2) @ glob[:, 1:]
    return matrix_to_axis_angle(glob[:, 0]), matrix_to_axis_angle(local)
