"""Gap fills that keep a walker's gait (ram_core.scene.gaps): the stride period found from the legs over the
frames seen, a 1 s hiding filled with the person's own strides instead of a slerp between its ends, and a
person who does not walk still slerped."""

from __future__ import annotations

import numpy as np

from ram_core.contract.results import Results, make_track
from ram_core.contract.skeleton import JOINT_INDEX, forward_kinematics
from ram_core.contract.smpl_model import default_rest_joints
from ram_core.scene.gaps import GapConfig, fill_track_gaps, gait_period
from tests.unit.test_relink import FPS, meta

PERIOD = 32.0  # frames per stride
HIDDEN = np.arange(50, 80)  # a 1 s hiding


def posed_track(
    go: np.ndarray, pose: np.ndarray, transl: np.ndarray, frame: np.ndarray | None = None, **extra: np.ndarray
) -> object:
    """Track 1 on ``frame`` (default 0..) with these rotations and pelvis path, posed on the default skeleton,
    observed; ``extra``: more record fields (``keypoints_2d``)."""
    n = len(go)
    joints, _ = forward_kinematics(go, pose, default_rest_joints(), transl)
    return make_track(
        1,
        frame=np.arange(n) if frame is None else frame,
        global_orient=go,
        body_pose=pose,
        betas=np.zeros((n, 10)),
        transl=transl,
        joints=joints,
        box=np.tile([300.0, 100.0, 340.0, 220.0], (n, 1)),
        confidence=np.ones(n),
        predicted=np.zeros(n, bool),
        **extra,
    )


def gait_pose(frames: np.ndarray, swing: float) -> np.ndarray:
    """``(T, 23, 3)`` local rotations of a walk: hips swinging opposite ways by ``swing`` radians, knees bending."""
    phase = 2.0 * np.pi * frames / PERIOD
    pose = np.zeros((len(frames), 23, 3))
    for side, sign in (("left", 1.0), ("right", -1.0)):
        pose[:, JOINT_INDEX[f"{side}_hip"] - 1, 0] = sign * swing * np.sin(phase)
        pose[:, JOINT_INDEX[f"{side}_knee"] - 1, 0] = swing * np.maximum(0.0, np.sin(phase + sign * 1.2))
    return pose


def walker(swing: float, seed: int = 0) -> tuple[object, np.ndarray]:
    """A person walking in place for 4 s (noisy records, legs seen) and hidden on :data:`HIDDEN`; and the truth's
    body pose on every frame."""
    rng = np.random.default_rng(seed)
    every = np.arange(120)
    truth = gait_pose(every, swing)
    frames = np.setdiff1d(every, HIDDEN)
    n = len(frames)
    pose = truth[frames] + rng.normal(0.0, 0.03, (n, 23, 3))
    go = np.tile([np.pi, 0.0, 0.0], (n, 1))  # upright in the camera frame (y down)
    transl = np.tile([0.0, 0.0, 5.0], (n, 1))
    keypoints = np.zeros((n, 24, 3))
    keypoints[..., 2] = 1.0
    return posed_track(go, pose, transl, frame=frames, keypoints_2d=keypoints), truth


def leg_error(track: object, truth: np.ndarray) -> float:
    """Mean angle (radians) off the truth of the hips and knees on the hidden frames."""
    rows = np.isin(track.frame, HIDDEN)
    legs = [JOINT_INDEX[n] - 1 for n in ("left_hip", "right_hip", "left_knee", "right_knee")]
    return float(np.mean(np.linalg.norm(track.body_pose[rows][:, legs] - truth[HIDDEN][:, legs], axis=-1)))


def test_the_stride_period_is_found_from_the_legs_seen_and_none_for_a_person_standing_still():
    walking, _ = walker(swing=0.5)
    assert abs(gait_period(walking, FPS, GapConfig()) - PERIOD) < 1.0
    standing, _ = walker(swing=0.0)
    assert gait_period(standing, FPS, GapConfig()) is None


def test_a_hidden_walker_keeps_walking_where_a_slerp_would_glide_with_legs_half_apart():
    track, truth = walker(swing=0.5)
    gait = fill_track_gaps(Results(meta(120), [track]), GapConfig(edge_s=0.0)).track(1)  # its edges: test_gap_edges
    slerped = fill_track_gaps(Results(meta(120), [track]), GapConfig(gait=False, edge_s=0.0)).track(1)
    assert gait.frame.tolist() == list(range(120))
    assert gait.predicted[HIDDEN].all() and not gait.predicted[~np.isin(gait.frame, HIDDEN)].any()
    assert leg_error(gait, truth) < 0.08  # about the records' own noise
    assert leg_error(slerped, truth) > 3 * leg_error(gait, truth)
    # Joints follow the filled rotations (forward kinematics), the root its straight line.
    rows = np.isin(gait.frame, HIDDEN)
    joints, _ = forward_kinematics(
        gait.global_orient[rows], gait.body_pose[rows], default_rest_joints(), gait.transl[rows]
    )
    np.testing.assert_allclose(gait.joints[rows], joints, atol=1e-5)


def test_a_person_who_does_not_walk_is_slerped_across_the_gap():
    track, _ = walker(swing=0.0)
    out = fill_track_gaps(Results(meta(120), [track])).track(1)
    slerped = fill_track_gaps(Results(meta(120), [track]), GapConfig(gait=False)).track(1)
    np.testing.assert_allclose(out.body_pose, slerped.body_pose)
