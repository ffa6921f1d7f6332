"""Every input of the corpus (tests/fixtures/bad_inputs.py) through ``ram-core capture``.

For each: the exit code; on failure one line on stderr (no traceback), no results file, the user's
existing results file at that path untouched even with ``--overwrite``; always no shared-memory segment and no temporary file
of ours left behind.
"""

from __future__ import annotations

import os
import subprocess
import tempfile

import pytest

from ram_core.cli import main
from tests.conftest import SCRIPTED

USERS_FILE = b"the user's earlier results: must survive a failed capture"


@pytest.fixture
def scripted_backend_importable(monkeypatch, worker_env):
    monkeypatch.setenv("PYTHONPATH", worker_env["PYTHONPATH"])


def test_every_input_of_the_corpus(
    bad_inputs, tmp_path, capsys, scripted_backend_importable, no_leaked_segments, monkeypatch
):
    temporary = tmp_path / "tmp"  # the client's temporary files go here, so what is left can be seen
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    dead = _ended()  # a client and worker killed together left theirs: the next capture's start removes them
    (temporary / f"ram_worker_{dead}_abcd_123.log").write_text("worker log")
    (temporary / f"ram_path_{dead}_abcd_123").mkdir()
    failures = []
    for name, case in sorted(bad_inputs.items()):
        out = tmp_path / f"{name}.ram.npz"
        out.write_bytes(USERS_FILE)
        rc = main(["capture", case.path, "-o", str(out), "--backend", SCRIPTED, "--overwrite"])
        err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        if case.ok:
            if rc != 0 or out.read_bytes() == USERS_FILE:
                failures.append(f"{name}: expected a capture, got rc {rc}: {err}")
            continue
        if rc != 1:
            failures.append(f"{name}: rc {rc}, expected 1")
        if len(err) != 1 or case.message not in err[0] or "Traceback" in " ".join(err):
            failures.append(f"{name}: expected one line with {case.message!r}, got {err}")
        if out.read_bytes() != USERS_FILE:
            failures.append(f"{name}: the user's results file was changed")
    assert failures == []
    assert list(temporary.iterdir()) == []  # (no_leaked_segments checks the shared memory)


def _ended() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_only_temporary_files_of_clients_that_are_gone_are_swept(tmp_path):
    from ram_core.contract.client import sweep_stale_temporary

    dead, live = _ended(), os.getpid()
    stale = [f"ram_worker_{dead}_abcd_123.log", f"ram_path_{dead}_x1y2z3w4"]
    kept = [f"ram_worker_{live}_abcd_123.log", f"ram_worker_{dead}_abcd_123.txt", f"ram_worker_{dead}.log", "notes"]
    for name in stale[:1] + kept:
        (tmp_path / name).write_text("x")
    (tmp_path / stale[1]).mkdir()
    (tmp_path / stale[1] / "sitecustomize.pth").write_text("x")
    (tmp_path / f"ram_path_{dead}_abcdefgh.log").mkdir()  # a folder named as a log: not ours
    (tmp_path / f"ram_path_{dead}_12345678").write_text("a file named as a path folder: not ours")
    assert sorted(sweep_stale_temporary(tmp_path)) == sorted(stale)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [*kept, f"ram_path_{dead}_abcdefgh.log", f"ram_path_{dead}_12345678"]
    )


def test_the_unusual_but_valid_videos_capture_with_the_lite_backend(bad_inputs, tmp_path, capsys):
    from ram_core.contract.results import load_results

    for name in ("vertical", "odd_size", "grey"):
        out = tmp_path / f"{name}.ram.npz"
        assert main(["capture", bad_inputs[name].path, "-o", str(out), "--backend", "lite", "--end", "3"]) == 0, name
        meta = load_results(out).meta
        assert meta.frame_end == 3 and meta.width > 0, name


