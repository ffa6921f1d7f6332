"""One video of a batch: capture it the way ``ram-core capture`` does, retry a killed worker, and write
its results and record atomically (``ram_core.contract.batch_files`` names them).

A job and its outcome travel between processes (a Ray task, a pool) as JSON text, never pickled objects.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ram_core.contract import reruns
from ram_core.contract.batch_files import record_path, results_path
from ram_core.contract.client import CaptureError, run_capture
from ram_core.contract.messages import Progress
from ram_core.contract.options import CaptureOptions
from ram_core.contract.results import Results, ResultsFormatError, load_results, write_atomically

logger = logging.getLogger(__name__)

DONE, SKIPPED, FAILED, CANCELLED = "done", "skipped", "failed", "cancelled"
NOBODY_FOUND = "nobody was found in it"

# Failures that come from the input or the options: a second try would fail the same way.
NOT_RETRIED = frozenset(
    {"VideoError", "CaptureArgsError", "BackendNotFound", "OptionsError", "VideoTruncated", "SaveFailed", "Error"}
)


@dataclass(frozen=True)
class VideoJob:
    """One video to capture into ``out_dir``.

    index: the video's place in the batch (0-based). python: the worker's Python, None for the Python
    that runs the task (on a cluster the driver's path may not exist on the node). extra_env: environment
    variables for the capture's worker process. max_retries: further tries after a worker died or an
    error that is not about the input. replaced: the folder the video's earlier outputs move to when its
    new results replace them (:func:`ram_core.contract.reruns.set_aside`).
    """

    index: int
    video: str
    out_dir: str
    options: CaptureOptions = field(default_factory=CaptureOptions)
    max_retries: int = 2
    python: str | None = None
    extra_env: tuple[tuple[str, str], ...] = ()
    replaced: str = ""

    def to_json(self) -> str:
        d = asdict(self)
        d["options"] = json.loads(self.options.to_json())
        return json.dumps(d, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> VideoJob:
        d = json.loads(text)
        d["options"] = CaptureOptions.from_dict(d["options"])
        d["extra_env"] = tuple((str(k), str(v)) for k, v in d["extra_env"])
        return cls(**d)


@dataclass
class Outcome:
    """What became of one video: ``status`` (the capture) is done, skipped, failed or cancelled; ``export``
    (the scene stage, ``--export``) done, failed, cancelled or empty (not asked, or nothing to build);
    ``message`` one line saying why something failed."""

    index: int
    video: str
    status: str
    frames: int = 0
    people: int = 0
    seconds: float = 0.0
    attempts: int = 0
    message: str = ""
    output: str = ""
    export: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Outcome:
        return cls(**json.loads(text))


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """The hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _counts(results: Results) -> tuple[int, int]:
    """(frames captured, people found) of a results file."""
    meta = results.meta
    return meta.frame_end - meta.frame_start, sum(1 for t in results.tracks if len(t))


def already_done(job: VideoJob) -> Outcome | None:
    """A skipped outcome when ``job``'s results load and its record holds the video's current checksum
    and the same options; None when the video must be captured."""
    out, rec = results_path(job.out_dir, job.video), record_path(job.out_dir, job.video)
    try:
        record = json.loads(rec.read_text(encoding="utf-8"))
        if record.get("options") != json.loads(job.options.to_json()):
            return None
        if record.get("sha256") != file_sha256(job.video):
            return None
        frames, people = _counts(load_results(out))
    except (OSError, ValueError, ResultsFormatError, AttributeError):
        return None
    return Outcome(job.index, job.video, SKIPPED, frames, people, output=str(out))


def kept(job: VideoJob) -> Outcome | None:
    """A skipped outcome for a video with outputs of an earlier run in its folder (``--skip-existing``),
    None when it has none; its message says when the results there are not this video's with these options."""
    if not reruns.video_outputs(job.out_dir, Path(job.video).stem):
        return None
    done = already_done(job)
    if done is not None:
        return done
    out = results_path(job.out_dir, job.video)
    try:
        frames, people = _counts(load_results(out))
    except (OSError, ValueError, ResultsFormatError, AttributeError):
        return Outcome(job.index, job.video, SKIPPED, message="kept the earlier outputs (no readable results file)")
    why = "kept the earlier results, captured from another version of the video or with other options"
    return Outcome(job.index, job.video, SKIPPED, frames, people, output=str(out), message=why)


def write_text_atomically(path: Path, text: str) -> None:
    write_atomically(path, lambda f: f.write(text.encode("utf-8")))


def _one_line(e: BaseException) -> str:
    lines = str(e).strip().splitlines()
    return lines[0] if lines else type(e).__name__


def run_job(
    job: VideoJob,
    progress: Callable[[Progress], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    on_attempt: Callable[[int], None] | None = None,
) -> Outcome:
    """Capture ``job``'s video into its results file (through :func:`ram_core.contract.client.run_capture`,
    as ``ram-core capture`` does), retrying up to ``job.max_retries`` times when the worker died or failed
    for a reason other than the input. Never raises for a failed capture: the outcome says it.

    The capture goes to a hidden file that replaces the results only when it is complete; a cancel, a
    failure or an interrupt (a KeyboardInterrupt from Ray's cancel) removes it, so an earlier good file
    stays and nothing partial is left. Only then do the video's earlier outputs (results, record, scene)
    move to ``job.replaced``. The record (checksum, options) is written after the results.
    """
    begin = time.perf_counter()
    out, rec = results_path(job.out_dir, job.video), record_path(job.out_dir, job.video)
    part = out.with_name(f".{out.name[:64]}.part.npz")
    python = job.python or sys.executable
    attempts = 0

    def outcome(status: str, message: str = "", results: Results | None = None) -> Outcome:
        frames, people = _counts(results) if results is not None else (0, 0)
        seconds = round(time.perf_counter() - begin, 3)
        written = str(out) if status == DONE else ""
        return Outcome(job.index, job.video, status, frames, people, seconds, attempts, message, written)

    try:
        while True:
            if should_cancel is not None and should_cancel():
                return outcome(CANCELLED, "cancelled; nothing saved")
            attempts += 1
            if on_attempt is not None:
                on_attempt(attempts)
            try:
                results = run_capture(
                    python,
                    job.video,
                    part,
                    progress=progress,
                    should_cancel=should_cancel,
                    options=job.options,
                    extra_env=dict(job.extra_env),
                )
                break
            except (CaptureError, OSError) as e:
                if should_cancel is not None and should_cancel():  # cancelled before the worker began
                    return outcome(CANCELLED, "cancelled; nothing saved")
                kind = e.kind if isinstance(e, CaptureError) else type(e).__name__
                if kind in NOT_RETRIED or attempts > job.max_retries:
                    return outcome(FAILED, _one_line(e))
                logger.warning("%s: try %d failed (%s); trying again", job.video, attempts, _one_line(e))
        if should_cancel is not None and should_cancel():
            return outcome(CANCELLED, "cancelled; nothing saved")
        checksum = file_sha256(job.video)
        if job.replaced:
            reruns.set_aside(reruns.video_outputs(job.out_dir, Path(job.video).stem), job.replaced)
        rec.unlink(missing_ok=True)  # results and an old record must never match by accident
        os.replace(part, out)
        record = {
            "video": os.path.basename(job.video),
            "sha256": checksum,
            "options": json.loads(job.options.to_json()),
        }
        write_text_atomically(rec, json.dumps(record, indent=1, sort_keys=True) + "\n")
        # Done, as `ram-core capture` is (it warns), but said: a row of 0 people without a word looked like a fault
        return outcome(DONE, "" if any(len(t) for t in results.tracks) else NOBODY_FOUND, results=results)
    except OSError as e:  # the record or the rename could not be written
        return outcome(FAILED, f"{out}: cannot write the results ({e.strerror or e})")
    finally:
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)
