"""Speed of ``capture --backend lite`` on vtest.avi (or a slice): frames/s and person-frames/s.

Runs the capture through the same worker path as ``ram-core capture`` and times it from the worker's
progress messages: the steady rate excludes the worker's start (Python imports, model loading), which is
printed apart. Person-frames are observed records (one person on one frame; frames filled by
interpolation are not counted). Prints the rates as a ratio to the video's own frame rate (the goal is
1.0: real time with everybody tracked) and the machine's load average before and after, since other
programs on the machine slow it down. Then the client's whole-clip refinement of the same records, timed by
part (``ram_core.scene.refine``: relink + depth + scene solve, the foot lock, the temporal fit) and as a
fraction of the capture's wall time (the goal: scene solve and fit add at most 25%):

    PYTHONPATH=. python benchmarks/lite_capture.py [--video ../shared/data/vtest.avi] [--start 0] [--end 200]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from ram_core.contract.client import CaptureClient
from ram_core.contract.options import CaptureOptions
from ram_core.scene.contact import plant_feet
from ram_core.scene.depth import smooth_depth
from ram_core.scene.fit import fit_motion
from ram_core.scene.relink import relink_tracks
from ram_core.scene.solve import solve_and_apply

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VIDEO = ROOT.parent / "shared" / "data" / "vtest.avi"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--end", type=int, default=200, help="end frame (exclusive); -1 for the whole video")
    parser.add_argument("--python", default=sys.executable, help="the Python that runs the worker")
    args = parser.parse_args()
    if not args.video.is_file():
        print(f"{args.video}: not found (pass --video)", file=sys.stderr)
        return 2

    stamps: list[tuple[float, int]] = []
    load_before = os.getloadavg()
    begin = time.perf_counter()
    options = CaptureOptions(backend="lite", start=args.start, end=None if args.end < 0 else args.end)
    with CaptureClient(args.python, args.video, options) as client:
        client.start()
        while not client.finished:
            client.poll()
            done = client.progress[0]
            if not stamps or done != stamps[-1][1]:
                stamps.append((time.perf_counter(), done))
            time.sleep(0.05)
        client.poll()
        if client.error is not None:
            print(f"capture failed: {client.error.message}", file=sys.stderr)
            return 1
        results = client.raw_results()
    total_s = time.perf_counter() - begin
    parts = {}
    tic = time.perf_counter()
    solved = solve_and_apply(smooth_depth(relink_tracks(results)))
    parts["relink + depth + scene solve"] = time.perf_counter() - tic
    tic = time.perf_counter()
    planted = plant_feet(solved)
    parts["foot lock (the fit's depth prior)"] = time.perf_counter() - tic
    tic = time.perf_counter()
    fit_motion(planted)
    parts["temporal fit"] = time.perf_counter() - tic
    load_after = os.getloadavg()

    meta = results.meta
    frames = meta.frame_end - meta.frame_start
    observed = sum(int(np.sum(~t.predicted)) for t in results.tracks)
    if len(stamps) < 2:
        print("too few progress messages to time (a longer slice?)", file=sys.stderr)
        return 1
    (t0, d0), (t1, d1) = stamps[0], stamps[-1]
    steady_s = t1 - t0
    fps = (d1 - d0) / steady_s
    # Observed records per frame over the whole capture, times the steady frame rate.
    person_fps = observed / frames * fps
    start_s = total_s - steady_s
    print(f"video {args.video.name}: frames {meta.frame_start}..{meta.frame_end - 1} ({frames}), {meta.fps:g} frames/s")
    print(f"machine: {os.cpu_count()} cores, load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    print(f"tracks {len(results.tracks)}, observed person-frames {observed} ({observed / frames:.1f} people per frame)")
    print(f"worker start + first frame {start_s:.1f} s; steady {steady_s:.1f} s for {d1 - d0} frames")
    print(f"frames/s {fps:.2f}  (ratio to the video's {meta.fps:g} frames/s: {fps / meta.fps:.2f})")
    print(f"person-frames/s {person_fps:.1f}")
    print(f"end to end incl. start: {frames / total_s:.2f} frames/s (ratio {frames / total_s / meta.fps:.2f})")
    for name, seconds in parts.items():
        print(f"refinement: {name} {seconds:.2f} s ({100 * seconds / total_s:.1f}% of the capture's {total_s:.1f} s)")
    added = sum(parts.values())
    print(
        f"refinement in all: {added:.2f} s, {100 * added / total_s:.1f}% added to the capture's wall time (goal: <= 25%)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
