"""Shared test fixtures: the test clip, bad video files, the scripted backend, shared-memory leak checks."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CLIP = REPO / "tests" / "data" / "vtest_clip.avi"
CLIP_FRAMES = 120
SCRIPTED = "tests.fixtures.scripted_backend:ScriptedBackend"
SHM_DIR = Path("/dev/shm")

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def ram_segments() -> set[str]:
    """Names of the RAM rings that exist now (Linux: files in /dev/shm)."""
    return {p.name for p in SHM_DIR.glob("ram_*")} if SHM_DIR.is_dir() else set()


@pytest.fixture
def no_leaked_segments(monkeypatch):
    """Fails the test if a ring created in this process during the test still exists after it.

    Only this process's rings are checked (other programs on the machine may be capturing too);
    tests whose rings live in child processes check those by name.
    """
    from ram_core.contract.ring import Ring

    created: list[str] = []
    create = Ring.create.__func__

    def recording_create(cls, *args, **kwargs):
        ring = create(cls, *args, **kwargs)
        created.append(ring.name)
        return ring

    monkeypatch.setattr(Ring, "create", classmethod(recording_create))
    yield created
    leaked = sorted(set(created) & ram_segments())
    assert not leaked, f"leaked shared-memory segments: {leaked}"


@pytest.fixture
def worker_env() -> dict[str, str]:
    """Environment for a worker that must import the scripted backend from the tests folder."""
    return {"PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)}


@pytest.fixture(scope="session")
def bad_inputs(tmp_path_factory):
    """The input corpus (tests/fixtures/bad_inputs.py): name -> Case (path, ok, message)."""
    from tests.fixtures.bad_inputs import make_corpus

    return make_corpus(tmp_path_factory.mktemp("inputs"))


@pytest.fixture(scope="session")
def bad_videos(bad_inputs) -> dict[str, Path]:
    """Broken inputs made from the test clip: name -> path (each should be refused or read partly)."""
    return {name: Path(case.path) for name, case in bad_inputs.items() if not case.ok}
