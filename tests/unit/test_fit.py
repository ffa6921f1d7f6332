"""The temporal body fit (ram_core.scene.fit) on synthetic people whose truth is known."""

from __future__ import annotations

import dataclasses

import numpy as np

from ram_core.contract.results import CaptureMeta, Results, load_results, make_track, save_results
from ram_core.contract.skeleton import JOINT_INDEX, PARENTS, axis_angle_to_matrix, forward_kinematics, global_to_local
from ram_core.contract.smpl_model import default_rest_joints
from ram_core.scene.banded import solve_block_banded
from ram_core.scene.fit import (
    MOTION,
    FitOptions,
    Observations,
    crop_lean,
    fit_motion,
    fit_run,
    pose_joints,
    view_rotation,
)
from ram_core.scene.refine import FILTER, refine
from ram_core.scene.solve import FEET

REST = default_rest_joints()
FPS = 30.0
K = np.array([[800.0, 0.0, 320.0], [0.0, 800.0, 240.0], [0.0, 0.0, 1.0]])
CAMERA_HEIGHT = 1.5
FLOOR = np.array([0.0, -1.0, 0.0, CAMERA_HEIGHT])  # a level camera 1.5 m up: the floor is y = 1.5


def project(points: np.ndarray) -> np.ndarray:
    p = points @ K.T
    return p[..., :2] / p[..., 2:]


