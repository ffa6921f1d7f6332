"""tools/pose_errors.py: the whole body's rotation split into heading (about the floor's normal) and tilt."""

from __future__ import annotations

import numpy as np

from ram_core.contract.skeleton import axis_angle_to_matrix
from ram_core.contract.smpl_model import default_rest_joints
from tools.pose_errors import best_rotation, body_frame, heading_and_tilt

UP = np.array([0.0, -1.0, 0.0])  # camera frame: y down, so the floor's normal points up along -y


def test_a_turned_and_tilted_body_gives_its_heading_and_tilt():
    truth = np.repeat(default_rest_joints()[None], 2, axis=0)
    turn = axis_angle_to_matrix(np.array([[0.0, np.radians(30.0), 0.0], [np.radians(10.0), 0.0, 0.0]]))
    pred = np.einsum("nij,nkj->nki", turn, truth)
    rotation = best_rotation(pred, truth)
    np.testing.assert_allclose(rotation, np.swapaxes(turn, 1, 2), atol=1e-9)
    heading, tilt = heading_and_tilt(rotation, UP)
    np.testing.assert_allclose(heading, [30.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(tilt, [0.0, 10.0], atol=1e-6)


def test_the_body_frame_of_the_rest_pose_is_the_identity():
    np.testing.assert_allclose(body_frame(default_rest_joints()[None])[0], np.eye(3), atol=0.2)
