"""The `lite` backend end to end: frames 0-24 of the vtest clip through the worker and the real BlazePose models.

On these frames (counted by eye) six people are fully visible from frame 0 or soon after: the woman in
red on the far road, the man in black in the middle of the road, the man in jeans and the man in black
walking behind him, a man at the right edge, and (from frame 7) a couple entering at the bottom right.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ai_edge_litert")
pytest.importorskip("cv2")

from ram_core.backends.lite.backend import (
    AGAIN,
    DETECTOR_BOX,
    LOOK_BACK,
    crop_now,
    crop_reason,
    crop_reasons,
    seen_by_another,
)
from ram_core.backends.lite.sweep import StillTiles, sweep_order
from ram_core.contract.client import run_capture
from ram_core.contract.options import CaptureOptions
from ram_core.contract.results import Results
from ram_core.contract.skeleton import PARENTS
from ram_core.scene.edges import EdgeConfig, inside_fraction
from ram_core.tracking.boxes import iou_matrix
from tests.fixtures.tflite_models import needs_models

CLIP = Path(__file__).resolve().parents[1] / "data" / "vtest_clip.avi"
FRAMES = 25
#: Tracks spanning at least 10 frames that the capture must have (6 people visible; a couple walking
#: side by side is often one track).
MIN_LONG_TRACKS = 4
#: Two live tracks may overlap this much (box IoU) on at most a few frames before the tracker ends one.
DUPLICATE_IOU, DUPLICATE_FRAMES = 0.7, 3


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Results:
    out = tmp_path_factory.mktemp("lite") / "clip.npz"
    return run_capture(sys.executable, CLIP, out, options=CaptureOptions(backend="lite", end=FRAMES))


@needs_models
def test_people_are_tracked_from_their_first_frame(results: Results) -> None:
    spans = {t.track_id: (int(t.frame[0]), int(t.frame[-1])) for t in results.tracks}
    long_tracks = [tid for tid, (a, b) in spans.items() if b - a + 1 >= 10]
    assert len(long_tracks) >= MIN_LONG_TRACKS, spans
    # Tentative frames are sent once a track is confirmed: the people in view at the start begin on frame 0.
    assert sum(a == 0 for a, _ in spans.values()) >= 3, spans


@needs_models
def test_no_two_live_tracks_on_one_person(results: Results) -> None:
    boxes: dict[int, list[tuple[int, np.ndarray]]] = {}
    for t in results.tracks:
        for f, box, predicted in zip(t.frame, t.box, t.predicted):
            if not predicted:
                boxes.setdefault(int(f), []).append((t.track_id, box.astype(np.float64)))
    together: dict[tuple[int, int], int] = {}
    for entries in boxes.values():
        ids = [e[0] for e in entries]
        iou = np.triu(iou_matrix(np.stack([e[1] for e in entries]), np.stack([e[1] for e in entries])), k=1)
        for a, b in zip(*np.nonzero(iou > DUPLICATE_IOU)):
            key = (ids[a], ids[b])
            together[key] = together.get(key, 0) + 1
    assert all(n <= DUPLICATE_FRAMES for n in together.values()), together


@needs_models
def test_records_are_rigid_finite_sorted_and_flagged(results: Results) -> None:
    child, parent = np.arange(1, len(PARENTS)), np.asarray(PARENTS)[1:]
    for t in results.tracks:
        assert np.all(np.diff(t.frame) > 0), f"track {t.track_id}: frames not strictly increasing"
        assert np.all(np.isfinite(t.joints)) and np.all(np.isfinite(t.transl)) and np.all(np.isfinite(t.box))
        joints = t.joints.astype(np.float64)
        lengths = np.linalg.norm(joints[:, child] - joints[:, parent], axis=-1)
        # Rigid skeleton: bone lengths constant to 1e-6 m beyond the float32 rounding of the stored joints.
        rounding = 4 * np.finfo(np.float32).eps * np.abs(joints).max()
        assert lengths.std(axis=0).max() < 1e-6 + rounding, f"track {t.track_id}: bone lengths vary"
        assert np.all(lengths > 0.01)
        # Predicted frames fill gaps between observed ones, confidence 0, or carry a track through the picture's
        # edge or to the clip's end (ram_core.scene.edges): it starts (ends) predicted only where its first (last)
        # observed box crosses the edge, or ends so where its last lies within clip_end_s of the clip's end.
        seen, meta, cfg = np.flatnonzero(~t.predicted), results.meta, EdgeConfig()
        for end, first in ((seen[0], True), (seen[-1], False)):
            if t.predicted[0 if first else -1]:
                inside = inside_fraction(t.box[end], meta.width, meta.height)[0]
                near = not first and meta.frame_end - 1 - t.frame[end] <= cfg.clip_end_s * meta.fps
                assert inside < cfg.touch or near, f"track {t.track_id}: extended from mid-clip"
        assert np.all(t.confidence[t.predicted] == 0)
        assert np.all(t.confidence[~t.predicted] > 0)
        # What was seen is kept for the temporal fit: observed records carry keypoints, predicted ones none.
        assert np.all(t.keypoints_2d[~t.predicted, :, 2].max(axis=1) > 0)
        assert np.all(t.keypoints_3d[~t.predicted, :, 3].max(axis=1) > 0)
        assert np.all(t.keypoints_2d[t.predicted, :, 2] == 0) and np.all(t.keypoints_3d[t.predicted, :, 3] == 0)
    assert results.meta.backend == "lite"
    assert results.meta.motion == "temporal fit"


def test_sweep_order_visits_every_tile_once_and_spreads_them() -> None:
    order = sweep_order(42)
    assert sorted(order.tolist()) == list(range(42))
    assert np.abs(np.diff(order)).min() >= 5


def test_tracks_lost_long_ago_are_cropped_every_third_frame_taking_turns() -> None:
    ids = np.array([1, 2, 3, 4])
    coasting = np.array([1, 10, 11, 30])  # seen on the frame before, 10 frames ago, 11 and 30 frames ago
    crops = np.array([crop_now(f, ids, coasting, long_coast=10, every=3) for f in range(6)])
    assert crops[:, :2].all()  # recently seen: every frame
    assert crops[:, 2:].sum(axis=0).tolist() == [2, 2]  # lost long ago: every third frame
    assert not (crops[:, 2] & crops[:, 3]).any()  # in turns, not on the same frames


def test_each_tracks_crop_says_why_it_runs() -> None:
    why = crop_reasons([True, True, True, False, False], np.array([1, 2, 16, 1, 16]), long_coast=15)
    names = ["track seen", "track lost", "track lost long", "new track seen", "new track lost long"]
    assert [crop_reason(code) for code in why] == names
    assert crop_reasons([], np.zeros(0, dtype=np.int64), long_coast=15).shape == (0,)
    assert crop_reason(DETECTOR_BOX + AGAIN) == "again: detector box" and crop_reason(LOOK_BACK) == "look back"


def test_a_tile_unchanged_since_the_detector_last_saw_it_is_skipped() -> None:
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    tiles = [(0, 0, 200), (120, 40, 200), (-40, -80, 400)]  # the last one reaches beyond the frame
    still = StillTiles(change=0.002, level=12, max_skips=2)
    assert still.to_run(frame, tiles) == tiles  # never seen
    noisy = np.clip(frame.astype(np.int16) + rng.integers(-6, 7, frame.shape), 0, 255).astype(np.uint8)
    assert still.to_run(noisy, tiles) == []  # sensor noise only
    person = noisy.copy()
    person[20:80, 30:45] = 30  # someone 60 px tall walks into the first tile
    assert still.to_run(person, tiles) == [(0, 0, 200), (-40, -80, 400)]
    assert still.to_run(person, tiles) == [(120, 40, 200)]  # skipped twice in a row: run anyway
    unlimited = StillTiles(change=0.002, level=12, max_skips=None)
    assert unlimited.to_run(frame, tiles) == tiles
    assert all(unlimited.to_run(noisy, tiles) == [] for _ in range(5))  # still, however often it comes round
    assert StillTiles(change=0.0, level=12, max_skips=2).to_run(frame, tiles) == tiles  # 0: every tile


def test_a_gap_fill_is_dropped_where_another_track_observed_that_person() -> None:
    # Frame 11: track 2 was seen where track 1's fill would go; frame 12: only track 1 itself, and track 2
    # elsewhere; frame 13: nobody recorded.
    seen = {
        11: np.array([[2.0, 100, 100, 150, 220]]),
        12: np.array([[1.0, 100, 100, 150, 220], [2.0, 400, 100, 450, 220]]),
    }
    fill = np.array([[102.0, 100, 152, 220]] * 3)
    got = seen_by_another(np.array([11, 12, 13]), fill, 1, seen, 0.7)
    assert got.tolist() == [True, False, False]
    assert not seen_by_another(np.array([11]), fill[:1] + 40, 1, seen, 0.7).any()  # IoU 0.3: another person


@needs_models
def test_each_track_frame_is_sent_once() -> None:
    """The backend itself, frames 0-14: no record for a (track, frame) pair twice (a track's look-back runs
    when it is confirmed, not again on later frames, where it found the frames already sent). Its ``on_crops``
    hears why each landmark crop ran, with the crop's box and pose (``benchmarks/lite_capture.py --why``). Opened
    again, it captures the same frames to the same records."""
    from ram_core.backends.lite.backend import LiteBackend
    from ram_core.video import iter_frames, open_video

    info = open_video(CLIP)
    backend = LiteBackend()
    backend.open(info, np.array([[info.width, 0, info.width / 2], [0, info.width, info.height / 2], [0, 0, 1.0]]), True)
    calls: list = []
    backend.on_crops = lambda why, boxes, found: calls.append((why, boxes, found))
    sent = np.concatenate([backend.process(i, image) for i, image in iter_frames(CLIP, 0, 15)])
    pairs = list(zip(sent["track_id"].tolist(), sent["frame"].tolist()))
    assert len(pairs) > 20 and len(set(pairs)) == len(pairs)
    assert all(len(why) == len(boxes) == len(found.score) for why, boxes, found in calls)
    assert {"track seen", "detector box"} <= {crop_reason(code) for why, _, _ in calls for code in why}
    backend.close()
    # Opened again, the backend starts the video afresh: the same records as its first run's (no track carried over).
    backend.open(info, np.array([[info.width, 0, info.width / 2], [0, info.width, info.height / 2], [0, 0, 1.0]]), True)
    again = np.concatenate([backend.process(i, image) for i, image in iter_frames(CLIP, 0, 15)])
    backend.close()
    assert again.tobytes() == sent.tobytes()


@needs_models
def test_a_clip_too_short_to_confirm_anyone_keeps_the_people_seen_on_each_frame(tmp_path) -> None:
    """Three frames confirm nobody (a track needs 5 observed frames): the two people seen on all three are kept
    (the capture had no tracks), where they stand (about 9 m away; a 3-frame run's depth was put at the camera)."""
    clip = CLIP.parent / "synth" / "couple" / "clip.mp4"
    got = run_capture(sys.executable, clip, tmp_path / "short.npz", options=CaptureOptions(backend="lite", end=3))
    assert [t.frame.tolist() for t in got.tracks] == [[0, 1, 2], [0, 1, 2]]
    assert all(np.all(np.linalg.norm(t.joints[:, 0], axis=-1) > 5.0) for t in got.tracks)
