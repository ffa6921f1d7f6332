"""Stopping a command line: Ctrl-C (SIGINT) and SIGTERM mean the same. A pipeline's ``kill``, ``timeout`` or
``docker stop`` sends SIGTERM, which used to end the client at once: no line said why, the worker ran on
until it noticed, and the shared-memory segment was left to Python's resource tracker. Now a capture stops
as cleanly as after a Ctrl-C. Standard library only (``ram-core`` and ``ram_capture`` share it)."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

Handler = Callable[[int, FrameType | None], object]


def said(signum: int) -> str:
    """How a message names the signal: ``Ctrl-C`` or ``SIGTERM``."""
    return "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name


def exit_code(signum: int) -> int:
    """The shell's code for a command the signal stopped: 130 after Ctrl-C, 143 after SIGTERM."""
    return 128 + signum


@contextmanager
def on_stop(handler: Handler) -> Iterator[None]:
    """Within: ``handler(signum, frame)`` runs on Ctrl-C and on SIGTERM; the previous handlers come back after.
    Off the main thread (where no handler can be set) nothing changes."""
    previous = {}
    try:
        for signum in STOP_SIGNALS:
            previous[signum] = signal.signal(signum, handler)
    except ValueError:  # not the main thread
        pass
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


__all__ = ["STOP_SIGNALS", "exit_code", "on_stop", "said"]
