"""Frames/s of the lite backend with its models on 1 or more interpreters of 1 or more threads each.

Runs ``LiteBackend`` in this process on a slice of a video (frames decoded up front, so only the backend
is timed; the first frame, which builds the interpreters' tensors, is not counted) once per configuration
``INTERPRETERSxTHREADS`` (both models), prints frames/s with the load average and whether the records
are identical to the first configuration's:

    PYTHONPATH=. python benchmarks/lite_scaling.py [--video ../shared/data/vtest.avi] [--end 200] [--configs 1x2 2x1 1x1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from ram_core.backends.base import camera_intrinsics
from ram_core.backends.lite.backend import LiteBackend, LiteConfig
from ram_core.perception.blazepose_detector import DetectorConfig
from ram_core.perception.landmarks import LandmarkConfig
from ram_core.video import iter_frames, open_video

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VIDEO = ROOT.parent / "shared" / "data" / "vtest.avi"


def capture(
    video: Path, frames: list[tuple[int, np.ndarray]], interpreters: int, threads: int
) -> tuple[np.ndarray, float]:
    """All records of the slice and the backend's frames/s after the first frame."""
    info = open_video(video)
    intrinsics, assumed = camera_intrinsics(info.width, info.height, None)
    cfg = LiteConfig(
        detector=DetectorConfig(num_threads=threads, interpreters=interpreters),
        landmarks=LandmarkConfig(num_threads=threads, interpreters=interpreters),
    )
    backend = LiteBackend(cfg=cfg)
    backend.open(info, intrinsics, assumed)
    out = [backend.process(*frames[0])]
    begin = time.perf_counter()
    out += [backend.process(index, image) for index, image in frames[1:]]
    fps = (len(frames) - 1) / (time.perf_counter() - begin)
    out.append(backend.finish())
    backend.close()
    return np.concatenate(out), fps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--end", type=int, default=200)
    parser.add_argument("--configs", nargs="+", default=["1x2", "2x1", "1x1"], help="INTERPRETERSxTHREADS each")
    args = parser.parse_args()
    if not args.video.is_file():
        print(f"{args.video}: not found (pass --video)", file=sys.stderr)
        return 2
    frames = list(iter_frames(args.video, args.start, args.end))
    print(
        f"video {args.video.name}: frames {args.start}..{args.start + len(frames) - 1}; os.cpu_count() {os.cpu_count()}"
    )
    reference = None
    for spec in args.configs:
        interpreters, threads = (int(v) for v in spec.split("x"))
        load = os.getloadavg()[0]
        records, fps = capture(args.video, frames, interpreters, threads)
        if reference is None:
            reference, same = records, "reference"
        else:
            equal = len(records) == len(reference) and all(
                np.array_equal(records[f], reference[f]) for f in records.dtype.names or ()
            )
            same = "identical records" if equal else "RECORDS DIFFER"
        tracks = len(np.unique(records["track_id"]))
        print(
            f"{interpreters} interpreter(s) x {threads} thread(s): {fps:.2f} frames/s, {len(records)} records, "
            f"{tracks} tracks, {same}; load average {load:.2f} before, {os.getloadavg()[0]:.2f} after"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
