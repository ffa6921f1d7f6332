"""The optional foot lock at import: each planted foot held still through its contact run (numpy only).

A foot is planted where the results' ``contact`` is at least 0.5; a run of planted frames (never across a
gap) pins the foot joint (the ball of the foot) at its mean position over the run, or, where a
straightened leg could not reach that from every frame, at the reachable place nearest it among the
run's own foot positions (:func:`_pin`). The leg reaches the pin by two-bone IK: the ankle goes where
the pinned foot needs it (the ankle keeps its fitted world rotation, so the foot keeps its roll), the
knee stays in the leg's own bending plane, the hip and knee rotations change and nothing above the hip
moves. A pin still out of reach is approached as far as the straightened leg allows. Over
:data:`BLEND` frames on each side of a run the pin eases in and out, so the foot never jumps.
Everything is in the camera frame (a static camera: a point fixed there is fixed in the world).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ram_core.contract.results import Track
from ram_core.contract.skeleton import JOINT_INDEX, PARENTS, forward_kinematics, matrix_to_axis_angle, two_bone_reach

BLEND = 3
PLANTED = 0.5
# Per foot (left, right): hip, knee, ankle, foot joints.
LEGS = tuple(tuple(JOINT_INDEX[f"{side}_{j}"] for j in ("hip", "knee", "ankle", "foot")) for side in ("left", "right"))


def pin_weights(frames: np.ndarray, planted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each record: the contact run whose pin applies (-1: none) and its weight (1 inside the run,
    easing to 0 over :data:`BLEND` records each side, within the same stretch of consecutive frames).

    ``frames`` ``(T,)`` sorted video frames; ``planted`` ``(T,)`` bool.
    """
    n = len(frames)
    run_id = np.full(n, -1)
    weight = np.zeros(n)
    breaks = np.flatnonzero(np.diff(frames) > 1) + 1
    stretch = np.searchsorted(breaks, np.arange(n), side="right")  # which stretch of consecutive frames
    edges = np.diff(np.concatenate([[0], planted.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    run = 0
    for a, b in zip(starts, ends):
        for s in np.unique(stretch[a:b]):  # a run crossing a gap is one run per side
            idx = np.arange(a, b)[stretch[a:b] == s]
            lo, hi = idx[0], idx[-1]
            near = np.flatnonzero(stretch == s)
            dist = np.maximum(np.maximum(lo - near, near - hi), 0)
            w = np.clip(1.0 - dist / (BLEND + 1.0), 0.0, 1.0)
            better = w > weight[near]
            weight[near[better]] = w[better]
            run_id[near[better]] = run
            run += 1
    return run_id, weight


def _pin(run: np.ndarray, reach: float) -> np.ndarray:
    """Where to hold a foot through its run: ``run`` ``(R, 3, 3)`` the hip, ankle and foot joints per frame.

    The run's mean foot position, unless a straightened leg cannot reach it from some frame: then the
    foot position (the mean or one of the run's own) that the leg overreaches least in its worst frame.
    """
    hip, ankle, foot = run[:, 0], run[:, 1], run[:, 2]
    candidates = np.concatenate([foot.mean(axis=0)[None], foot])  # (C, 3)
    # The ankle's place for a foot held at c keeps the ankle-to-foot offset of each frame.
    ankle_at = candidates[:, None] - (foot - ankle)[None]  # (C, R, 3)
    over = np.maximum(np.linalg.norm(ankle_at - hip[None], axis=-1) - reach, 0.0).max(axis=1)  # (C,)
    best = np.flatnonzero(over <= over.min() + 1e-6)
    return candidates[best[np.argmin(np.linalg.norm(candidates[best] - candidates[0], axis=-1))]]


def lock_feet(track: Track, rest_joints: np.ndarray) -> Track:
    """``track`` with each planted foot held still through each contact run (see the module docstring).

    ``rest_joints`` ``(24, 3)`` the track's rest skeleton (SMPL canonical frame, metres). Only the hip,
    knee and ankle rotations (``body_pose``) and the ``joints`` change.
    """
    if not len(track):
        return track
    rest = np.asarray(rest_joints, dtype=np.float64)
    go = track.global_orient.astype(np.float64)
    body_pose = track.body_pose.astype(np.float64).copy()
    transl = track.transl.astype(np.float64)
    joints, rots = forward_kinematics(go, body_pose, rest, transl)
    frames = np.asarray(track.frame)
    for k, (hip, knee, ankle, foot) in enumerate(LEGS):
        run_id, weight = pin_weights(frames, track.contact[:, k] >= PLANTED)
        t = np.flatnonzero(weight > 0)
        if not len(t):
            continue
        thigh = float(np.linalg.norm(rest[knee] - rest[hip]))
        shin = float(np.linalg.norm(rest[ankle] - rest[knee]))
        run_frames = [np.flatnonzero((run_id == r) & (weight == 1.0)) for r in range(run_id.max() + 1)]
        pins = np.array([_pin(joints[f][:, [hip, ankle, foot]], thigh + shin) for f in run_frames])
        ball = joints[t, foot]
        goal = joints[t, ankle] + weight[t, None] * (pins[run_id[t]] - ball)
        turn_hip, turn_shin = two_bone_reach(joints[t, hip], joints[t, knee], joints[t, ankle], goal)
        turn_knee = turn_shin @ turn_hip
        g_hip = turn_hip @ rots[t, hip]
        g_knee = turn_knee @ rots[t, knee]
        g_pelvis = rots[t, PARENTS[hip]]
        body_pose[t, hip - 1] = matrix_to_axis_angle(np.swapaxes(g_pelvis, 1, 2) @ g_hip)
        body_pose[t, knee - 1] = matrix_to_axis_angle(np.swapaxes(g_hip, 1, 2) @ g_knee)
        body_pose[t, ankle - 1] = matrix_to_axis_angle(np.swapaxes(g_knee, 1, 2) @ rots[t, ankle])
    locked, _ = forward_kinematics(go, body_pose, rest, transl)
    return dataclasses.replace(
        track, body_pose=body_pose.astype(track.body_pose.dtype), joints=locked.astype(track.joints.dtype)
    )