def walking(frames: int, legs: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``global_orient`` ``(T, 3)`` and ``body_pose`` ``(T, 23, 3)``: facing the camera, turning a little,
    arms swinging, legs striding (or standing still)."""
    t = np.arange(frames) / FPS
    go = np.zeros((frames, 3))
    go[:, 0] = np.pi
    go[:, 1] = 0.3 * np.sin(t)
    bp = np.zeros((frames, 23, 3))
    for side, phase in (("left", 0.0), ("right", np.pi)):
        if legs:
            bp[:, JOINT_INDEX[f"{side}_hip"] - 1, 0] = 0.4 * np.sin(2 * np.pi * t + phase)
            bp[:, JOINT_INDEX[f"{side}_knee"] - 1, 0] = 0.5 + 0.4 * np.sin(2 * np.pi * t + phase)
        sign = 1.0 if side == "left" else -1.0
        bp[:, JOINT_INDEX[f"{side}_shoulder"] - 1, 2] = sign * (-1.1 + 0.2 * np.sin(2 * np.pi * t))
        bp[:, JOINT_INDEX[f"{side}_elbow"] - 1, 1] = 0.5
    bp[:, JOINT_INDEX["spine1"] - 1, 2] = 0.1 * np.sin(2 * np.pi * 0.7 * t)
    return go, bp


def noisy(joints: np.ndarray, glob: np.ndarray, seed: int = 0):
    """What a backend would give for the true ``joints`` ``(T, 24, 3)``: 2D keypoints 2 px off, 3D keypoints
    3 cm off, and records whose rotations are 0.08 rad off and whose pelvis is 15 cm off in depth."""
    rng = np.random.default_rng(seed)
    n = len(joints)
    pix = project(joints) + rng.normal(0.0, 2.0, (n, 24, 2))
    pixels = np.concatenate([pix, np.ones((n, 24, 1))], -1)
    rel = joints - joints[:, :1] + rng.normal(0.0, 0.03, joints.shape)
    relative = np.concatenate([rel, np.ones((n, 24, 1))], -1)
    start_glob = axis_angle_to_matrix(rng.normal(0.0, 0.08, (n, 24, 3))) @ glob
    start_root = joints[:, 0] + rng.normal(0.0, [0.02, 0.02, 0.15], (n, 3))
    return pixels, relative, start_glob, start_root


def mpjpe(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.linalg.norm(a - b, axis=-1)))


def acceleration(a: np.ndarray) -> float:
    return float(np.mean(np.linalg.norm(a[2:] - 2 * a[1:-1] + a[:-2], axis=-1))) * FPS * FPS


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    return np.linalg.norm(joints[:, 1:] - joints[:, list(PARENTS[1:])], axis=-1)


def test_the_fit_reduces_error_and_jitter_and_keeps_bone_lengths_exact():
    go, bp = walking(40)
    truth, glob = forward_kinematics(go, bp, REST, np.tile([0.0, 0.3, 5.0], (40, 1)))
    pixels, relative, start_glob, start_root = noisy(truth, glob)
    start = pose_joints(start_glob, start_root, REST)
    fitted_glob, fitted_root = fit_run(start_glob, start_root, REST, Observations(pixels, relative, K), FPS)
    fitted = pose_joints(fitted_glob, fitted_root, REST)
    assert mpjpe(fitted, truth) < 0.3 * mpjpe(start, truth), (mpjpe(fitted, truth), mpjpe(start, truth))
    assert acceleration(fitted) < 3.0 * acceleration(truth) < 0.2 * acceleration(start)
    np.testing.assert_allclose(bone_lengths(fitted), np.broadcast_to(bone_lengths(REST[None]), (40, 23)), atol=1e-9)
    rotations = np.einsum("tjab,tjcb->tjac", fitted_glob, fitted_glob)
    np.testing.assert_allclose(rotations, np.broadcast_to(np.eye(3), rotations.shape), atol=1e-9)


def standing(frames: int = 30):
    """A person standing still on the floor (legs fixed), moving arms and spine: truth and its rotations."""
    go, bp = walking(frames, legs=False)
    joints, glob = forward_kinematics(go, bp, REST)
    feet = joints[:, list(FEET)]
    planted = 0.04
    # Stand the feet ``planted`` above the floor (y grows downwards: the floor is y = CAMERA_HEIGHT), 4 m away.
    shift = np.array([0.2, CAMERA_HEIGHT - planted - feet[..., 1].max(), 4.0])
    return joints + shift, glob, planted


def slide(joints: np.ndarray) -> np.ndarray:
    """Per frame and foot, how far the foot moved across the floor (metres)."""
    return np.linalg.norm(np.diff(joints[:, list(FEET)][..., [0, 2]], axis=0), axis=-1)


def test_planted_feet_hold_still_on_the_floor_in_the_fit():
    truth, glob, planted = standing()
    pixels, relative, start_glob, start_root = noisy(truth, glob, seed=1)
    contact = np.ones((len(truth), 2), bool)
    free = Observations(pixels, relative, K, FLOOR, None, planted)
    held = dataclasses.replace(free, contact=contact)
    loose = pose_joints(*fit_run(start_glob, start_root, REST, free, FPS), REST)
    fitted = pose_joints(*fit_run(start_glob, start_root, REST, held, FPS), REST)
    assert np.median(slide(fitted)) < 0.003 and np.median(slide(fitted)) < 0.5 * np.median(slide(loose))
    height = fitted @ FLOOR[:3] + FLOOR[3]
    np.testing.assert_allclose(height[:, list(FEET)], planted, atol=0.005)
    assert height.min() > -0.002, "no joint below the floor"
    np.testing.assert_allclose(
        bone_lengths(fitted), np.broadcast_to(bone_lengths(REST[None]), (len(truth), 23)), atol=1e-9
    )


def test_a_foot_that_may_be_planted_does_not_slide_and_the_legs_keep_their_length():
    """Contact detection misses planted frames: a foot with some contact probability (``still``) is held too."""
    truth, glob, planted = standing()
    pixels, relative, start_glob, start_root = noisy(truth, glob, seed=2)
    unsure = np.zeros((len(truth), 2), bool)
    free = Observations(pixels, relative, K, FLOOR, unsure, planted)
    maybe = dataclasses.replace(free, still=np.full((len(truth), 2), min(1.0, FitOptions().still_gain * 0.05)))
    loose = pose_joints(*fit_run(start_glob, start_root, REST, free, FPS), REST)
    fitted = pose_joints(*fit_run(start_glob, start_root, REST, maybe, FPS), REST)
    assert np.median(slide(fitted)) < 0.003 and np.median(slide(fitted)) < 0.5 * np.median(slide(loose))
    np.testing.assert_allclose(
        bone_lengths(fitted), np.broadcast_to(bone_lengths(REST[None]), (len(truth), 23)), atol=1e-9
    )


def test_the_block_solver_matches_a_dense_solve():
    rng = np.random.default_rng(2)
    frames, size = 7, 4
    dense = np.zeros((frames * size, frames * size))
    for i in range(frames):
        for k in range(3):
            if i - k >= 0:
                block = rng.normal(size=(size, size))
                dense[i * size : (i + 1) * size, (i - k) * size : (i - k + 1) * size] = block
    dense = dense @ dense.T + np.eye(frames * size)  # now couples frames up to 4 apart: cut it back to 2
    for i in range(frames):
        for j in range(frames):
            if abs(i - j) > 2:
                dense[i * size : (i + 1) * size, j * size : (j + 1) * size] = 0.0
    dense += frames * size * np.eye(frames * size)
    band = np.zeros((3, frames, size, size))
    for k in range(3):
        for i in range(k, frames):
            band[k, i] = dense[i * size : (i + 1) * size, (i - k) * size : (i - k + 1) * size]
    rhs = rng.normal(size=frames * size)
    np.testing.assert_allclose(solve_block_banded(band, rhs), np.linalg.solve(dense, rhs), atol=1e-10)
    # Frames two apart coupled by diagonal blocks only (an acceleration's): the row-scaling path.
    for i in range(2, frames):
        block = np.diag(rng.uniform(-1.0, 1.0, size))
        band[2, i] = block
        dense[i * size : (i + 1) * size, (i - 2) * size : (i - 1) * size] = block
        dense[(i - 2) * size : (i - 1) * size, i * size : (i + 1) * size] = block.T
    np.testing.assert_allclose(solve_block_banded(band, rhs), np.linalg.solve(dense, rhs), atol=1e-10)


def capture_of(frames: int = 30) -> Results:
    """A standing person's records as a backend with keypoints gives them, in a solved scene."""
    truth, glob, _ = standing(frames)
    pixels, relative, start_glob, start_root = noisy(truth, glob, seed=3)
    go, bp = global_to_local(start_glob)
    joints = pose_joints(start_glob, start_root, REST)
    track = make_track(
        1,
        frame=np.arange(frames),
        global_orient=go,
        body_pose=bp,
        betas=np.zeros((frames, 10)),
        transl=start_root - REST[0],
        joints=joints,
        box=np.tile([0.0, 0.0, 10.0, 10.0], (frames, 1)),
        confidence=np.ones(frames),
        predicted=np.zeros(frames, bool),
        keypoints_2d=pixels,
        keypoints_3d=relative,
    )
    world = np.eye(4)
    world[:3, :3] = [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]]  # OpenCV -> Z up
    world[2, 3] = CAMERA_HEIGHT
    meta = CaptureMeta(
        video_path="synthetic",
        fps=FPS,
        width=640,
        height=480,
        frame_count=frames,
        frame_start=0,
        frame_end=frames,
        intrinsics=K,
        intrinsics_assumed=False,
        backend="synthetic",
        rest_joints=REST,
        rest_source="anny-cmu_mb",
        world_from_camera=world,
        floor_cam=FLOOR,
        scene_status="solved: a test",
    )
    return Results(meta, [track])


