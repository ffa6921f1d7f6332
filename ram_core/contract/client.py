"""The client side of a capture: start the worker, drain its records and messages, clean up.

Blender's modal operator drives :class:`CaptureClient` from a timer (``poll()`` never blocks); the CLI
and Blender's headless batch call :func:`run_capture`. Numpy and the standard library only.

The client creates the shared-memory ring, spawns ``python -m ram_core.worker`` with the Python the
user chose (not necessarily this one), reads the worker's stdout in a thread that only queues lines,
and keeps the worker's stderr in a temporary log file whose tail explains a crash. Every way out
(done, cancel, worker crash, an exception here, this process dying) removes the segment: ``close()``
(also from ``with``, a finalizer and at exit) unlinks it, and a worker whose stdin reaches end of
file unlinks it itself.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Self

import numpy as np

import ram_core
from ram_core.contract.messages import (
    Cancel,
    Done,
    Error,
    Log,
    Message,
    Progress,
    ProtocolError,
    Started,
    decode,
    encode,
)
from ram_core.contract.options import CaptureOptions
from ram_core.contract.results import CaptureMeta, Results, save_results
from ram_core.contract.ring import DEFAULT_CAPACITY, Ring, empty_records, process_exists, records_to_results
from ram_core.contract.timing import frame_times
from ram_core.scene.refine import DEFAULT_MOTION, refine

logger = logging.getLogger(__name__)

LOG_TAIL_LINES = 20


class CaptureError(RuntimeError):
    """A capture that failed. ``str()`` is one line; ``traceback`` is the worker's (or its log's tail).

    ``partial`` holds the results received before the failure, when there were any.
    """

    def __init__(self, message: str, traceback: str = "", kind: str = "Error", partial: Results | None = None):
        super().__init__(message)
        self.traceback = traceback
        self.kind = kind
        self.partial = partial


@dataclass
class _Resources:
    """What a client must release; held by its finalizer, so it must not refer to the client."""

    proc: subprocess.Popen | None = None
    reader: threading.Thread | None = None
    ring: Ring | None = None
    log_path: str | None = None
    path_dir: str | None = None

    def release(self) -> None:
        proc = self.proc
        if proc is not None:
            if proc.poll() is None:
                _close_quietly(proc.stdin)  # the worker reads end of file: it stops and unlinks
                _wait_or_kill(proc, 1.0)
            _close_quietly(proc.stdin)
            if self.reader is not None:
                self.reader.join(timeout=1.0)
            _close_quietly(proc.stdout)
        if self.ring is not None:
            self.ring.mark_closed()
            self.ring.close()
            self.ring.unlink()
        if self.log_path is not None and os.path.exists(self.log_path):
            os.unlink(self.log_path)
        if self.path_dir is not None:
            shutil.rmtree(self.path_dir, ignore_errors=True)


# A worker log line (``ram_core.worker``'s format) at WARNING or worse, or an exception's last line.
_WORKER_PROBLEM = re.compile(r"^\d{4}-\d\d-\d\d [\d:,]+ (WARNING|ERROR|CRITICAL) |^[A-Za-z_.]*(Error|Exception): ")


RESCUE_DIR_ENV = "RAM_RESCUE_DIR"


def rescue_dir() -> Path:
    """Where a capture goes when its own output cannot be written: ``$RAM_RESCUE_DIR``, else
    ``~/.cache/ram-blender/rescued``."""
    return Path(os.environ.get(RESCUE_DIR_ENV, Path.home() / ".cache" / "ram-blender" / "rescued"))


def save_or_rescue(results: Results, path: str | os.PathLike) -> Path:
    """Save ``results`` to ``path``; if that fails (a full disk, a folder gone read-only), keep them in
    :func:`rescue_dir` and raise :class:`CaptureError` naming where they are, so no capture is lost."""
    try:
        return save_results(results, path)
    except OSError as e:
        why = e.strerror or str(e)
    rescue = rescue_dir() / f"{Path(path).name[:64].removesuffix('.npz')}-{time.strftime('%Y%m%d-%H%M%S')}.npz"
    try:
        rescue.parent.mkdir(parents=True, exist_ok=True)
        kept = save_results(results, rescue)
    except OSError as e2:
        raise CaptureError(
            f"{path}: cannot write the results ({why}), nor keep them in {rescue.parent} ({e2.strerror or e2})",
            kind="SaveFailed",
            partial=results,
        ) from None
    raise CaptureError(
        f"{path}: cannot write the results ({why}); the capture was kept in {kept}", kind="SaveFailed", partial=results
    )


def _absolute(path: str | None) -> str | None:
    return None if path is None else os.path.abspath(path)


def _close_quietly(stream) -> None:
    if stream is not None:
        with contextlib.suppress(OSError):
            stream.close()


def _wait_or_kill(proc: subprocess.Popen, grace_s: float) -> None:
    """Wait ``grace_s`` for ``proc`` to exit, then terminate it, then kill it."""
    for stop in (None, proc.terminate, proc.kill):
        if stop is not None:
            stop()
        try:
            proc.wait(timeout=grace_s)
            return
        except subprocess.TimeoutExpired:
            continue
    proc.wait()


def _worker_pythonpath(directory: str) -> str:
    """A folder holding only this ``ram_core`` (a link, or a copy where links are not allowed).

    The worker runs another Python (Blender's is not the worker's), so putting this package's parent
    folder (maybe a site-packages full of modules built for this Python) on its path could shadow the
    worker's own numpy; this folder carries ``ram_core`` alone.
    """
    package = Path(ram_core.__file__).resolve().parent
    target = Path(directory) / "ram_core"
    try:
        target.symlink_to(package, target_is_directory=True)
    except OSError:
        shutil.copytree(package, target, ignore=shutil.ignore_patterns("__pycache__"))
    return directory


# The client's temporary files, named after its process (``<prefix><pid>_<tempfile's 8 characters>``): the
# worker's log and the folder that puts ram_core on the worker's path. The client removes them at the end,
# the worker if the client dies; if both are killed, the next capture's start does (sweep_stale_temporary).
WORKER_LOG_PREFIX, PATH_DIR_PREFIX = "ram_worker_", "ram_path_"
_TEMPORARY = re.compile(rf"(?:{WORKER_LOG_PREFIX}(\d+)_[a-z0-9_]{{8}}\.log|{PATH_DIR_PREFIX}(\d+)_[a-z0-9_]{{8}})")


def sweep_stale_temporary(folder: str | os.PathLike | None = None) -> list[str]:
    """Remove the temporary files of clients that are gone from ``folder`` (default: the system's); returns
    their names. Only names as :meth:`CaptureClient.start` makes them with a process id that no longer
    exists are touched (a worker log must be a file, a path folder a folder); as for rings
    (``ring.sweep_stale``), a pid reused since keeps them."""
    root = Path(folder if folder is not None else tempfile.gettempdir())
    removed = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return []
    for path in entries:
        match = _TEMPORARY.fullmatch(path.name)
        if match is None or process_exists(int(match.group(1) or match.group(2))):
            continue
        log_file = match.group(1) is not None
        try:
            if log_file and path.is_file() and not path.is_symlink():
                path.unlink()
            elif not log_file and path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                continue
        except OSError:
            continue
        removed.append(path.name)
        logger.info("removed %s left by a capture whose process is gone", path)
    return removed


def check_output_path(path: str | os.PathLike) -> Path:
    """Fail early, with :class:`CaptureError`, if ``path`` cannot be written (before any work starts)."""
    p = Path(path)
    folder = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise CaptureError(f"{p}: is a folder, expected a file name")
    if not folder.is_dir():
        raise CaptureError(f"{folder}: output folder does not exist")
    try:
        # A short probe name: a legal 250-character output name must not make the probe's too long.
        fd, probe = tempfile.mkstemp(prefix=".ram-probe-", suffix=".tmp", dir=folder)
    except OSError as e:
        raise CaptureError(f"{folder}: output folder is not writable ({e.strerror or e})") from None
    os.close(fd)
    os.unlink(probe)
    return p


def _why_not_started(python: str, e: OSError) -> str:
    """Why ``python`` did not start, in words that say what to pick instead: a virtual environment's folder
    picked for its Python gave "Permission denied", as did a file that is no program."""
    p = Path(python)
    if p.is_dir():
        inside = next((c for c in (p / "bin" / "python", p / "Scripts" / "python.exe") if c.is_file()), None)
        return f"it is a folder; give the Python inside it, {inside}" if inside else "it is a folder, not a Python"
    if p.is_file() and not os.access(p, os.X_OK):
        return f"{e.strerror or e} (not a program: give a Python interpreter)"
    return str(e.strerror or e)


class CaptureClient:
    """One capture in a worker process, driven without blocking.

    Args:
        python: the worker's Python interpreter (it needs ``ram_core``'s heavy dependencies).
        video: the video file.
        options: what to capture and how (:class:`~ram_core.contract.options.CaptureOptions`); sent to
            the worker as one JSON argument, with its paths made absolute.
        extra_env: environment variables for the worker (``PYTHONPATH`` is appended to ours).
        capacity: records the ring holds; the worker waits when it is full.

    Use as ``with CaptureClient(...) as c: c.start(); ...`` or call :meth:`close` yourself.
    """

    def __init__(
        self,
        python: str,
        video: str | os.PathLike,
        options: CaptureOptions | None = None,
        *,
        extra_env: dict[str, str] | None = None,
        capacity: int = DEFAULT_CAPACITY,
    ) -> None:
        options = options or CaptureOptions()
        self.python = str(python)
        self.video = os.path.abspath(os.fspath(video))
        self.options = replace(
            options,
            smpl_model=_absolute(options.smpl_model),
            weights_dir=_absolute(options.weights_dir),
        )
        self.extra_env = dict(extra_env or {})
        self.capacity = capacity
        self.meta: CaptureMeta | None = None
        self.done: Done | None = None
        self.people = 0
        self._total = 0 if options.end is None else options.end - options.start
        self._frames_done = 0
        self._times: dict[int, float] = {}
        self._error: Error | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._eof = False
        self._chunks: list[np.ndarray] = []
        self._backlog: list[Message] = []
        self._cancel_sent = False
        self._res = _Resources()
        self._finalizer = weakref.finalize(self, _Resources.release, self._res)

    # -- life cycle ------------------------------------------------------------------------------------

    def command(self, shm_name: str, temporary: tuple[str, ...] = ()) -> list[str]:
        """The worker's command line for ring ``shm_name``; ``temporary``: this client's temporary files
        for the worker, which the worker removes if this client dies without removing them."""
        return [
            self.python,
            "-m",
            "ram_core.worker",
            "--video",
            self.video,
            "--shm",
            shm_name,
            "--options",
            self.options.to_json(),
            *(arg for path in temporary for arg in ("--client-temp", path)),
        ]

    def start(self) -> None:
        """Create the ring and start the worker; :class:`CaptureError` if it cannot be started."""
        if self._res.proc is not None:
            raise RuntimeError("this capture was already started")
        res = self._res
        res.ring = Ring.create(self.capacity)
        sweep_stale_temporary()
        fd, res.log_path = tempfile.mkstemp(prefix=f"{WORKER_LOG_PREFIX}{os.getpid()}_", suffix=".log")
        res.path_dir = tempfile.mkdtemp(prefix=f"{PATH_DIR_PREFIX}{os.getpid()}_")
        env = {**os.environ, **self.extra_env}
        env.pop("PYTHONHOME", None)  # Blender's would point the worker's Python at Blender's standard library
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (_worker_pythonpath(res.path_dir), env.get("PYTHONPATH", "")) if p
        )
        env["PYTHONUNBUFFERED"] = "1"
        try:
            with os.fdopen(fd, "wb") as log:
                res.proc = subprocess.Popen(
                    self.command(res.ring.name, (res.log_path, res.path_dir)),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    env=env,
                    text=True,
                    encoding="utf-8",
                    errors="replace",
                    bufsize=1,
                    start_new_session=True,  # a Ctrl-C in the terminal is the client's to handle
                )
        except OSError as e:
            self.close()
            raise CaptureError(
                f"cannot start the worker with {self.python}: {_why_not_started(self.python, e)}"
            ) from None
        res.reader = threading.Thread(target=self._read_stdout, name="ram-capture-reader", daemon=True)
        res.reader.start()

    def _read_stdout(self) -> None:
        # Runs in a thread: only queues lines (never touches the caller's state, nor bpy).
        proc = self._res.proc
        stream = proc.stdout if proc is not None else None
        if stream is None:
            return
        try:
            for line in stream:
                self._lines.put(line)
        except (OSError, ValueError):
            pass
        self._lines.put(None)

    def close(self) -> None:
        """Stop the worker if it runs, remove the ring and the temporary files (idempotent)."""
        self._finalizer()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- state -----------------------------------------------------------------------------------------

    @property
    def shm_name(self) -> str | None:
        """The ring's segment name (``/dev/shm/<name>`` on Linux), once started."""
        return None if self._res.ring is None else self._res.ring.name

    @property
    def pid(self) -> int | None:
        return None if self._res.proc is None else self._res.proc.pid

    @property
    def progress(self) -> tuple[int, int]:
        """``(frames done, frames in total)``; the total is known once the worker has started."""
        return self._frames_done, self._total

    @property
    def finished(self) -> bool:
        """True once the worker said Done or Error, or exited without saying either."""
        return self.done is not None or self._error is not None

    @property
    def cancelled(self) -> bool:
        return self.done is not None and self.done.cancelled

    @property
    def skipped(self) -> list[int]:
        """Damaged frames the worker skipped (left missing) while reading on past them."""
        return [] if self.done is None else list(self.done.skipped)

    @property
    def truncated(self) -> bool:
        """True when the worker finished without a cancel but the video ended before the frames asked for
        (a truncated or cut-off video: the frames before the end are in the results). Damaged frames it
        skipped while reading on past them (:attr:`skipped`) do not count: the rest of the video was read."""
        return (
            self.done is not None
            and not self.done.cancelled
            and self.done.frames + len(self.done.skipped) < self._total
        )

    @property
    def error(self) -> Error | None:
        """Why the capture failed (``message`` one line, ``traceback`` text), or None."""
        return self._error

    # -- polling ---------------------------------------------------------------------------------------

    def poll(self) -> list[Message]:
        """Take in what the worker sent since the last call; never blocks. Returns the messages."""
        out, self._backlog = self._backlog, []
        return out + self._pump()

    def _pump(self) -> list[Message]:
        out = []
        while True:
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                break
            if line is None:
                self._eof = True
                continue
            try:
                message = decode(line)
            except ProtocolError:
                message = Log("WARNING", f"unexpected worker output: {line.strip()[:200]}")
            self._apply(message)
            out.append(message)
        # After the messages: every record a message refers to was written before it was sent.
        self._drain_ring()
        proc = self._res.proc
        if not self.finished and self._eof and proc is not None and proc.poll() is not None:
            self._error = self._exit_error(proc.returncode)
            out.append(self._error)
        return out

    def _apply(self, message: Message) -> None:
        if isinstance(message, Started):
            self.meta = CaptureMeta.from_json(message.meta)
            self._total = message.total_frames
        elif isinstance(message, Progress):
            self._frames_done, self._total, self.people = message.done, message.total, message.people
            if message.time_s is not None:
                self._times[message.frame] = float(message.time_s)
        elif isinstance(message, Done):
            self._frames_done = message.frames
            self.done = message
        elif isinstance(message, Error):
            self._error = message
        elif isinstance(message, Log):
            logger.log(logging.getLevelNamesMapping().get(message.level, logging.INFO), "worker: %s", message.text)

    def _drain_ring(self) -> None:
        ring = self._res.ring
        if ring is not None and ring.is_open:
            records = ring.read()
            if len(records):
                self._chunks.append(records)

    def _log_tail(self) -> str:
        path = self._res.log_path
        if path is None or not os.path.exists(path):
            return ""
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - 16384))
            lines = f.read().decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-LOG_TAIL_LINES:])

    def _exit_error(self, returncode: int) -> Error:
        tail = self._log_tail()
        how = f"was killed by signal {-returncode}" if returncode < 0 else f"exited with code {returncode}"
        # The last warning or error the worker logged, or a Python exception line; not libraries' chatter.
        last = next((ln.strip() for ln in reversed(tail.splitlines()) if _WORKER_PROBLEM.search(ln)), "")
        message = f"the worker {how} before finishing" + (f"; its last problem: {last}" if last else "")
        return Error(message, tail, "WorkerExited")

    # -- control ---------------------------------------------------------------------------------------

    def cancel(self, wait_s: float = 5.0) -> None:
        """Ask the worker to stop; wait up to ``wait_s`` (taking in what it flushes), then kill it.

        ``wait_s=0`` only sends the request (keep calling :meth:`poll` until :attr:`finished`).
        """
        proc = self._res.proc
        if proc is None or self.finished:
            return
        if not self._cancel_sent:
            self._cancel_sent = True
            with contextlib.suppress(OSError, ValueError):
                if proc.stdin is not None:
                    proc.stdin.write(encode(Cancel()))
                    proc.stdin.flush()
        if wait_s <= 0:
            return
        deadline = time.monotonic() + wait_s
        while not self.finished and time.monotonic() < deadline:
            self._backlog += self._pump()
            time.sleep(0.01)
        if not self.finished:
            logger.warning("the worker did not stop within %.1f s of the cancel; killing it", wait_s)
            _wait_or_kill(proc, 0.0)
            if self._res.reader is not None:
                self._res.reader.join(timeout=1.0)
            self._backlog += self._pump()
            self.done = Done(self._frames_done, sum(len(c) for c in self._chunks), cancelled=True)
            self._error = None

    # -- results ---------------------------------------------------------------------------------------

    def records(self) -> np.ndarray:
        """Every record received so far, in arrival order (:data:`RECORD_DTYPE`)."""
        self._drain_ring()
        if not self._chunks:
            return empty_records()
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
        return self._chunks[0]

    def final_results(self) -> Results:
        """:meth:`results`, unless the video ended before the frames its header promises and the
        options do not ``allow_truncated``: then :class:`CaptureError` (kind ``VideoTruncated``, with
        the frames read as ``partial``), so every way in treats a damaged video alike."""
        results = self.results()
        if self.truncated and not self.options.allow_truncated:
            frames, total = self.progress
            raise CaptureError(
                f"{self.video}: truncated or damaged: only {frames} of {total} frames could be read; "
                "nothing saved (allow truncated videos, --allow-truncated, to keep them)",
                kind="VideoTruncated",
                partial=results,
            )
        return results

    def raw_results(self) -> Results:
        """The records received so far, as the backend sent them: complete after Done, partial after a
        cancel, a crash or a kill. ``meta.frame_end`` is set to the frames actually processed, and
        ``meta.notes`` says why the capture stopped early, ``meta.skipped_frames`` which damaged frames were
        skipped, ``meta.frame_times`` each frame's time for a variable-frame-rate video.
        :class:`CaptureError` if the worker never started capturing."""
        records = self.records()
        if self.meta is None:
            why = ": it was cancelled" if self.cancelled else (f": {self._error.message}" if self._error else "")
            raise CaptureError(f"no results: the worker stopped before capturing{why}")
        meta = self.meta
        reached = meta.frame_start + self._frames_done + len(self.skipped)
        if len(records):
            reached = max(reached, int(records["frame"].max()) + 1)
        notes = []
        if self.cancelled:
            notes.append(f"cancelled after {self._frames_done} of {self._total} frames")
        if self.truncated:
            notes.append(f"video truncated or damaged: only {self._frames_done} of {self._total} frames could be read")
        if self.skipped:
            notes.append(f"{len(self.skipped)} damaged frame(s) skipped, left missing")
        if self._error is not None:
            notes.append(
                f"stopped by an error after {self._frames_done} of {self._total} frames: {self._error.message}"
            )
        if reached < meta.frame_end:
            meta = replace(meta, frame_end=reached)
        skipped = tuple(f for f in self.skipped if meta.frame_start <= f < meta.frame_end)
        times = frame_times(self._times, meta.frame_start, meta.frame_end, meta.fps)
        meta = replace(meta, skipped_frames=skipped, frame_times=times)
        if notes:
            meta = replace(meta, notes="; ".join([meta.notes, *notes]) if meta.notes else "; ".join(notes))
        return records_to_results(meta, records)

    def results(self, motion: str = DEFAULT_MOTION) -> Results:
        """:meth:`raw_results` made whole-clip consistent (``ram_core.scene.refine``): tracklets re-linked,
        each person's distance smoothed, the floor, camera and sizes solved (or ``meta.scene_status`` says why
        not), then the motion made steady by ``motion``: the temporal body fit (default) or the worker's
        filter with planted feet held by moving the whole body; ``meta.motion`` says which. All need every track
        of the clip at once, which only this side holds (the worker streams records and forgets them).
        """
        return refine(self.raw_results(), motion)


