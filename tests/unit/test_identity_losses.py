"""tools/identity_losses.py: which person a landmark pose lies on (its ``--probe``)."""

from __future__ import annotations

import numpy as np

from ram_core.body.blazepose import LANDMARK_NAMES
from ram_core.contract.skeleton import JOINT_NAMES
from tools.identity_losses import SHARED_JOINTS, whose_pose

NAMES = list(LANDMARK_NAMES)
JOINTS = list(JOINT_NAMES)


def _people(offsets: list[float]) -> np.ndarray:
    """``(P, 24, 2)`` true joint pixels: one standing figure 100 px tall, moved right by each offset."""
    rng = np.random.default_rng(0)
    body = np.stack([rng.uniform(0, 30, len(JOINTS)), np.linspace(0, 100, len(JOINTS))], axis=1)
    return np.stack([body + [dx, 0.0] for dx in offsets])


def _pose_on(joints: np.ndarray) -> np.ndarray:
    """``(33, 2)`` landmark pixels whose shared joints are ``joints``' (the rest far off)."""
    pose = np.full((len(NAMES), 2), 1e4)
    for name in SHARED_JOINTS:
        pose[NAMES.index(name)] = joints[JOINTS.index(name)]
    return pose


def test_a_pose_on_a_person_is_theirs_at_no_distance():
    people = _people([0.0, 14.0])
    who, far = whose_pose(_pose_on(people[1]), NAMES, people, JOINTS, np.array([100.0, 100.0]))
    assert (who, far) == (1, 0.0)


def test_a_pose_between_two_people_one_behind_the_other_is_near_neither():
    # group_five's pair: the far man's joints 0.12-0.16 of his height from the near woman's in the picture;
    # a pose halfway lies 0.07 from both, beyond the 0.05 that counts as on them.
    people = _people([0.0, 14.0])
    who, far = whose_pose(_pose_on(people[0] + [7.0, 0.0]), NAMES, people, JOINTS, np.array([100.0, 100.0]))
    assert who in (0, 1)
    assert np.isclose(far, 0.07)


def test_people_not_in_the_picture_are_nobody():
    people = np.full((2, len(JOINTS), 2), np.nan)
    people[1] = _people([50.0])[0]
    assert whose_pose(_pose_on(people[1]), NAMES, people, JOINTS, np.array([100.0, 100.0]))[0] == 1
    assert whose_pose(_pose_on(people[1]), NAMES, people[:1], JOINTS, np.array([100.0])) == (-1, float("inf"))
