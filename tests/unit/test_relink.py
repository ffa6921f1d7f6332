"""Offline re-linking of tracklets (ram_core.scene.relink) on scripted tracks: a re-link after a 15-frame
gap, none across too long a gap, too far a jump, a size change or an overlap in time."""

from __future__ import annotations

import numpy as np

from ram_core.contract.results import CaptureMeta, Results, make_track
from ram_core.contract.skeleton import forward_kinematics
from ram_core.contract.smpl_model import default_rest_joints
from ram_core.scene.gaps import fill_track_gaps
from ram_core.scene.relink import RelinkConfig, link_cost, relink_tracks

FPS = 30.0


def meta(frames: int = 200) -> CaptureMeta:
    """A 640 x 480 capture's metadata, ``frames`` frames at :data:`FPS`."""
    return CaptureMeta(
        video_path="synthetic",
        fps=FPS,
        width=640,
        height=480,
        frame_count=frames,
        frame_start=0,
        frame_end=frames,
        intrinsics=np.array([[500.0, 0, 320], [0, 500.0, 240], [0, 0, 1]]),
        intrinsics_assumed=False,
        backend="synthetic",
        rest_joints=default_rest_joints(),
        rest_source="test",
    )


def walker(track_id: int, frames: np.ndarray, x0: float, speed: float = 2.0, height: float = 120.0) -> object:
    """A person walking right at ``speed`` px/frame, box ``height`` px tall, on ``frames``."""
    n = len(frames)
    cx = x0 + speed * frames
    box = np.stack([cx - height / 5, np.full(n, 100.0), cx + height / 5, np.full(n, 100.0 + height)], axis=1)
    return make_track(
        track_id,
        frame=frames,
        global_orient=np.zeros((n, 3)),
        body_pose=np.zeros((n, 23, 3)),
        betas=np.zeros((n, 10)),
        transl=np.tile([0.0, 0.0, 5.0], (n, 1)),
        joints=np.zeros((n, 24, 3)),
        box=box,
        confidence=np.ones(n),
        predicted=np.zeros(n, bool),
    )


def test_a_track_born_after_a_15_frame_gap_where_the_walk_leads_continues_the_lost_one():
    lost, found = walker(1, np.arange(0, 40), 100), walker(4, np.arange(55, 90), 100)
    other = walker(2, np.arange(0, 90), 500, speed=-1.0)  # someone else, all along: never merged
    out = relink_tracks(Results(meta(), [lost, other, found]))
    assert [t.track_id for t in out.tracks] == [1, 2]
    merged = out.track(1)
    assert merged.frame.tolist() == list(range(40)) + list(range(55, 90))  # the gap stays a gap
    np.testing.assert_allclose(merged.box, np.concatenate([lost.box, found.box]))


def test_no_link_across_too_long_a_gap_too_far_a_jump_another_size_or_an_overlap():
    cfg = RelinkConfig()
    lost = walker(1, np.arange(0, 40), 100)
    assert link_cost(lost, walker(2, np.arange(55, 90), 100), FPS, cfg) is not None
    assert link_cost(lost, walker(2, np.arange(40 + 61, 130), 100), FPS, cfg) is None  # over 2 s later
    assert link_cost(lost, walker(2, np.arange(55, 90), 400), FPS, cfg) is None  # 330 px away: 2.75 heights
    assert link_cost(lost, walker(2, np.arange(55, 90), 100, height=60.0), FPS, cfg) is None  # half the size
    assert link_cost(lost, walker(2, np.arange(30, 90), 100), FPS, cfg) is None  # both alive on frames 30-39
    assert link_cost(walker(2, np.arange(55, 90), 100), lost, FPS, cfg) is None  # not backwards in time


def test_the_nearest_of_two_candidates_wins_and_each_track_is_continued_once():
    lost = walker(1, np.arange(0, 40), 100)
    near, far = walker(5, np.arange(50, 90), 100), walker(6, np.arange(50, 90), 150)
    out = relink_tracks(Results(meta(), [lost, near, far]))
    assert [t.track_id for t in out.tracks] == [1, 6]
    assert out.track(1).frame.max() == 89 and len(out.track(1)) == 80