def run_capture(
    python: str,
    video: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    progress: Callable[[Progress], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    poll_s: float = 0.05,
    options: CaptureOptions | None = None,
    extra_env: dict[str, str] | None = None,
    raw_path: str | os.PathLike | None = None,
    before_save: Callable[[], None] | None = None,
) -> Results:
    """Capture ``video`` in a worker and save the results to ``out_path``; blocks until the end.

    ``raw_path``: also save the records as the backend sent them (:meth:`CaptureClient.raw_results`), before
    the whole-clip refinement, so that the refinement can be run again on them (``ram_core.scene.refine``).
    ``before_save`` is called once there are results to save, just before they are written (``ram-core
    capture --overwrite`` moves the earlier files aside then, so a failed capture leaves them in place).

    ``progress`` is called with each :class:`Progress`; when ``should_cancel()`` turns true the worker
    is cancelled, and what it did so far is saved and returned (``meta.notes`` says it was cancelled).
    On failure raises :class:`CaptureError` and writes nothing (see :meth:`CaptureClient.final_results`
    for a truncated video). The output folder is checked before the worker starts.
    """
    out = check_output_path(out_path)
    raw_out = None if raw_path is None else check_output_path(raw_path)
    if raw_out is not None and raw_out.resolve() == out.resolve():
        raise CaptureError(f"{raw_out}: the raw records would replace the results; give them another file name")
    with CaptureClient(python, video, options, extra_env=extra_env) as client:
        client.start()
        while not client.finished:
            for message in client.poll():
                if isinstance(message, Progress) and progress is not None:
                    progress(message)
            if should_cancel is not None and not client.finished and should_cancel():
                client.cancel()
                break
            time.sleep(poll_s)
        client.poll()
        if client.error is not None:
            partial = client.results() if client.meta is not None else None
            raise CaptureError(client.error.message, client.error.traceback, client.error.kind, partial)
        results = client.final_results()
        raw = None if raw_out is None else client.raw_results()
    if before_save is not None:
        before_save()
    save_or_rescue(results, out)
    if raw_out is not None and raw is not None:
        save_or_rescue(raw, raw_out)
    return results
