"""Offline re-linking of box tracklets (`ram_core.tracking.relink`) and its use in `track_detections`."""

import numpy as np

from ram_core.tracking.association import with_association
from ram_core.tracking.mot import MOT_TRACKER, MotTable, track_detections
from ram_core.tracking.relink import TrackletLinkConfig, relinked_ids


def walker(frames: range, x0: float, vx: float, y: float = 100.0, w: float = 40.0, h: float = 100.0) -> np.ndarray:
    """xyxy boxes of a person walking at vx px/frame, at x0 on frame 0."""
    x = x0 + vx * np.asarray(frames, np.float64)
    return np.stack([x, np.full_like(x, y), x + w, np.full_like(x, y + h)], axis=1)


def test_a_track_reborn_after_a_15_frame_gap_takes_the_lost_ones_id():
    # Person 1 walks right and is hidden on frames 21-35; person 2 walks left across the frame throughout.
    rows = []
    for f in range(1, 61):
        if not 21 <= f <= 35:
            rows.append((f, *walker(range(f, f + 1), 50, 4)[0]))
        rows.append((f, *walker(range(f, f + 1), 500, -3, y=130, h=110)[0]))
    a = np.asarray(rows)
    xywh = np.concatenate([a[:, 1:3], a[:, 3:5] - a[:, 1:3]], axis=1)
    dets = MotTable(a[:, 0].astype(np.int64), -np.ones(len(a), np.int64), xywh, np.full(len(a), 0.9)).sorted()
    short_coast = with_association(MOT_TRACKER, max_coast_frames=5)  # the first track ends inside the gap

    apart = track_detections(dets, short_coast, relink=None)
    assert len(np.unique(apart.ids)) == 3
    linked = track_detections(dets, short_coast)
    assert len(np.unique(linked.ids)) == 2
    walker1 = linked.ids[(linked.frames == 10) & (linked.boxes[:, 0] < 200)][0]
    assert set(linked.ids[linked.boxes[:, 1] < 115].tolist()) == {walker1}
    # Filled across the gap once linked, and only then.
    filled = track_detections(dets, short_coast, fill_gaps=15)
    assert len(filled) == len(linked) + 15


def test_a_person_leaving_at_an_edge_is_not_continued_by_one_entering_there():
    # One walks right out of the frame by frame 20; another walks in leftwards from the same place on frame 30.
    out_frames, in_frames = np.arange(1, 21), np.arange(30, 60)
    frames = np.concatenate([out_frames, in_frames])
    boxes = np.concatenate([walker(out_frames, 520, 4), walker(in_frames, 700, -4)])
    ids = np.concatenate([np.full(20, 1), np.full(30, 2)])
    assert relinked_ids(ids, frames, boxes, 25.0, TrackletLinkConfig()).tolist() == ids.tolist()
    # The same two tracklets walking the same way are one person.
    boxes = np.concatenate([walker(out_frames, 400, 4), walker(in_frames, 400, 4)])
    assert set(relinked_ids(ids, frames, boxes, 25.0, TrackletLinkConfig()).tolist()) == {1}


def test_links_are_one_to_one_and_respect_gap_and_distance():
    cfg = TrackletLinkConfig()
    f1, f2 = np.arange(1, 11), np.arange(16, 26)
    # Two people walking side by side, each lost on frames 11-15: each continues its own, not its neighbour.
    frames = np.concatenate([f1, f1, f2, f2])
    boxes = np.concatenate([walker(f1, 0, 3), walker(f1, 200, 3), walker(f2, 0, 3), walker(f2, 200, 3)])
    ids = np.repeat([1, 2, 3, 4], 10)
    np.testing.assert_array_equal(relinked_ids(ids, frames, boxes, 25.0, cfg), np.repeat([1, 2, 1, 2], 10))
    # Too long a gap (3 s at 25 frames/s) or too far from where the motion leads: no link.
    two = np.repeat([1, 2], 10)
    late = np.arange(86, 96)
    for later, boxes in ((late, walker(late, 0, 3)), (f2, walker(f2, 300, 3))):
        frames = np.concatenate([f1, later])
        np.testing.assert_array_equal(
            relinked_ids(two, frames, np.concatenate([walker(f1, 0, 3), boxes]), 25.0, cfg), two
        )


def test_a_person_standing_behind_passers_by_is_continued_though_their_cut_boxes_slide_apart():
    # A man stands at x 300-340 (100 px tall). His first tracklet ends as someone walks in front of his left side
    # (the box narrows from the left: its centre slides right); 10 frames later his second begins as another
    # passer-by covers his right side (the box narrows from the right: its centre slides left). The centres move
    # opposite ways, so the direction test alone refuses the link; the boxes' changing widths show the cuts, and
    # the sides that stay put agree.
    first, second = np.arange(1, 21), np.arange(31, 51)
    left = np.where(first > 14, 300 + 3.0 * (first - 14), 300)
    right = 340 - 3.0 * np.clip(second - 31, 0, 6)
    top, bottom = np.full(20, 100.0), np.full(20, 200.0)
    boxes = np.concatenate(
        [np.stack([left, top, np.full(20, 340.0), bottom], 1), np.stack([np.full(20, 300.0), top, right, bottom], 1)]
    )
    frames, ids = np.concatenate([first, second]), np.repeat([1, 2], 20)
    centre_only = TrackletLinkConfig(width_rate=float("inf"))
    assert relinked_ids(ids, frames, boxes, 25.0, centre_only).tolist() == ids.tolist()
    assert set(relinked_ids(ids, frames, boxes, 25.0, TrackletLinkConfig()).tolist()) == {1}


def test_a_person_seen_whole_after_being_boxed_by_their_top_part_is_continued():
    # A man (100 px tall, 40 wide) walks right; his first tracklet is boxed by his head and trunk only (the top
    # 45 %: his legs behind a car), his second, after 10 hidden frames, whole. The heights differ 2.2x, so the size
    # test alone refuses the link; the widths agree, and the first hanging from its top edge lines up with him.
    first, second = np.arange(1, 21), np.arange(31, 51)
    cut = walker(first, 0, 3)
    cut[:, 3] = cut[:, 1] + 45
    frames, ids = np.concatenate([first, second]), np.repeat([1, 2], 20)
    boxes = np.concatenate([cut, walker(second, 0, 3)])
    assert relinked_ids(ids, frames, boxes, 25.0, TrackletLinkConfig(cut_ratio=1.0)).tolist() == ids.tolist()
    assert set(relinked_ids(ids, frames, boxes, 25.0, TrackletLinkConfig()).tolist()) == {1}
    # A box as short but more than twice as wide (someone else) is not taken for his cut part.
    wide = np.concatenate([walker(first, 0, 3), walker(second, 0, 3, w=90.0, h=45.0)])
    assert relinked_ids(ids, frames, wide, 25.0, TrackletLinkConfig()).tolist() == ids.tolist()
