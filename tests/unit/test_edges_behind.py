"""scene/edges: a track lost near the clip's end behind someone it was apart from is carried on behind them."""

from __future__ import annotations

import numpy as np

from ram_core.contract.results import Results
from ram_core.scene.edges import EdgeConfig, extend_at_edges
from tests.unit.test_relink import meta, walker

WALK = np.arange(0, 50)  # a walker at 2 px a frame, lost 10 frames before a 60-frame clip's end


def test_a_walker_lost_behind_someone_standing_is_carried_to_the_clip_end_behind_them():
    """stop_go_15fps: the walker meets a man standing (their boxes 22 px apart, IoU 0.37, on the walker's last
    frame) and is lost behind him; the carry lies on the standing man's box from frame 53 and went no further
    (``EdgeConfig.behind_end`` off); now it goes on to the last frame."""
    going, standing = walker(1, WALK, 180), walker(2, np.arange(0, 60), 300, speed=0.0)
    out = extend_at_edges(Results(meta(60), [standing, going])).track(1)
    assert out.frame.tolist() == list(range(60)) and out.predicted[50:].all()
    np.testing.assert_allclose(out.box[50:, 0], 180 + 2.0 * np.arange(50, 60) - 24, atol=1e-6)
    before = extend_at_edges(Results(meta(60), [standing, going]), EdgeConfig(behind_end=False)).track(1)
    assert before.frame.tolist() == list(range(53))


def test_a_track_on_the_same_person_over_its_last_second_still_stops_the_carry():
    """Two tracks on one walker for the whole second before one of them is lost: never apart, so the lost one
    is not carried onto the other's boxes."""
    going, twin = walker(1, WALK, 180), walker(2, np.arange(0, 60), 180)
    out = extend_at_edges(Results(meta(60), [twin, going])).track(1)
    assert out.frame.tolist() == WALK.tolist()
