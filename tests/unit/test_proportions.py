"""Per-person limb proportions (ram_core.scene.proportions) and the fit keeping a skeleton per track."""

from __future__ import annotations

import dataclasses

import numpy as np

from ram_core.contract.results import Results, make_track
from ram_core.contract.skeleton import JOINT_INDEX, PARENTS, forward_kinematics
from ram_core.scene.fit import FitOptions, fit_motion
from ram_core.scene.proportions import (
    LIMB_PAIRS,
    bone_lengths,
    estimate_proportions,
    proportioned_skeleton,
    with_bone_lengths,
)
from ram_core.scene.solve import rest_stature
from tests.unit.test_fit import FPS, REST, K, capture_of, project, walking

LIMBS = [k for pair in LIMB_PAIRS for k in pair]
PARENT_OF = list(PARENTS[1:])


def known_factors() -> np.ndarray:
    """Bone-length factors of a person unlike the default skeleton: short thighs, long shins and upper arms."""
    factors = np.ones(24)
    for name, f in (("knee", 0.88), ("ankle", 1.08), ("elbow", 1.12), ("wrist", 0.94), ("hand", 1.05)):
        factors[[JOINT_INDEX[f"left_{name}"], JOINT_INDEX[f"right_{name}"]]] = f
    return factors


def test_a_skeleton_with_given_bone_lengths_keeps_its_directions_and_its_height():
    factors = known_factors()
    skeleton = with_bone_lengths(REST, bone_lengths(REST) * factors)
    np.testing.assert_allclose(bone_lengths(skeleton), bone_lengths(REST) * factors, atol=1e-12)
    bones = skeleton[1:] - skeleton[PARENT_OF]
    rest_bones = REST[1:] - REST[PARENT_OF]
    cos = np.sum(bones * rest_bones, -1) / np.linalg.norm(bones, axis=-1) / np.linalg.norm(rest_bones, axis=-1)
    np.testing.assert_allclose(cos, 1.0, atol=1e-12)
    assert abs(rest_stature(proportioned_skeleton(REST, factors)) - rest_stature(REST)) < 1e-9


def noisy_track(skeleton: np.ndarray, frames: int = 90, seed: int = 0):
    """A person of ``skeleton`` walking 5 m from the camera, turning side-on and back, as a landmark backend
    reports them: 2D keypoints 2 px off, 3D keypoints (in a landmark model's own size) 3 cm off."""
    rng = np.random.default_rng(seed)
    go, bp = walking(frames)
    # Facing the camera, then side-on: the limbs cross the image plane now and then.
    go[:, 1] = 1.6 * np.sin(np.arange(frames) / FPS * 1.5)
    joints, _ = forward_kinematics(go, bp, skeleton, np.tile([0.0, 0.2, 5.0], (frames, 1)))
    pixels = np.concatenate([project(joints) + rng.normal(0.0, 2.0, (frames, 24, 2)), np.ones((frames, 24, 1))], -1)
    relative = 0.93 * (joints - joints[:, :1]) + rng.normal(0.0, 0.03, joints.shape)
    return make_track(
        1,
        frame=np.arange(frames),
        global_orient=go,
        body_pose=bp,
        betas=np.zeros((frames, 10)),
        transl=joints[:, 0] - skeleton[0],
        joints=joints,
        box=np.tile([0.0, 0.0, 10.0, 10.0], (frames, 1)),
        confidence=np.ones(frames),
        predicted=np.zeros(frames, bool),
        keypoints_2d=pixels,
        keypoints_3d=np.concatenate([relative, np.ones((frames, 24, 1))], -1),
    )


def test_the_estimate_recovers_known_proportions_from_a_noisy_sequence():
    factors = known_factors()
    track = noisy_track(proportioned_skeleton(REST, factors))
    truth = bone_lengths(proportioned_skeleton(REST, factors))[LIMBS] / bone_lengths(REST)[LIMBS]
    estimate = estimate_proportions(track, REST, K)
    # Within 5 % per limb bone, and much nearer the truth than the default skeleton's (up to 12 % off).
    assert np.max(np.abs(estimate[LIMBS] - truth)) < 0.05, (estimate[LIMBS], truth)
    assert np.sqrt(np.mean((estimate[LIMBS] - truth) ** 2)) < 0.3 * np.sqrt(np.mean((1 - truth) ** 2))
    np.testing.assert_array_equal(estimate[[0, JOINT_INDEX["spine1"], JOINT_INDEX["neck"]]], 1.0)  # torso kept


def test_a_default_proportioned_person_stays_near_the_default():
    estimate = estimate_proportions(noisy_track(REST, seed=1), REST, K)
    assert np.max(np.abs(estimate[LIMBS] - 1.0)) < 0.05


def test_a_track_with_no_records_keeps_the_skeletons_proportions(recwarn):
    track = noisy_track(REST, seed=1)
    empty = make_track(1, **{k: v[:0] for k, v in track.arrays().items()})
    np.testing.assert_array_equal(estimate_proportions(empty, REST, K), 1.0)
    assert not recwarn.list  # not numpy's "Mean of empty slice"


def test_the_fit_keeps_each_tracks_own_skeleton_exactly():
    results = capture_of()
    other = dataclasses.replace(results.tracks[0], track_id=2)
    results = Results(results.meta, [results.tracks[0], other])
    skeleton = proportioned_skeleton(REST, known_factors())
    out = fit_motion(results, FitOptions(iterations=2), skeletons={2: skeleton})
    for track, rest in zip(out.tracks, (REST, skeleton)):
        lengths = np.linalg.norm(track.joints[:, 1:] - track.joints[:, PARENT_OF], axis=-1)
        expected = bone_lengths(rest)[1:] * float(np.median(track.scale))
        np.testing.assert_allclose(lengths, np.broadcast_to(expected, lengths.shape), atol=2e-5)
