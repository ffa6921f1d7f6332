"""scene/doubles: a short tracklet only ever seen on top of a longer track is dropped; a real person is not."""

from __future__ import annotations

import numpy as np

from ram_core.contract.results import Results
from ram_core.scene.doubles import drop_doubles
from ram_core.scene.refine import unsolved
from tests.unit.test_relink import meta, walker


def test_a_tracklet_on_one_person_then_another_goes_and_leaves_no_fill_across():
    """far_three: a tracklet on the first man's box shifted by 12 px (IoU about 0.5), then after a 20-frame gap on
    the second man's; the gap filling joined its two ends across the picture over both (13 duplicate person-frames)."""
    first, second = walker(1, np.arange(100), 100, speed=1.0), walker(2, np.arange(100), 300, speed=1.0)
    double = walker(3, np.r_[40:49, 69:74], 112, speed=1.0)
    double.box[9:] = second.box[69:74] + [8.0, 0.0, 8.0, 0.0]
    out = drop_doubles(Results(meta(), [first, second, double]))
    assert [t.track_id for t in out.tracks] == [1, 2] and "only ever on another's person" in out.meta.notes
    assert [t.track_id for t in unsolved(Results(meta(), [first, second, double])).tracks] == [1, 2]


def test_a_short_track_seen_apart_once_or_a_long_one_stays():
    """The same tracklet with one record clear of everyone (a person stepping out from behind) stays, and so does
    one of over a second (the far man of a pair in line with the camera, found on and off)."""
    first, second = walker(1, np.arange(100), 100, speed=1.0), walker(2, np.arange(100), 300, speed=1.0)
    apart = walker(3, np.r_[40:49, 69:74], 112, speed=1.0)
    apart.box[0] += [60.0, 0.0, 60.0, 0.0]
    long = walker(4, np.arange(40, 80), 112, speed=1.0)
    for kept in (apart, long):
        out = drop_doubles(Results(meta(), [first, second, kept]))
        assert [t.track_id for t in out.tracks] == [1, 2, kept.track_id]