def test_fit_motion_keeps_the_records_consistent_and_says_so(tmp_path):
    results = capture_of()
    out = fit_motion(results, FitOptions(iterations=2))
    assert out.meta.motion == MOTION
    t = out.tracks[0]
    joints, _ = forward_kinematics(
        t.global_orient.astype(np.float64), t.body_pose.astype(np.float64), REST, t.transl.astype(np.float64)
    )
    np.testing.assert_allclose(t.joints, joints, atol=2e-5)  # joints are the rotations' forward kinematics
    assert np.all((t.contact >= 0) & (t.contact <= 1))
    back = load_results(save_results(out, tmp_path / "fit.ram.npz"))
    assert back.meta.motion == MOTION and np.array_equal(back.tracks[0].keypoints_2d, t.keypoints_2d)


def test_the_online_path_is_kept_and_named():
    raw = capture_of()
    raw = Results(dataclasses.replace(raw.meta, world_from_camera=None, floor_cam=None, scene_status=""), raw.tracks)
    out = refine(raw, FILTER)
    assert out.meta.motion == FILTER


def test_a_hidden_stretch_follows_the_motion_not_a_straight_line():
    frames = 40
    go, bp = walking(frames)
    t = np.arange(frames) / FPS
    # The pelvis walks round a curve (1.5 m radius) 5 m away: a straight fill cuts the corner.
    path = np.stack([1.5 * np.sin(t), 0.3 + 0.0 * t, 5.0 + 1.5 * (1.0 - np.cos(t))], -1)
    truth, glob = forward_kinematics(go, bp, REST, path)
    pixels, relative, start_glob, _ = noisy(truth, glob, seed=4)
    start_root = truth[:, 0].copy()  # the records' pelvis right where seen, so the fill's shape is what is tested
    hidden = np.zeros(frames, bool)
    hidden[15:25] = True
    pixels[hidden, :, 2] = 0.0
    relative[hidden, :, 3] = 0.0
    # The backend's fill: the pelvis on the straight line between the frames either side.
    a, b = 14, 25
    w = ((np.arange(frames) - a) / (b - a))[hidden, None]
    start_root[hidden] = (1 - w) * start_root[a] + w * start_root[b]
    prior = np.where(hidden, FitOptions().predicted_weight, 1.0)
    root_prior = np.where(hidden, FitOptions().predicted_root_weight, 1.0)
    obs = Observations(pixels, relative, K, prior=prior, root_prior=root_prior)
    _, root = fit_run(start_glob, start_root, REST, obs, FPS)
    fill_error = np.linalg.norm(start_root[hidden] - truth[hidden, 0], axis=-1).mean()
    fit_error = np.linalg.norm(root[hidden] - truth[hidden, 0], axis=-1).mean()
    assert fit_error < 0.5 * fill_error, (fit_error, fill_error)


