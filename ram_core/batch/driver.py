"""Run a batch: skip the videos already done, hand the rest to a scheduler, collect every outcome."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from ram_core.batch.schedulers import Scheduler
from ram_core.batch.task import DONE, FAILED, SKIPPED, Outcome, VideoJob, kept
from ram_core.contract import reruns
from ram_core.contract.batch_files import clashing_names
from ram_core.contract.options import CaptureOptions

POLL_S = 0.2


@dataclass(frozen=True)
class BatchProgress:
    """Where a batch stands: videos finished of all, failed so far, frames captured (finished videos
    and the running ones), the running videos' frames in all, and how many run now."""

    finished: int
    videos: int
    failed: int
    frames_done: int
    running_total: int
    running: int


def make_jobs(
    videos: list[Path],
    out_dir: str | os.PathLike,
    options: CaptureOptions,
    *,
    max_retries: int = 2,
    python: str | None = None,
    extra_env: dict[str, str] | None = None,
    replaced: str | None = None,
) -> list[VideoJob]:
    """One job per video; ValueError if two videos would write the same results file. ``replaced``: the
    folder earlier outputs move to when a job replaces them (default: a new ``out_dir/replaced/<date>_<time>``).

    Paths become absolute here, on the driver: a task runs in another folder, maybe on another machine
    (which must see the same paths: a shared filesystem).
    """
    out = os.path.abspath(out_dir)
    options = replace(
        options,
        smpl_model=options.smpl_model and os.path.abspath(options.smpl_model),
        weights_dir=options.weights_dir and os.path.abspath(options.weights_dir),
    )
    clash = clashing_names([Path(v) for v in videos])
    if clash:
        raise ValueError(clash)
    env = tuple(sorted((extra_env or {}).items()))
    aside = os.path.abspath(replaced) if replaced else str(reruns.replaced_folder(out))
    return [
        VideoJob(i, os.path.abspath(v), out, options, max_retries, python, env, aside) for i, v in enumerate(videos)
    ]


def run_batch(
    jobs: list[VideoJob],
    scheduler: Scheduler,
    *,
    skip_existing: bool = True,
    on_update: Callable[[BatchProgress, list[Outcome]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[Outcome]:
    """Every job's outcome, in the jobs' order.

    A job whose video has outputs of an earlier run in its folder is skipped (:func:`kept`) with
    ``skip_existing``; without it every job runs, and a job's earlier outputs move to its ``replaced``
    folder when its new results replace them. ``on_update(progress, new_outcomes)`` is called after each poll; when
    ``should_stop()`` turns true the outstanding jobs are cancelled (and come back as cancelled).
    """
    for folder in {job.out_dir for job in jobs}:
        Path(folder).mkdir(parents=True, exist_ok=True)
    outcomes: dict[int, Outcome] = {}
    todo = []
    for job in jobs:
        skipped = kept(job) if skip_existing else None
        if skipped is None:
            todo.append(job)
        else:
            outcomes[job.index] = skipped
    if on_update is not None and outcomes:
        on_update(_progress(outcomes, {}, len(jobs)), list(outcomes.values()))
    if not todo:  # nothing to capture: no need to start a pool or reach a cluster
        return [outcomes[job.index] for job in jobs]
    scheduler.start(todo)
    stopping = False
    try:
        while len(outcomes) < len(jobs):
            new = scheduler.poll(POLL_S)
            outcomes.update((o.index, o) for o in new)
            if not stopping and should_stop is not None and should_stop():
                stopping = True
                scheduler.cancel()
            if on_update is not None:
                on_update(_progress(outcomes, scheduler.progress(), len(jobs)), new)
    finally:
        scheduler.close()
    return [outcomes[job.index] for job in jobs]


def _progress(outcomes: dict[int, Outcome], running: dict[int, tuple[int, int]], videos: int) -> BatchProgress:
    frames = sum(o.frames for o in outcomes.values() if o.status in (DONE, SKIPPED))
    active = {i: p for i, p in running.items() if i not in outcomes}
    return BatchProgress(
        finished=len(outcomes),
        videos=videos,
        failed=sum(o.status == FAILED for o in outcomes.values()),
        frames_done=frames + sum(done for done, _ in active.values()),
        running_total=sum(total for _, total in active.values()),
        running=len(active),
    )
