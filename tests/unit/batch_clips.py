"""Short clips for the batch tests, and what comparing a batch's results with ``ram-core capture``'s needs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ram_core.contract.results import load_results
from tests.conftest import CLIP
from tests.fixtures.clips import cut_clips

CLIP_FRAMES = 12


def make_clips(folder: Path, count: int) -> list[Path]:
    """``count`` MJPEG clips of :data:`CLIP_FRAMES` frames, each from another part of the test clip."""
    return cut_clips(CLIP, folder, count, CLIP_FRAMES)


def assert_same_results(a: Path, b: Path) -> None:
    """Two results files hold equal arrays, track by track, and the same metadata (the video's folder aside:
    a test may capture a copy)."""
    ra, rb = load_results(a), load_results(b)
    ma, mb = json.loads(ra.meta.to_json()), json.loads(rb.meta.to_json())
    assert Path(ma.pop("video_path")).name == Path(mb.pop("video_path")).name
    assert ma == mb
    assert [t.track_id for t in ra.tracks] == [t.track_id for t in rb.tracks]
    for ta, tb in zip(ra.tracks, rb.tracks):
        for name, array in ta.arrays().items():
            np.testing.assert_array_equal(array, tb.arrays()[name], err_msg=f"track {ta.track_id} {name}")


def leftovers(out_dir: Path) -> list[str]:
    """Files in ``out_dir`` that a finished or cancelled batch must not leave: hidden (in progress) ones."""
    return sorted(p.name for p in out_dir.iterdir() if p.name.startswith("."))
