"""The scene stage of ``ram-core batch --export``: for each captured video, a ``.blend`` and its exports,
built by Blender in a subprocess from the results file (``blender -b -c ram_capture --from-results FILE``).

It runs on the machine that runs ``ram-core batch``, each video's scene as soon as its capture ends (so
CPU scenes overlap the next captures), several Blender processes at once; a failure is that video's alone. ``ram_core`` never imports ``bpy``: Blender does the work.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from ram_core.batch.task import CANCELLED, DONE, FAILED, SKIPPED, Outcome
from ram_core.contract import reruns
from ram_core.contract.batch_files import EXPORT_FORMATS, stem_of_results

PROBE_TIMEOUT_S = 120


@dataclass(frozen=True)
class Blender:
    """A program that builds scenes: Blender with the add-on enabled (``ram_capture`` is its command), or
    a Python with the ``bpy`` module that imports ``ram_blender`` (a development checkout, the tests)."""

    path: str
    is_python: bool = False

    def command(
        self, results: Path, out_dir: Path, formats: tuple[str, ...], existing: str = reruns.REFUSE
    ) -> list[str]:
        head = [self.path, "-m", "ram_blender"] if self.is_python else [self.path, "-b", "-c", "ram_capture"]
        flag = {reruns.SKIP: ["--skip-existing"], reruns.OVERWRITE: ["--overwrite"]}.get(existing, [])
        return [*head, "--from-results", str(results), "-o", str(out_dir), "--export", ",".join(formats), *flag]


def parse_formats(text: str) -> tuple[str, ...]:
    """``fbx,bvh`` -> ("fbx", "bvh"); ValueError naming an unknown format."""
    formats = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    unknown = [f for f in formats if f not in EXPORT_FORMATS]
    if unknown or not formats:
        raise ValueError(f"--export {text!r}: give a comma-separated list of {', '.join(EXPORT_FORMATS)}")
    return formats


def find_blender(path: str | None) -> Blender:
    """The Blender at ``path`` (a file, or a name on PATH; None: ``blender`` on PATH), asked for its version
    to tell Blender from a Python with ``bpy``, and a Blender for the add-on's ``ram_capture`` command;
    ValueError in one line when there is none, it does not run or it lacks the add-on."""
    found = shutil.which(path or "blender")
    if found is None:
        if path is None:
            raise ValueError(
                "--export needs Blender and there is no 'blender' on PATH; give --blender /path/to/blender"
            )
        raise ValueError(f"--blender {path}: no such program")
    try:
        probe = subprocess.run(
            [found, "--version"], capture_output=True, text=True, errors="replace", timeout=PROBE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ValueError(f"--blender {found}: cannot run it ({e})") from None
    first = (probe.stdout.strip() or probe.stderr.strip()).splitlines()[:1]
    if probe.returncode == 0 and first and first[0].startswith("Blender"):
        return _with_command(Blender(found))
    if probe.returncode == 0 and first and first[0].startswith("Python"):
        return Blender(found, is_python=True)
    raise ValueError(f"--blender {found}: not Blender ('{found} --version' says {first[0] if first else 'nothing'!r})")


def _with_command(blender: Blender) -> Blender:
    """``blender`` if ``ram_capture`` is one of its commands (the add-on enabled), else ValueError."""
    try:
        probe = subprocess.run(
            [blender.path, "-b", "-c", "ram_capture", "--help"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ValueError(f"--blender {blender.path}: cannot run it ({e})") from None
    if probe.returncode != 0 or "ram_capture" not in probe.stdout:
        raise ValueError(
            f"--blender {blender.path}: this Blender has no 'ram_capture' command; install and enable the RAM add-on in it"
        )
    return blender


def _failure(output: str, returncode: int) -> str:
    """The one line that says why a scene was not built: ``ram_capture``'s FAILED line, else the last line."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    for line in reversed(lines):
        if ": FAILED: " in line:
            return line.split(": FAILED: ", 1)[1]
    return lines[-1] if lines else f"Blender exited with code {returncode}"


def build_one(
    blender: Blender, results: Path, out_dir: Path, formats: tuple[str, ...], existing: str = reruns.REFUSE
) -> tuple[str, str]:
    """(status, message): build one results file's scene and exports into ``out_dir`` (an earlier scene
    there: ``existing``, as ``ram_capture`` takes it)."""
    try:
        proc = subprocess.run(
            blender.command(results, out_dir, formats, existing),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            check=False,
        )
    except OSError as e:
        return FAILED, f"cannot run {blender.path} ({e.strerror or e})"
    if proc.returncode == 0:
        return DONE, ""
    return FAILED, f"scene: {_failure(proc.stdout, proc.returncode)}"


class ScenePool:
    """Scenes built on this machine while the captures go on: :meth:`add` each outcome as it arrives (a
    video done or skipped as complete gets its scene at once, ``workers`` Blender processes at a time),
    :meth:`finish` waits for the rest.

    When ``should_stop()`` turns true the scenes not yet started are cancelled; ``on_done(outcome)`` is
    called (from a pool thread) as each scene ends. ``existing``: what becomes of a scene there from an
    earlier run (:mod:`ram_core.contract.reruns`; with ``skip`` it is kept and its export says ``skipped``).
    """

    def __init__(
        self,
        blender: Blender,
        formats: tuple[str, ...],
        workers: int = 1,
        should_stop: Callable[[], bool] | None = None,
        on_done: Callable[[Outcome], None] | None = None,
        existing: str = reruns.REFUSE,
    ) -> None:
        self.blender, self.formats, self.existing = blender, formats, existing
        self.should_stop, self.on_done = should_stop, on_done
        self._pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="ram-scene")
        self._futures: dict[int, Future[Outcome]] = {}

    def add(self, outcomes: list[Outcome]) -> None:
        for o in outcomes:
            if o.status in (DONE, SKIPPED) and o.output:  # failed or cancelled captures have no results to build from
                self._futures[o.index] = self._pool.submit(self._build, o)

    def _build(self, o: Outcome) -> Outcome:
        stopping = self.should_stop is not None and self.should_stop
        if stopping and stopping():
            new = replace(o, export=CANCELLED)
        elif self.existing == reruns.SKIP and reruns.scene_outputs(Path(o.output).parent, stem_of_results(o.output)):
            new = replace(o, export=SKIPPED)
        else:
            results = Path(o.output)  # a done or skipped video's results file
            status, message = build_one(self.blender, results, results.parent, self.formats, self.existing)
            if status == FAILED and stopping and stopping():
                status, message = CANCELLED, ""  # Ctrl-C reached Blender too
            new = replace(o, export=status, message=message or o.message)
        if self.on_done is not None:
            self.on_done(new)
        return new

    def pending(self) -> int:
        """Scenes added and not yet ended."""
        return sum(not f.done() for f in self._futures.values())

    def finish(self, outcomes: list[Outcome]) -> list[Outcome]:
        """``outcomes`` with the ``export`` of each scene added (waiting for those still being built)."""
        try:
            return [self._futures[o.index].result() if o.index in self._futures else o for o in outcomes]
        finally:
            self.close()

    def close(self) -> None:
        """Cancel the scenes not started; wait for the running ones."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def default_workers() -> int:
    """Blender processes at once: one per CPU of this machine."""
    return max(1, os.cpu_count() or 1)
