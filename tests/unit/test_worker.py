"""The worker protocol end to end with the scripted backend: every way a capture can end.

Each test checks that no ``/dev/shm/ram_*`` segment is left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from ram_core.contract.client import CaptureClient, CaptureError, run_capture
from ram_core.contract.messages import Done, Log, Progress, Started
from ram_core.contract.options import CaptureOptions
from ram_core.contract.results import RECORD_FIELDS, load_results
from ram_core.contract.ring import records_to_tracks
from tests.conftest import CLIP, CLIP_FRAMES, REPO, SCRIPTED, ram_segments
from tests.fixtures.scripted_backend import REST_JOINTS, WALKERS, expected_records

pytestmark = pytest.mark.usefixtures("no_leaked_segments")


def client(worker_env, **kw) -> CaptureClient:
    env = {**worker_env, **kw.pop("env", {})}
    return CaptureClient(sys.executable, CLIP, CaptureOptions(backend=SCRIPTED, **kw), extra_env=env)


def pump(c: CaptureClient, until=lambda c: c.finished, timeout_s: float = 60.0) -> list:
    messages = []
    deadline = time.monotonic() + timeout_s
    while not until(c):
        assert time.monotonic() < deadline, "the worker did not get there in time"
        messages += c.poll()
        time.sleep(0.005)
    return messages


def assert_matches_script(results, frames_upto: int | None = None, fields=tuple(RECORD_FIELDS)) -> None:
    """Every track equals the script's truth, restricted to frames the capture reached."""
    meta = results.meta
    end = meta.frame_end if frames_upto is None else frames_upto
    expected = {
        t.track_id: t for t in records_to_tracks(expected_records(WALKERS, meta.frame_start, end, meta.intrinsics))
    }
    assert [t.track_id for t in results.tracks] == sorted(expected)
    for t in results.tracks:
        e = expected[t.track_id]
        for name in fields:
            np.testing.assert_allclose(getattr(t, name), getattr(e, name), atol=1e-5, err_msg=f"{t.track_id} {name}")


def test_a_full_capture(worker_env):
    with client(worker_env) as c:
        c.start()
        messages = pump(c)
        assert c.error is None, c.error
        results = c.raw_results()
        log_path = c._res.log_path
        shm = c.shm_name
        assert shm in ram_segments()
    assert shm not in ram_segments()
    assert not os.path.exists(log_path)
    assert isinstance(messages[0], Started)
    assert isinstance(messages[-1], Done) and messages[-1] == c.done
    progress = [m for m in messages if isinstance(m, Progress)]
    assert [p.done for p in progress] == list(range(1, CLIP_FRAMES + 1))
    assert [p.frame for p in progress] == list(range(CLIP_FRAMES))
    assert c.progress == (CLIP_FRAMES, CLIP_FRAMES) and not c.cancelled
    meta = results.meta
    assert (meta.backend, meta.frame_start, meta.frame_end, meta.width, meta.fps) == ("scripted", 0, 120, 768, 10.0)
    assert meta.intrinsics_assumed and meta.intrinsics[0, 0] == 768
    np.testing.assert_allclose(meta.rest_joints, REST_JOINTS)
    assert_matches_script(results)
    # Every record sent arrived: track 1 twice per frame (provisional, refined), track 2 with its
    # 3 coasted frames, track 3 once per frame.
    assert c.done.records == len(c.records()) == 2 * CLIP_FRAMES + (50 + 3) + 80


def test_a_frame_range_and_a_focal_length(worker_env):
    with client(worker_env, start=20, end=50, focal_px=1000.0, max_people=2) as c:
        c.start()
        pump(c)
        results = c.raw_results()
    assert (results.meta.frame_start, results.meta.frame_end) == (20, 50)
    assert not results.meta.intrinsics_assumed and results.meta.intrinsics[0, 0] == 1000.0
    assert [t.track_id for t in results.tracks] == [1, 2]
    assert results.tracks[0].frame[0] == 20 and results.tracks[0].frame[-1] == 49


