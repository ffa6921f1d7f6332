"""Reading video: the test clip, frame ranges, and one clear error per kind of bad file."""

from __future__ import annotations

import logging
import threading
from contextlib import closing

import numpy as np
import pytest

from ram_core.video import VideoError, iter_frames, open_video, prefetch_frames
from tests.conftest import CLIP, CLIP_FRAMES, SCRIPTED
from tests.fixtures.bad_inputs import VARIABLE_RATE_TIMES, damaged_frame_avi, variable_rate_mp4


def test_the_clip_is_described():
    info = open_video(CLIP)
    assert (info.width, info.height, info.fps, info.frame_count) == (768, 576, 10.0, CLIP_FRAMES)


def test_a_frame_range_yields_those_frames():
    frames = list(iter_frames(CLIP, 5, 9))
    assert [i for i, _ in frames] == [5, 6, 7, 8]
    assert frames[0][1].shape == (576, 768, 3)
    assert frames[0][1].dtype.name == "uint8"


def test_the_frames_match_a_read_from_the_start():
    from_start = dict(iter_frames(CLIP, 0, 8))
    later = dict(iter_frames(CLIP, 6, 8))
    assert (later[6] == from_start[6]).all() and (later[7] == from_start[7]).all()


def test_an_end_past_the_last_frame_stops_at_it():
    assert [i for i, _ in iter_frames(CLIP, CLIP_FRAMES - 2, CLIP_FRAMES + 50)] == [CLIP_FRAMES - 2, CLIP_FRAMES - 1]


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("missing", "no such file"),
        ("text", "not a video file"),
        ("empty", "empty file"),
        ("zero_frames", "has no frames"),
        ("truncated_mp4", "truncated MP4/MOV file: its index"),
        ("audio_only_mp4", "MP4/MOV file without a video track"),
        ("zero_frames_mp4", "has no frames"),
        (
            "codec",
            "AVI file OpenCV cannot open: damaged or truncated, without a video track, or in a codec it cannot decode",
        ),
    ],
)
def test_a_bad_file_gets_one_clear_error(bad_videos, kind, message):
    with pytest.raises(VideoError, match=message) as info:
        open_video(bad_videos[kind])
    assert str(bad_videos[kind]) in str(info.value)
    assert "\n" not in str(info.value)


def test_a_folder_is_not_a_video(tmp_path):
    with pytest.raises(VideoError, match="not a file"):
        open_video(tmp_path)


def test_a_truncated_file_is_read_to_its_last_good_frame(bad_videos, caplog):
    info = open_video(bad_videos["truncated"])
    assert info.frame_count == CLIP_FRAMES  # the header still says so
    with caplog.at_level(logging.INFO, logger="ram_core.video"):
        indices = [i for i, _ in iter_frames(bad_videos["truncated"])]
    assert 0 < len(indices) < CLIP_FRAMES
    assert indices == list(range(len(indices)))
    assert f"frames {len(indices)}..{CLIP_FRAMES - 1} could not be read" in caplog.text


def test_prefetch_frames_gives_the_same_frames_and_raises_where_the_source_did():
    def source():
        yield from ((i, np.full((2, 2, 3), i, np.uint8)) for i in range(5))
        raise VideoError("broken at 5")

    seen = []
    with pytest.raises(VideoError, match="broken at 5"):
        for index, image in prefetch_frames(source()):
            seen.append(index)
            assert image[0, 0, 0] == index
    assert seen == [0, 1, 2, 3, 4]


def test_closing_prefetch_frames_stops_its_thread_and_closes_the_source():
    closed = threading.Event()

    def source():
        try:
            yield from ((i, np.zeros((2, 2, 3), np.uint8)) for i in range(1000))
        finally:
            closed.set()

    with closing(prefetch_frames(source())) as frames:
        assert next(frames)[0] == 0
    assert closed.is_set()
    assert not any(t.name == "ram-frame-prefetch" for t in threading.enumerate())


def test_one_damaged_frame_mid_file_is_skipped_and_counted(tmp_path, caplog):
    damaged = damaged_frame_avi(tmp_path / "damaged.avi")
    skipped: list[int] = []
    with caplog.at_level(logging.WARNING, logger="ram_core.video"):
        indices = [i for i, _ in iter_frames(damaged, skipped=skipped)]
    assert indices == [i for i in range(20) if i != 10]
    assert skipped == [10]
    assert "1 damaged frame(s) skipped, left missing: 10" in caplog.text


