"""Two tracks on one person for a run of frames (ram_core.scene.stacked) on scripted crossings: the track that
followed the person in front of its own lets go there and its gap is filled on its own walk, behind them."""

from __future__ import annotations

import numpy as np

from ram_core.contract.results import Results, make_track
from ram_core.scene.gaps import fill_track_gaps
from ram_core.scene.stacked import unstack_tracks
from tests.unit.test_relink import meta, walker

HIDDEN = np.arange(40, 48)  # the frames on which the far walker's track holds the near one's box


def crossing() -> tuple[object, object, object]:
    """A far walker (120 px, walking right) passing behind a near one (150 px, walking left) around frame 44;
    on frames 40-47 the far one's track took the near one's box. Returns (far's track, near's track, the far
    walker's true track)."""
    frames = np.arange(90)
    far = walker(1, frames, 120, speed=2.0, height=120.0)
    near = walker(2, frames, 296, speed=-2.0, height=150.0)
    taken = far.box.copy()
    taken[HIDDEN] = near.box[HIDDEN]
    return make_track(1, **{**far.arrays(), "box": taken}), near, far


def test_the_track_that_followed_the_person_in_front_lets_go_and_is_filled_on_its_own_walk():
    swapped, near, far = crossing()
    out, behind = unstack_tracks(Results(meta(), [swapped, near]))
    assert out.track(1).frame.tolist() == [f for f in range(90) if f not in HIDDEN]
    assert out.track(2).frame.tolist() == list(range(90))  # the near walker's own track keeps its records
    assert behind == {(1, int(f)): {2} for f in HIDDEN}
    filled = fill_track_gaps(out, behind=behind).track(1)
    assert filled.frame.tolist() == list(range(90))
    edges = np.arange(HIDDEN[0] - 6, HIDDEN[-1] + 7)  # and the records within 0.2 s of it (GapConfig.edge_s)
    assert filled.predicted[edges].all() and not filled.predicted[np.setdiff1d(np.arange(90), edges)].any()
    np.testing.assert_allclose(filled.box, far.box, atol=1e-3)  # where the far walker really was


def test_two_tracks_that_stray_alike_both_keep_their_records():
    """Two walkers of one size crossing; on frames 40-47 both tracks hold one box halfway between them (a box
    on both people): each strays as far from its own line, so the motion says nothing and neither lets go."""
    frames = np.arange(90)
    a, b = walker(1, frames, 120, speed=2.0, height=130.0), walker(2, frames, 296, speed=-2.0, height=130.0)
    both = (a.box + b.box) / 2
    boxes = [x.box.copy() for x in (a, b)]
    for box in boxes:
        box[HIDDEN] = both[HIDDEN]
    a, b = (make_track(t.track_id, **{**t.arrays(), "box": box}) for t, box in zip((a, b), boxes))
    out, behind = unstack_tracks(Results(meta(), [a, b]))
    assert behind == {} and len(out.track(1)) == 90 and len(out.track(2)) == 90


def test_two_people_walking_together_on_one_line_keep_their_tracks():
    """Two tracks on one walk all along (nobody strays from their own line): neither lets go."""
    a = walker(1, np.arange(60), 100)
    b = walker(2, np.arange(60), 104)
    out, behind = unstack_tracks(Results(meta(), [a, b]))
    assert behind == {} and len(out.track(1)) == 60 and len(out.track(2)) == 60


def test_a_run_with_no_clear_record_on_one_side_is_left_alone():
    """The far walker's track ends inside the run (no record of its own after it): it keeps its records."""
    swapped, near, _ = crossing()
    cut = make_track(1, **{k: v[:46] for k, v in swapped.arrays().items()})
    out, behind = unstack_tracks(Results(meta(), [cut, near]))
    assert behind == {} and len(out.track(1)) == 46


def test_behind_lets_a_fill_lie_on_the_named_track_on_the_named_frames_only():
    """A gap over frames 40-47 on a track that another track overlaps all along (never apart): without
    ``behind`` nothing is filled; with (1, f) -> {2} for frames 42-45 those four frames are."""
    frames = np.r_[0:40, 48:90]
    a = walker(1, frames, 100)
    b = walker(2, np.arange(90), 104)
    assert fill_track_gaps(Results(meta(), [a, b])).track(1).frame.tolist() == frames.tolist()
    behind = {(1, f): {2} for f in range(42, 46)}
    filled = fill_track_gaps(Results(meta(), [a, b]), behind=behind).track(1)
    assert filled.frame.tolist() == sorted(frames.tolist() + [42, 43, 44, 45])