def test_the_gap_a_relink_joins_is_filled_behind_someone_seen_apart_on_both_sides():
    """A 15-frame gap (30 fps) inside one track after a re-link: filled, flagged predicted, boxes on the walk;
    also on the frames where someone walking the other way passes in front (box IoU > 0.5 on frames 44-50):
    the two tracks were apart on both sides of the gap, so the hidden walker is there, behind them. The records
    within 0.2 s of the gap (``GapConfig.edge_s``, 6 frames) are filled with it."""
    lost, found = walker(1, np.arange(0, 40), 100), walker(4, np.arange(55, 90), 100)
    stand = walker(2, np.arange(0, 90), 288, speed=-2.0)
    out = fill_track_gaps(relink_tracks(Results(meta(), [lost, stand, found])))
    merged = out.track(1)
    assert merged.frame.tolist() == list(range(90))
    fill = merged.predicted
    assert fill.sum() == 15 + 12 and not fill[merged.frame < 34].any() and not fill[merged.frame >= 61].any()
    whole = walker(1, np.arange(90), 100)
    np.testing.assert_allclose(merged.box, whole.box[merged.frame], atol=1e-3)
    assert np.all(merged.confidence[fill] == 0) and np.all(np.isfinite(merged.joints))


def test_someone_passing_in_front_counts_as_apart_though_their_track_has_a_gap_at_this_gaps_end():
    """As above, but the walker passing in front was not seen on frames 36-41 (around the hidden one's last
    frame, 39): their last record before it (frame 35) was apart, so the fill goes on behind them."""
    lost, found = walker(1, np.arange(0, 40), 100), walker(4, np.arange(55, 90), 100)
    frames = np.r_[0:36, 42:90]
    stand = walker(2, frames, 288, speed=-2.0)
    merged = fill_track_gaps(relink_tracks(Results(meta(), [lost, stand, found]))).track(1)
    assert merged.frame.tolist() == list(range(90))


def test_a_gap_is_not_filled_onto_a_track_that_was_on_the_same_person_at_its_end():
    """The same gap, but the other track lies on the lost walker's box on the gap's first end (two tracks on
    one person there, then it goes its own way): the frames where the fill would lie on it stay empty, as they
    do where it was apart on one side only."""
    lost, found = walker(1, np.arange(0, 40), 100), walker(4, np.arange(55, 90), 100)
    onto = walker(2, np.arange(0, 90), 100 + 2.0 * 39 - 0.5 * 39, speed=0.5)  # on the walker at frame 39
    out = fill_track_gaps(relink_tracks(Results(meta(), [lost, onto, found])))
    merged = out.track(1)
    missing = sorted(set(range(90)) - set(merged.frame.tolist()))
    assert missing and all(40 <= f < 55 for f in missing)
    mine = walker(1, np.array(missing), 100).box
    theirs = onto.box[np.array(missing)]
    assert all(
        np.prod(np.clip(np.minimum(a[2:], b[2:]) - np.maximum(a[:2], b[:2]), 0, None)) > 0 for a, b in zip(mine, theirs)
    )


def test_a_fill_keeps_rotations_between_its_ends_and_joints_follow_them():
    frames = np.array([0, 10])
    go = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    track = make_track(
        1,
        frame=frames,
        global_orient=go,
        body_pose=np.zeros((2, 23, 3)),
        betas=np.zeros((2, 10)),
        transl=np.array([[0.0, 0.0, 5.0], [1.0, 0.0, 5.0]]),
        joints=np.zeros((2, 24, 3)),
        box=np.array([[0.0, 0.0, 10.0, 20.0], [10.0, 0.0, 20.0, 20.0]]),
        confidence=np.ones(2),
        predicted=np.zeros(2, bool),
    )
    out = fill_track_gaps(Results(meta(), [track])).track(1)
    assert out.frame.tolist() == list(range(11))
    np.testing.assert_allclose(out.global_orient[5], [0.0, 0.0, 0.5], atol=1e-6)  # slerp halfway
    np.testing.assert_allclose(out.transl[5], [0.5, 0.0, 5.0], atol=1e-6)
    np.testing.assert_allclose(out.box[5], [5.0, 0.0, 15.0, 20.0], atol=1e-6)
    assert np.allclose(out.joints[5, 0], out.transl[5] + meta().rest_joints[0], atol=1e-5)


def test_a_track_found_on_part_of_another_person_on_all_its_frames_is_dropped():
    """A skeleton on a man's legs (its box inside his, 0.45 of his height) for 6 frames: not a person. A man
    beside him for the same frames, half inside the first one's box, is kept."""
    man = walker(1, np.arange(0, 40), 200, height=240.0)
    legs = walker(2, np.arange(0, 6), 200, height=100.0)
    legs = make_track(2, **{**legs.arrays(), "box": legs.box + np.array([0.0, 140.0, 0.0, 140.0])})
    beside = walker(3, np.arange(0, 6), 260, height=240.0)
    out = relink_tracks(Results(meta(), [man, legs, beside]))
    assert [t.track_id for t in out.tracks] == [1, 3]