def test_a_capture_of_a_video_with_a_damaged_frame_is_whole_and_lists_the_frame(
    tmp_path, capsys, monkeypatch, worker_env
):
    from ram_core.cli import main
    from ram_core.contract.results import load_results

    monkeypatch.setenv("PYTHONPATH", worker_env["PYTHONPATH"])  # the worker imports the scripted backend
    damaged = damaged_frame_avi(tmp_path / "damaged.avi")
    out = tmp_path / "damaged.ram.npz"
    assert main(["capture", str(damaged), "-o", str(out), "--backend", SCRIPTED]) == 0  # not "truncated"
    captured = capsys.readouterr()
    assert "frames 0..19 (20 frames, 1 damaged and skipped" in captured.out
    err = captured.err
    assert "1 damaged frame(s) skipped, left missing: 10" in err and "truncated" not in err
    meta = load_results(out).meta
    assert meta.skipped_frames == (10,) and (meta.frame_start, meta.frame_end) == (0, 20)
    assert meta.frame_times is None  # a constant rate
    assert all(10 not in t.frame for t in load_results(out).tracks)  # missing, not invented
    assert main(["info", str(out)]) == 0
    assert "1 damaged frame(s) skipped, left missing: 10" in capsys.readouterr().out


def test_a_variable_rate_video_gives_each_frames_time(tmp_path):
    times: dict[int, float] = {}
    frames = [i for i, _ in iter_frames(variable_rate_mp4(tmp_path / "vfr.mp4"), times=times)]
    assert frames == list(range(len(VARIABLE_RATE_TIMES)))
    assert np.allclose([times[i] for i in frames], VARIABLE_RATE_TIMES, atol=1e-3)


def test_a_capture_of_a_variable_rate_video_warns_once_and_keeps_the_times(tmp_path, capsys, monkeypatch, worker_env):
    from ram_core.cli import main
    from ram_core.contract.results import load_results

    monkeypatch.setenv("PYTHONPATH", worker_env["PYTHONPATH"])
    out = tmp_path / "vfr.ram.npz"
    assert main(["capture", str(variable_rate_mp4(tmp_path / "vfr.mp4")), "-o", str(out), "--backend", SCRIPTED]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "variable frame rate" in line]
    assert len(warnings) == 1 and "frame 2 is shown at 0.040 s, not at 0.080 s" in warnings[0], warnings
    meta = load_results(out).meta
    assert meta.frame_times is not None and np.allclose(meta.frame_times, VARIABLE_RATE_TIMES, atol=1e-3)
    assert meta.skipped_frames == ()


def test_a_phone_video_stored_landscape_with_a_rotation_tag_is_captured_upright(
    tmp_path, capsys, monkeypatch, worker_env
):
    """A phone's portrait video is often stored landscape with a rotation tag (90 degrees clockwise): its frames
    are read upright (portrait, what was on the left is on top) and the results say so (``video_rotation``)."""
    import cv2

    from ram_core.cli import main
    from ram_core.contract.results import load_results
    from tests.fixtures.bad_inputs import rotation_tagged_mp4

    stored = tmp_path / "stored.mp4"
    writer = cv2.VideoWriter(str(stored), cv2.VideoWriter_fourcc(*"mp4v"), 25, (64, 48))
    for _ in range(3):
        frame = np.zeros((48, 64, 3), np.uint8)
        frame[:, :16] = 255  # the stored frame's left quarter: the top quarter once turned clockwise
        writer.write(frame)
    writer.release()
    video = rotation_tagged_mp4(stored, tmp_path / "phone.mp4", 90)
    info = open_video(video)
    assert (info.width, info.height, info.rotation) == (48, 64, 90)
    (_, first), *_ = iter_frames(video)
    assert first.shape == (64, 48, 3) and first[:12].mean() > 200 and first[20:].mean() < 30
    monkeypatch.setenv("PYTHONPATH", worker_env["PYTHONPATH"])
    out = tmp_path / "phone.ram.npz"
    assert main(["capture", str(video), "-o", str(out), "--backend", SCRIPTED]) == 0
    meta = load_results(out).meta
    assert (meta.width, meta.height, meta.video_rotation) == (48, 64, 90)
    assert open_video(stored).rotation == 0


def test_an_mp4_cut_off_before_its_index_says_so(tmp_path):
    from tests.fixtures.bad_inputs import box_chain, small_mp4

    data = small_mp4(tmp_path / "whole.mp4", 6)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(bytes(data[: box_chain(data, b"moov")[0]]))
    with pytest.raises(VideoError, match="truncated MP4/MOV file: it has no index") as info:
        open_video(cut)
    assert "codec" not in str(info.value)
