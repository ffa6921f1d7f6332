"""Foot contact is found on the solved floor, and planted feet hold still on it with the legs left intact."""

from __future__ import annotations

import dataclasses

import numpy as np

from ram_core.contract.results import FORMAT_VERSION, SCENE_MOVING, Results, load_results, save_results
from ram_core.contract.skeleton import PARENTS
from ram_core.scene.contact import ContactOptions, detect_contact, plant_feet
from ram_core.scene.solve import FEET
from tests.fixtures.streets import FOOT_HEIGHT, FPS, camera, meta, track_of, walker

FRAMES = 120


def stance_truth(world: np.ndarray) -> np.ndarray:
    """``(F, 2)`` the walker's planted feet: on the floor and still (its own definition, exactly)."""
    feet = world[:, list(FEET)]
    still = np.zeros(feet.shape[:2], bool)
    still[1:] = np.linalg.norm(np.diff(feet[..., :2], axis=0), axis=-1) < 1e-9
    still[0] = still[1]
    return still & (feet[..., 2] < FOOT_HEIGHT + 1e-9)


def captured(seed: int = 0) -> tuple[Results, np.ndarray, np.ndarray]:
    """A walker whose whole body drifts along its viewing ray (the capture's root error: a wrong distance,
    so stance feet slide and sink below the floor), each joint jittered by 3 mm, in a scene already solved
    (the true camera and floor in the metadata). Returns the results, the true world joints ``(F, 24, 3)``
    and the true stance ``(F, 2)``."""
    rng = np.random.default_rng(seed)
    world = walker(1.70, (-1.0, 6.0), -70.0, FRAMES, rng)
    t = np.arange(FRAMES) / FPS
    cam = camera(2.5, 15.0, 1.0)
    centre = np.linalg.inv(cam)[:3, 3]
    ray = world[:, 0] - centre
    ray /= np.linalg.norm(ray, axis=1, keepdims=True)
    farther = 0.25 + 0.15 * np.sin(2 * np.pi * 0.5 * t)  # metres too far: the body sinks and slides
    seen = world + (farther[:, None] * ray)[:, None] + 0.003 * rng.standard_normal(world.shape)
    joints = seen @ cam[:3, :3].T + cam[:3, 3]
    world_from_camera = np.linalg.inv(cam)
    up = cam[:3, :3] @ np.array([0.0, 0.0, 1.0])
    floor = np.append(up, 2.5)  # n . x + d = 0 in the camera frame: the camera 2.5 m above it
    m = dataclasses.replace(meta(FRAMES), world_from_camera=world_from_camera, floor_cam=floor, scene_status="solved")
    return Results(m, [track_of(1, joints)]), world, stance_truth(world)


def to_world(results: Results) -> np.ndarray:
    w = np.asarray(results.meta.world_from_camera)
    return results.tracks[0].joints.astype(np.float64) @ w[:3, :3].T + w[:3, 3]


def test_contact_is_found_where_the_walker_stands():
    results, _, truth = captured()
    feet = to_world(results)[:, list(FEET)]
    feet[..., 2] += 0.05  # the detector sees the floor the solve found; here the drift's sinking is left out
    _, flag = detect_contact(feet, np.arange(FRAMES), FOOT_HEIGHT, FPS)
    precision = (flag & truth).sum() / flag.sum()
    recall = (flag & truth).sum() / truth.sum()
    assert precision > 0.9 and recall > 0.8, (precision, recall)