def test_two_tracks_with_a_gap_at_one_place_get_one_fill_there():
    """Two tracks both lost over frames 20-29 where their boxes would coincide: only the first is filled there,
    so the gap shows one body, not two on top of each other."""
    a = walker(1, np.r_[0:20, 30:40], 100)
    b = walker(2, np.r_[0:20, 30:40], 104)
    out = fill_track_gaps(Results(meta(), [a, b]))
    assert out.track(1).frame.tolist() == list(range(40))
    assert out.track(2).frame.tolist() == b.frame.tolist()


def test_a_tracklet_whose_last_frames_collapsed_still_links_by_its_earlier_ones():
    """The lost tracklet's last two boxes shrank to a third of the person (a pose collapsing as they leave the
    crop): the last box alone is too small to be the same person, the frames before it are not."""
    lost, found = walker(1, np.arange(0, 30), 100), walker(4, np.arange(32, 60), 100)
    box = lost.box.copy()
    box[-2:, 1] = box[-2:, 3] - 40.0  # 40 px tall instead of 120
    lost = make_track(1, **{**lost.arrays(), "box": box})
    assert link_cost(lost, found, FPS, RelinkConfig(end_records=1)) is None
    out = relink_tracks(Results(meta(), [lost, found]))
    assert [t.track_id for t in out.tracks] == [1]


def test_a_track_handed_over_to_a_new_one_on_the_same_person_links_despite_one_shared_frame():
    """The lost tracklet's last frame is a small skeleton on the person's trunk (inside the new track's box)
    while a new track already has all of them: one person; the shared frame keeps the larger box, whichever
    track it came from. Two frames shared where the boxes are side by side (two people) do not link."""
    lost, found = walker(1, np.arange(0, 30), 100), walker(4, np.arange(29, 60), 100)
    box = lost.box.copy()
    box[-1] = [box[-1, 0] + 10, box[-1, 1] + 10, box[-1, 2] - 10, box[-1, 1] + 60]  # 50 px of a 120 px person
    lost = make_track(1, **{**lost.arrays(), "box": box})
    out = relink_tracks(Results(meta(), [lost, found]))
    assert [t.track_id for t in out.tracks] == [1]
    merged = out.track(1)
    assert merged.frame.tolist() == list(range(60))
    np.testing.assert_allclose(merged.box[29], found.box[0])
    beside = walker(5, np.arange(28, 60), 160)  # 60 px to the right: beside, not on, the lost one
    assert link_cost(walker(1, np.arange(0, 30), 100), beside, FPS, RelinkConfig()) is None
    assert link_cost(lost, walker(6, np.arange(26, 60), 100), FPS, RelinkConfig()) is None  # 4 frames shared
    # The other way round: the new track's first frame is the small skeleton; the lost track's whole person wins.
    whole = walker(1, np.arange(0, 30), 100)
    part = make_track(4, **{**found.arrays(), "box": np.concatenate([box[-1:], found.box[1:]])})
    merged = relink_tracks(Results(meta(), [whole, part])).track(1)
    assert merged.frame.tolist() == list(range(60))
    np.testing.assert_allclose(merged.box[29], whole.box[29])


def test_a_filled_frame_poses_the_skeleton_at_the_tracks_scale():
    """A track the scene solve sized (``scale`` 1.2 and 1.3 at the gap's ends): the fill's joints are forward
    kinematics on ``scale * rest_joints`` at the interpolated scale, as the results format has every record's."""
    frames = np.array([0, 10])
    track = make_track(
        1,
        frame=frames,
        global_orient=np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 1.0]]),
        body_pose=np.zeros((2, 23, 3)),
        betas=np.zeros((2, 10)),
        transl=np.array([[0.0, 0.0, 5.0], [1.0, 0.0, 5.0]]),
        joints=np.zeros((2, 24, 3)),
        box=np.array([[0.0, 0.0, 10.0, 20.0], [10.0, 0.0, 20.0, 20.0]]),
        confidence=np.ones(2),
        predicted=np.zeros(2, bool),
        scale=np.array([1.2, 1.3]),
    )
    out = fill_track_gaps(Results(meta(), [track])).track(1)
    new = out.predicted.astype(bool)
    assert out.frame[new].tolist() == list(range(1, 10))
    np.testing.assert_allclose(out.scale[new], 1.2 + 0.01 * out.frame[new], atol=1e-6)
    for i in np.flatnonzero(new):
        rest = meta().rest_joints * float(out.scale[i])
        want, _ = forward_kinematics(
            out.global_orient[i : i + 1], out.body_pose[i : i + 1], rest, out.transl[i : i + 1]
        )
        np.testing.assert_allclose(out.joints[i], want[0], atol=1e-5)
