"""Peak RSS of SegFollow tracking 2,000 frames vs 200 frames (goal: within 20%).

Each run is a fresh process (tiny SAM2.1 architecture, random weights, small synthetic frames, 3 people,
births tried on every keyframe), so ``ru_maxrss`` is that run's peak. Prints both peaks and their ratio.

    PYTHONPATH=. python benchmarks/segfollow_memory.py [--short 200 --long 2000]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time


def run_child(frames: int, height: int, width: int) -> None:
    import numpy as np
    import torch

    from ram_core.tracking.segfollow import Sam2Architecture, build_segfollow

    torch.manual_seed(0)
    torch.set_num_threads(1)
    boxes = np.array([[10.0, 10.0, 50.0, 80.0], [90.0, 5.0, 140.0, 85.0], [60.0, 20.0, 85.0, 70.0]])
    tracker = build_segfollow(Sam2Architecture.tiny())
    rng = np.random.default_rng(0)
    start = time.perf_counter()

    def frames_iter():
        for f in range(frames):
            yield f, rng.integers(0, 255, (height, width, 3), dtype=np.uint8)

    class SameBoxes:
        def detect(self, image):
            return boxes, np.full(len(boxes), 0.9)

    tracker.detector = SameBoxes()
    people = 0
    for out in tracker.track(frames_iter()):
        people += len(out.people)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{frames} {peak_mib:.1f} {time.perf_counter() - start:.1f} {people} {tracker._next_id - 1}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", type=int, default=200)
    parser.add_argument("--long", type=int, default=2000)
    parser.add_argument("--height", type=int, default=90)
    parser.add_argument("--width", type=int, default=160)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        run_child(args.child, args.height, args.width)
        return
    peaks = {}
    for frames in (args.short, args.long):
        cmd = [
            sys.executable,
            __file__,
            "--child",
            str(frames),
            "--height",
            str(args.height),
            "--width",
            str(args.width),
        ]
        line = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        _, peak, seconds, people, ids = line.split()
        peaks[frames] = float(peak)
        print(
            f"{frames:5d} frames: peak RSS {float(peak):8.1f} MiB, {float(seconds):6.1f} s, {people} person-frames, {ids} ids"
        )
    ratio = peaks[args.long] / peaks[args.short]
    print(f"ratio long/short = {ratio:.3f} (goal <= 1.20): {'ok' if ratio <= 1.2 else 'FAIL'}")


if __name__ == "__main__":
    main()
