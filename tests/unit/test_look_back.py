"""Looking back from a newly confirmed track (ram_core.backends.lite.look_back) on a scripted sequence.

A person walks right at 3 px/frame into the picture; the scripted landmark model finds them in a crop
around them from frame 10 on (before that too little of them shows). The track's first frame is 20.
"""

from __future__ import annotations

import numpy as np

from ram_core.backends.lite.look_back import LookBackConfig, look_back
from ram_core.perception.landmarks import LandmarkBatch

FIRST, SHOWS = 20, 10


def person(frame: int) -> np.ndarray:
    x = 50.0 + 3.0 * frame
    return np.array([x, 100.0, x + 40.0, 200.0])


def estimate(image: np.ndarray, rois: np.ndarray) -> LandmarkBatch:
    """One pose per roi: the person's box corners as landmarks, pose score 1 where the roi holds their centre
    and they show (the frame number is the image's first pixel)."""
    frame = int(image[0, 0, 0])
    box = person(frame)
    centre = (box[:2] + box[2:]) / 2
    n = len(rois)
    inside = (
        (rois[:, 0] <= centre[0]) & (centre[0] <= rois[:, 2]) & (rois[:, 1] <= centre[1]) & (centre[1] <= rois[:, 3])
    )
    points = np.zeros((n, 33, 2), np.float32)
    points[:, 0], points[:, 1] = box[:2], box[2:]
    return LandmarkBatch(
        image=points,
        world=np.zeros((n, 33, 3), np.float32),
        visibility=np.ones((n, 33), np.float32),
        presence=np.ones((n, 33), np.float32),
        score=np.where(inside & (frame >= SHOWS), 1.0, 0.0).astype(np.float32),
        boxes_from_landmarks=rois.astype(np.float32),
        crops=np.zeros((n, 3), np.float32),
        aux=np.zeros((n, 2, 2), np.float32),
    )


def to_boxes(points: np.ndarray) -> np.ndarray:
    return np.concatenate([points[:, :2].min(axis=1), points[:, :2].max(axis=1)], axis=1)


def recent(first: int, last: int) -> list[tuple[int, np.ndarray]]:
    return [(f, np.full((4, 4, 3), f, np.uint8)) for f in range(first, last + 1)]


REACH = LookBackConfig(frames=20)


def frames_found(memory: list, seen: dict, cfg: LookBackConfig = REACH) -> list[int]:
    first = np.stack([person(FIRST), person(FIRST + 1)])
    out = look_back(memory, FIRST, first, estimate, to_boxes, seen, 7, 1.1, cfg)
    for frame, pose, box in out:
        np.testing.assert_allclose(box, person(frame))
        assert len(pose) == 1
    return [f for f, _, _ in out]


def test_a_new_track_is_followed_back_to_where_its_person_began_to_show():
    assert frames_found(recent(0, FIRST - 1), {}) == list(range(FIRST - 1, SHOWS - 1, -1))


def test_the_search_stops_at_the_frames_kept_and_at_its_reach():
    assert frames_found(recent(15, FIRST - 1), {}) == [19, 18, 17, 16, 15]
    assert frames_found(recent(0, FIRST - 1), {}, LookBackConfig(frames=3)) == [19, 18, 17]


def test_the_search_stops_where_another_track_had_that_person():
    """Frame 14: track 3 was observed on them (a lost track of the same person): the frames before are its."""
    seen = {14: np.array([[3.0, *person(14)]]), 16: np.array([[3.0, 400, 100, 440, 200]])}
    assert frames_found(recent(0, FIRST - 1), seen) == [19, 18, 17, 16, 15]


def test_the_search_stops_where_the_track_itself_was_seen():
    """A person back through the picture's edge continues their earlier track (``reentry``), which was observed on
    them up to frame 16: those frames were sent already; the search ends there (it looked again and sent them
    twice)."""
    seen = {16: np.array([[7.0, *person(16)], [3.0, 400, 100, 440, 200]])}
    assert frames_found(recent(0, FIRST - 1), seen) == [19, 18, 17]


def test_a_pose_of_another_size_or_off_the_walk_ends_the_search():
    def small(points: np.ndarray) -> np.ndarray:
        box = to_boxes(points)
        box[:, 3] = box[:, 1] + 40.0  # 40 px tall: not the 100 px person
        return box

    first = np.stack([person(FIRST), person(FIRST + 1)])
    assert look_back(recent(0, FIRST - 1), FIRST, first, estimate, small, {}, 7, 1.1, LookBackConfig()) == []
    still = np.stack([person(FIRST), person(FIRST) + [60.0, 0, 60.0, 0]])  # moving 60 px/frame: the guess misses
    assert look_back(recent(0, FIRST - 1), FIRST, still, estimate, to_boxes, {}, 7, 1.1, LookBackConfig()) == []
