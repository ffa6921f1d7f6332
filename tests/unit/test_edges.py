"""Track ends extended where their person still is (ram_core.scene.edges), on scripted tracks in a 640 x 480
picture: a walker leaving on the right and one entering on the left are carried until their box is out, one
stopping inside the picture or merely near its edge is not, nor onto another track's person, nor before the
clip's first frame; one entering from the bottom is found back at their whole height; a walker going behind
something shortly before the clip's end is carried to it on the path and at the size they had while wholly seen,
not from further away, and one lost across the edge is not; the pose comes from a frame wholly seen; a walker
leaving a 5 fps video is carried out as at 10 fps."""

from __future__ import annotations

import dataclasses

import numpy as np

from ram_core.contract.results import Results, make_track
from ram_core.contract.skeleton import forward_kinematics
from ram_core.scene.edges import EdgeConfig, edge_frames, extend_at_edges, inside_fraction
from ram_core.scene.gaps import fill_track_gaps
from tests.unit.test_relink import meta, walker

WIDTH = 640.0  # meta()'s picture


def test_a_walker_leaving_on_the_right_is_carried_until_their_box_is_out_of_the_picture():
    # 48 px wide, 4 px a frame to the right: the last box (frame 44) is x 612 .. 660, 0.58 inside; frame 50's
    # x 636 .. 684 still shows 4 px (0.08), frame 51's none.
    track = walker(1, np.arange(0, 45), 460, speed=4.0)
    out = extend_at_edges(Results(meta(), [track])).track(1)
    new = ~np.isin(out.frame, track.frame)
    assert out.frame[new].tolist() == list(range(45, 51))
    assert np.all(out.predicted[new]) and np.all(out.confidence[new] == 0)
    np.testing.assert_allclose(out.box[new, 0], 460 + 4.0 * out.frame[new] - 24, atol=1e-6)  # on the walk's line
    assert np.all(inside_fraction(out.box[new], WIDTH, 480) >= EdgeConfig().out)
    np.testing.assert_allclose(out.transl[new], np.tile([0.0, 0.0, 5.0], (6, 1)), atol=1e-9)  # its 3D walk goes on


def test_a_leaving_walker_whose_last_boxes_shrank_is_carried_out_at_their_whole_height():
    """The landmark model's box of a half-shown person often shrinks: the last four boxes' tops fall by 30 px
    (120 -> 90 px tall). The extension's boxes keep the 120 px and the place they had along the right edge."""
    track = walker(1, np.arange(0, 45), 460, speed=4.0)
    box = track.box.copy()
    box[41:, 1] += 30.0
    out = extend_at_edges(Results(meta(), [make_track(1, **{**track.arrays(), "box": box})])).track(1)
    new = ~np.isin(out.frame, track.frame)
    assert out.frame[new].tolist() == list(range(45, 51))
    np.testing.assert_allclose(out.box[new][:, [1, 3]], np.tile([100.0, 220.0], (6, 1)), atol=1e-6)
    np.testing.assert_allclose(out.box[new, 0], 460 + 4.0 * out.frame[new] - 24, atol=1e-6)  # across: as before


def test_a_walker_entering_on_the_left_is_found_back_to_where_their_box_came_in():
    track = walker(1, np.arange(10, 60), -30, speed=3.0)  # first box x -24 .. 24 on frame 10: half outside
    out = extend_at_edges(Results(meta(), [track])).track(1)
    new = out.frame[~np.isin(out.frame, track.frame)]
    assert new.tolist() == list(range(3, 10))  # frame 3's box x -45 .. 3 shows 3 px, frame 2's none
    assert not out.predicted[np.isin(out.frame, track.frame)].any()


def test_a_walker_entering_from_the_bottom_is_found_back_at_their_whole_height_hung_from_their_head():
    """Cut by the bottom edge, a person shows their head; the landmark model guesses the rest: too long (1.3 or 1.6
    times their 120 px) while the box crosses the edge, then squeezed into what shows (0.5-0.7 of it). The
    extension's boxes are 120 px tall, the height of the tallest boxes in the picture, hung from the heads' line
    (6 px a frame up) until 2 % of them shows."""
    frames = np.arange(10, 60)
    track = walker(1, frames, 300, speed=0.0)
    top = 430.0 - 6.0 * (frames - 10)
    tall = np.where(frames < 16, np.where(frames % 2, 1.6, 1.3) * 120.0, 120.0)
    tall = np.where((frames >= 16) & (frames < 22), 0.7 * (480.0 - top), tall)
    box = np.stack([track.box[:, 0], top, track.box[:, 2], top + tall], axis=1)
    out = extend_at_edges(Results(meta(), [make_track(1, **{**track.arrays(), "box": box})])).track(1)
    new = ~np.isin(out.frame, frames)
    assert out.frame[new].tolist() == list(range(3, 10))  # frame 3's top at 472 shows 8 px, frame 2's 2 px
    np.testing.assert_allclose(out.box[new, 1], 430.0 + 6.0 * (10 - out.frame[new]), atol=1e-6)
    np.testing.assert_allclose(out.box[new, 3] - out.box[new, 1], 120.0, atol=1e-6)
    np.testing.assert_allclose(out.box[new][:, [0, 2]], np.tile([276.0, 324.0], (7, 1)), atol=1e-6)  # along: kept


