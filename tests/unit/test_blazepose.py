"""BlazePose landmarks -> SMPL targets and rotations, on landmarks made from a posed skeleton."""

from __future__ import annotations

import numpy as np

from ram_core.body.blazepose import (
    FOOT_ALONG_SOLE,
    LM,
    NUM_LANDMARKS,
    REST_FROM_HEAD,
    REST_HEEL_FROM_ANKLE,
    landmarks_to_rotations,
    skeleton_landmarks,
    smpl_targets,
)
from ram_core.contract.skeleton import (
    JOINT_INDEX,
    JOINT_NAMES,
    axis_angle_to_matrix,
    forward_kinematics,
    matrix_to_axis_angle,
)
from ram_core.contract.smpl_model import default_rest_joints

REST = default_rest_joints()
J = JOINT_INDEX
# BlazePose world landmarks are camera-oriented (x right, y down, z away). A person upright and facing
# the camera: body up -> -y, body front -> -z, body left -> +x (their left is on the image's right).
FACING_CAMERA = np.diag([1.0, -1.0, -1.0])


def rest_landmark_points() -> dict[str, tuple[int, np.ndarray]]:
    """Each landmark as (joint it moves with, its rest position in the body frame)."""
    pts: dict[str, tuple[int, np.ndarray]] = {}
    for side, sx in (("left", 1.0), ("right", -1.0)):
        pts[f"{side}_hip"] = (J["pelvis"], REST[J[f"{side}_hip"]] + [sx * 0.03, 0.0, 0.0])
        for name in ("shoulder", "elbow", "wrist", "knee", "ankle"):
            pts[f"{side}_{name}"] = (J[f"{side}_{name}"], REST[J[f"{side}_{name}"]])
        pts[f"{side}_index"] = (J[f"{side}_wrist"], REST[J[f"{side}_hand"]] + [0.0, 0.0, 0.04])
        pts[f"{side}_pinky"] = (J[f"{side}_wrist"], REST[J[f"{side}_hand"]] + [0.0, 0.0, -0.04])
        pts[f"{side}_thumb"] = (J[f"{side}_wrist"], REST[J[f"{side}_hand"]] + [0.0, 0.0, 0.06])
        heel = REST[J[f"{side}_ankle"]] + REST_HEEL_FROM_ANKLE
        pts[f"{side}_heel"] = (J[f"{side}_ankle"], heel)
        pts[f"{side}_foot_index"] = (J[f"{side}_ankle"], heel + (REST[J[f"{side}_foot"]] - heel) / FOOT_ALONG_SOLE)
    for name, offset in REST_FROM_HEAD.items():
        pts[name] = (J["head"], REST[J["head"]] + offset)
    for name in LM:
        pts.setdefault(name, (J["head"], REST[J["head"]] + [0.0, 0.05, 0.08]))  # eyes, mouth: unused
    return pts


def make_landmarks(global_orient: np.ndarray, body_pose: np.ndarray) -> np.ndarray:
    """``(T, 33, 3)`` world landmarks (hip-centred) of the posed rest skeleton."""
    pos, glob = forward_kinematics(global_orient, body_pose, REST)
    out = np.empty((len(pos), NUM_LANDMARKS, 3))
    for name, (joint, rest_point) in rest_landmark_points().items():
        out[:, LM[name]] = pos[:, joint] + np.einsum("tij,j->ti", glob[:, joint], rest_point - REST[joint])
    return out - 0.5 * (out[:, [LM["left_hip"]]] + out[:, [LM["right_hip"]]])