def test_the_view_rotation_turns_the_optical_axis_onto_each_ray():
    points = np.array([[0.0, 0.0, 5.0], [2.0, -1.0, 4.0], [-3.0, 0.5, 1.0]])
    view = view_rotation(points)
    ray = points / np.linalg.norm(points, axis=1, keepdims=True)
    np.testing.assert_allclose(view @ np.array([0.0, 0.0, 1.0]), ray, atol=1e-12)
    np.testing.assert_allclose(view[0], np.eye(3), atol=1e-12)


def lean_away(vectors: np.ndarray, points: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """Each vector's angle from the floor's normal toward the horizontal direction away from the camera (rad)."""
    normal = floor[:3] / np.linalg.norm(floor[:3])
    ray = points / np.linalg.norm(points, axis=-1, keepdims=True)
    away = ray - (ray @ normal)[:, None] * normal
    away /= np.linalg.norm(away, axis=-1, keepdims=True)
    return np.arctan2(np.einsum("ti,ti->t", vectors, away), vectors @ normal)


def test_the_crop_lean_turns_an_upright_crop_back_toward_the_camera_by_the_rays_depression():
    # A camera 7 m up looking down 26 degrees: the floor normal in the camera frame.
    pitch = np.radians(26.0)
    normal = np.array([0.0, -np.cos(pitch), -np.sin(pitch)])
    floor = np.array([*normal, 7.0])
    points = np.array([[0.0, 0.0, 10.0], [3.0, 2.0, 12.0], [0.0, -4.0, 5.0]])
    ray = points / np.linalg.norm(points, axis=1, keepdims=True)
    below = np.arcsin(-(ray @ normal))
    turn = crop_lean(points, floor, 0.84)
    # A torso leaning away by the model's bias stands upright after the turn; its length is kept.
    bias = 0.84 * np.maximum(below, 0.0) ** 2
    away = ray - (ray @ normal)[:, None] * normal
    away /= np.linalg.norm(away, axis=1, keepdims=True)
    leaning = normal * np.cos(bias)[:, None] + away * np.sin(bias)[:, None]
    np.testing.assert_allclose(np.einsum("tij,tj->ti", turn, leaning), np.broadcast_to(normal, (3, 3)), atol=1e-9)
    # A ray at or above the horizon (the third point, high up) is left alone.
    assert below[2] < 0
    np.testing.assert_allclose(turn[2], np.eye(3), atol=1e-12)


def test_the_torso_stands_upright_where_the_3d_keypoints_lean_it_away():
    # The 3D keypoints lean the whole body 15 degrees (about the camera's x axis); 2D keypoints are the truth's.
    truth, glob, planted = standing()
    pixels, relative, start_glob, start_root = noisy(truth, glob, seed=3)
    tilt = axis_angle_to_matrix(np.array([np.radians(15.0), 0.0, 0.0]))
    tilted = relative.copy()
    tilted[..., :3] = relative[..., :3] @ tilt.T
    obs = Observations(pixels, tilted, K, FLOOR, None, planted)
    neck = JOINT_INDEX["neck"]
    upright = pose_joints(*fit_run(tilt @ start_glob, start_root, REST, obs, FPS), REST)
    loose = pose_joints(*fit_run(tilt @ start_glob, start_root, REST, obs, FPS, FitOptions(sigma_torso=1e6)), REST)

    def lean(j: np.ndarray) -> float:
        torso = j[:, neck] - j[:, 0]
        cos = torso @ FLOOR[:3] / np.linalg.norm(torso, axis=1)
        return float(np.degrees(np.mean(np.arccos(np.clip(cos, -1, 1)))))

    # A soft, robust prior: it pulls toward upright (here 14.7 -> 12.3 degrees; the truth's own lean is 6.3).
    assert lean(upright) < lean(loose) - 2.0, (lean(upright), lean(loose), lean(truth))


def test_a_hidden_person_stands_on_the_floor_and_the_lower_foot_does_not_slide():
    # Standing still; hidden for 24 frames, over which the fill drifts up 50 cm and 20 cm sideways.
    truth, glob, planted = standing(36)
    pixels, relative, start_glob, start_root = noisy(truth, glob, seed=5)
    start_root = truth[:, 0].copy()
    hidden = np.zeros(len(truth), bool)
    hidden[6:30] = True
    pixels[hidden, :, 2] = 0.0
    relative[hidden, :, 3] = 0.0
    drift = np.sin(np.pi * (np.arange(len(truth)) - 5) / 25)[:, None] * np.array([0.2, -0.5, 0.0])
    start_root[hidden] += drift[hidden]
    prior = np.where(hidden, FitOptions().predicted_weight, 1.0)
    free = Observations(pixels, relative, K, FLOOR, np.zeros((len(truth), 2), bool), planted, prior)
    held = dataclasses.replace(free, support=hidden)
    loose = pose_joints(*fit_run(start_glob, start_root, REST, free, FPS), REST)
    fitted = pose_joints(*fit_run(start_glob, start_root, REST, held, FPS), REST)

    def lower_foot(j: np.ndarray) -> np.ndarray:
        return np.min(j[:, list(FEET)] @ FLOOR[:3] + FLOOR[3], axis=1)

    off, loose_off = (np.max(np.abs(lower_foot(j)[hidden] - planted)) for j in (fitted, loose))
    assert off < 0.01 and off < 0.3 * loose_off, (off, loose_off)
    assert np.median(slide(fitted)[hidden[1:] & hidden[:-1]].min(axis=1)) < 0.005


def test_a_walker_turned_sideways_by_the_records_is_turned_back_toward_where_they_walk():
    # Walking toward the camera (facing it); on a hidden stretch the records and 3D keypoints turn the body 70
    # degrees about the vertical, as the landmark model does with a person mostly covered by someone in front.
    frames = 40
    go, bp = walking(frames)
    go[:, 1] = 0.0
    path = np.stack([np.zeros(frames), 0.3 + np.zeros(frames), 6.0 - 1.2 * np.arange(frames) / FPS], -1)
    truth, glob = forward_kinematics(go, bp, REST, path)
    pixels, relative, start_glob, start_root = noisy(truth, glob, seed=5)
    stretch = np.zeros(frames, bool)
    stretch[15:25] = True
    turn = axis_angle_to_matrix(np.array([0.0, np.radians(70.0), 0.0]))
    start_glob[stretch] = turn @ start_glob[stretch]
    relative[stretch, :, :3] = relative[stretch, :, :3] @ turn.T
    pixels[stretch, :, 2] = 0.0
    walk = np.tile([0.0, 0.0, -1.0], (frames, 1))
    obs = Observations(pixels, relative, K, FLOOR, None, 0.0, walk=walk)

    def heading_error(options: FitOptions) -> float:
        fitted, _ = fit_run(start_glob, start_root, REST, obs, FPS, options)
        front = fitted[stretch, 0] @ np.array([0.0, 0.0, 1.0])
        return float(np.degrees(np.mean(np.arccos(np.clip(-front[:, 2] / np.hypot(front[:, 0], front[:, 2]), -1, 1)))))

    with_prior, without = heading_error(FitOptions()), heading_error(FitOptions(sigma_heading=None))
    assert without > 40.0 and with_prior < 0.6 * without, (with_prior, without)  # 52 -> 26 degrees


def test_keypoints_inside_a_nearer_persons_box_are_not_fitted_to_but_the_hips_are():
    from ram_core.scene.fit import KEPT_WHEN_COVERED, covered_keypoints

    def one(track_id: int, depth: float, box: list[float], xs: np.ndarray, predicted: bool = False) -> object:
        joints = np.zeros((1, 24, 3))
        joints[0, :, 2] = depth
        kp = np.stack([xs, np.full(24, 150.0), np.ones(24)], axis=-1)[None]
        return make_track(
            track_id,
            frame=np.array([3]),
            global_orient=np.zeros((1, 3)),
            body_pose=np.zeros((1, 23, 3)),
            betas=np.zeros((1, 10)),
            transl=np.zeros((1, 3)),
            joints=joints,
            box=np.array([box]),
            confidence=np.ones(1),
            predicted=np.array([predicted]),
            keypoints_2d=kp,
        )

    xs = np.linspace(100.0, 330.0, 24)  # the far person's joints spread across the picture
    near = one(1, 4.0, [200.0, 100.0, 300.0, 300.0], np.full(24, 250.0))
    far = one(2, 6.0, [100.0, 100.0, 340.0, 300.0], xs)
    meta = CaptureMeta("synthetic", FPS, 640, 480, 10, 0, 10, K, False, "synthetic", REST, "test")
    got = covered_keypoints(Results(meta, [near, far]))
    inside = (xs > 200.0) & (xs < 300.0)
    inside[KEPT_WHEN_COVERED] = False
    assert got[2][0].tolist() == inside.tolist() and inside.any()
    assert not got[1].any()  # nobody stands nearer than the near person
    hidden = one(2, 6.0, [100.0, 100.0, 340.0, 300.0], xs, predicted=True)
    assert not covered_keypoints(Results(meta, [near, hidden]))[2].any()  # a fill has no keypoints to drop


def _finite_jacobian(build, glob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The residuals of ``build(glob)`` and their Jacobian ``(rows, T * PARAMS)`` by forward differences of left
    rotation steps (the pelvis's columns stay zero: these terms hold rotations only)."""
    from ram_core.scene.fit import PARAMS, ROOT

    n = len(glob)
    r0 = build(glob).residuals()
    eps = 1e-6
    jac = np.zeros((len(r0), n * PARAMS))
    for t in range(n):
        for k in range(ROOT):
            step = np.zeros((n, 24, 3))
            step[t, k // 3, k % 3] = eps
            jac[:, t * PARAMS + k] = (build(axis_angle_to_matrix(step) @ glob).residuals() - r0) / eps
    return r0, jac


def _assert_normal_equations(eq, r0: np.ndarray, jac: np.ndarray) -> None:
    from ram_core.scene.fit import PARAMS

    np.testing.assert_allclose(eq.grad.ravel(), jac.T @ r0, atol=1e-3 * np.abs(eq.grad).max())
    normal = jac.T @ jac
    for t in range(len(eq.grad)):
        block = normal[t * PARAMS : (t + 1) * PARAMS, t * PARAMS : (t + 1) * PARAMS]
        np.testing.assert_allclose(eq.band[0, t], block, atol=1e-4 * np.abs(block).max())


def test_the_limbs_limits_jacobian_matches_finite_differences():
    from ram_core.scene.banded import NormalEquations
    from ram_core.scene.fit import PARAMS, _limit_terms

    rng = np.random.default_rng(3)
    n = 3
    glob = axis_angle_to_matrix(rng.normal(0.0, 0.6, (n, 24, 3)))
    # The terms whose rows move both joints; the hinges and the wrists' and ankles' rows: the next test.
    options = FitOptions(
        sigma_hinge_leg=None,
        sigma_hinge_arm=None,
        sigma_wrist=None,
        sigma_ankle=None,
        sigma_twist_leg=0.5,
        sigma_twist_arm=0.4,
        sigma_hyperextension=0.2,
        huber_limits=1e6,  # every row inside its quadratic zone: the Jacobian is exact
    )

    def build(g: np.ndarray):
        eq = NormalEquations(n, PARAMS)
        _limit_terms(eq, g, REST, options)
        return eq

    r0, jac = _finite_jacobian(build, glob)
    assert np.count_nonzero(r0) > 4 * n  # 4 twist rows a frame, and some hyperextended joints
    _assert_normal_equations(build(glob), r0, jac)


def test_an_arm_raised_overhead_has_a_fading_twist_row_whose_jacobian_matches_finite_differences():
    from ram_core.scene.banded import NormalEquations
    from ram_core.scene.fit import PARAMS, _limit_terms

    rng = np.random.default_rng(5)
    n = 3
    rotvec = rng.normal(0.0, 0.05, (n, 24, 3))
    for side, sign, swing in (("left", 1.0, 2.4), ("right", -1.0, 2.9)):  # from the arm hanging down: 135, 165 deg
        rotvec[:, JOINT_INDEX[f"{side}_shoulder"], 2] += sign * (swing - np.pi / 2)
    _, glob = forward_kinematics(np.zeros((n, 3)), rotvec[:, 1:], REST)
    glob = axis_angle_to_matrix(rotvec[:, :1]) @ glob
    options = FitOptions(
        sigma_hinge_leg=None,
        sigma_hinge_arm=None,
        sigma_wrist=None,
        sigma_ankle=None,
        sigma_twist_leg=None,
        sigma_twist_arm=0.4,
        sigma_hyperextension=None,
        huber_limits=1e6,
    )

    def build(g: np.ndarray):
        eq = NormalEquations(n, PARAMS)
        _limit_terms(eq, g, REST, options)
        return eq

    r0, jac = _finite_jacobian(build, glob)
    assert np.count_nonzero(r0) == 2 * n
    _assert_normal_equations(build(glob), r0, jac)
    # Straight up (both arms, nothing else turned) the twist is undefined: its rows fade to nothing.
    rotvec[:] = 0.0
    rotvec[:, JOINT_INDEX["left_shoulder"], 2] = np.pi / 2
    rotvec[:, JOINT_INDEX["right_shoulder"], 2] = -np.pi / 2
    _, glob = forward_kinematics(np.zeros((n, 3)), rotvec[:, 1:], REST)
    assert np.allclose(build(glob).residuals(), 0.0, atol=1e-6)


def test_the_hinge_and_rest_angle_rows_turn_the_lower_bone_and_hold_the_one_above():
    from ram_core.scene.banded import NormalEquations
    from ram_core.scene.fit import CHILD, ENDS, LIMBS, PARAMS, _axis_rows

    rng = np.random.default_rng(4)
    n = 3
    glob = axis_angle_to_matrix(rng.normal(0.0, 0.6, (n, 24, 3)))
    rows = [(c, axis) for _, c, axis, _, _ in LIMBS]
    rows += [(j, (REST[CHILD[j]] - REST[j]) / np.linalg.norm(REST[CHILD[j]] - REST[j])) for _, j in ENDS]
    for c, axis in rows:

        def build(g: np.ndarray, c: int = c, axis: np.ndarray = axis):
            eq = NormalEquations(n, PARAMS)
            _axis_rows(eq, g, c, axis, 0.2, 1e6)
            return eq

        r0, jac = _finite_jacobian(build, glob)
        mine = np.zeros(PARAMS, dtype=bool)
        mine[3 * c : 3 * c + 3] = True
        own = np.where(np.tile(mine, n), jac, 0.0)
        parent = 3 * PARENTS[c]
        assert np.abs(jac[:, parent : parent + 3]).max() > 1.0  # the rows depend on the parent's rotation ...
        _assert_normal_equations(build(glob), r0, own)  # ... and turn only joint c (a stop-gradient)


def test_an_upper_arm_twisted_against_its_elbow_is_turned_back_into_the_hinge_where_the_joints_stay():
    from ram_core.scene.fit import LIMBS

    frames = 12
    go, bp = walking(frames)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        bp[:, JOINT_INDEX[f"{side}_elbow"] - 1] = [0.0, -sign * 0.6, 0.0]  # a forearm bent forward
    joints, glob = forward_kinematics(go, bp, REST)
    joints = joints + np.array([0.0, 0.2, 3.0])
    shoulder, elbow = JOINT_INDEX["left_shoulder"], JOINT_INDEX["left_elbow"]
    # The records: the left upper arm twisted 0.6 rad about itself, the forearm where it was (the same joints).
    axis = joints[:, elbow] - joints[:, shoulder]
    twisted = glob.copy()
    twisted[:, shoulder] = (
        axis_angle_to_matrix(0.6 * axis / np.linalg.norm(axis, axis=-1, keepdims=True)) @ glob[:, shoulder]
    )
    pixels = np.concatenate([project(joints), np.ones((frames, 24, 1))], -1)
    relative = np.concatenate([joints - joints[:, :1], np.ones((frames, 24, 1))], -1)
    obs = Observations(pixels, relative, K)
    hinge = next(axis for _, c, axis, _, _ in LIMBS if c == elbow)

    def off_hinge(g: np.ndarray) -> float:
        return float(np.max(np.linalg.norm(g[:, elbow] @ hinge - g[:, shoulder] @ hinge, axis=-1)))

    free = FitOptions(sigma_hinge_arm=None, sigma_twist_arm=None)
    kept, _ = fit_run(twisted, joints[:, 0], REST, obs, FPS, free)
    fitted, root = fit_run(twisted, joints[:, 0], REST, obs, FPS, FitOptions())
    assert off_hinge(twisted) > 0.4
    assert off_hinge(kept) > 0.3  # nothing else sees a turn of the upper arm about itself
    assert off_hinge(fitted) < 0.05
    assert mpjpe(pose_joints(fitted, root, REST), joints) < 0.01


def test_a_hand_the_landmarks_bend_off_the_forearm_is_turned_back_and_the_forearm_stays():
    frames = 12
    go, bp = walking(frames)
    joints, glob = forward_kinematics(go, bp, REST)  # the wrists at their rest angle: hands along the forearms
    joints = joints + np.array([0.0, 0.2, 3.0])
    wrist, hand = JOINT_INDEX["left_wrist"], JOINT_INDEX["left_hand"]
    # The landmarks' hand 0.7 rad off the forearm's line (the records, 2D and 3D keypoints alike), the rest exact.
    turn = axis_angle_to_matrix(np.broadcast_to([0.0, 0.0, 0.7], (frames, 3)))
    seen, records = joints.copy(), glob.copy()
    seen[:, hand] = joints[:, wrist] + np.einsum("tij,tj->ti", turn, joints[:, hand] - joints[:, wrist])
    records[:, wrist] = turn @ glob[:, wrist]
    pixels = np.concatenate([project(seen), np.ones((frames, 24, 1))], -1)
    relative = np.concatenate([seen - seen[:, :1], np.ones((frames, 24, 1))], -1)
    obs = Observations(pixels, relative, K)

    def hand_off(g: np.ndarray) -> float:  # the hand's turn off the forearm's line, radians
        p = pose_joints(g, joints[:, 0], REST)
        a, b = p[:, wrist] - p[:, JOINT_INDEX["left_elbow"]], p[:, hand] - p[:, wrist]
        cos = np.sum(a * b, -1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
        return float(np.median(np.arccos(np.clip(cos, -1.0, 1.0))))

    free, _ = fit_run(records, joints[:, 0], REST, obs, FPS, FitOptions(sigma_wrist=None))
    fitted, root = fit_run(records, joints[:, 0], REST, obs, FPS, FitOptions())
    others = [j for j in range(24) if j != hand]
    assert hand_off(free) > 0.6
    assert hand_off(fitted) < 0.1
    assert mpjpe(pose_joints(fitted, root, REST)[:, others], joints[:, others]) < 0.01  # the forearm is not turned


def test_a_foot_the_records_pitch_down_is_turned_to_its_rest_angle_where_no_keypoint_sees_it():
    frames = 12
    go, bp = walking(frames)
    joints, glob = forward_kinematics(go, bp, REST)  # the ankles at their rest angle
    joints = joints + np.array([0.0, 0.2, 3.0])
    ankle, foot = JOINT_INDEX["left_ankle"], JOINT_INDEX["left_foot"]
    # The records' foot pitched 0.5 rad down about the body's left-right axis; its keypoints unseen, the rest exact.
    pitched = glob.copy()
    pitched[:, ankle] = axis_angle_to_matrix(0.5 * glob[:, ankle] @ np.array([1.0, 0.0, 0.0])) @ glob[:, ankle]
    pixels = np.concatenate([project(joints), np.ones((frames, 24, 1))], -1)
    relative = np.concatenate([joints - joints[:, :1], np.ones((frames, 24, 1))], -1)
    pixels[:, foot, 2] = relative[:, foot, 3] = 0.0
    obs = Observations(pixels, relative, K)

    def off(g: np.ndarray) -> float:  # how far the foot's direction lies from the truth's, radians
        p = pose_joints(g, joints[:, 0], REST)
        a, b = p[:, foot] - p[:, ankle], joints[:, foot] - joints[:, ankle]
        cos = np.sum(a * b, -1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
        return float(np.median(np.arccos(np.clip(cos, -1.0, 1.0))))

    free, _ = fit_run(pitched, joints[:, 0], REST, obs, FPS, FitOptions(sigma_ankle=None))
    fitted, _ = fit_run(pitched, joints[:, 0], REST, obs, FPS, FitOptions())
    assert off(pitched) > 0.45 and off(free) > 0.4  # the records' swing is all that holds the foot
    # Near the rest angle (the records' twist, all of theirs kept, holds the part of the pitch about the foot's own
    # axis; with their swing kept too the foot stays 0.38 rad off).
    assert off(fitted) < 0.2
