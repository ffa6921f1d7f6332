"""IK recovers known rotations from joint positions made by forward kinematics."""

from __future__ import annotations

import numpy as np

from ram_core.body.ik import (
    SPINE_CHAIN,
    Hint,
    IkOptions,
    _cross,
    _kabsch_or_swing,
    _norm,
    _single_child,
    solve_global_rotations,
    solve_rotations,
    unit_vectors,
)
from ram_core.contract.skeleton import (
    JOINT_INDEX,
    JOINT_NAMES,
    NUM_JOINTS,
    PARENTS,
    axis_angle_to_matrix,
    children,
    forward_kinematics,
    matrix_to_axis_angle,
)
from ram_core.contract.smpl_model import default_rest_joints

REST = default_rest_joints()
MULTI_CHILD = [j for j in range(NUM_JOINTS) if len(children(j)) > 1]  # pelvis, spine3


def random_poses(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Plausible random poses: any root orientation, hinge-like knees/elbows, moderate other joints."""
    rng = np.random.default_rng(seed)
    axis = rng.normal(size=(n, 3))
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    global_orient = axis * rng.uniform(0, np.pi, size=(n, 1))
    body_pose = rng.uniform(-0.6, 0.6, size=(n, 23, 3))
    for name in ("left_knee", "right_knee"):
        body_pose[:, JOINT_INDEX[name] - 1] = np.stack(
            [rng.uniform(0.1, 2.2, n), rng.uniform(-0.1, 0.1, n), rng.uniform(-0.1, 0.1, n)], axis=1
        )
    for name, sign in (("left_elbow", -1.0), ("right_elbow", 1.0)):
        body_pose[:, JOINT_INDEX[name] - 1] = np.stack(
            [rng.uniform(-0.3, 0.3, n), sign * rng.uniform(0.1, 2.2, n), rng.uniform(-0.1, 0.1, n)], axis=1
        )
    transl = rng.normal(scale=2.0, size=(n, 3))
    return global_orient, body_pose, transl


def twist_hints(glob: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, list[Hint]]:
    """Hint points rigidly attached to every joint with fewer than two children (two for leaves)."""
    points, hints = [], []
    for j in range(NUM_JOINTS):
        kids = children(j)
        if len(kids) > 1:
            continue
        bone = REST[kids[0]] - REST[j] if kids else np.array([0.0, 1.0, 0.0])
        helper = np.array([0.0, 0.0, 1.0]) if abs(bone[2]) < 0.9 * np.linalg.norm(bone) else np.array([1.0, 0.0, 0.0])
        offsets = [np.cross(bone, helper)]
        if not kids:
            offsets.append(bone + np.cross(bone, offsets[0]))
        for e in offsets:
            e = 0.1 * e / np.linalg.norm(e)
            hints.append(Hint(joint=j, point=len(points), rest_direction=tuple(e)))
            points.append(pos[:, j] + np.einsum("tij,j->ti", glob[:, j], e))
    return np.stack(points, axis=1), hints


def angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Geodesic angle in degrees between rotation matrices ``(..., 3, 3)`` (accurate near zero)."""
    return np.degrees(np.linalg.norm(matrix_to_axis_angle(np.swapaxes(a, -1, -2) @ b), axis=-1))


def local_rotations(global_orient: np.ndarray, body_pose: np.ndarray) -> np.ndarray:
    return axis_angle_to_matrix(np.concatenate([global_orient[:, None], body_pose], axis=1))


def test_joints_alone_recover_everything_observable() -> None:
    go, bp, tr = random_poses(300)
    targets, glob_true = forward_kinematics(go, bp, REST, tr)
    go_s, bp_s = solve_rotations(targets, REST)
    pos, glob = forward_kinematics(go_s, bp_s, REST, targets[:, 0] - REST[0])
    # FK of the solution reproduces the targets (bone lengths are the rest skeleton's by construction).
    assert np.abs(pos - targets).max() < 1e-6  # metres: under a micrometre
    # Joints with several children are fully determined by positions.
    assert angle_deg(glob[:, MULTI_CHILD], glob_true[:, MULTI_CHILD]).max() < 1e-5
    # Others: the bone direction to the child is (checked above); the twist about it is not observable.


def test_joints_with_hints_recover_every_rotation() -> None:
    go, bp, tr = random_poses(300, seed=1)
    targets, glob_true = forward_kinematics(go, bp, REST, tr)
    points, hints = twist_hints(glob_true, targets)
    go_s, bp_s = solve_rotations(targets, REST, hint_points=points, hints=hints)
    err = angle_deg(local_rotations(go_s, bp_s), local_rotations(go, bp))
    assert err.max() < 1e-5, JOINT_NAMES[int(np.argmax(err.max(axis=0)))]
    np.testing.assert_allclose(forward_kinematics(go_s, bp_s, REST, tr)[0], targets, atol=1e-9)


JOINT_CLASSES = {
    "root": ["pelvis"],
    "torso": ["spine1", "spine2", "spine3", "neck", "head", "left_collar", "right_collar"],
    "hips_shoulders": ["left_hip", "right_hip", "left_shoulder", "right_shoulder"],
    "knees_elbows": ["left_knee", "right_knee", "left_elbow", "right_elbow"],
    "ankles_wrists": ["left_ankle", "right_ankle", "left_wrist", "right_wrist"],
}
# Median local-rotation error in degrees with 5 mm noise on every joint and hint point. Measured:
# root 2.4, torso 10 (short spine and collar bones), hips/shoulders 5.3, knees/elbows 5.2,
# ankles/wrists 6.7. Bounds are about 1.4x that.
NOISY_BOUNDS_DEG = {"root": 3.5, "torso": 14.0, "hips_shoulders": 7.5, "knees_elbows": 7.5, "ankles_wrists": 9.5}


def test_noisy_joints_give_bounded_errors_per_joint_class() -> None:
    go, bp, tr = random_poses(400, seed=2)
    targets, glob_true = forward_kinematics(go, bp, REST, tr)
    points, hints = twist_hints(glob_true, targets)
    rng = np.random.default_rng(3)
    noisy = targets + rng.normal(scale=0.005, size=targets.shape)
    noisy_points = points + rng.normal(scale=0.005, size=points.shape)
    go_s, bp_s = solve_rotations(noisy, REST, hint_points=noisy_points, hints=hints)
    err = angle_deg(local_rotations(go_s, bp_s), local_rotations(go, bp))
    medians = {c: float(np.median(err[:, [JOINT_INDEX[n] for n in names]])) for c, names in JOINT_CLASSES.items()}
    for cls, bound in NOISY_BOUNDS_DEG.items():
        assert medians[cls] < bound, medians


def test_missing_targets_keep_identity_and_do_not_disturb_others() -> None:
    go, bp, tr = random_poses(50, seed=4)
    targets, _ = forward_kinematics(go, bp, REST, tr)
    targets[:, JOINT_INDEX["left_hand"]] = np.nan  # the left wrist's only child
    targets[:25, JOINT_INDEX["right_ankle"]] = np.nan  # the right knee's child, half of the frames
    go_s, bp_s = solve_rotations(targets, REST)
    assert np.abs(bp_s[:, JOINT_INDEX["left_wrist"] - 1]).max() < 1e-9
    assert np.abs(bp_s[:25, JOINT_INDEX["right_knee"] - 1]).max() < 1e-9
    assert np.all(np.isfinite(go_s)) and np.all(np.isfinite(bp_s))
    pos, _ = forward_kinematics(go_s, bp_s, REST, targets[:, 0] - REST[0])
    assert np.abs(pos[25:, JOINT_INDEX["right_ankle"]] - targets[25:, JOINT_INDEX["right_ankle"]]).max() < 1e-6
    assert np.abs(pos[:, JOINT_INDEX["left_wrist"]] - targets[:, JOINT_INDEX["left_wrist"]]).max() < 1e-6


def test_zero_confidence_limbs_still_follow_their_targets() -> None:
    go, bp, tr = random_poses(50, seed=6)
    targets, _ = forward_kinematics(go, bp, REST, tr)
    weights = np.ones((50, NUM_JOINTS))
    arm = [JOINT_INDEX[n] for n in ("left_shoulder", "left_elbow", "left_wrist", "left_hand")]
    weights[:, arm] = 0.0
    go_s, bp_s = solve_rotations(targets, REST, weights)
    pos, _ = forward_kinematics(go_s, bp_s, REST, targets[:, 0] - REST[0])
    assert np.abs(pos[:, arm] - targets[:, arm]).max() < 1e-6


def test_frames_are_independent() -> None:
    go, bp, tr = random_poses(20, seed=5)
    targets, _ = forward_kinematics(go, bp, REST, tr)
    go_all, bp_all = solve_rotations(targets, REST)
    go_one, bp_one = solve_rotations(targets[7:8], REST)
    np.testing.assert_allclose(go_one[0], go_all[7], atol=1e-12)
    np.testing.assert_allclose(bp_one[0], bp_all[7], atol=1e-12)


def test_spine_split_spreads_the_pelvis_to_thorax_rotation_evenly() -> None:
    go, bp, tr = random_poses(100, seed=6)
    targets, glob_true = forward_kinematics(go, bp, REST, tr)
    glob = solve_global_rotations(targets, REST, options=IkOptions(spine_split=True))
    s3 = SPINE_CHAIN[2]
    pelvis = JOINT_INDEX["pelvis"]
    local = [np.swapaxes(glob[:, PARENTS[j]], -1, -2) @ glob[:, j] for j in SPINE_CHAIN]
    assert angle_deg(local[0], local[1]).max() < 1e-6 and angle_deg(local[1], local[2]).max() < 1e-6
    # The thorax itself is where its children say it is.
    assert angle_deg(glob[:, s3], glob_true[:, s3]).max() < 1e-5
    assert angle_deg(glob[:, pelvis], glob_true[:, pelvis]).max() < 1e-5


def test_antiparallel_bone_does_not_break_the_swing() -> None:
    go = np.zeros((1, 3))
    bp = np.zeros((1, 23, 3))
    bp[0, JOINT_INDEX["left_knee"] - 1] = [np.pi, 0.0, 0.0]  # shin folded straight back up the thigh
    targets, _ = forward_kinematics(go, bp, REST)
    go_s, bp_s = solve_rotations(targets, REST)
    pos, _ = forward_kinematics(go_s, bp_s, REST)
    assert np.all(np.isfinite(bp_s))
    assert np.abs(pos - targets).max() < 1e-6


def reference_global_rotations(targets, rest, weights, hint_points, hint_weights, hints):
    """The solver as it was before its per-joint plans were cached (vectors built per call, joint by joint)."""
    n = targets.shape[0]
    by_joint: dict[int, list[Hint]] = {}
    for hint in hints:
        by_joint.setdefault(hint.joint, []).append(hint)
    glob = np.empty((n, NUM_JOINTS, 3, 3))
    eye = np.broadcast_to(np.eye(3), (n, 3, 3))
    for j in range(NUM_JOINTS):
        parent_rot = eye if PARENTS[j] < 0 else glob[:, PARENTS[j]]
        rest_vecs, obs_vecs, vec_w = [], [], []
        for c in children(j):
            rest_vecs.append(np.broadcast_to(rest[c] - rest[j], (n, 3)))
            obs_vecs.append(targets[:, c] - targets[:, j])
            vec_w.append(np.minimum(weights[:, j], weights[:, c]))
        n_children = len(rest_vecs)
        for hint in by_joint.get(j, []):
            rest_vecs.append(np.broadcast_to(np.asarray(hint.rest_direction, dtype=np.float64), (n, 3)))
            obs_vecs.append(hint_points[:, hint.point] - targets[:, j])
            vec_w.append(hint_weights[:, hint.point] * hint.scale)
        if not rest_vecs:
            glob[:, j] = parent_rot
            continue
        rest_dir, _ = unit_vectors(np.stack(rest_vecs, axis=1))
        obs_dir, obs_len = unit_vectors(np.stack(obs_vecs, axis=1))
        usable = np.isfinite(obs_len) & (obs_len > 1e-9)
        obs_dir = np.where(usable[..., None], obs_dir, 0.0)
        obs_len = np.where(usable, obs_len, 0.0)
        w = np.nan_to_num(np.stack(vec_w, axis=1), nan=0.0)
        w = np.where(usable, np.maximum(w, IkOptions().weight_floor), 0.0)
        if n_children == 1:
            glob[:, j] = _single_child(parent_rot, rest_dir, obs_dir, obs_len, w)
        else:
            glob[:, j] = _kabsch_or_swing(parent_rot, rest_dir, obs_dir, w)
    return glob


def test_cached_joint_plans_give_the_same_rotations_to_the_last_bit() -> None:
    rng = np.random.default_rng(3)
    for n in (1, 2, 5):
        go, bp, tr = random_poses(n, seed=n)
        targets, glob = forward_kinematics(go, bp, REST, tr)
        points, hints = twist_hints(glob, targets)
        targets = targets + rng.normal(scale=0.02, size=targets.shape)
        weights = rng.uniform(0.0, 1.0, size=(n, NUM_JOINTS))
        weights[0, 4] = np.nan
        hint_weights = rng.uniform(0.0, 1.0, size=points.shape[:2])
        hints = [
            Hint(h.joint, h.point, h.rest_direction, scale=0.3 if k % 3 == 0 else 1.0) for k, h in enumerate(hints)
        ]
        expected = reference_global_rotations(targets, REST, weights, points, hint_weights, hints)
        got = solve_global_rotations(targets, REST, weights, points, hint_weights, hints)
        assert np.array_equal(got, expected)


def test_cross_and_norm_match_numpy_to_the_last_bit() -> None:
    a, b = np.random.default_rng(4).normal(size=(2, 7, 5, 3))
    assert np.array_equal(_cross(a, b), np.cross(a, b))
    assert np.array_equal(_norm(a), np.linalg.norm(a, axis=-1))
