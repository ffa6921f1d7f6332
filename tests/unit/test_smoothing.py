"""One-Euro smoothing of rotations and translation, and gap filling."""

from __future__ import annotations

import numpy as np
import pytest

from ram_core.body.smoothing import (
    MotionSmoother,
    OneEuroConfig,
    SmoothingConfig,
    rotation_filter_step,
)
from ram_core.contract.skeleton import axis_angle_to_matrix, axis_angle_to_quaternion, matrix_to_axis_angle
from ram_core.scene.gaps import fill_gaps

FPS = 30.0


def smooth_track(frames, global_orient, body_pose, transl, fps, config=None):
    """One track through :class:`MotionSmoother` frame by frame, as the lite backend streams it."""
    smoother = MotionSmoother(fps=fps, config=config or SmoothingConfig())
    out = [
        smoother.update(int(f), np.concatenate([go[None], bp]), t)
        for f, go, bp, t in zip(frames, global_orient, body_pose, transl)
    ]
    rot = np.stack([r for r, _ in out])
    return rot[:, 0], rot[:, 1:], np.stack([t for _, t in out])


def angle_between_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angles (degrees) between axis-angle rotations ``(..., 3)``."""
    rel = np.swapaxes(axis_angle_to_matrix(a), -1, -2) @ axis_angle_to_matrix(b)
    return np.degrees(np.linalg.norm(matrix_to_axis_angle(rel), axis=-1))


def noisy_rotations(base: np.ndarray, n: int, sigma_deg: float, seed: int) -> np.ndarray:
    """``(n, 24, 3)``: ``base`` ``(24, 3)`` perturbed by small random rotations."""
    rng = np.random.default_rng(seed)
    noise = axis_angle_to_matrix(rng.normal(scale=np.radians(sigma_deg), size=(n, 24, 3)))
    return matrix_to_axis_angle(noise @ axis_angle_to_matrix(base))


def test_noisy_constant_pose_gets_less_jittery() -> None:
    base = np.random.default_rng(0).uniform(-1, 1, (24, 3))
    rots = noisy_rotations(base, 150, sigma_deg=3.0, seed=1)
    tr = np.array([0.2, 0.1, 5.0]) + np.random.default_rng(2).normal(scale=0.02, size=(150, 3))
    go, bp, tr_s = smooth_track(np.arange(150), rots[:, 0], rots[:, 1:], tr, FPS)
    out = np.concatenate([go[:, None], bp], axis=1)
    # Frame-to-frame jitter and the error around the true pose both drop (after a short settling).
    jitter_in = angle_between_deg(rots[1:], rots[:-1])[30:].mean()
    jitter_out = angle_between_deg(out[1:], out[:-1])[30:].mean()
    assert jitter_out < 0.35 * jitter_in, (jitter_in, jitter_out)  # measured 6.7 -> 1.9 degrees
    err_in = angle_between_deg(rots, np.broadcast_to(base, rots.shape))[30:].mean()
    err_out = angle_between_deg(out, np.broadcast_to(base, out.shape))[30:].mean()
    assert err_out < 0.6 * err_in, (err_in, err_out)  # measured 4.8 -> 2.2 degrees
    assert np.abs(np.diff(tr_s[30:], axis=0)).mean() < 0.25 * np.abs(np.diff(tr[30:], axis=0)).mean()


def test_fast_real_step_is_followed_with_little_lag() -> None:
    n, step_at = 60, 30
    rots = np.zeros((n, 24, 3))
    rots[step_at:, 5] = [0.0, 0.0, np.radians(90.0)]  # a 90-degree turn within one frame
    tr = np.zeros((n, 3))
    tr[step_at:, 0] = 1.0  # a metre in one frame
    _, bp, tr_s = smooth_track(np.arange(n), rots[:, 0], rots[:, 1:], tr, FPS)
    achieved = 90.0 - angle_between_deg(bp[:, 4], rots[:, 5])
    # Measured at 30 fps: 55%, 82%, 93%, 97% of the step after 0, 1, 2, 3 frames; never overshoots.
    assert achieved[step_at + 1] > 0.75 * 90.0, achieved[step_at : step_at + 6]
    assert achieved[step_at + 3] > 0.95 * 90.0
    assert achieved.max() <= 90.0 + 1e-9
    assert tr_s[step_at + 1, 0] > 0.8 and tr_s[:, 0].max() <= 1.0 + 1e-9
    # A plain low-pass at the same still-pose cutoff (beta = 0) lags far more: what One-Euro is for.
    slow = SmoothingConfig(rotation=OneEuroConfig(1.0, 0.0), translation=OneEuroConfig(0.8, 0.0))
    _, bp_slow, _ = smooth_track(np.arange(n), rots[:, 0], rots[:, 1:], tr, FPS, slow)
    achieved_slow = 90.0 - angle_between_deg(bp_slow[:, 4], rots[:, 5])
    assert achieved_slow[step_at + 1] < 0.4 * 90.0


def test_quaternion_sign_flips_and_axis_angle_wrap_cause_no_jump() -> None:
    # A steady turn about z through 180 degrees: its axis-angle jumps from +pi to -pi.
    n = 90
    angles = np.linspace(np.radians(150), np.radians(210), n)
    rotvec = np.zeros((n, 24, 3))
    rotvec[:, :, 2] = angles[:, None]
    rotvec = matrix_to_axis_angle(axis_angle_to_matrix(rotvec))  # canonical: angle in [0, pi]
    assert np.abs(np.diff(rotvec[:, 0, 2])).max() > 6.0  # the input does wrap
    go, _, _ = smooth_track(np.arange(n), rotvec[:, 0], rotvec[:, 1:], np.zeros((n, 3)), FPS)
    steps = angle_between_deg(go[1:], go[:-1])
    assert steps.max() < 2.0  # degrees per frame; the input moves 0.67
    # Quaternions with random signs into the filter directly: the same output as without flips.
    quat = axis_angle_to_quaternion(rotvec)
    signs = np.where(np.random.default_rng(0).random((n, 24, 1)) < 0.5, -1.0, 1.0)
    cfg = OneEuroConfig(1.0, 0.6)
    a = b = None
    for i in range(n):
        a = rotation_filter_step(a, quat[i], 1 / FPS, cfg)
        b = rotation_filter_step(b, quat[i] * signs[i], 1 / FPS, cfg)
        assert abs(abs(np.sum(a.quat * b.quat, axis=-1)) - 1.0).max() < 1e-9


def test_frames_must_increase() -> None:
    smoother = MotionSmoother(fps=FPS)
    smoother.update(5, np.zeros((24, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="increase"):
        smoother.update(5, np.zeros((24, 3)), np.zeros(3))


def test_fill_gaps_slerps_short_gaps_and_marks_them() -> None:
    frames = np.array([0, 1, 4, 5, 20])
    go = np.zeros((5, 3))
    bp = np.zeros((5, 23, 3))
    bp[2:, 0] = [0.0, 0.0, np.radians(90.0)]  # joint 1 turns 90 degrees over the gap 1 -> 4
    go[2:] = [np.radians(170.0), 0.0, 0.0]
    go[:2] = [-np.radians(170.0), 0.0, 0.0]  # 20 degrees apart the short way (through 180)
    tr = np.arange(15, dtype=float).reshape(5, 3)
    f, go_f, bp_f, tr_f, filled = fill_gaps(frames, go, bp, tr, max_gap=3)
    np.testing.assert_array_equal(f, [0, 1, 2, 3, 4, 5, 20])  # the 14-frame gap stays open
    np.testing.assert_array_equal(filled, [False, False, True, True, False, False, False])
    np.testing.assert_allclose(angle_between_deg(bp_f[2, 0], bp[1, 0]), 30.0, atol=1e-9)
    np.testing.assert_allclose(angle_between_deg(bp_f[3, 0], bp[1, 0]), 60.0, atol=1e-9)
    np.testing.assert_allclose(angle_between_deg(go_f[2], go[1]), 20.0 / 3.0, atol=1e-9)
    np.testing.assert_allclose(tr_f[2], tr[1] + (tr[2] - tr[1]) / 3.0)
    np.testing.assert_allclose(bp_f[~filled], bp)
    nothing = fill_gaps(frames[:2], go[:2], bp[:2], tr[:2], max_gap=8)
    assert not nothing[4].any() and len(nothing[0]) == 2


def walk(n: int, fps: float) -> np.ndarray:
    """``(n, 3)`` a person walking away from the camera at 1 m/s, 6 m ahead, a little to the right."""
    t = np.arange(n) / fps
    return np.stack([np.full(n, 0.5), np.full(n, 1.0), 6.0 + 1.0 * t], axis=1)


def test_depth_spikes_are_gated_along_the_ray() -> None:
    fps, n = 10.0, 40
    truth = walk(n, fps)
    observed = truth.copy()
    spikes = {10: 0.55, 11: 0.6, 25: 1.8, 30: 0.7}  # a partly hidden person's skeleton, much too close or far
    for frame, factor in spikes.items():
        observed[frame] *= factor  # the same ray: the person is where the image shows them, at a wrong depth
    rots = np.zeros((n, 24, 3))
    _, _, gated = smooth_track(np.arange(n), rots[:, 0], rots[:, 1:], observed, fps)
    _, _, plain = smooth_track(
        np.arange(n), rots[:, 0], rots[:, 1:], observed, fps, SmoothingConfig(max_depth_ratio=None)
    )
    _, _, clean = smooth_track(np.arange(n), rots[:, 0], rots[:, 1:], truth, fps)
    err_gated = np.abs(gated[:, 2] / clean[:, 2] - 1)
    err_plain = np.abs(plain[:, 2] / clean[:, 2] - 1)
    assert err_plain.max() > 0.2  # unguarded, a spike moves the smoothed depth by tens of percent ...
    assert err_gated.max() < 0.05, err_gated.max()  # ... gated, by about the median's lag (measured 4.3%)
    # The image position is kept: the gated frames keep the observed direction from the camera.
    image_x = gated[:, 0] / gated[:, 2]
    np.testing.assert_allclose(image_x, truth[:, 0] / truth[:, 2], rtol=0.03)


def test_a_lasting_depth_change_is_believed_after_half_a_second() -> None:
    fps, n = 10.0, 30
    observed = np.tile([0.0, 1.0, 5.0], (n, 1))
    observed[10:, 2] = 9.0  # the track moved onto someone else (or its start was wrong): for good
    smoother = MotionSmoother(fps)
    depth = np.array([smoother.update(f, np.zeros((24, 3)), observed[f])[1][2] for f in range(n)])
    assert np.abs(depth[10:15] - 5.0).max() < 1e-9  # 0.5 s of outliers held at the recent depth
    assert depth[15] == pytest.approx(9.0)  # then the filter starts again from the new depth
    assert np.abs(depth[15:] - 9.0).max() < 1e-9
    # A track's first frames are not gated (no recent depths yet), and a long gap forgets them.
    smoother = MotionSmoother(fps)
    assert smoother.update(0, np.zeros((24, 3)), np.array([0.0, 0.0, 5.0]))[1][2] == 5.0
    smoother.update(1, np.zeros((24, 3)), np.array([0.0, 0.0, 5.0]))
    smoother.update(2, np.zeros((24, 3)), np.array([0.0, 0.0, 5.0]))
    late = 3 + SmoothingConfig.max_gap
    assert smoother.update(late, np.zeros((24, 3)), np.array([0.0, 0.0, 9.0]))[1][2] > 5.5  # not held at 5
    # Two recent depths cannot outvote a new one: they are forgotten, not kept to hold the next frames.
    smoother = MotionSmoother(fps)
    for f in (0, 5, 6):
        smoother.update(f, np.zeros((24, 3)), np.array([0.0, 0.0, 5.0]))
    back = 5 + SmoothingConfig.max_gap - 1  # frames 5 and 6 are still recent here and one frame later
    depth = [smoother.update(back + k, np.zeros((24, 3)), np.array([0.0, 0.0, 9.0]))[1][2] for k in range(4)]
    assert depth[1] > 8.5 and np.all(np.diff(depth) >= 0), depth
