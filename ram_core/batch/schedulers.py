"""Where a batch's videos run: a pool on this machine, or Ray tasks on a cluster; one interface.

A scheduler runs :func:`ram_core.batch.task.run_job` for each job. The driver
(:func:`ram_core.batch.driver.run_batch`) calls ``start(jobs)``, then ``poll`` until every job has an
outcome, ``progress()`` for the frames of the running videos, ``cancel()`` to stop what is outstanding
(their outcomes still come back, as cancelled), and ``close()``. Ray is imported only by
:class:`RayScheduler` (the optional extra ``ram-core[ray]``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, Protocol

from ram_core.batch.task import CANCELLED, FAILED, Outcome, VideoJob, run_job
from ram_core.contract.messages import Progress
from ram_core.contract.options import CaptureOptions

logger = logging.getLogger(__name__)

# The lite backend's TFLite interpreters run 2 threads each (DetectorConfig / LandmarkConfig.num_threads).
LITE_CPUS = 2
PROGRESS_EVERY_S = 0.25


def task_resources(options: CaptureOptions) -> dict[str, float]:
    """What one capture holds while it runs: ``ram`` one GPU (unless its device is the CPU), ``lite``
    its interpreters' threads, any other backend one CPU."""
    if options.backend == "ram":
        return {"num_cpus": 1, "num_gpus": 0 if options.device == "cpu" else 1}
    if options.backend == "lite":
        return {"num_cpus": LITE_CPUS}
    return {"num_cpus": 1}


