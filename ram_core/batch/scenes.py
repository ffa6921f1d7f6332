"""The scene stage of ``ram-core batch --export``: for each captured video, a ``.blend`` and its exports,
built by Blender in a subprocess from the results file (``blender -b -c ram_capture --from-results FILE``).

It runs on the machine that runs ``ram-core batch``, after the captures, several Blender processes at
once; one video's failure is that video's alone. ``ram_core`` never imports ``bpy``: Blender does the work.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from ram_core.batch.task import CANCELLED, DONE, FAILED, SKIPPED, Outcome
from ram_core.contract.batch_files import EXPORT_FORMATS

PROBE_TIMEOUT_S = 120


@dataclass(frozen=True)
class Blender:
    """A program that builds scenes: Blender with the add-on enabled (``ram_capture`` is its command), or
    a Python with the ``bpy`` module that imports ``ram_blender`` (a development checkout, the tests)."""

    path: str
    is_python: bool = False

    def command(self, results: Path, out_dir: Path, formats: tuple[str, ...]) -> list[str]:
        head = [self.path, "-m", "ram_blender"] if self.is_python else [self.path, "-b", "-c", "ram_capture"]
        return [*head, "--from-results", str(results), "-o", str(out_dir), "--export", ",".join(formats)]


def parse_formats(text: str) -> tuple[str, ...]:
    """``fbx,bvh`` -> ("fbx", "bvh"); ValueError naming an unknown format."""
    formats = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    unknown = [f for f in formats if f not in EXPORT_FORMATS]
    if unknown or not formats:
        raise ValueError(f"--export {text!r}: give a comma-separated list of {', '.join(EXPORT_FORMATS)}")
    return formats


def find_blender(path: str | None) -> Blender:
    """The Blender at ``path`` (a file, or a name on PATH; None: ``blender`` on PATH), asked for its version
    to tell Blender from a Python with ``bpy``; ValueError in one line when there is none or it does not run."""
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
        return Blender(found)
    if probe.returncode == 0 and first and first[0].startswith("Python"):
        return Blender(found, is_python=True)
    raise ValueError(f"--blender {found}: not Blender ('{found} --version' says {first[0] if first else 'nothing'!r})")


def _failure(output: str, returncode: int) -> str:
    """The one line that says why a scene was not built: ``ram_capture``'s FAILED line, else the last line."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    for line in reversed(lines):
        if ": FAILED: " in line:
            return line.split(": FAILED: ", 1)[1]
    return lines[-1] if lines else f"Blender exited with code {returncode}"


def build_one(blender: Blender, results: Path, out_dir: Path, formats: tuple[str, ...]) -> tuple[str, str]:
    """(status, message): build one results file's scene and exports into ``out_dir``."""
    try:
        proc = subprocess.run(
            blender.command(results, out_dir, formats),
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


def build_scenes(
    blender: Blender,
    outcomes: list[Outcome],
    formats: tuple[str, ...],
    *,
    workers: int = 1,
    should_stop: Callable[[], bool] | None = None,
    on_done: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """``outcomes`` with their ``export`` set: done or failed for each video captured or skipped as complete
    (its message then says why), cancelled for those not started when ``should_stop()`` turned true,
    empty for the rest (failed or cancelled captures are not built). ``workers`` Blender processes at once."""

    def one(o: Outcome) -> Outcome:
        if should_stop is not None and should_stop():
            new = replace(o, export=CANCELLED)
        else:
            results = Path(o.output)  # a done or skipped video's results file
            status, message = build_one(blender, results, results.parent, formats)
            if status == FAILED and should_stop is not None and should_stop():
                status, message = CANCELLED, ""  # Ctrl-C reached Blender too
            new = replace(o, export=status, message=message or o.message)
        if on_done is not None:
            on_done(new)
        return new

    todo = [o for o in outcomes if o.status in (DONE, SKIPPED)]
    with ThreadPoolExecutor(max(1, min(workers, len(todo) or 1)), thread_name_prefix="ram-scene") as pool:
        built = {o.index: o for o in pool.map(one, todo)}
    return [built.get(o.index, o) for o in outcomes]


def default_workers() -> int:
    """Blender processes at once: one per CPU of this machine."""
    return max(1, os.cpu_count() or 1)
