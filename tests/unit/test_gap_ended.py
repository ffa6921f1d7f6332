"""scene/gaps: a gap's fill is not refused for a track that was apart before the gap and ended inside it."""

from __future__ import annotations

import numpy as np

from ram_core.contract.results import Results
from ram_core.scene.gaps import GapConfig, fill_track_gaps
from tests.unit.test_relink import meta, walker

STILL = np.r_[0:55, 57:90]  # a man standing still, his track lost on frames 55-56


def _passer(frames: np.ndarray, at_54: float, speed: float) -> object:
    """Track 2: someone walking along the picture, ``at_54`` px right of the still man on frame 54."""
    return walker(2, frames, 200 + at_54 - speed * 54, speed=speed)


def test_a_short_gap_is_filled_where_a_track_apart_before_it_ended_on_this_person():
    """stop_go_15fps: the other man's track, 20 px away on frame 54 (box IoU 0.41), takes the one pose found on
    the two of them on frames 55-56 (IoU 0.65 and 1.0 with the still man) and ends there; the still man's gap is
    filled, as it was not before (``GapConfig.ended`` off)."""
    still, passer = walker(1, STILL, 200, speed=0.0), _passer(np.arange(40, 57), 20.0, -10.0)
    merged = fill_track_gaps(Results(meta(), [still, passer])).track(1)
    assert merged.frame.tolist() == list(range(90))
    assert merged.predicted[[55, 56]].all() and merged.predicted.sum() == 2
    before = fill_track_gaps(Results(meta(), [still, passer]), GapConfig(ended=False)).track(1)
    assert before.frame.tolist() == STILL.tolist()


def test_a_track_that_goes_on_after_the_gap_was_on_this_person_before_it_or_was_born_at_it_still_blocks_the_fill():
    """The same gap; the other track goes on over the still man after it (on him on frame 57: one person, two
    tracks, as far as the records tell), or was already on him before it (4 px away on frame 54), or was born on
    the gap's first frame (a new track on him while his own was lost: vtest.avi): not filled."""
    still = walker(1, STILL, 200, speed=0.0)
    others = (np.arange(40, 61), 20.0, -10.0), (np.arange(40, 57), 4.0, -2.0), (np.arange(54, 57), 20.0, -10.0)
    for passer in (_passer(*other) for other in others):
        assert fill_track_gaps(Results(meta(), [still, passer])).track(1).frame.tolist() == STILL.tolist()