def local_workers(options: CaptureOptions) -> int:
    """How many captures this machine runs at once by default: its CPUs over each capture's, and one
    for ``ram`` on a GPU."""
    need = task_resources(options)
    if need.get("num_gpus"):
        return 1
    return max(1, (os.cpu_count() or 1) // int(need["num_cpus"]))


class Scheduler(Protocol):
    name: str

    def start(self, jobs: list[VideoJob]) -> None: ...

    def poll(self, timeout_s: float) -> list[Outcome]:
        """The outcomes that arrived since the last call; waits up to ``timeout_s`` for one."""
        ...

    def progress(self) -> dict[int, tuple[int, int]]:
        """Job index -> (frames done, frames in all) for the videos being captured now."""
        ...

    def cancel(self) -> None: ...

    def close(self) -> None: ...


class LocalScheduler:
    """Videos on ``workers`` threads of this process; each capture runs in its own worker process, so
    the threads only wait on them."""

    name = "local"

    def __init__(self, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError(f"workers is {workers}; give 1 or more")
        self.workers = workers
        self._cancel = threading.Event()
        self._pool: ThreadPoolExecutor | None = None
        self._futures: dict[Future, VideoJob] = {}
        self._progress: dict[int, tuple[int, int]] = {}

    def start(self, jobs: list[VideoJob]) -> None:
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="ram-batch")
        self._futures = {self._pool.submit(self._run, job): job for job in jobs}

    def _run(self, job: VideoJob) -> Outcome:
        def progress(p: Progress) -> None:
            self._progress[job.index] = (p.done, p.total)

        try:
            return run_job(job, progress, self._cancel.is_set)
        finally:
            self._progress.pop(job.index, None)

    def poll(self, timeout_s: float) -> list[Outcome]:
        if not self._futures:
            time.sleep(timeout_s)
            return []
        done, _ = wait(list(self._futures), timeout=timeout_s, return_when=FIRST_COMPLETED)
        out = []
        for future in done:
            job = self._futures.pop(future)
            try:
                out.append(future.result())
            except Exception as e:  # a bug in the task, not a failed capture: that video fails alone
                logger.debug("batch task for %s raised", job.video, exc_info=True)
                out.append(Outcome(job.index, job.video, FAILED, message=f"{type(e).__name__}: {e}"))
        return out

    def progress(self) -> dict[int, tuple[int, int]]:
        return dict(self._progress)

    def cancel(self) -> None:
        # Queued jobs return at once as cancelled; running captures are cancelled and discard their frames.
        self._cancel.set()

    def close(self) -> None:
        self._cancel.set()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


class _Board:
    """A Ray actor the tasks report to: frames per running video and captures started per video."""

    def __init__(self) -> None:
        self.frames: dict[int, tuple[int, int]] = {}
        self.attempts: dict[int, int] = {}

    def update(self, index: int, done: int, total: int) -> None:
        self.frames[index] = (done, total)

    def attempt(self, index: int) -> int:
        self.attempts[index] = self.attempts.get(index, 0) + 1
        return self.attempts[index]

    def finished(self, index: int) -> None:
        self.frames.pop(index, None)

    def snapshot(self) -> dict[int, tuple[int, int]]:
        return self.frames


def ray_capture(job_json: str, board: Any) -> str:
    """The Ray task: :func:`run_job` on one job (as JSON), reporting to ``board``; the outcome as JSON.

    Ray's cancel raises KeyboardInterrupt in here, which stops the capture's worker and removes its
    files on the way out (:func:`run_job`).
    """
    import ray

    job = VideoJob.from_json(job_json)
    shown = [0.0]
    attempts = [0]  # this video's captures started, counting those of earlier runs of this task (a died process)

    def progress(p: Progress) -> None:
        now = time.monotonic()
        if now - shown[0] >= PROGRESS_EVERY_S or p.done >= p.total:
            shown[0] = now
            board.update.remote(job.index, p.done, p.total)

    def attempt(_: int) -> None:
        attempts[0] = ray.get(board.attempt.remote(job.index))

    try:
        outcome = run_job(job, progress, None, attempt)
        outcome.attempts = max(outcome.attempts, attempts[0])
        return outcome.to_json()
    finally:
        board.finished.remote(job.index)


class RayScheduler:
    """Each video one Ray task with :func:`task_resources`; Ray retries a task whose process died.

    ``address``: ``auto`` (a running cluster if there is one, else a local Ray started here) or a
    cluster's address (``HOST:6379``, ``ray://HOST:10001``). If Ray is already initialised in this
    process (a test, a notebook) that session is used and left running.
    """

    name = "ray"

    def __init__(self, address: str = "auto", init_kwargs: dict[str, Any] | None = None) -> None:
        self.address = address
        self.init_kwargs = dict(init_kwargs or {})
        self._ray: Any = None
        self._owns_ray = False
        self._board: Any = None
        self._refs: dict[Any, VideoJob] = {}
        self._cancelled = False
        self._progress: dict[int, tuple[int, int]] = {}

    def start(self, jobs: list[VideoJob]) -> None:
        try:
            import ray
        except ImportError:
            raise RuntimeError('Ray is not installed: pip install "ram-core[ray]"') from None
        self._ray = ray
        if not ray.is_initialized():
            kwargs = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
            kwargs.update(self.init_kwargs)
            try:
                ray.init(address=None if self.address == "auto" else self.address, **kwargs)
            except Exception as e:  # Ray raises ConnectionError, RuntimeError, ValueError, its own errors
                why = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                raise RuntimeError(f"cannot start or reach Ray ({self.address}): {why}") from None
            self._owns_ray = True
        self._board = ray.remote(num_cpus=0)(_Board).remote()
        task = ray.remote(ray_capture)
        self._refs = {}
        for job in jobs:
            # Ray re-runs a task whose process died (a node lost, a worker killed); run_job retries the rest.
            options = {**task_resources(job.options), "max_retries": job.max_retries, "retry_exceptions": False}
            self._refs[task.options(**options).remote(job.to_json(), self._board)] = job

    def poll(self, timeout_s: float) -> list[Outcome]:
        ray = self._ray
        if not self._refs:
            time.sleep(timeout_s)
            return []
        ready, _ = ray.wait(list(self._refs), num_returns=1, timeout=timeout_s)
        ready, _ = ray.wait(list(self._refs), num_returns=len(self._refs), timeout=0) if ready else (ready, None)
        self._progress = self._snapshot()
        out = []
        for ref in ready:
            job = self._refs.pop(ref)
            try:
                outcome = Outcome.from_json(ray.get(ref))
            except ray.exceptions.TaskCancelledError:
                outcome = Outcome(job.index, job.video, CANCELLED, message="cancelled; nothing saved")
            except ray.exceptions.RayError as e:
                if self._cancelled:  # a cancel that arrived as an interrupt inside the task
                    outcome = Outcome(job.index, job.video, CANCELLED, message="cancelled; nothing saved")
                else:
                    why = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                    outcome = Outcome(job.index, job.video, FAILED, message=f"Ray: {why}")
            out.append(outcome)
        return out

    def _snapshot(self) -> dict[int, tuple[int, int]]:
        with contextlib.suppress(self._ray.exceptions.GetTimeoutError):  # keep the last view; try again next poll
            return self._ray.get(self._board.snapshot.remote(), timeout=5)
        return self._progress

    def progress(self) -> dict[int, tuple[int, int]]:
        return dict(self._progress)

    def cancel(self) -> None:
        self._cancelled = True
        for ref in list(self._refs):
            self._ray.cancel(ref, force=False)

    def close(self) -> None:
        ray = self._ray
        if ray is None:
            return
        if self._refs:  # an interrupt in the driver: stop the rest without waiting for them
            for ref in list(self._refs):
                ray.cancel(ref, force=True)
        if self._owns_ray:
            ray.shutdown()
        self._ray = None