def test_planted_feet_do_not_slide_or_sink_and_bones_keep_their_length():
    results, _, _ = captured()
    before = results.tracks[0]
    out = plant_feet(results)
    track = out.tracks[0]
    flag = track.contact >= 0.5
    assert flag.any(axis=0).all(), "each foot is found planted somewhere"
    world = to_world(out)
    feet = world[:, list(FEET)]
    both = flag[1:] & flag[:-1]
    step = np.linalg.norm(np.diff(feet[..., :2], axis=0), axis=-1)[both]
    skate_before = np.linalg.norm(np.diff(to_world(results)[:, list(FEET), :2], axis=0), axis=-1)[both]
    # Moving only along the pelvis ray (so the capture stays on the video) takes out most of the slide a
    # wrong distance makes, not all: the anchors are means of the drifting feet.
    assert step.mean() < 0.8 * skate_before.mean(), (step.mean(), skate_before.mean())
    assert world[..., 2].min() > -ContactOptions().lift_tolerance - 1e-5, "no joint below the floor's tolerance"
    strict = to_world(plant_feet(results, ContactOptions(lift_tolerance=0.0)))
    assert strict[..., 2].min() > -1e-5, "without a tolerance no joint is below the floor"
    # Along the ray, height and ground position move together: planted feet end within 3 cm of standing, or as
    # far below it as the lift's tolerance lets them dip.
    tolerance = 0.03 + ContactOptions().lift_tolerance
    assert np.abs(feet[..., 2][flag] - FOOT_HEIGHT).max() < tolerance, "planted feet stand on the floor"
    bones = np.linalg.norm(track.joints[:, 1:] - track.joints[:, list(PARENTS[1:])], axis=-1)
    bones0 = np.linalg.norm(before.joints[:, 1:] - before.joints[:, list(PARENTS[1:])], axis=-1)
    assert np.allclose(bones, bones0, atol=2e-6)
    moved = track.joints - before.joints
    assert np.allclose(moved, moved[:, :1], atol=2e-6), "every joint moves with the root"
    pixel = before.joints[:, 0, :2] / before.joints[:, 0, 2:]
    np.testing.assert_allclose(track.joints[:, 0, :2] / track.joints[:, 0, 2:], pixel, atol=1e-6)  # still on the video
    assert np.allclose(track.transl - before.transl, moved[:, 0], atol=2e-6)


def test_the_correction_is_smooth():
    results, _, _ = captured()
    out = plant_feet(results)
    move = (out.tracks[0].joints[:, 0] - results.tracks[0].joints[:, 0]).astype(np.float64)
    jump = np.linalg.norm(np.diff(move, axis=0), axis=-1)
    # Handovers between anchors eased in. A lift along a ray 15-20 degrees below the horizon moves the body
    # about 3x as far along it as up, so this walker's 25 +- 15 cm distance error allows up to 10 cm.
    assert jump.max() < 0.10, jump.max()


def test_gaps_split_contact_and_the_correction():
    results, _, _ = captured()
    t = results.tracks[0]
    keep = np.ones(FRAMES, bool)
    keep[50:60] = False
    out = plant_feet(Results(results.meta, [t.select(keep)]))
    assert len(out.tracks[0]) == keep.sum()
    assert to_world(out)[..., 2].min() > -ContactOptions().lift_tolerance - 1e-5


def test_without_a_floor_contact_is_zero_and_bodies_move_only_along_their_pelvis_rays():
    """No floor: planted feet are only kept at one distance (``ram_core.scene.planted``); a camera suspected of
    moving: nothing moves."""
    results, _, _ = captured()
    bare = Results(dataclasses.replace(results.meta, world_from_camera=None, floor_cam=None), results.tracks)
    out = plant_feet(bare)
    assert np.all(out.tracks[0].contact == 0)
    before, after = results.tracks[0].joints, out.tracks[0].joints
    np.testing.assert_allclose(after - after[:, :1], before - before[:, :1], atol=1e-5)
    np.testing.assert_allclose(after[:, 0, :2] / after[:, 0, 2:], before[:, 0, :2] / before[:, 0, 2:], atol=1e-6)
    moving = dataclasses.replace(bare.meta, scene_status=f"{SCENE_MOVING}: test")
    assert np.array_equal(plant_feet(Results(moving, results.tracks)).tracks[0].joints, before)


def test_contact_round_trips(tmp_path):
    out = plant_feet(captured()[0])
    back = load_results(save_results(out, tmp_path / "c.ram.npz"))
    assert np.array_equal(back.tracks[0].contact, out.tracks[0].contact)
    assert back.meta.format_version == FORMAT_VERSION


def test_options_are_frozen():
    o = ContactOptions()
    try:
        o.min_frames = 1  # type: ignore[misc]
    except dataclasses.FrozenInstanceError:
        return
    raise AssertionError("ContactOptions is not frozen")


