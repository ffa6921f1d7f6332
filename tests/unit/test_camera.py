"""Intrinsics (assumed focal length) and the root translation from 2D keypoints."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ram_core.body.camera import DEFAULT_FOV_DEG, RobustLoss, pinhole_intrinsics, project, solve_translation
from ram_core.contract.skeleton import JOINT_INDEX, forward_kinematics
from ram_core.contract.smpl_model import default_rest_joints


def test_pinhole_intrinsics_assume_the_longer_side_as_focal_length() -> None:
    K = pinhole_intrinsics(768, 576)
    assert K[0, 0] == pytest.approx(768.0) and K[1, 1] == K[0, 0]
    assert tuple(K[:2, 2]) == (384.0, 288.0)
    assert pytest.approx(53.13, abs=0.01) == DEFAULT_FOV_DEG  # across the longer side
    assert pinhole_intrinsics(576, 768)[0, 0] == pytest.approx(768.0)  # portrait or landscape
    assert pinhole_intrinsics(1920, 1080, 500.0)[0, 0] == 500.0
    with pytest.raises(ValueError):
        pinhole_intrinsics(640, 480, 0.0)


def people(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Posed skeletons relative to the pelvis (camera orientation) and true translations."""
    rng = np.random.default_rng(seed)
    go = np.tile([math.pi, 0.0, 0.0], (n, 1)) + rng.normal(scale=0.3, size=(n, 3))
    bp = rng.normal(scale=0.3, size=(n, 23, 3))
    joints, _ = forward_kinematics(go, bp, default_rest_joints())
    t = np.stack([rng.uniform(-2, 2, n), rng.uniform(-1, 1, n), rng.uniform(3, 15, n)], axis=1)
    return joints, t


def test_exact_projections_give_exact_translation() -> None:
    joints, t = people(100, seed=0)
    K = pinhole_intrinsics(768, 576)
    uv = project(joints + t[:, None], K)
    t_est = solve_translation(joints, uv, None, K)
    np.testing.assert_allclose(t_est, t, rtol=1e-8, atol=1e-8)


def test_noisy_weighted_projections_recover_translation_within_one_percent() -> None:
    joints, t = people(200, seed=1)
    K = pinhole_intrinsics(1280, 720)
    rng = np.random.default_rng(2)
    uv = project(joints + t[:, None], K) + rng.normal(scale=0.5, size=(200, 24, 2))  # half a pixel
    weights = np.ones((200, 24))
    weights[:, 20:] = 0.0  # hands and wrists unseen ...
    uv[:, 20:] += 300.0  # ... and wildly wrong, which their zero weight must ignore
    t_est = solve_translation(joints, uv, weights, K)
    rel = np.linalg.norm(t_est - t, axis=1) / np.linalg.norm(t, axis=1)
    assert rel.max() < 0.01, rel.max()


def test_a_poor_start_converges() -> None:
    # A body seen edge-on close to the camera makes the linear (depth-weighted) start less accurate.
    joints, t = people(50, seed=3)
    t[:, 2] = 1.5
    t[:, 0] = 1.0
    K = pinhole_intrinsics(640, 480)
    uv = project(joints + t[:, None], K)
    np.testing.assert_allclose(solve_translation(joints, uv, None, K), t, atol=1e-7)


def test_underdetermined_frames_are_nan() -> None:
    joints, t = people(3, seed=4)
    K = pinhole_intrinsics(640, 480)
    uv = project(joints + t[:, None], K)
    weights = np.ones((3, 24))
    weights[1] = 0.0
    weights[1, 0] = 1.0  # a single point cannot give depth
    uv[2, 5] = np.nan  # a missing keypoint is ignored
    t_est = solve_translation(joints, uv, weights, K)
    assert np.all(np.isnan(t_est[1])) and np.all(np.isfinite(t_est[[0, 2]]))
    np.testing.assert_allclose(t_est[2], t[2], atol=1e-7)


@pytest.mark.parametrize(
    ("joints_moved", "shift"),
    [
        (("left_elbow", "left_wrist", "left_hand"), (0.0, -0.5)),  # an arm put on the taller person behind
        (("left_knee", "left_ankle", "left_foot"), (0.4, 0.0)),  # a leg put on the person beside
        (("head", "neck"), (0.0, -0.2)),  # the head put on the person behind
    ],
)
def test_robust_solve_ignores_a_limb_on_another_person(
    joints_moved: tuple[str, ...], shift: tuple[float, float]
) -> None:
    joints, t = people(200, seed=5)
    t[:, 2] = np.random.default_rng(6).uniform(4, 15, len(t))
    K = pinhole_intrinsics(768, 576)
    rng = np.random.default_rng(7)
    uv = project(joints + t[:, None], K) + rng.normal(scale=1.0, size=(len(t), 24, 2))
    height = np.ptp(uv[..., 1], axis=1)
    moved = [JOINT_INDEX[name] for name in joints_moved]
    uv[:, moved] += np.array(shift) * height[:, None, None]
    plain = np.abs(solve_translation(joints, uv, None, K, robust=None)[:, 2] / t[:, 2] - 1)
    robust = np.abs(solve_translation(joints, uv, None, K)[:, 2] / t[:, 2] - 1)
    assert plain.max() > 0.05  # least squares is pulled off ...
    assert robust.max() < 0.05, robust.max()  # ... the robust solve keeps depth within 5% (measured: 2.2%)
    assert np.median(robust) < 0.01


def test_robust_solve_keeps_a_good_fit_and_needs_enough_points() -> None:
    joints, t = people(20, seed=8)
    K = pinhole_intrinsics(768, 576)
    uv = project(joints + t[:, None], K)
    np.testing.assert_allclose(solve_translation(joints, uv, None, K), t, atol=1e-7)
    # Three points are too few to tell an outlier: the (converged) plain solve stands.
    weights = np.zeros((20, 24))
    weights[:, [0, 10, 15]] = 1.0
    uv[:, 15] += 40.0
    np.testing.assert_allclose(
        solve_translation(joints, uv, weights, K), solve_translation(joints, uv, weights, K, 50, robust=None), atol=1e-6
    )
    assert RobustLoss().tukey > RobustLoss().huber
