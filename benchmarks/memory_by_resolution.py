"""Peak memory of a ``lite`` capture by frame size: 576p, 1080p, 4K and 8K, and each one's ratio to 1080p.

Makes short clips (``--frames``, default 5) by scaling frames of the test clip up (MJPG), captures each
with ``ram-core capture --backend lite`` in a fresh process, and reads the peak resident memory of the
largest process of that capture (the worker) from ``getrusage(RUSAGE_CHILDREN)``. The goal (issue
"nothing the user made is lost", item 3): 4K and 8K within 1.5x of 1080p. Exits 1 if either is not.

    python benchmarks/memory_by_resolution.py
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parent.parent
CLIP = REPO / "tests" / "data" / "vtest_clip.avi"
SIZES = {"576p": (768, 576), "1080p": (1920, 1080), "4K": (3840, 2160), "8K": (7680, 4320)}
GOAL = 1.5

MEASURE = """
import resource, subprocess, sys
rc = subprocess.run([sys.executable, "-m", "ram_core", "capture", *sys.argv[1:]], check=False).returncode
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)  # KiB on Linux
"""


def make_clip(path: Path, size: tuple[int, int], frames: int) -> None:
    cap = cv2.VideoCapture(str(CLIP))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, size)
    for _ in range(frames):
        ok, image = cap.read()
        if not ok:
            break
        writer.write(cv2.resize(image, size, interpolation=cv2.INTER_CUBIC))
    writer.release()
    cap.release()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--python", default=sys.executable, help="the worker's Python (default: this one)")
    args = parser.parse_args()
    peaks: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, size in SIZES.items():
            clip = Path(tmp) / f"{name}.avi"
            make_clip(clip, size, args.frames)
            out = subprocess.run(
                [args.python, "-c", MEASURE, str(clip), "-o", str(Path(tmp) / f"{name}.npz"), "--backend", "lite"],
                check=False,
                capture_output=True,
                text=True,
                cwd=REPO,
            )
            rc, kib = (int(x) for x in out.stdout.split()[-2:])
            if rc != 0:
                print(f"{name}: capture failed (exit {rc}): {out.stderr.strip().splitlines()[-1:]}")
                return 2
            peaks[name] = kib / 1024
    base = peaks["1080p"]
    for name, mib in peaks.items():
        print(f"{name:6s} {SIZES[name][0]}x{SIZES[name][1]}: peak {mib:7.0f} MiB = {mib / base:4.2f}x 1080p")
    worst = max(peaks["4K"], peaks["8K"]) / base
    print(f"goal: 4K and 8K within {GOAL}x of 1080p: {'met' if worst <= GOAL else 'NOT met'} ({worst:.2f}x)")
    return 0 if worst <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
