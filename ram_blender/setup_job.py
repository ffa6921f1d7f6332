"""Setting up the managed worker environment, one command at a time, without bpy.

The commands' output goes to a log file, never to a pipe (pip writes megabytes; a pipe read only at the
end fills and hangs it). :meth:`SetupJob.step` starts the next command when one ends, says where the
setup stands and the log's last line (pip's "Collecting ...", for the progress line); :meth:`SetupJob.cancel`
stops the running command. The environment counts as ready only when the last command (a check that
imports ``ram_core`` and its lite backend and loads the backend's models in the new environment) passed: it writes :data:`READY_MARKER`.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO

READY_MARKER = "ram-worker-ready"
# Run by the new environment's Python as the last step: the worker and the lite backend import, and the
# backend's models (shipped in MediaPipe's wheel) load into the LiteRT runtime, which imports only then.
CHECK_IMPORTS = (
    "import ram_core.worker, ram_core.backends.lite.backend; from ram_core.perception import tflite; "
    "[tflite.load_interpreter(m) for m in (tflite.POSE_DETECTION, tflite.POSE_LANDMARK_FULL)]; "
    "print('ram_core, the lite backend and its models load')"
)
# After a cancel, a command gets this long to stop before it is killed.
STOP_GRACE_S = 5.0
# The environments a setup is running for now (from SetupJob() to close()), for the preferences' state line.
RUNNING: set[Path] = set()


@dataclass(frozen=True)
class SetupStatus:
    """``step`` (1-based) of ``total`` commands; ``line`` the log's last line; ``error`` when one failed."""

    step: int
    total: int
    line: str
    finished: bool
    error: str | None
    cancelled: bool

    @property
    def fraction(self) -> float:
        return (self.step - (0 if self.finished else 1)) / self.total if self.total else 0.0


def is_ready(env_dir: Path) -> bool:
    """Whether a setup of ``env_dir`` ran to the end, its import check included."""
    return (Path(env_dir) / READY_MARKER).is_file()


def last_line(path: Path, tail_bytes: int = 4096) -> str:
    """The last non-empty line of the text file at ``path`` (read from its end only)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - tail_bytes))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


class SetupJob:
    """Run ``commands`` in order into ``log_path``; mark ``env_dir`` ready when all succeeded."""

    def __init__(self, commands: list[list[str]], env_dir: Path, log_path: Path) -> None:
        self.commands = [list(c) for c in commands]
        self.env_dir = Path(env_dir)
        self.log_path = Path(log_path)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        marker = self.env_dir / READY_MARKER
        if marker.exists():
            marker.unlink()  # a setup that starts again is not ready until it finished
        self._log: IO[bytes] = open(self.log_path, "wb")  # noqa: SIM115  # closed in close()
        RUNNING.add(self.env_dir)
        self._proc: subprocess.Popen | None = None
        self._index = -1
        self._error: str | None = None
        self._finished = False
        self._cancelled = False

    def _start_next(self) -> None:
        self._index += 1
        command = self.commands[self._index]
        self._log.write(f"$ {' '.join(command)}\n".encode())
        self._log.flush()
        self._proc = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def step(self) -> SetupStatus:
        """Start or advance the setup without blocking, and say where it stands."""
        if not self._finished:
            self._advance()
        return SetupStatus(
            step=max(self._index + 1, 1),
            total=len(self.commands),
            line=last_line(self.log_path),
            finished=self._finished,
            error=self._error,
            cancelled=self._cancelled,
        )

    def _advance(self) -> None:
        if self._proc is None:
            self._start_next()
            return
        code = self._proc.poll()
        if code is None:
            return
        if self._cancelled:
            self._end(None)
        elif code != 0:
            tail = last_line(self.log_path) or "no output"
            self._end(f"step {self._index + 1} of {len(self.commands)} failed (exit {code}): {tail}")
        elif self._index + 1 < len(self.commands):
            self._start_next()
        else:
            (self.env_dir / READY_MARKER).write_text("setup finished and its import check passed\n")
            self._end(None)

    def _end(self, error: str | None) -> None:
        self._error = error
        self._finished = True
        self._log.flush()

    def cancel(self) -> None:
        """Stop the running command (killed if it has not stopped within :data:`STOP_GRACE_S`)."""
        self._cancelled = True
        proc = self._proc
        if proc is None:
            self._end(None)
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._end(None)

    def close(self) -> None:
        """Make sure no command is left running and the log is closed."""
        if self._proc is not None and self._proc.poll() is None:
            self.cancel()
        self._log.close()
        RUNNING.discard(self.env_dir)
