"""How the version-1 fixtures here were made: by the version-1 writer (ram_core at format version 1).

Kept for the record; rerunning it with a newer ram_core writes that version instead, so the
committed ``v1_*.ram.npz`` files, not this script, are the fixtures.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ram_core.contract.results import RECORD_FIELDS, CaptureMeta, Results, make_track, save_results

HERE = Path(__file__).parent


def sample(n_tracks: int) -> Results:
    rng = np.random.default_rng(1)
    k = np.array([[800.0, 0, 384], [0, 800.0, 288], [0, 0, 1]])
    meta = CaptureMeta(
        video_path="/videos/street.avi", fps=10.0, width=768, height=576, frame_count=120, frame_start=0,
        frame_end=120, intrinsics=k, intrinsics_assumed=True, backend="lite",
        rest_joints=rng.normal(size=(24, 3)), rest_source="anny-cmu_mb", notes="version-1 fixture",
    )
    tracks = []
    for i in range(n_tracks):
        n = 4 + 2 * i
        arrays = {name: rng.normal(size=(n, *shape)) for name, (shape, _) in RECORD_FIELDS.items()}
        arrays["frame"] = np.arange(10 * i, 10 * i + n)
        arrays["predicted"] = np.arange(n) % 3 == 1
        arrays["confidence"] = rng.uniform(size=n)
        tracks.append(make_track(i + 1, **arrays))
    return Results(meta, tracks)


if __name__ == "__main__":
    save_results(sample(2), HERE / "v1_two_tracks.ram.npz")
    save_results(sample(0), HERE / "v1_empty.ram.npz")
