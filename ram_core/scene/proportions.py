"""One person's limb proportions from a track's observations, and a skeleton with given bone lengths. Numpy.

A track's skeleton is the capture's rest skeleton times its size (``scale``); these estimate how its limbs
differ from that skeleton's, bone by bone, for a fit that takes a skeleton per track
(``ram_core.scene.fit.fit_track``'s ``rest_joints``). Two measurements per limb bone, both kept constant
over the track:

* the median length of the bone in the backend's 3D keypoints (``keypoints_3d``), over the frames both ends
  were seen, relative to the skeleton's bone (the landmark model's own size divides out: every ratio is taken
  relative to the median ratio of all limb bones);
* a high percentile of its projected length (``keypoints_2d``, in metres at the joints' depth): a limb
  swings across the image plane now and then, where its projection is its full length.

Left and right are pooled (people are near symmetric), the two measurements averaged, and the result
shrunk toward the skeleton's own proportions by ``ProportionOptions.trust``.

On the synthetic suite (``benchmarks/fit_proportions.py`` on the kept captures of main at 1646c00) the estimate
is farther from the people's true limb proportions than the capture's own skeleton is (rms of the bone-length
factors 0.091 against 0.069, 20 people; with hands and feet measured too 0.134 against 0.061), and the fit with
it scores PA-MPJPE 70.5 mm, root-relative 101.9 mm, against 70.5 and 100.4 with the capture's skeleton: the
landmarks are too noisy per bone to tell these people's proportions apart, so the refinement keeps the
capture's skeleton. The fit with the people's TRUE bone lengths (the upper bound) scores 67.6 mm (0.81 of the
raw landmarks' 83.7, against 0.84).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ram_core.contract.results import Track
from ram_core.contract.skeleton import JOINT_INDEX, NUM_JOINTS, PARENTS
from ram_core.scene.solve import rest_stature

#: The long limb bones (thigh, shin, upper arm, forearm), named by their child joint, in left/right pairs. Hands
#: and feet are left as the skeleton has them: a few centimetres of keypoint noise lengthens an 8-14 cm bone's
#: measured length by more than people differ.
LIMB_PAIRS: tuple[tuple[int, int], ...] = tuple(
    (JOINT_INDEX[f"left_{name}"], JOINT_INDEX[f"right_{name}"]) for name in ("knee", "ankle", "elbow", "wrist")
)


@dataclass(frozen=True)
class ProportionOptions:
    """How proportions are measured.

    Attributes:
        min_weight: the least keypoint weight a bone end is measured with.
        percentile: the percentile of a bone's projected length taken as its full length.
        trust: how far the estimate moves the skeleton's proportions (0: not at all, 1: fully).
        limit: the most a bone is made longer or shorter (a factor).
        min_frames: the fewest frames a measurement needs.
    """

    min_weight: float = 0.5
    percentile: float = 90.0
    trust: float = 1.0
    limit: float = 1.25
    min_frames: int = 5


def bone_lengths(rest_joints: np.ndarray) -> np.ndarray:
    """``(24,)`` the length of the bone into each joint of ``rest_joints`` ``(24, 3)`` (0 for the pelvis)."""
    rest = np.asarray(rest_joints, dtype=np.float64)
    out = np.zeros(NUM_JOINTS)
    out[1:] = np.linalg.norm(rest[1:] - rest[list(PARENTS[1:])], axis=-1)
    return out


def with_bone_lengths(rest_joints: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``rest_joints`` ``(24, 3)`` with each bone ``lengths`` ``(24,)`` long (index: the child joint), its
    direction kept: rotations that refer to ``rest_joints`` pose it the same way."""
    rest = np.asarray(rest_joints, dtype=np.float64)
    out = np.zeros_like(rest)
    out[0] = rest[0]
    for c in range(1, NUM_JOINTS):
        q = PARENTS[c]
        bone = rest[c] - rest[q]
        out[c] = out[q] + bone / max(float(np.linalg.norm(bone)), 1e-12) * lengths[c]
    return out


def _relative(ratios: np.ndarray) -> np.ndarray:
    """Per-bone ratios ``(24,)`` (NaN: unmeasured), pooled left/right and divided by their median."""
    out = np.full(NUM_JOINTS, np.nan)
    for left, right in LIMB_PAIRS:
        pair = ratios[[left, right]]
        if np.any(np.isfinite(pair)):
            out[[left, right]] = np.nanmean(pair)
    finite = out[np.isfinite(out)]
    return out / np.median(finite) if len(finite) else out


def estimate_proportions(
    track: Track, rest_joints: np.ndarray, intrinsics: np.ndarray, options: ProportionOptions = ProportionOptions()
) -> np.ndarray:
    """``(24,)`` factors for the bone into each joint (1: as ``rest_joints``; torso bones stay 1) of the person
    of ``track``, measured as the module docstring says; ``rest_joints`` ``(24, 3)`` unscaled (``track.scale``
    applies), ``intrinsics`` ``(3, 3)`` pixels."""
    if len(track) == 0:
        return np.ones(NUM_JOINTS)
    rest_len = bone_lengths(rest_joints) * float(np.median(track.scale))
    seen = ~np.asarray(track.predicted, dtype=bool)
    kp3, kp2, joints = track.keypoints_3d, track.keypoints_2d, track.joints
    ratio_3d = np.full(NUM_JOINTS, np.nan)
    ratio_2d = np.full(NUM_JOINTS, np.nan)
    focal = float(intrinsics[0, 0])
    for c in (k for pair in LIMB_PAIRS for k in pair):
        q = PARENTS[c]
        both = seen & (kp3[:, c, 3] >= options.min_weight) & (kp3[:, q, 3] >= options.min_weight)
        if np.count_nonzero(both) >= options.min_frames:
            ratio_3d[c] = np.median(np.linalg.norm(kp3[both, c, :3] - kp3[both, q, :3], axis=-1)) / rest_len[c]
        both = seen & (kp2[:, c, 2] >= options.min_weight) & (kp2[:, q, 2] >= options.min_weight)
        if np.count_nonzero(both) >= options.min_frames:
            depth = 0.5 * (joints[both, c, 2] + joints[both, q, 2])
            shown = np.linalg.norm(kp2[both, c, :2] - kp2[both, q, :2], axis=-1) * depth / focal
            ratio_2d[c] = np.percentile(shown, options.percentile) / rest_len[c]
    measured = np.stack([_relative(ratio_3d), _relative(ratio_2d)])
    estimate = np.ones(NUM_JOINTS)
    some = np.any(np.isfinite(measured), axis=0)
    estimate[some] = np.nanmean(measured[:, some], axis=0)
    factors = 1.0 + options.trust * (estimate - 1.0)
    return np.clip(factors, 1.0 / options.limit, options.limit)


def proportioned_skeleton(rest_joints: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """``rest_joints`` ``(24, 3)`` with its bones scaled by ``factors`` ``(24,)``, then scaled as a whole to
    its own standing height (the scene solve's size for the person is kept)."""
    rest = np.asarray(rest_joints, dtype=np.float64)
    out = with_bone_lengths(rest, bone_lengths(rest) * factors)
    return out * (rest_stature(rest) / rest_stature(out))


__all__ = [
    "LIMB_PAIRS",
    "ProportionOptions",
    "bone_lengths",
    "estimate_proportions",
    "proportioned_skeleton",
    "with_bone_lengths",
]