def test_the_extension_poses_the_skeleton_at_the_tracks_scale():
    # A track the scene solve sized by 1.25: the new records' joints are forward kinematics on 1.25 * rest_joints.
    track = walker(1, np.arange(0, 45), 460, speed=4.0)
    track = make_track(1, **{**track.arrays(), "scale": np.full(45, 1.25)})
    out = extend_at_edges(Results(meta(), [track])).track(1)
    new = ~np.isin(out.frame, track.frame)
    assert new.sum() == 6 and np.all(out.scale[new] == np.float32(1.25))
    want, _ = forward_kinematics(out.global_orient[new], out.body_pose[new], 1.25 * meta().rest_joints, out.transl[new])
    np.testing.assert_allclose(out.joints[new], want, atol=1e-5)


def test_a_track_ending_inside_the_picture_or_just_short_of_its_edge_is_not_extended():
    inside = walker(1, np.arange(0, 40), 100, speed=4.0)  # ends at x 232 .. 280
    near = walker(2, np.arange(0, 40), 430, speed=4.0)  # ends at x 562 .. 610: near the edge, not across it
    stopped = walker(3, np.arange(0, 40), 630, speed=0.0)  # stands across the edge: never leaves
    out = extend_at_edges(Results(meta(), [inside, near, stopped]))
    for before, after in zip((inside, near, stopped), out.tracks):
        assert after.frame.tolist() == before.frame.tolist()


def test_no_extension_onto_another_tracks_person_nor_before_the_clip():
    leaving = walker(1, np.arange(0, 45), 460, speed=4.0)
    far = walker(2, np.arange(40, 70), 100, speed=0.0)  # someone standing far from the edge
    out = extend_at_edges(Results(meta(), [far, leaving])).track(1)
    assert out.frame[~np.isin(out.frame, leaving.frame)].tolist() == list(range(45, 51))
    blocker = walker(2, np.arange(48, 70), 652, speed=0.0)  # from frame 48 where the walk would be then
    out = extend_at_edges(Results(meta(), [blocker, leaving])).track(1)
    assert out.frame[~np.isin(out.frame, leaving.frame)].tolist() == [45, 46, 47]
    early = walker(1, np.arange(3, 40), -20, speed=3.0)  # would be found back to frame -1
    out = extend_at_edges(Results(meta(), [early])).track(1)
    assert out.frame.min() == 0


def test_the_extension_takes_the_pose_of_the_nearest_frame_the_person_was_wholly_in_the_picture():
    track = walker(1, np.arange(0, 45), 460, speed=4.0)  # boxes cross the edge from frame 40 (x 596 .. 644)
    turned = track.global_orient.copy()
    turned[40:] = [0.0, 0.0, 0.8]  # the landmark model's guess for a half-shown body: leaning
    track = make_track(1, **{**track.arrays(), "global_orient": turned})
    out = extend_at_edges(Results(meta(), [track])).track(1)
    new = ~np.isin(out.frame, track.frame)
    np.testing.assert_allclose(out.global_orient[new], 0.0)  # frame 39's, the last wholly inside


def going_behind(frames: np.ndarray, hidden_from: int) -> object:
    """A walker (2 px a frame to the right, 48 x 120 px) whose box shrinks from ``hidden_from`` on as they go
    behind something: its right side and bottom cut away, its centre moving left of their path."""
    track = walker(1, frames, 100, speed=2.0)
    box = track.box.copy()
    cut = np.clip(frames - hidden_from + 1, 0, None)[:, None] * np.array([0.0, 0.0, -8.0, -20.0])
    return make_track(1, **{**track.arrays(), "box": box + cut})


def test_a_walker_going_behind_something_before_the_clip_ends_is_carried_to_its_last_frame():
    track = going_behind(np.arange(0, 50), 45)  # 60 frames at 30 frames/s: lost 10 frames before the end
    out = extend_at_edges(Results(meta(60), [track])).track(1)
    new = ~np.isin(out.frame, track.frame)
    assert out.frame[new].tolist() == list(range(50, 60))
    # on the path and at the size they had while wholly seen, not the shrinking boxes' drift
    np.testing.assert_allclose(out.box[new, 0], 100 + 2.0 * out.frame[new] - 24, atol=1e-6)
    np.testing.assert_allclose(out.box[new, 3] - out.box[new, 1], 120, atol=1e-6)
    assert np.all(out.predicted[new]) and not out.predicted[~new].any()


