"""``ram-core batch`` on a real local Ray runtime (2 CPUs, no dashboard, nothing over the network):
results equal to ``ram-core capture``'s, a corrupt video fails alone, a rerun skips, a killed worker or
a killed Ray task process is retried, a cancel leaves no partial files, no rings and no workers."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from ram_core.batch.driver import make_jobs, run_batch
from ram_core.batch.schedulers import RayScheduler
from ram_core.batch.task import CANCELLED, DONE, FAILED, SKIPPED
from ram_core.contract.batch_files import find_videos, results_path
from ram_core.contract.options import CaptureOptions
from tests.conftest import REPO, SCRIPTED, ram_segments
from tests.unit.batch_clips import assert_same_results, leftovers

SCRIPTED_OPTIONS = CaptureOptions(backend=SCRIPTED)
WORKER_ENV = {"PYTHONPATH": str(REPO)}


@pytest.fixture(scope="module")
def ray_session(tmp_path_factory):
    """One local Ray runtime for this module: 2 CPUs, no dashboard, no usage reports."""
    with pytest.MonkeyPatch.context() as mp:
        # Ray's worker processes inherit this environment: they must import ram_core and the tests.
        mp.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p))
        mp.setenv("RAY_USAGE_STATS_ENABLED", "0")
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            object_store_memory=80 * 1024 * 1024,
            _temp_dir=str(tmp_path_factory.mktemp("ray")),
        )
        try:
            yield ray
        finally:
            ray.shutdown()


def capture_workers(marker: str) -> dict[int, str]:
    """pid -> ring name of the capture workers whose command line holds ``marker`` (this test's folder)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if "ram_core.worker" in args and any(marker in a for a in args):
            found[int(entry.name)] = args[args.index("--shm") + 1]
    return found


def test_a_folder_on_ray_captures_to_what_capture_gives(ray_session, batch_clips, bad_videos, tmp_path):
    videos, references = batch_clips
    folder = tmp_path / "videos"
    folder.mkdir()
    for video in videos:
        shutil.copy(video, folder / video.name)
    shutil.copy(bad_videos["text"], folder / "broken.avi")
    out = tmp_path / "out"
    jobs = make_jobs(find_videos([str(folder)]), out, SCRIPTED_OPTIONS, extra_env=WORKER_ENV)
    outcomes = run_batch(jobs, RayScheduler())
    by_name = {Path(o.video).name: o for o in outcomes}
    broken = by_name.pop("broken.avi")
    assert broken.status == FAILED and broken.attempts == 1, broken
    assert "broken.avi: not a video file" in broken.message and "\n" not in broken.message
    assert [o.status for o in by_name.values()] == [DONE] * 4
    for video, ref in zip(videos, references):
        assert_same_results(results_path(out, folder / video.name), ref)
    assert leftovers(out) == [] and not results_path(out, "broken.avi").exists()

    again = run_batch(jobs, RayScheduler())
    assert [o.status for o in again] == [FAILED, SKIPPED, SKIPPED, SKIPPED, SKIPPED]


@pytest.mark.parametrize("who", ["worker", "task"])
def test_a_killed_worker_or_task_process_is_retried(ray_session, batch_clips, tmp_path, who):
    """``worker``: the capture's worker process dies; ``task``: the Ray worker running the task dies."""
    videos, references = batch_clips
    marker = tmp_path / "killed"
    env = {**WORKER_ENV, "RAM_SCRIPTED_KILL_AT": "5", "RAM_SCRIPTED_KILL_MARKER": str(marker)}
    if who == "task":
        env["RAM_SCRIPTED_KILL_WHO"] = "parent"
    jobs = make_jobs(videos[:1], tmp_path / "out", SCRIPTED_OPTIONS, max_retries=1, extra_env=env)
    [outcome] = run_batch(jobs, RayScheduler())
    assert marker.exists()
    assert outcome.status == DONE and outcome.attempts == 2, outcome
    assert_same_results(results_path(tmp_path / "out", videos[0]), references[0])
    assert leftovers(tmp_path / "out") == []


def test_a_cancel_stops_the_tasks_and_leaves_nothing_partial(ray_session, batch_clips, tmp_path):
    videos, references = batch_clips
    out = tmp_path / "out"
    # 0.5 s a frame (6 s a video): the stop must land while videos run, even on a loaded machine.
    env = {**WORKER_ENV, "RAM_SCRIPTED_SLEEP": "0.5"}
    jobs = make_jobs(videos, out, SCRIPTED_OPTIONS, extra_env=env)
    scheduler = RayScheduler()
    seen: dict[int, str] = {}

    def should_stop() -> bool:
        # Stop once videos run (their capture workers seen, or frames coming in) and others are still queued. Not
        # on the progress board alone: with other work on both cores its snapshot came through only after two
        # videos had finished (CI, twice).
        seen.update(capture_workers(str(videos[0].parent)))
        return bool(seen) or sum(done for done, _ in scheduler.progress().values()) >= 2

    outcomes = run_batch(jobs, scheduler, should_stop=should_stop)
    assert seen  # the capture workers were seen running
    # The two queued videos are cancelled; a running one is cancelled too, or (the stop raced its end: seen in
    # CI runs, the first two done) done whole. Nothing partial either way.
    statuses = [(o.status, o.frames, o.seconds) for o in outcomes]
    assert sum(o.status == CANCELLED for o in outcomes) >= 2, statuses
    assert all(o.status in (CANCELLED, DONE) for o in outcomes), statuses
    for o, video, ref in zip(outcomes, videos, references):
        if o.status == DONE:
            assert_same_results(results_path(out, video), ref)
        else:
            assert not results_path(out, video).exists()
    assert not out.exists() or leftovers(out) == []
    # When the batch returns, the cancelled tasks' capture workers are gone and so are their rings.
    assert capture_workers(str(videos[0].parent)) == {}
    assert not set(seen.values()) & ram_segments()
