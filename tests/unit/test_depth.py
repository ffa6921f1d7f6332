"""Steady depth (ram_core.scene.depth): distances smoothed over the clip, bodies moved along their rays."""

from __future__ import annotations

import numpy as np
import pytest

from ram_core.body.camera import pinhole_intrinsics, project
from ram_core.contract.results import make_track
from ram_core.scene.depth import smooth_distances, smooth_track_depth, solve_pentadiagonal


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 40])
def test_the_banded_solver_equals_a_dense_solve(n):
    rng = np.random.default_rng(0)
    w, rhs = rng.uniform(0.5, 2.0, n), rng.normal(size=n)
    d2 = np.zeros((max(n - 2, 0), n))
    for i in range(n - 2):
        d2[i, i : i + 3] = [1.0, -2.0, 1.0]
    dense = np.linalg.solve(np.diag(w) + 7.0 * d2.T @ d2, rhs)
    np.testing.assert_allclose(solve_pentadiagonal(w, 7.0, rhs), dense, atol=1e-10)


def test_a_three_frame_run_keeps_its_distance():
    """Three frames between gaps were pulled to the camera (about 0 m: a wrong diagonal for three frames)."""
    d = np.array([7.3, 6.6, 7.0])
    x = smooth_distances(d, fps=25.0)  # about the straight line through them
    np.testing.assert_allclose(x, 6.967 + 0.15 * np.array([1.0, 0.0, -1.0]), atol=0.05)


def walker(n: int = 100, fps: float = 25.0, noise: float = 0.05, seed: int = 0):
    """A body walking toward the camera at 1.3 m/s from 12 m, with the depth jitter of a monocular fit."""
    t = np.arange(n) / fps
    true_pelvis = np.stack([0.5 + 0.2 * t, np.full(n, 0.4), 12.0 - 1.3 * t], axis=1)
    rng = np.random.default_rng(seed)
    seen = true_pelvis * (1.0 + noise * rng.standard_normal(n))[:, None]  # wrong along the ray only
    offsets = np.random.default_rng(1).normal(scale=0.3, size=(24, 3))
    offsets[0] = 0.0
    joints = seen[:, None, :] + offsets[None]
    rec = {
        "frame": np.arange(n),
        "global_orient": np.zeros((n, 3)),
        "body_pose": np.zeros((n, 23, 3)),
        "betas": np.zeros((n, 10)),
        "transl": seen,
        "joints": joints,
        "box": np.zeros((n, 4)),
        "confidence": np.ones(n),
        "predicted": np.zeros(n, bool),
    }
    return make_track(1, **rec), true_pelvis


def test_jittery_depth_gets_closer_to_the_truth_and_the_body_keeps_its_shape_and_pixel():
    track, truth = walker()
    smoothed = smooth_track_depth(track, fps=25.0)
    err_before = np.abs(np.linalg.norm(track.joints[:, 0], axis=1) - np.linalg.norm(truth, axis=1))
    err_after = np.abs(np.linalg.norm(smoothed.joints[:, 0], axis=1) - np.linalg.norm(truth, axis=1))
    assert err_after.mean() < 0.3 * err_before.mean()

    def from_pelvis(j: np.ndarray) -> np.ndarray:
        return np.linalg.norm(j[:, 1:] - j[:, :1], axis=-1)

    np.testing.assert_allclose(from_pelvis(smoothed.joints), from_pelvis(track.joints), atol=1e-5)
    k = pinhole_intrinsics(1920, 1080)
    np.testing.assert_allclose(project(smoothed.joints[:, 0], k), project(track.joints[:, 0], k), atol=1e-3)
    np.testing.assert_allclose(smoothed.transl - track.transl, smoothed.joints[:, 0] - track.joints[:, 0], atol=1e-5)


def test_smoothing_keeps_steady_motion_and_breaks_at_gaps():
    d = np.linspace(12.0, 8.0, 50)  # steady approach: nothing to remove
    np.testing.assert_allclose(smooth_distances(d, fps=25.0), d, atol=1e-6)
    track, _ = walker(n=60)
    frames = np.concatenate([np.arange(30), np.arange(40, 70)])  # a 10-frame gap
    gapped = make_track(1, **{**track.arrays(), "frame": frames})
    jump = gapped.joints.copy()
    jump[30:, :, 2] += 3.0  # the person re-appears 3 m further: no smoothing across the gap
    gapped = make_track(1, **{**gapped.arrays(), "joints": jump})
    out = smooth_track_depth(gapped, fps=25.0)
    assert abs(np.linalg.norm(out.joints[30, 0]) - np.linalg.norm(jump[30, 0])) < 0.8
