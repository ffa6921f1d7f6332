"""One capture in progress: drives a ``CaptureClient`` from Blender's main thread, without bpy.

The modal operator calls :meth:`CaptureJob.step` on a timer; the CLI and tests call it in a loop.
Whatever happens (finished, cancelled, crashed), :meth:`CaptureJob.finish` saves what was captured
and :meth:`CaptureJob.close` releases the worker and its shared memory.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ram_core.contract.client import CaptureClient, CaptureError, check_output_path, save_or_rescue
from ram_core.contract.options import CaptureOptions
from ram_core.contract.results import SCENE_NO_FLOOR, SCENE_SOLVED, SCENE_UNCERTAIN, CaptureMeta, Results

log = logging.getLogger(__name__)

# After a cancel, a worker gets this long to flush and stop before it is killed.
CANCEL_GRACE_S = 5.0


@dataclass(frozen=True)
class CaptureRequest:
    """Capture ``video`` with ``options`` by the worker ``python`` into ``out_path``.

    ``extra_env``: environment variables for the worker (tests and plug-in backends read their own).
    """

    python: str
    video: str
    out_path: str
    options: CaptureOptions = field(default_factory=CaptureOptions)
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
        # A results folder that is missing or read-only fails now (CaptureError), not after the whole capture.
        check_output_path(request.out_path)
        self.request = request
        self.cancelled_at: float | None = None
        self._client = CaptureClient(
            request.python, request.video, request.options, extra_env=dict(request.extra_env) or None
        )
        self._client.start()

    def step(self) -> JobStatus:
        """Drain the worker's messages without blocking and say where it stands."""
        client = self._client
        client.poll()
        overdue = self.cancelled_at is not None and time.monotonic() - self.cancelled_at > CANCEL_GRACE_S
        if overdue and not client.finished:
            client.cancel(wait_s=0.1)  # kills a worker that ignored the request
        done, total = client.progress
        return JobStatus(done, total, client.finished, client.error.message if client.error else None)

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def pid(self) -> int | None:
        return self._client.pid

    @property
    def shm_name(self) -> str | None:
        return self._client.shm_name

    def cancel(self) -> None:
        """Ask the worker to stop without waiting; keep calling :meth:`step` until it has finished."""
        if self.cancelled_at is None:
            self.cancelled_at = time.monotonic()
            self._client.cancel(wait_s=0)

    def finish(self, before_save: Callable[[], None] | None = None) -> tuple[Path | None, Results | None]:
        """Save what was captured (even partial) to the request's path; ``(None, None)`` if nothing was.
        ``before_save`` runs just before the file is written (``ram_capture --overwrite`` moves the
        earlier outputs aside there).

        A truncated video the options do not allow raises :class:`CaptureError` (nothing saved), as
        ``ram-core capture`` does.
        """
        try:
            results = self._client.final_results()
        except CaptureError as e:
            if e.kind == "VideoTruncated":
                raise
            log.warning("no results from %s: %s", self.request.video, e)  # died before sending metadata
            return None, None
        if not any(len(t) for t in results.tracks):
            return None, results
        if before_save is not None:
            before_save()
        path = save_or_rescue(results, self.request.out_path)
        return path, results

    def close(self) -> None:
        self._client.close()


def video_remarks(meta: CaptureMeta | None) -> str:
    """What the artist should know about how the video was read: damaged frames skipped, a variable rate, and
    whether the scene solve found a floor (else the people stand in the camera's frame, with no ground)."""
    if meta is None:
        return ""
    parts = [f"{len(meta.skipped_frames)} damaged frame(s) skipped, left missing"] if meta.skipped_frames else []
    if meta.frame_times is not None:
        parts.append("variable frame rate: keyed at each frame's time")
    status = meta.scene_status
    if status and not status.startswith(SCENE_SOLVED):
        kind, _, why = status.partition(":")
        # "no floor" alone said nothing ("no floor solved (no floor)"): its reason does.
        what = why.strip() if kind == SCENE_NO_FLOOR and why.strip() else kind
        parts.append(f"no floor solved ({what}): camera at the origin, no ground")
    elif SCENE_UNCERTAIN in status:
        parts.append(f"{SCENE_UNCERTAIN}: the ground's tilt may be off")
    return "; ".join(parts)