def test_a_field_of_view_becomes_the_focal_length_of_the_videos_size(worker_env):
    with client(worker_env, end=3, fov_deg=90.0) as c:
        c.start()
        pump(c)
        meta = c.raw_results().meta
    assert not meta.intrinsics_assumed and meta.intrinsics[0, 0] == pytest.approx(max(meta.width, meta.height) / 2)


def test_options_the_worker_cannot_use_end_in_one_line(worker_env):
    with client(worker_env) as c:
        good = c.command
        c.command = lambda shm, temporary: [*good(shm), "--options", '{"start": -1, "colour": "red"}']
        c.start()
        pump(c)
    assert c.error is not None and c.error.message.startswith("unknown capture options ['colour']")


def test_library_output_on_stdout_does_not_break_the_protocol(worker_env):
    with client(worker_env, end=5, env={"RAM_SCRIPTED_NOISE": "1"}) as c:
        c.start()
        messages = pump(c)
    assert c.error is None
    assert not [m for m in messages if isinstance(m, Log)], messages


def test_cancel_keeps_what_was_done(worker_env):
    with client(worker_env, env={"RAM_SCRIPTED_SLEEP": "0.02"}) as c:
        c.start()
        pump(c, until=lambda c: c.progress[0] >= 10)
        c.cancel()
        assert c.finished and c.cancelled and c.error is None
        results = c.raw_results()
        done = c.progress[0]
    assert 10 <= done < CLIP_FRAMES
    assert results.meta.frame_end == done
    assert "cancelled" in results.meta.notes
    assert_matches_script(results)  # the backend's finish() ran: even the last frame is refined


def test_a_cancel_request_then_polling_as_a_timer_does(worker_env):
    with client(worker_env, env={"RAM_SCRIPTED_SLEEP": "0.02"}) as c:
        c.start()
        pump(c, until=lambda c: c.progress[0] >= 3)
        c.cancel(wait_s=0)  # returns at once; Blender's timer keeps polling
        assert not c.finished
        messages = pump(c)
        assert isinstance(messages[-1], Done) and messages[-1].cancelled
        assert c.results().meta.frame_end < CLIP_FRAMES


def test_a_crashing_backend_reports_the_traceback(worker_env):
    with client(worker_env, env={"RAM_SCRIPTED_CRASH_AT": "25"}) as c:
        c.start()
        pump(c)
        err = c.error
        results = c.raw_results()
    assert err.kind == "RuntimeError"
    assert err.message == "RuntimeError: scripted crash at frame 25"
    assert "scripted_backend.py" in err.traceback and "Traceback" in err.traceback
    assert results.meta.frame_end == 25
    assert_matches_script(results, fields=("frame", "joints", "transl", "predicted"))


def test_run_capture_raises_on_a_crash_and_writes_nothing(worker_env, tmp_path):
    out = tmp_path / "out.npz"
    with pytest.raises(CaptureError, match="scripted crash at frame 5") as info:
        run_capture(
            sys.executable,
            CLIP,
            out,
            options=CaptureOptions(backend=SCRIPTED),
            extra_env={**worker_env, "RAM_SCRIPTED_CRASH_AT": "5"},
        )
    assert info.value.partial is not None and info.value.partial.meta.frame_end == 5
    assert list(tmp_path.iterdir()) == []


def test_run_capture_writes_the_results(worker_env, tmp_path):
    seen = []
    results = run_capture(
        sys.executable,
        CLIP,
        tmp_path / "out.npz",
        options=CaptureOptions(backend=SCRIPTED, end=30),
        extra_env=worker_env,
        progress=seen.append,
    )
    loaded = load_results(tmp_path / "out.npz")
    assert [p.done for p in seen][-1] == 30
    assert [len(t) for t in loaded.tracks] == [len(t) for t in results.tracks] == [30, 20]


