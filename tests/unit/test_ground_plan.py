"""The grounded plan's numpy parts: the root's heading, the foot lock, contact keys across gaps."""

from __future__ import annotations

import numpy as np
import pytest

from ram_blender.importer.foot_lock import BLEND, lock_feet, pin_weights
from ram_blender.importer.plan import gap_filled_keys, heading, rotation_z
from ram_core.contract.results import make_track
from ram_core.contract.skeleton import NUM_BETAS, axis_angle_to_matrix, forward_kinematics
from ram_core.contract.smpl_model import default_rest_joints


@pytest.mark.parametrize("bend", [0.0, 60.0, 90.0, 120.0])
def test_heading_survives_bending_forward(bend):
    yaw = np.radians([30.0, -170.0, 175.0])
    pitch = axis_angle_to_matrix(np.array([-np.radians(bend), 0.0, 0.0]))  # about the hip line (X)
    pelvis = rotation_z(yaw) @ pitch
    got = heading(pelvis)
    np.testing.assert_allclose(np.angle(np.exp(1j * (got - yaw))), 0.0, atol=1e-9)


def test_heading_is_unwrapped():
    yaw = np.linspace(0.0, 4 * np.pi, 50)
    np.testing.assert_allclose(heading(rotation_z(yaw)), yaw, atol=1e-9)


def test_pin_weights_ease_in_and_out_and_stop_at_gaps():
    frames = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 20, 21, 22])
    planted = np.zeros(len(frames), dtype=bool)
    planted[5:8] = True  # frames 5-7
    planted[10:12] = True  # frames 20-21, after a gap
    run, weight = pin_weights(frames, planted)
    assert list(run[5:8]) == [0, 0, 0] and (weight[5:8] == 1).all()
    np.testing.assert_allclose(weight[5 - BLEND : 5], np.arange(1, BLEND + 1) / (BLEND + 1))
    np.testing.assert_allclose(weight[8:10], [BLEND / (BLEND + 1), (BLEND - 1) / (BLEND + 1)])
    assert list(run[10:]) == [1, 1, 1] and weight[12] == pytest.approx(BLEND / (BLEND + 1))
    assert weight[:1].max() == 0.0


def test_contact_keys_are_zero_in_gaps():
    keys = gap_filled_keys(np.array([1, 2, 6]), np.array([[1.0, 0.5], [1.0, 0.0], [0.2, 1.0]]), 0.0)
    np.testing.assert_array_equal(keys.frames, [1, 2, 3, 6])
    np.testing.assert_array_equal(keys.values, [[1.0, 0.5], [1.0, 0.0], [0.0, 0.0], [0.2, 1.0]])


@pytest.mark.parametrize("bent", [True, False])
def test_lock_feet_holds_a_sliding_planted_foot_and_moves_only_the_legs(bent):
    """A body sliding 10 cm over a left foot's contact; with the leg nearly straight the run's mean foot
    position is out of reach from some frames, so the pin is one the leg reaches from all."""
    rest = default_rest_joints()
    n = 20
    rng = np.random.default_rng(1)
    flip = np.array([np.pi, 0.0, 0.0])  # upright in the camera frame (y down)
    body_pose = rng.normal(0.0, 0.05, (n, 23, 3))
    if bent:
        body_pose[:, 0, 0] -= 0.5  # the left hip flexed and its knee bent
        body_pose[:, 3, 0] += 1.0
    transl = np.column_stack([np.linspace(0.0, 0.1, n), np.full(n, 0.2), np.full(n, 4.0)])  # slides 10 cm
    go = np.tile(flip, (n, 1))
    joints, _ = forward_kinematics(go, body_pose, rest, transl)
    contact = np.zeros((n, 2), dtype=np.float32)
    contact[4:16, 0] = 1.0
    track = make_track(
        1,
        frame=np.arange(n),
        global_orient=go,
        body_pose=body_pose,
        betas=np.zeros((n, NUM_BETAS)),
        transl=transl,
        joints=joints,
        box=np.zeros((n, 4)),
        confidence=np.ones(n),
        predicted=np.zeros(n, dtype=bool),
        contact=contact,
    )
    locked = lock_feet(track, rest)
    got, _ = forward_kinematics(locked.global_orient, locked.body_pose, rest, locked.transl)
    np.testing.assert_allclose(got, locked.joints, atol=1e-5)
    foot = got[4:16, 10]
    assert np.linalg.norm(foot - foot.mean(axis=0), axis=-1).max() < 1e-3
    assert np.linalg.norm(joints[4:16, 10] - joints[4:16, 10].mean(axis=0), axis=-1).max() > 0.04
    left_leg = [1, 4, 7, 10]
    others = [j for j in range(24) if j not in (4, 7, 10)]
    np.testing.assert_allclose(got[:, others], joints[:, others], atol=1e-6)
    np.testing.assert_allclose(got[:, left_leg][[0, -1]], joints[:, left_leg][[0, -1]], atol=1e-6)  # outside the ease


def test_the_ground_plan_covers_every_joint_on_the_solved_floor_only():
    from dataclasses import replace

    from ram_blender.importer.plan import GROUND_MARGIN, plan_ground
    from ram_core.contract.results import CaptureMeta, Results

    n = 5
    joints = np.zeros((n, 24, 3))
    joints[:, :, 0] = np.linspace(-1.0, 2.0, n)[:, None]  # camera x: right
    joints[:, :, 2] = np.linspace(3.0, 6.0, n)[:, None]  # camera z: forward
    zeros = {"global_orient": np.zeros((n, 3)), "body_pose": np.zeros((n, 23, 3)), "transl": np.zeros((n, 3))}
    track = make_track(1, frame=np.arange(n), betas=np.zeros((n, NUM_BETAS)), joints=joints, box=np.zeros((n, 4)),
                       confidence=np.ones(n), predicted=np.zeros(n, dtype=bool), **zeros)  # fmt: skip
    meta = CaptureMeta("v.mp4", 25.0, 640, 480, n, 0, n, np.eye(3), True, "lite", default_rest_joints(), "test")
    assert plan_ground(Results(meta, [track])) is None  # no scene solve: no floor
    level = np.array([[1.0, 0, 0, 0], [0, 0, 1, 0], [0, -1, 0, 2.0], [0, 0, 0, 1]])  # 2 m up, looking level
    solved = replace(meta, world_from_camera=level)
    assert plan_ground(Results(solved, [])) is None
    corners = plan_ground(Results(solved, [track])).corners
    np.testing.assert_allclose(corners[:, 2], 0.0)
    np.testing.assert_allclose(corners[:, :2].min(axis=0), np.array([-1.0, 3.0]) - GROUND_MARGIN)
    np.testing.assert_allclose(corners[:, :2].max(axis=0), np.array([2.0, 6.0]) + GROUND_MARGIN)
