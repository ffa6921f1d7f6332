"""One capture in progress: drives a ``CaptureClient`` from Blender's main thread, without bpy.

The modal operator calls :meth:`CaptureJob.step` on a timer; the CLI and tests call it in a loop.
Whatever happens (finished, cancelled, crashed), :meth:`CaptureJob.finish` saves what was captured
and :meth:`CaptureJob.close` releases the worker and its shared memory.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from ram_core.contract.results import Results, save_results

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CaptureRequest:
    """What to capture: frames ``[start, end)`` of ``video`` (``end`` None: to the end), by ``backend``."""

    python: str
    video: str
    out_path: str
    backend: str = "lite"
    start: int = 0
    end: int | None = None
    max_people: int | None = None
    smpl_model: str | None = None
    extra_env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class JobStatus:
    done: int
    total: int
    finished: bool
    error: str | None

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


class CaptureJob:
    """A started worker plus where its results go."""

    def __init__(self, request: CaptureRequest) -> None:
        from ram_core.contract.client import CaptureClient

        self.request = request
        self.cancelled = False
        self._client = CaptureClient(
            request.python,
            request.video,
            backend=request.backend,
            start=request.start,
            end=request.end,
            max_people=request.max_people,
            smpl_model=request.smpl_model,
            extra_env=dict(request.extra_env) or None,
        )
        self._client.start()

    def step(self) -> JobStatus:
        """Drain the worker's messages without blocking and say where it stands."""
        self._client.poll()
        done, total = self._client.progress
        return JobStatus(done, total, self._client.finished, self._client.error)

    def cancel(self) -> None:
        """Ask the worker to stop; the frames captured so far stay available."""
        self.cancelled = True
        self._client.cancel()

    def finish(self) -> tuple[Path | None, Results | None]:
        """Save what was captured (even partial) to the request's path; ``(None, None)`` if nothing was."""
        try:
            results = self._client.results()
        except Exception as e:  # a worker that died before sending metadata has no results at all
            log.warning("no results from %s: %s", self.request.video, e)
            return None, None
        if not any(len(t) for t in results.tracks):
            return None, results
        path = save_results(results, self.request.out_path)
        return path, results

    def close(self) -> None:
        self._client.close()