def limb_poses(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Facing the camera, turned up to 60 degrees; rigid torso; hinge knees and elbows; free hips, shoulders, neck."""
    rng = np.random.default_rng(seed)
    yaw = rng.uniform(-1.0, 1.0, n)
    global_orient = matrix_to_axis_angle(FACING_CAMERA @ axis_angle_to_matrix(np.stack([0 * yaw, yaw, 0 * yaw], 1)))
    body_pose = np.zeros((n, 23, 3))
    for name in ("left_hip", "right_hip", "left_shoulder", "right_shoulder", "neck", "head"):
        body_pose[:, J[name] - 1] = rng.uniform(-0.5, 0.5, (n, 3))
    for side, sign in (("left", -1.0), ("right", 1.0)):
        body_pose[:, J[f"{side}_knee"] - 1, 0] = rng.uniform(0.2, 1.8, n)
        body_pose[:, J[f"{side}_elbow"] - 1, 1] = sign * rng.uniform(0.2, 1.8, n)
        body_pose[:, J[f"{side}_ankle"] - 1] = rng.uniform(-0.2, 0.2, (n, 3))
        body_pose[:, J[f"{side}_wrist"] - 1] = rng.uniform(-0.3, 0.3, (n, 3))
    return global_orient, body_pose


def angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.degrees(np.linalg.norm(matrix_to_axis_angle(np.swapaxes(a, -1, -2) @ b), axis=-1))


def test_rest_pose_landmarks_give_identity_rotations_and_rest_joints() -> None:
    go = matrix_to_axis_angle(FACING_CAMERA)[None]
    world = make_landmarks(go, np.zeros((1, 23, 3)))
    targets = smpl_targets(world, np.ones((1, NUM_LANDMARKS)), REST)
    expected = (REST - REST[J["pelvis"]]) @ FACING_CAMERA.T
    offset = targets.joints[0, J["pelvis"]]
    fitted = [j for j in range(24) if j != J["spine2"]]  # spine2 is interpolated on a straight line
    np.testing.assert_allclose(targets.joints[0, fitted] - offset, expected[fitted], atol=1e-9)
    go_s, bp_s, _ = landmarks_to_rotations(world, np.ones((1, NUM_LANDMARKS)), REST)
    assert np.abs(bp_s).max() < 1e-6
    assert angle_deg(axis_angle_to_matrix(go_s), FACING_CAMERA[None]).max() < 1e-6


def test_posed_landmarks_recover_rotations() -> None:
    go, bp = limb_poses(200, seed=0)
    world = make_landmarks(go, bp)
    go_s, bp_s, targets = landmarks_to_rotations(world, np.ones((200, NUM_LANDMARKS)), REST)
    local = axis_angle_to_matrix(np.concatenate([go_s[:, None], bp_s], 1))
    truth = axis_angle_to_matrix(np.concatenate([go[:, None], bp], 1))
    err = angle_deg(local, truth)
    glob_err = angle_deg(forward_kinematics(go_s, bp_s, REST)[1], forward_kinematics(go, bp, REST)[1])
    worst = {JOINT_NAMES[j]: round(float(err[:, j].max()), 2) for j in range(24)}
    # Exact: the torso, the arms (hinge elbows), and the global orientation of the head and ankles.
    # Not separable from landmarks: neck vs head twist, and knee twist vs the ankle's (the toes set
    # both); a hip's twist blends the knee's bend plane with the toes' direction.
    blended = ("neck", "head", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")
    exact = [j for j in range(24) if JOINT_NAMES[j] not in blended]
    assert err[:, exact].max() < 1e-4, worst
    assert glob_err[:, [J["head"], J["left_ankle"], J["right_ankle"]]].max() < 1e-4
    hips_knees = err[:, [J["left_hip"], J["right_hip"], J["left_knee"], J["right_knee"]]]
    # Measured: hips median 1.5, max 7; knees median 5.5, max 20 (ankles turned up to 11 degrees per axis).
    assert np.median(hips_knees[:, :2]) < 3.0 and np.median(hips_knees[:, 2:]) < 8.0, worst
    assert hips_knees.max() < 25.0, worst
    # The posed skeleton lands on the targets it was fitted to (spine2 is interpolated, not fitted).
    pos, _ = forward_kinematics(go_s, bp_s, REST, targets.joints[:, 0] - REST[0])
    fitted = [j for j in range(24) if j not in (J["spine1"], J["spine2"])]
    assert np.abs(pos[:, fitted] - targets.joints[:, fitted]).max() < 1e-6


def test_weights_follow_visibility() -> None:
    go, bp = limb_poses(4, seed=1)
    vis = np.ones((4, NUM_LANDMARKS))
    vis[:, LM["left_ankle"]] = 0.2
    vis[:, LM["right_ear"]] = 0.0
    targets = smpl_targets(make_landmarks(go, bp), vis, REST)
    assert np.all(targets.weights[:, J["left_ankle"]] == 0.2)
    assert np.all(targets.weights[:, J["head"]] == 0.0)
    assert np.all(targets.weights[:, J["pelvis"]] == 1.0)
    assert targets.hint_points.shape == (4, NUM_LANDMARKS, 3)


def test_skeleton_landmarks_put_the_landmarks_back_on_the_skeleton() -> None:
    go, bp = limb_poses(50, seed=2)
    world = make_landmarks(go, bp)  # hip-centred
    pos, rot = forward_kinematics(go, bp, REST)
    points = skeleton_landmarks(pos, rot, REST)
    hips = [LM["left_hip"], LM["right_hip"]]
    points = points - points[:, hips].mean(axis=1, keepdims=True)
    defined = np.all(np.isfinite(points), axis=(0, 2))
    assert sorted(np.flatnonzero(~defined)) == sorted(
        LM[n] for n in LM if "eye" in n or "mouth" in n or (n.endswith(("pinky", "index", "thumb")) and "foot" not in n)
    )
    same = [i for i in np.flatnonzero(defined) if i not in hips]
    np.testing.assert_allclose(points[:, same], world[:, same], atol=1e-9)
    # BlazePose's hips sit 3 cm outside SMPL's hip joints in make_landmarks; the skeleton gives the joints.
    np.testing.assert_allclose(np.linalg.norm(points[:, hips] - world[:, hips], axis=-1), 0.03, atol=1e-9)


def test_a_self_occluded_arm_follows_its_landmarks_not_the_rest_pose() -> None:
    # Turned 60 degrees, the far (left) arm hidden behind the body: BlazePose still guesses its landmarks
    # but gives them near-zero visibility. The arm must take the guessed direction, not a T-pose.
    go, bp = limb_poses(50, seed=3)
    world = make_landmarks(go, bp)
    vis = np.ones((50, NUM_LANDMARKS))
    hidden = ("left_shoulder", "left_elbow", "left_wrist", "left_index", "left_pinky", "left_thumb")
    vis[:, [LM[name] for name in hidden]] = 1e-3
    go_s, bp_s, _ = landmarks_to_rotations(world, vis, REST)
    glob_fit = forward_kinematics(go_s, bp_s, REST)[1]
    glob_true = forward_kinematics(go, bp, REST)[1]
    arm = [J["left_shoulder"], J["left_elbow"], J["left_wrist"]]
    assert angle_deg(glob_fit[:, arm], glob_true[:, arm]).max() < 1e-3
