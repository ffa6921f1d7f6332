"""The managed environment's setup (no Blender): output to a log file, progress, cancel, ready only at the end."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from ram_blender.setup_job import CHECK_IMPORTS, READY_MARKER, SetupJob, is_ready, last_line

LOUD_PIP = "import sys\nfor i in range(20000): print(f'Collecting package-{i:05d} ' + 'x' * 40)\nprint('Successfully installed')"


def run(job: SetupJob, timeout_s: float = 60.0):
    deadline = time.monotonic() + timeout_s
    seen = []
    while time.monotonic() < deadline:
        status = job.step()
        seen.append(status)
        if status.finished:
            return status, seen
        time.sleep(0.02)
    raise AssertionError("setup did not finish")


def test_a_megabyte_of_output_neither_hangs_nor_is_lost_and_ready_comes_last(tmp_path):
    env = tmp_path / "env"
    env.mkdir()
    commands = [[sys.executable, "-c", LOUD_PIP], [sys.executable, "-c", "print('imports ok')"]]
    job = SetupJob(commands, env, tmp_path / "setup.log")
    try:
        status, seen = run(job)
    finally:
        job.close()
    assert status.error is None and not status.cancelled and status.fraction == 1.0
    assert (tmp_path / "setup.log").stat().st_size > 1_000_000
    assert status.line == "imports ok" and is_ready(env)
    assert not any(s.finished for s in seen[:-1]) and {s.step for s in seen} == {1, 2}


def test_a_failed_step_is_one_line_and_not_ready(tmp_path):
    env = tmp_path / "env"
    env.mkdir()
    (env / READY_MARKER).write_text("from an earlier setup")
    fail = "import sys; print('ERROR: No matching distribution found for ram-core'); sys.exit(3)"
    job = SetupJob([[sys.executable, "-c", "pass"], [sys.executable, "-c", fail]], env, tmp_path / "setup.log")
    assert not is_ready(env)  # a setup that starts again is not ready until it finished
    try:
        status, _ = run(job)
    finally:
        job.close()
    assert status.error == "step 2 of 2 failed (exit 3): ERROR: No matching distribution found for ram-core"
    assert not is_ready(env)


def test_cancel_stops_the_running_command(tmp_path):
    env = tmp_path / "env"
    env.mkdir()
    job = SetupJob([[sys.executable, "-c", "import time; time.sleep(60)"]], env, tmp_path / "setup.log")
    try:
        job.step()
        job.cancel()
        status = job.step()
        assert status.finished and status.cancelled and status.error is None
        assert job._proc is not None and job._proc.poll() is not None
    finally:
        job.close()
    assert not is_ready(env)


def test_last_line_reads_only_the_end(tmp_path):
    log = tmp_path / "log"
    log.write_text("a\n" * 100000 + "Downloading thing.whl\n\n")
    assert last_line(log) == "Downloading thing.whl" and last_line(tmp_path / "missing") == ""


def test_the_last_step_checks_what_the_lite_worker_loads(tmp_path):
    """The ready check itself runs in a worker environment (this one) and fails where the runtime is missing."""
    pytest.importorskip("ai_edge_litert")
    done = subprocess.run([sys.executable, "-c", CHECK_IMPORTS], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip().endswith("the lite backend and its models load")
    blocked = tmp_path / "ai_edge_litert"  # a package that fails to import hides the real one
    blocked.mkdir()
    (blocked / "__init__.py").write_text("raise ImportError('no LiteRT here')")
    env = {"PYTHONPATH": f"{tmp_path}:{Path(__file__).resolve().parents[2]}"}
    done = subprocess.run([sys.executable, "-c", CHECK_IMPORTS], capture_output=True, text=True, check=False, env=env)
    assert done.returncode != 0 and "no LiteRT here" in done.stderr