def nearer(world: np.ndarray, by: np.ndarray, seed: int = 0) -> Results:
    """The walker ``world`` seen ``by`` ``(F,)`` metres too near along its pelvis's viewing ray (it floats),
    each joint jittered by 3 mm, in the true solved scene."""
    rng = np.random.default_rng(seed)
    cam = camera(2.5, 15.0, 1.0)
    ray = world[:, 0] - np.linalg.inv(cam)[:3, 3]
    ray /= np.linalg.norm(ray, axis=1, keepdims=True)
    seen = world - (by[:, None] * ray)[:, None] + 0.003 * rng.standard_normal(world.shape)
    joints = seen @ cam[:3, :3].T + cam[:3, 3]
    up = cam[:3, :3] @ np.array([0.0, 0.0, 1.0])
    m = dataclasses.replace(
        meta(len(world)), world_from_camera=np.linalg.inv(cam), floor_cam=np.append(up, 2.5), scene_status="solved"
    )
    return Results(m, [track_of(1, joints)])


def test_a_body_held_far_above_the_floor_is_lowered_along_its_ray():
    world = walker(1.70, (-1.0, 6.0), -70.0, FRAMES, np.random.default_rng(0))
    t = np.arange(FRAMES) / FPS
    results = nearer(world, 2.0 + 1.0 * np.sin(2 * np.pi * 0.3 * t))  # 0.3-0.7 m above the floor
    lower = to_world(results)[:, list(FEET), 2].min(axis=1) - FOOT_HEIGHT
    assert np.median(lower) > 0.3
    out = plant_feet(results)
    lower = to_world(out)[:, list(FEET), 2].min(axis=1) - FOOT_HEIGHT
    assert np.median(lower) < 0.15 and np.percentile(lower, 90) < 0.25, np.percentile(lower, [50, 90])
    assert lower.min() > -0.03
    before, after = results.tracks[0].joints[:, 0], out.tracks[0].joints[:, 0]
    np.testing.assert_allclose(after[:, :2] / after[:, 2:], before[:, :2] / before[:, 2:], atol=1e-6)


def test_a_short_jump_is_not_pulled_down():
    world = walker(1.70, (-1.0, 6.0), -70.0, FRAMES, np.random.default_rng(0))
    t = np.arange(FRAMES) / FPS
    hop = np.clip(np.sin(np.pi * (t - 2.0) / 0.4), 0.0, None) * ((t > 2.0) & (t < 2.4))  # 0.4 s in the air
    world = world + (0.4 * hop)[:, None, None] * np.array([0.0, 0.0, 1.0])
    out = plant_feet(nearer(world, np.zeros(FRAMES)))
    peak = to_world(out)[:, list(FEET), 2].min(axis=1)[(t > 2.1) & (t < 2.3)]
    assert peak.min() > 0.25, peak.min()


def test_feet_are_where_their_pixels_put_them_not_where_the_backend_posed_them():
    # A walker across a camera at head height (1.6 m, pitched 5 degrees) at its true distance on the solved floor,
    # its farther foot posed 5 cm low (lite draws it a few pixels below where it saw it). Lifting that foot out of
    # the floor (beyond the lift's 3 cm tolerance) would move the body toward the camera by 5-10 times the dip
    # along a ray this flat; its pixel says it stands on the floor, so the body stays where it is.
    rng = np.random.default_rng(0)
    world = walker(1.70, (-2.0, 5.0), -90.0, FRAMES, rng)
    cam = camera(1.6, 5.0, 0.0)
    joints = world @ cam[:3, :3].T + cam[:3, 3]
    m = meta(FRAMES)
    projected = joints @ m.intrinsics.T
    pixels = np.concatenate([projected[..., :2] / projected[..., 2:], np.ones(joints.shape[:2] + (1,))], axis=-1)
    posed = joints.copy()
    far = np.array(FEET)[np.argmax(joints[:, list(FEET), 2], axis=1)]
    posed[np.arange(FRAMES), far, 1] += 0.05  # camera y is down
    floor = np.append(cam[:3, :3] @ np.array([0.0, 0.0, 1.0]), 1.6)
    solved = dataclasses.replace(m, world_from_camera=np.linalg.inv(cam), floor_cam=floor, scene_status="solved")

    def moved(weight: float) -> float:
        track = track_of(1, posed, pixels * np.array([1.0, 1.0, weight]))
        out = plant_feet(Results(solved, [track])).tracks[0]
        return float(np.median(np.linalg.norm(out.joints[:, 0], axis=-1) / np.linalg.norm(joints[:, 0], axis=-1)) - 1)

    assert abs(moved(1.0)) < 0.005, moved(1.0)
    assert moved(0.0) < -0.015, moved(0.0)  # without its pixels the posed foot is lifted out, the body brought near