def test_a_full_disk_keeps_the_capture_elsewhere(tmp_path, capsys, scripted_backend_importable, monkeypatch):
    from tests.conftest import CLIP

    small = tmp_path / "small"
    small.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(small)]
    if os.geteuid() != 0 or subprocess.run(mount, capture_output=True, check=False).returncode != 0:
        pytest.skip("mounting a small tmpfs needs root")
    try:
        monkeypatch.setenv("RAM_RESCUE_DIR", str(tmp_path / "rescued"))
        rc = main(["capture", str(CLIP), "-o", str(small / "out.npz"), "--backend", SCRIPTED, "--end", "40"])
        err = capsys.readouterr().err
        assert rc == 1 and "No space left on device" in err and "the capture was kept in" in err, err
        assert len(list((tmp_path / "rescued").glob("*.npz"))) == 1
        assert not any(small.iterdir())  # no partial file left on the full disk
    finally:
        subprocess.run(["umount", str(small)], capture_output=True, check=False)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--max-people", "0"], "max_people is 0"),
        (["--max-people", "-2"], "max_people is -2"),
        (["--focal", "inf"], "focal length inf px is not a positive number"),
        (["--focal", "nan"], "focal length nan px is not a positive number"),
        (["--start", "-1"], "start frame -1 is negative"),
    ],
)
def test_options_that_make_no_sense_are_refused_before_any_work(flags, message, tmp_path, capsys, no_leaked_segments):
    from tests.conftest import CLIP

    out = tmp_path / "out.ram.npz"
    out.write_bytes(USERS_FILE)
    assert main(["capture", str(CLIP), "-o", str(out), "--backend", SCRIPTED, *flags]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and message in err[0], err
    assert out.read_bytes() == USERS_FILE and no_leaked_segments == []  # refused before a worker was started


def _damaged_deflate(good: bytes, path) -> None:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(good)) as z:
        member = z.getinfo("joints.npy")
    data = bytearray(good)
    start = member.header_offset + 30 + len(member.filename) + len(member.extra)
    data[start + 200 : start + 260] = b"\0" * 60
    path.write_bytes(bytes(data))


def test_tampered_results_files_get_one_line_from_info(tmp_path, capsys):
    import json

    import numpy as np

    from ram_core.contract.results import save_results
    from tests.unit.test_results import sample_results

    good = save_results(sample_results(), tmp_path / "good.npz")
    with np.load(good, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays["meta_json"].item())

    def variant(name: str, **changes) -> str:
        path = tmp_path / f"{name}.npz"
        np.savez(path, **{**arrays, **changes})
        return str(path)

    cases = {
        "text named .npz": (tmp_path / "notes.npz", "not a RAM results file"),
        "damaged deflate stream": (tmp_path / "deflate.npz", "not a RAM results file"),
        "NaN joints": (variant("nan", joints=np.full_like(arrays["joints"], np.nan)), "holds NaN"),
        "fps 0": (variant("fps", meta_json=np.array(json.dumps({**meta, "fps": 0}))), "fps is 0"),
        "mistyped frame_start": (
            variant("start", meta_json=np.array(json.dumps({**meta, "frame_start": "abc"}))),
            "frame_start is 'abc'",
        ),
        "skipped frames not frames": (
            variant("skipped", meta_json=np.array(json.dumps({**meta, "skipped_frames": ["x"]}))),
            "skipped_frames is",
        ),
    }
    (tmp_path / "notes.npz").write_text("some notes, not an archive\n" * 20)
    _damaged_deflate(good.read_bytes(), tmp_path / "deflate.npz")
    failures = []
    for name, (path, message) in cases.items():
        rc = main(["info", str(path)])
        captured = capsys.readouterr()
        err = [line for line in captured.err.splitlines() if line.strip()]
        if rc != 1 or len(err) != 1 or message not in err[0] or "pickle" in err[0] or captured.out:
            failures.append(f"{name}: rc {rc}, {err}")
    assert failures == []


def test_kills_at_random_moments_leak_nothing_and_keep_a_loadable_partial(tmp_path, worker_env):
    """Three runs of the worker and client kills from ``benchmarks/kill_runs.py`` (which does 20 of each),
    two of both killed together (what they leave, the next capture's start removes)."""
    import importlib.util
    import random

    from tests.conftest import REPO

    spec = importlib.util.spec_from_file_location("kill_runs", REPO / "benchmarks" / "kill_runs.py")
    assert spec is not None and spec.loader is not None
    kill_runs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(kill_runs)
    rng = random.Random(15)
    env = {"PYTHONPATH": worker_env["PYTHONPATH"], "RAM_SCRIPTED_SLEEP": "0.01"}
    failures = [
        f"worker kill: {why}" for _ in range(3) if (why := kill_runs.kill_worker(rng, SCRIPTED, "0.01", env, tmp_path))
    ]
    failures += [f"client kill: {why}" for _ in range(3) if (why := kill_runs.kill_client(rng, SCRIPTED, "0.01", env))]
    failures += [f"both killed: {why}" for _ in range(2) if (why := kill_runs.kill_both(rng, SCRIPTED, "0.01", env)[0])]
    assert failures == []