def test_a_track_lost_across_the_edge_near_the_clip_end_is_not_carried_to_it():
    # Lost 10 frames before the end with the box across the right edge (x 606 .. 654), drifting out at 0.5 px a
    # frame: not out within a second, so not leaving (edge_frames), and not lost inside the picture either.
    slow = walker(1, np.arange(0, 50), 605.5, speed=0.5)
    stopped = walker(2, np.arange(0, 50), 630, speed=0.0, height=200.0)  # stands across the edge
    out = extend_at_edges(Results(meta(60), [slow, stopped]))
    for before, after in zip((slow, stopped), out.tracks):
        assert after.frame.tolist() == before.frame.tolist()


def test_no_carry_to_a_clip_end_more_than_a_second_away_nor_back_to_its_start():
    track = going_behind(np.arange(0, 50), 45)
    out = extend_at_edges(Results(meta(90), [track])).track(1)  # lost 40 frames (1.3 s) before the end
    assert out.frame.tolist() == track.frame.tolist()
    late = walker(1, np.arange(12, 60), 100, speed=2.0)  # first seen 12 frames into the clip, mid-picture:
    out = extend_at_edges(Results(meta(60), [late])).track(1)  # perhaps come in through a door there
    assert out.frame.tolist() == list(range(12, 60))


def test_a_walker_leaving_in_a_5_fps_video_is_carried_out_too():
    # 0.3 s holds 2 frames at 5 fps: the line is fitted to the last 3 frames instead (fit_min), not given up on.
    track = walker(1, np.arange(0, 20), 480, speed=8.0)  # 40 px/s; the last box x 608 .. 656, frame 23's 640 .. 688
    out = extend_at_edges(Results(dataclasses.replace(meta(), fps=5.0), [track])).track(1)
    new = ~np.isin(out.frame, track.frame)
    assert out.frame[new].tolist() == [20, 21, 22] and np.all(out.predicted[new])


def test_a_walker_who_leaves_on_the_right_and_comes_back_there_is_carried_out_and_back_not_filled_between():
    """One track (the lite backend's ``reentry`` keeps it): out through the right edge on frame 44, back through it
    on frame 60. The gap is not filled on a line between the two ends (both at the edge, where the walker was
    not); each end is carried through the edge instead, while part of them shows."""
    out = walker(1, np.arange(0, 45), 460, speed=4.0)  # last box x 612 .. 660; out of the picture after frame 50
    back = walker(1, np.arange(60, 80), 890, speed=-4.0)  # first box x 626 .. 674; frame 57's shows 2 px, 56's none
    track = make_track(
        1, **{k: np.concatenate([a, b]) for (k, a), b in zip(out.arrays().items(), back.arrays().values())}
    )
    results = Results(meta(), [track])
    filled = fill_track_gaps(results).track(1)
    assert filled.frame.tolist() == track.frame.tolist()
    extended = extend_at_edges(results).track(1)
    new = extended.frame[~np.isin(extended.frame, track.frame)]
    assert new.tolist() == list(range(45, 51)) + [57, 58, 59]
    inside = walker(1, np.arange(0, 45), 100, speed=4.0)  # a gap inside the picture is filled as before
    again = walker(1, np.arange(60, 80), 100, speed=4.0)
    hidden = make_track(
        1, **{k: np.concatenate([a, b]) for (k, a), b in zip(inside.arrays().items(), again.arrays().values())}
    )
    assert fill_track_gaps(Results(meta(), [hidden])).track(1).frame.tolist() == list(range(80))


def test_a_gap_of_someone_standing_across_the_edge_is_filled():
    """Not everyone whose box reaches beyond the picture's edge left it: a person near the camera, feet cut by the
    bottom edge (or a half-body shot), hidden for 10 frames by someone passing, stood there all along. Their gap is
    filled like any other; only a track that moves out through the edge before the gap or in after it was out."""
    standing = walker(1, np.concatenate([np.arange(0, 30), np.arange(40, 70)]), 300, speed=0.0, height=300.0)
    cut = standing.box + np.array([0.0, 90.0, 0.0, 90.0])  # y 190 .. 490 in a 480 px high picture
    track = make_track(1, **{**standing.arrays(), "box": cut})
    assert fill_track_gaps(Results(meta(), [track])).track(1).frame.tolist() == list(range(70))


def test_an_end_with_no_observed_records_is_not_extended():
    # The side of a hole made only of filled records: nothing to carry (it raised IndexError).
    assert (
        edge_frames(np.zeros(0, np.int64), np.zeros((0, 4)), -1, (WIDTH, 480.0), (0, 100), 10.0, EdgeConfig()) is None
    )