def test_a_killed_worker_leaves_the_frames_received(worker_env):
    with client(worker_env, env={"RAM_SCRIPTED_SLEEP": "0.02"}) as c:
        c.start()
        pump(c, until=lambda c: c.progress[0] >= 10)
        os.kill(c.pid, signal.SIGKILL)
        pump(c)
        assert c.error.kind == "WorkerExited" and "signal 9" in c.error.message
        results = c.raw_results()
    assert results.meta.frame_end >= 10
    assert_matches_script(results, fields=("frame", "joints", "transl"))


def test_a_worker_that_cannot_open_the_video(worker_env, bad_videos):
    with CaptureClient(sys.executable, bad_videos["text"], CaptureOptions(backend=SCRIPTED), extra_env=worker_env) as c:
        c.start()
        pump(c)
        assert c.error.kind == "VideoError" and "not a video file" in c.error.message
        with pytest.raises(CaptureError, match="stopped before capturing"):
            c.results()


def test_a_worker_python_that_does_not_exist(worker_env):
    c = CaptureClient("/nonexistent/python3", CLIP, CaptureOptions(backend=SCRIPTED))
    with pytest.raises(CaptureError, match="cannot start the worker"):
        c.start()
    c.close()


def test_a_worker_python_that_is_a_folder_names_the_python_inside_it(tmp_path):
    """Before: a virtual environment's folder picked as the worker Python said only "Permission denied"."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").write_text("")
    for python, said in (
        (tmp_path, f"it is a folder; give the Python inside it, {tmp_path / 'bin' / 'python'}"),
        (tmp_path / "bin" / "python", "Permission denied (not a program: give a Python interpreter)"),
    ):
        c = CaptureClient(str(python), CLIP, CaptureOptions(backend=SCRIPTED))
        with pytest.raises(CaptureError) as e:
            c.start()
        c.close()
        assert str(e.value) == f"cannot start the worker with {python}: {said}"


def test_an_exception_in_the_client_stops_the_worker(worker_env):
    with pytest.raises(KeyError), client(worker_env, env={"RAM_SCRIPTED_SLEEP": "0.05"}) as c:
        c.start()
        pump(c, until=lambda c: c.progress[0] >= 1)
        raise KeyError("a bug in the caller")
    assert c._res.proc.poll() is not None


def test_end_of_file_on_stdin_makes_the_worker_stop_and_unlink(worker_env):
    with client(worker_env, env={"RAM_SCRIPTED_SLEEP": "0.05"}) as c:
        c.start()
        pump(c, until=lambda c: c.progress[0] >= 2)
        c._res.proc.stdin.close()  # as if the client had died
        assert c._res.proc.wait(timeout=30) == 3
        assert c.shm_name not in ram_segments()  # gone before the client's own close()


PARENT = """
import sys, time
from ram_core.contract.client import CaptureClient
from ram_core.contract.options import CaptureOptions
c = CaptureClient(
    sys.executable, sys.argv[1], CaptureOptions(backend=sys.argv[2]), extra_env={"RAM_SCRIPTED_SLEEP": "0.05"}
)
c.start()
while c.progress[0] < 2:
    c.poll()
    time.sleep(0.01)
