"""Fixtures shared by unit-test modules (the top-level conftest has those of every tier)."""

from __future__ import annotations

import pytest

from tests.conftest import REPO, SCRIPTED


@pytest.fixture(scope="session")
def batch_clips(tmp_path_factory):
    """Four short clips in one folder and, for each, the results ``ram-core capture`` writes (scripted backend)."""
    from ram_core.cli import main
    from tests.unit.batch_clips import make_clips

    folder = tmp_path_factory.mktemp("batch_clips")
    videos = make_clips(folder / "videos", 4)
    references = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYTHONPATH", str(REPO))
        for video in videos:
            ref = folder / f"{video.stem}.reference.npz"
            assert main(["capture", str(video), "-o", str(ref), "--backend", SCRIPTED]) == 0
            references.append(ref)
    return videos, references
