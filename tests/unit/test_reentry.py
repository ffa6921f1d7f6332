"""A person coming back through the picture's edge keeps their track (ram_core.backends.lite.reentry), on scripted
tracks in a 640 x 480 picture at 10 frames/s: a runner leaves on the right and comes back there 20 frames later,
nearer the camera (twice the height); a track born on her there continues hers, and is sent under her id from its
first frame. Not when her colours differ, when somebody else in the picture looks as much like her, when she left by another edge or far from where the newcomer enters
along it, when it was more than 3 s ago, when the earlier track is seen elsewhere on that frame, nor from a track
that was never confirmed."""

from __future__ import annotations

import numpy as np

from ram_core.backends.lite.backend import LiteBackend
from ram_core.backends.lite.reentry import Reentries, ReentryConfig, part_affinities
from ram_core.scene.edges import edges_crossed
from ram_core.tracking.tracker import TrackView

SIZE = (640.0, 480.0)
FPS = 10.0
DIM = 12 * 4  # one part's histogram (LiteConfig.hist_bins)


def colours(torso: int, legs: int) -> np.ndarray:
    """An ``appearance_features`` row: all of the torso's pixels in hue bin ``torso``, the legs' in ``legs``."""
    out = np.zeros(2 * DIM)
    out[torso] = 1.0
    out[DIM + legs] = 1.0
    return out


RUNNER, OTHER = colours(3, 7), colours(9, 7)  # the other one's trousers alike, her shirt not


def runner_left(known: Reentries, confirmed: bool = True) -> None:
    """Frames 0-29 wholly in the picture, 30-35 crossing its right edge (box y 190 .. 300), then gone."""
    for f in range(36):
        x = 400 + 8 * f
        known.observe(f, 2, confirmed, np.array([x - 25, 190.0, x + 25, 300.0]), RUNNER)


BACK = np.array([580.0, 240.0, 690.0, 460.0])  # frame 56: twice as tall, across the right edge


def test_a_track_born_where_a_runner_left_the_picture_with_her_colours_continues_hers():
    known = Reentries(ReentryConfig(), SIZE, FPS)
    runner_left(known)
    assert known.returning(56, BACK, RUNNER, present=set()) == 2
    assert known.returning(56, BACK, OTHER, present=set()) is None  # another shirt
    assert known.returning(56, BACK, RUNNER, present={2}) is None  # she is seen elsewhere on that frame
    assert known.returning(66, BACK, RUNNER, present=set()) is None  # 3.1 s after she was last seen
    left_edge = np.array([-50.0, 240.0, 60.0, 460.0])
    assert known.returning(56, left_edge, RUNNER, present=set()) is None  # another edge
    lower = np.array([580.0, 320.0, 690.0, 470.0])
    assert known.returning(56, lower, RUNNER, present=set()) is None  # below where she left along the edge
    inside = np.array([500.0, 240.0, 600.0, 460.0])
    assert known.returning(56, inside, RUNNER, present=set()) is None  # born inside: not coming in at the edge


def test_a_newcomer_who_looks_as_much_like_somebody_else_is_not_joined():
    known = Reentries(ReentryConfig(), SIZE, FPS)
    runner_left(known)
    known.observe(40, 7, True, np.array([100.0, 190.0, 150.0, 300.0]), RUNNER * 0.9 + OTHER * 0.1)  # a look-alike
    assert known.returning(56, BACK, RUNNER, present={7}) is None
    known = Reentries(ReentryConfig(), SIZE, FPS)
    runner_left(known)
    known.observe(41, 8, True, np.array([100.0, 190.0, 150.0, 300.0]), OTHER)  # one in another shirt
    assert known.returning(56, BACK, RUNNER, present={8}) == 2


def test_a_tentative_tracks_exit_is_not_remembered_and_colours_are_learnt_only_wholly_in_the_picture():
    known = Reentries(ReentryConfig(), SIZE, FPS)
    runner_left(known, confirmed=False)
    assert known.returning(56, BACK, RUNNER, present=set()) is None
    known = Reentries(ReentryConfig(), SIZE, FPS)
    known.observe(0, 5, True, np.array([600.0, 190.0, 700.0, 300.0]), OTHER)  # only ever seen across the edge
    assert 5 not in known.looks and known.returning(5, BACK, OTHER, present=set()) is None
    known.forget(40)
    assert not known.exits


def test_edges_and_affinities():
    assert edges_crossed(BACK, *SIZE).tolist() == [False, False, True, False]
    assert edges_crossed(np.array([10.0, -5.0, 50.0, 100.0]), *SIZE).tolist() == [False, True, False, False]
    np.testing.assert_allclose(part_affinities(RUNNER, RUNNER), [1.0, 1.0])
    np.testing.assert_allclose(part_affinities(RUNNER, OTHER), [0.0, 1.0])
    np.testing.assert_allclose(part_affinities(RUNNER, np.zeros(2 * DIM)), [0.0, 0.0])  # no pixels of its own


def view(track_id: int, box: np.ndarray, index: int, age: int, confirmed: bool, observed: bool = True) -> TrackView:
    return TrackView(track_id, box, observed, 1.0, index if observed else -1, age, 0 if observed else 20, confirmed)


def test_the_backend_sends_a_returning_track_under_the_earlier_id_confirmed_and_drops_the_earlier_ones_coast():
    backend = LiteBackend()
    backend._reentries = Reentries(ReentryConfig(), SIZE, FPS)
    runner_left(backend._reentries)
    backend._sent = {1, 2}
    lost = view(2, np.array([1000.0, 190.0, 1050.0, 300.0]), -1, 40, True, observed=False)  # coasting outside
    walker = view(1, np.array([300.0, 200.0, 340.0, 300.0]), 0, 56, True)
    newcomer = view(7, BACK, 1, 0, False)
    boxes = np.stack([walker.box, BACK])
    features = np.stack([OTHER, RUNNER])
    out = backend._returned(56, [walker, lost, newcomer], boxes, features)
    assert [(v.track_id, v.confirmed, v.observed) for v in out] == [(1, True, True), (2, True, True)]
    assert 2 not in backend._sent  # so its first records are sent with a look back
    later = view(7, BACK - [40.0, 0, 40.0, 0], 0, 1, False)
    out = backend._returned(57, [lost, later], later.box[None], RUNNER[None])
    assert [(v.track_id, v.confirmed) for v in out] == [(2, True)]
    out = backend._returned(58, [lost], np.zeros((0, 4)), np.zeros((0, 2 * DIM)))  # the newcomer ended
    assert [v.track_id for v in out] == [2] and not out[0].observed and not backend._reentries.alias
