"""Speed of the lite backend's perception on this machine: tiled detector, batched vs looped landmarks.

Run: ``PYTHONPATH=. python benchmarks/lite_perception.py [--video tests/data/vtest_clip.avi] [--threads 2]``
Prints milliseconds per call (median over frames) and the batched-vs-looped ratio measured in this run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from ram_core.perception.blazepose_detector import DetectorConfig, PersonDetector
from ram_core.perception.landmarks import LandmarkConfig, PoseLandmarker, find_people

ROOT = Path(__file__).resolve().parents[1]


def read_frames(path: Path, indices: list[int]) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    for index in range(max(indices) + 1):
        ok, frame = cap.read()
        if not ok:
            raise SystemExit(f"{path}: cannot read frame {index}")
        if index in indices:
            frames.append(frame)
    cap.release()
    return frames


def timed(function, *args) -> tuple[float, object]:
    start = time.perf_counter()
    result = function(*args)
    return (time.perf_counter() - start) * 1000.0, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=ROOT / "tests" / "data" / "vtest_clip.avi")
    parser.add_argument("--frames", default="0,20,40,60,80,100", help="comma-separated frame indices")
    parser.add_argument("--threads", type=int, default=2, help="interpreter threads")
    args = parser.parse_args()

    frames = read_frames(args.video, [int(i) for i in args.frames.split(",")])
    detector = PersonDetector(DetectorConfig(num_threads=args.threads))
    landmarker = PoseLandmarker(LandmarkConfig(num_threads=args.threads))
    height, width = frames[0].shape[:2]
    tiles = len(detector.tiles(width, height))

    detector.detect(frames[0])  # warm-up: allocates the batched input once
    one_tile = np.zeros((1, 224, 224, 3), np.float32)
    detector.run(one_tile)
    tile_ms = statistics.median(timed(detector.run, one_tile)[0] for _ in range(5))
    detector.detect(frames[0])

    detect_ms, find_ms, batched_ms, looped_ms, people = [], [], [], [], []
    for frame in frames:
        ms, (boxes, _) = timed(detector.detect, frame)
        detect_ms.append(ms)
        ms, found = timed(find_people, frame, detector, landmarker)
        find_ms.append(ms)
        people.append(len(found))
        boxes = found.boxes_from_landmarks
        if not len(boxes):
            continue
        landmarker.estimate(frame, boxes)  # warm-up at this batch size
        batched_ms.append(timed(landmarker.estimate, frame, boxes)[0] / len(boxes))
        start = time.perf_counter()
        for box in boxes:
            landmarker.estimate(frame, box[None])
        looped_ms.append((time.perf_counter() - start) * 1000.0 / len(boxes))

    print(f"video {args.video.name} {width}x{height}, {len(frames)} frames, {args.threads} threads")
    print(f"people found per frame (find_people): {people}")
    detect = statistics.median(detect_ms)
    print(f"detector: {tiles} tiles/frame, {detect:.0f} ms/frame (one tile alone {tile_ms:.1f} ms)")
    print(f"find_people (detect + landmarks, 2 passes): {statistics.median(find_ms):.0f} ms/frame")
    batched, looped = statistics.median(batched_ms), statistics.median(looped_ms)
    print(f"landmarks: batched {batched:.1f} ms/person, looped {looped:.1f} ms/person, ratio {looped / batched:.2f}")


if __name__ == "__main__":
    main()
