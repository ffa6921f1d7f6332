"""Planted feet without a floor (ram_core.scene.planted): a person crouching on one spot, whose distance the
backend lets drift with their apparent size, keeps their feet at one distance; a walker's moving feet and a
camera suspected of moving are left alone."""

from __future__ import annotations

import dataclasses

import numpy as np

from ram_core.contract.results import SCENE_MOVING, SCENE_NO_FLOOR, Results, make_track
from ram_core.contract.skeleton import JOINT_INDEX
from ram_core.scene.planted import hold_planted
from tests.unit.test_relink import meta

FPS = 30.0
FEET = [JOINT_INDEX["left_foot"], JOINT_INDEX["right_foot"]]
SHOULDERS = [JOINT_INDEX["left_shoulder"], JOINT_INDEX["right_shoulder"]]


def crouching(walk: float = 0.0) -> tuple[object, np.ndarray]:
    """A person 5 m away for 3 s (feet 1 m below the camera), crouching from 1 s to 2 s; the backend's distance
    drifts 1 m away over the crouch along each joint's own ray (the pixels stay). ``walk``: m/s across the
    picture. Returns the track and the true foot distances ``(T, 2)``."""
    n = int(3 * FPS)
    t = np.arange(n) / FPS
    bend = np.clip(np.minimum(t - 1.0, 2.0 - t) * 4.0, 0.0, 1.0)  # 0 standing, 1 crouched
    joints = np.zeros((n, 24, 3))
    joints[..., 2] = 5.0
    joints[..., 0] = walk * t[:, None]
    joints[:, :, 1] = 0.0  # pelvis height: the camera's, 1 m above the feet
    joints[:, FEET, 1] = 1.0
    joints[:, FEET[0], 0] -= 0.1
    joints[:, FEET[1], 0] += 0.1
    joints[:, SHOULDERS, 1] = -0.5 + 0.4 * bend[:, None]  # a bent body's shoulders come down
    true = np.linalg.norm(joints[:, FEET], axis=-1)
    drift = 1.0 * bend  # metres, along every joint's ray
    rays = joints / np.linalg.norm(joints, axis=-1, keepdims=True)
    seen = joints + drift[:, None, None] * rays
    track = make_track(
        1,
        frame=np.arange(n),
        global_orient=np.zeros((n, 3)),
        body_pose=np.zeros((n, 23, 3)),
        betas=np.zeros((n, 10)),
        transl=seen[:, 0].copy(),
        joints=seen,
        box=np.tile([300.0, 100.0, 340.0, 220.0], (n, 1)),
        confidence=np.ones(n),
        predicted=np.zeros(n, bool),
    )
    return track, true


def no_floor(track: object, status: str = SCENE_NO_FLOOR) -> Results:
    base = meta(int(3 * FPS))
    return Results(dataclasses.replace(base, fps=FPS, scene_status=f"{status}: test"), [track])


def test_a_crouch_on_one_spot_keeps_the_feet_at_the_distance_they_stood_at():
    track, true = crouching()
    held = hold_planted(no_floor(track)).track(1)
    before = np.abs(np.linalg.norm(track.joints[:, FEET], axis=-1) - true).max()
    after = np.abs(np.linalg.norm(held.joints[:, FEET], axis=-1) - true).max()
    assert before > 0.9 and after < 0.05, (before, after)
    # One move for the whole body along its pelvis ray: bone vectors and the pelvis's pixel unchanged.
    np.testing.assert_allclose(held.joints - held.joints[:, :1], track.joints - track.joints[:, :1], atol=1e-5)
    pelvis = held.joints[:, 0] / held.joints[:, 0, 2:]
    np.testing.assert_allclose(pelvis, track.joints[:, 0] / track.joints[:, 0, 2:], atol=1e-6)
    np.testing.assert_allclose(held.transl - track.transl, held.joints[:, 0] - track.joints[:, 0], atol=1e-5)


def test_moving_feet_and_a_moving_camera_are_left_alone():
    walker, _ = crouching(walk=1.4)
    assert np.array_equal(hold_planted(no_floor(walker)).track(1).joints, walker.joints)
    track, _ = crouching()
    assert np.array_equal(hold_planted(no_floor(track, SCENE_MOVING)).track(1).joints, track.joints)
