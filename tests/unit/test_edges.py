"""People carried through the picture's edge (ram_core.scene.edges) on scripted tracks: a walker leaving on
the right, one entering on the left, one whose landmark box shrinks as they leave, one standing at the edge
and one leaving in the middle of the picture."""

from __future__ import annotations

import numpy as np

from ram_core.contract.results import Results, make_track
from ram_core.scene.edges import carry_through_edges
from tests.unit.test_relink import meta, walker


def test_a_walker_leaving_on_the_right_is_carried_until_all_of_them_has_left():
    """640 px wide picture; the box (48 px wide) moves 8 px/frame; the track ends at frame 64 with its sides at
    596 and 644 px: carried (predicted, pose held) while its left side is inside, frames 65-69."""
    t = walker(1, np.arange(10, 65), 108, speed=8.0)
    out = carry_through_edges(Results(meta(), [t])).track(1)
    assert out.frame.tolist() == list(range(10, 70))
    new = out.frame > 64
    assert out.predicted[new].all() and not out.predicted[~new].any()
    assert np.all(out.confidence[new] == 0)
    np.testing.assert_allclose(out.box[new], walker(1, np.arange(65, 70), 108, speed=8.0).box, atol=1e-4)
    np.testing.assert_allclose(out.body_pose[new], np.repeat(t.body_pose[-1:], 5, axis=0))


def test_a_walker_entering_on_the_left_is_carried_back_to_where_they_began_to_show():
    """Box 48 px wide moving right 8 px/frame, first seen at frame 20 with its sides at 4 and 52 px: carried back
    over frames 14-19 (the right side at 4-44 px), not to 13 (at -4 px: all outside)."""
    t = walker(1, np.arange(20, 50), -132, speed=8.0)
    out = carry_through_edges(Results(meta(), [t])).track(1)
    assert out.frame.tolist() == list(range(14, 50))
    assert out.predicted[:6].all() and not out.predicted[6:].any()


def test_a_box_shrinking_to_what_shows_is_carried_at_the_pace_of_its_inner_side():
    """Leaving on the right, the landmark box is cut at the edge (its right side stays at 640): its centre moves
    at half the walk's pace. The left side gives the pace and the largest width the box."""
    t = walker(1, np.arange(10, 65), 108, speed=8.0)
    box = t.box.copy()
    box[:, 2] = np.minimum(box[:, 2], 640.0)
    out = carry_through_edges(Results(meta(), [make_track(1, **{**t.arrays(), "box": box})])).track(1)
    assert out.frame.max() == 69
    np.testing.assert_allclose(out.box[out.frame == 65], [[604.0, 100.0, 652.0, 220.0]], atol=1e-4)


def test_no_carrying_for_someone_standing_at_the_edge_or_leaving_in_the_middle():
    standing = walker(1, np.arange(0, 40), 610, speed=0.0)  # right side at 658: touches, does not move
    middle = walker(2, np.arange(0, 40), 100, speed=4.0)  # ends at x 256: nowhere near an edge
    out = carry_through_edges(Results(meta(), [standing, middle]))
    assert out.track(1).frame.tolist() == list(range(40)) and out.track(2).frame.tolist() == list(range(40))


def test_carrying_stops_where_another_track_has_someone():
    """Someone standing at the edge (box 626-674 px) from frame 67: the carried box (620-668 px there) would lie
    on them, so the carrying ends after frame 66."""
    t = walker(1, np.arange(10, 65), 108, speed=8.0)
    other = walker(2, np.arange(67, 90), 650, speed=0.0)
    out = carry_through_edges(Results(meta(), [t, other])).track(1)
    assert out.frame.max() == 66
