"""Offline repair of box tracks that exchanged their people where they met (`ram_core.tracking.swaps`)."""

import numpy as np

from ram_core.tracking.swaps import SwapRepairConfig, _cheapest_path, unswapped_ids


def walker(frames: np.ndarray, x0: float, vx: float, bottom: float, h: float, w: float = 45.0) -> np.ndarray:
    """xyxy boxes of a person walking at vx px/frame (at x0 on frame 0), feet at ``bottom``, ``h`` px tall."""
    x = x0 + vx * np.asarray(frames, np.float64)
    return np.stack([x, np.full_like(x, bottom - h), x + w, np.full_like(x, bottom)], axis=1)


def crossing(jitter: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(frames, boxes, true person 1 or 2) of two people crossing over frames 1-40: person 1 walks right, the
    nearer and taller person 2 walks left in front of them; they overlap on frames 14-26."""
    f = np.arange(1, 41)
    one = walker(f, 300, 3, bottom=250, h=140)
    two = walker(f, 420, -3, bottom=265, h=160)
    boxes = np.concatenate([one, two])
    boxes += np.random.default_rng(seed).normal(0, jitter, boxes.shape)
    return np.concatenate([f, f]), boxes, np.repeat([1, 2], 40)


def test_a_two_frame_exchange_in_a_crossing_is_undone():
    frames, boxes, person = crossing(jitter=1.5)
    ids = person.copy()
    flipped = np.isin(frames, [19, 20])  # the tracker gave each one's box to the other for two frames
    ids[flipped] = 3 - ids[flipped]
    np.testing.assert_array_equal(unswapped_ids(ids, frames, boxes, SwapRepairConfig()), person)


def test_tracks_that_exchanged_people_for_good_get_them_back():
    frames, boxes, person = crossing(jitter=1.5, seed=1)
    ids = person.copy()
    after = frames >= 21
    ids[after] = 3 - ids[after]
    np.testing.assert_array_equal(unswapped_ids(ids, frames, boxes, SwapRepairConfig()), person)


def test_the_trackers_labelling_stays_where_nothing_tells_the_two_apart():
    # A couple walking side by side, alike in size and speed: which box is whose in the middle cannot be told.
    f = np.arange(1, 41)
    frames = np.concatenate([f, f])
    boxes = np.concatenate([walker(f, 300, 3, bottom=250, h=150), walker(f, 320, 3, bottom=252, h=150)])
    ids = np.repeat([1, 2], 40)
    ids[np.isin(frames, [19, 20])] = 3 - ids[np.isin(frames, [19, 20])]
    np.testing.assert_array_equal(unswapped_ids(ids, frames, boxes, SwapRepairConfig()), ids)
    # Nor does a clean crossing change, and two people who never meet are left alone.
    frames2, boxes2, person = crossing()
    np.testing.assert_array_equal(unswapped_ids(person, frames2, boxes2, SwapRepairConfig()), person)
    apart = boxes2 + np.where(person[:, None] == 2, [0, 200, 0, 200], 0)
    np.testing.assert_array_equal(unswapped_ids(person, frames2, apart, SwapRepairConfig()), person)


def test_three_people_meeting_are_judged_together():
    # A third person stands where the two cross; the walkers' tracks exchanged them for good inside the meeting.
    frames, boxes, person = crossing(jitter=1.0, seed=2)
    f = np.arange(1, 41)
    frames = np.concatenate([frames, f])
    boxes = np.concatenate([boxes, walker(f, 355, 0.0, bottom=240, h=130)])
    person = np.concatenate([person, np.full(40, 3)])
    ids = person.copy()
    swapped = (frames >= 21) & (person < 3)
    ids[swapped] = 3 - ids[swapped]
    np.testing.assert_array_equal(unswapped_ids(ids, frames, boxes, SwapRepairConfig()), person)
    # With at most two tracks judged at a time the meeting is left as it was.
    np.testing.assert_array_equal(unswapped_ids(ids, frames, boxes, SwapRepairConfig(max_tracks=2)), ids)


def test_cheapest_path_starts_and_ends_where_told():
    changes = np.array([[0.0, 1.0], [1.0, 0.0]])
    emission = np.array([[0.0, 5.0], [5.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    assert _cheapest_path(emission, changes, end=0) == ([0, 1, 1, 0], 2.0)
    # Ending exchanged: the last step as it was and the change after it (1) beats staying exchanged (5).
    assert _cheapest_path(emission, changes, end=1) == ([0, 1, 1, 0], 3.0)
    # A change that costs more than it saves is not made.
    assert _cheapest_path(emission * 0.1, changes * 10, end=0) == ([0, 0, 0, 0], 1.0)


def test_no_rows_or_one_track_are_returned_as_they_are():
    cfg = SwapRepairConfig()
    empty = unswapped_ids(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 4)), cfg)
    assert empty.shape == (0,)
    frames, boxes, person = crossing()
    one = person == 1
    np.testing.assert_array_equal(unswapped_ids(person[one], frames[one], boxes[one], cfg), person[one])