print(c.shm_name, c.pid, c._res.log_path, c._res.path_dir, flush=True)
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def test_a_killed_client_leaves_no_segment(worker_env):
    parent = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(PARENT), str(CLIP), SCRIPTED],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **worker_env},
        cwd=REPO,
    )
    name, pid, *temporary = parent.stdout.readline().split()
    assert name in ram_segments()
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 30
    while _alive(int(pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(int(pid))
    deadline = time.monotonic() + 5
    while name in ram_segments() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert name not in ram_segments()
    deadline = time.monotonic() + 5  # the worker removes the files a killed client could not
    while any(os.path.exists(p) for p in temporary) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p for p in temporary if os.path.exists(p)] == []


def test_a_capture_that_cannot_be_written_is_kept_and_the_message_says_where(worker_env, tmp_path, monkeypatch):
    import errno

    from ram_core.contract import client as client_module

    real = client_module.save_results
    out = tmp_path / "out.npz"

    def disk_full_for_out(results, path):
        if Path(path) == out:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(results, path)

    monkeypatch.setattr(client_module, "save_results", disk_full_for_out)
    monkeypatch.setenv(client_module.RESCUE_DIR_ENV, str(tmp_path / "rescued"))
    with pytest.raises(CaptureError, match=r"\(No space left on device\); the capture was kept in ") as info:
        run_capture(sys.executable, CLIP, out, options=CaptureOptions(backend=SCRIPTED, end=10), extra_env=worker_env)
    kept = Path(str(info.value).rsplit(" kept in ", 1)[1])
    assert kept.parent == tmp_path / "rescued" and not out.exists()
    assert load_results(kept).meta.frame_end == 10  # the whole capture, loadable


def test_a_killed_workers_message_names_its_last_problem_not_library_chatter(tmp_path):
    log = tmp_path / "worker.log"
    log.write_text(
        "2026-12-02 15:00:00,001 INFO ram_core.worker: capturing\n"
        "2026-12-02 15:00:01,002 WARNING ram_core.backends.lite.backend: frame 7: landmarks failed\n"
        "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n"
        "W0000 00:00:1733151601.000 1234 inference_feedback_manager.cc:114] Feedback manager requires a model\n"
    )
    c = CaptureClient(sys.executable, CLIP)
    c._res.log_path = str(log)
    message = c._exit_error(-9).message
    c._res.log_path = None
    c.close()
    assert message == (
        "the worker was killed by signal 9 before finishing; its last problem: "
        "2026-12-02 15:00:01,002 WARNING ram_core.backends.lite.backend: frame 7: landmarks failed"
    )


def test_a_long_but_legal_output_name_is_accepted(worker_env, tmp_path):
    out = tmp_path / ("a" * 245 + ".npz")  # 249 characters: the file system allows 255
    run_capture(sys.executable, CLIP, out, options=CaptureOptions(backend=SCRIPTED, end=5), extra_env=worker_env)
    assert out.is_file()


def test_frames_larger_than_the_working_size_are_captured_scaled_down_with_a_matching_camera():
    from ram_core.body.camera import pinhole_intrinsics, project
    from ram_core.contract.ring import empty_records
    from ram_core.video import VideoInfo
    from ram_core.worker import WORKING_MAX_SIDE, scaled_camera, to_video_pixels, working_scale

    info = VideoInfo("v.mp4", 30.0, 7680, 4320, 10)
    k = pinhole_intrinsics(7680, 4320, focal_px=6000.0)
    scale = working_scale(info.width, info.height)
    work, k_work = scaled_camera(info, k, scale)
    assert (work.width, work.height) == (WORKING_MAX_SIDE, 1080) and scale == 0.25
    point = np.array([[[0.4, -0.2, 5.0]]])
    np.testing.assert_allclose(project(point, k_work), project(point, k) * scale)  # the same camera, scaled
    records = empty_records(1)
    records["box"] = [100, 50, 200, 300]
    np.testing.assert_allclose(to_video_pixels(records, scale)["box"], [[400, 200, 800, 1200]])
    assert working_scale(1920, 1080) == 1.0 and scaled_camera(VideoInfo("v", 25, 1920, 1080, 5), k, 1.0)[1] is k


def test_a_worker_python_without_the_packages_says_what_to_install():
    """Before: 'ModuleNotFoundError: No module named cv2' was the whole of it (a base install, Blender's Python)."""
    hide_cv2 = "import sys, runpy; sys.modules['cv2'] = None; runpy.run_module('ram_core.worker', run_name='__main__')"
    proc = subprocess.run(
        [sys.executable, "-c", hide_cv2, "--help"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    last = proc.stderr.strip().splitlines()[-1]
    assert proc.returncode == 1 and last.startswith("ModuleNotFoundError: import of cv2 halted"), proc.stderr
    assert f"in {sys.executable}, the worker's Python: install ram-core's packages there" in last
    assert "(pip install 'ram-core[lite]')" in last
