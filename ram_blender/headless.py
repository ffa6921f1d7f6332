"""A job run to its end on Blender's main thread when no event loop drives a modal operator (``blender -b``,
the ``bpy`` module): Ctrl+C asks it to stop, as Esc does in the window. No bpy.

A job is what :class:`~ram_blender.setup_job.SetupJob` and :class:`~ram_blender.capture_job.CaptureJob`
are: ``step()`` advances it without blocking and says where it stands, ``cancel()`` asks it to stop.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

S = TypeVar("S")
S_co = TypeVar("S_co", covariant=True)


class Job(Protocol[S_co]):
    def step(self) -> S_co: ...

    def cancel(self) -> None: ...


def run_to_end(job: Job[S], ended: Callable[[S], bool], poll_s: float = 0.1) -> S:
    """Step ``job`` until ``ended(status)``; a Ctrl+C (SIGINT) meanwhile cancels it once, and the job
    still runs to its end (a capture then saves what it has). The previous SIGINT handler comes back."""
    stop = threading.Event()
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    except ValueError:  # not the main thread: nothing can deliver Ctrl+C here
        previous = None
    cancelled = False
    try:
        status = job.step()
        while not ended(status):
            if stop.is_set() and not cancelled:
                job.cancel()
                cancelled = True
            else:
                time.sleep(poll_s)
            status = job.step()
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    return status
