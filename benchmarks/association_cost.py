"""Per-frame cost of `Tracker.step` (prediction, scoring, assignment, updates) for 1 to 50 tracks.

People walk on random straight lines with jittered detections (a few misses, a few false positives),
with and without 64-d appearance features. Prints milliseconds per frame and the cost per track,
measured in one run:

    PYTHONPATH=. python benchmarks/association_cost.py
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from ram_core.tracking.association import with_association
from ram_core.tracking.boxes import cxcywh_to_xyxy
from ram_core.tracking.tracker import Tracker, TrackerConfig


def scene(n_people: int, n_frames: int, rng: np.random.Generator) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per frame: detections (N, 4) xyxy and their people's indices (N,) (-1 for false positives)."""
    start = rng.uniform([100, 100], [3700, 2000], (n_people, 2))
    velocity = rng.normal(0, 3, (n_people, 2))
    size = np.stack([rng.uniform(40, 80, n_people), rng.uniform(100, 200, n_people)], axis=1)
    boxes, who = [], []
    for t in range(n_frames):
        centre = start + t * velocity + rng.normal(0, 1.5, (n_people, 2))
        seen = rng.random(n_people) > 0.05
        b = cxcywh_to_xyxy(np.concatenate([centre, size], axis=1))[seen]
        idx = np.flatnonzero(seen)
        n_fp = rng.poisson(0.5)
        fp = cxcywh_to_xyxy(np.concatenate([rng.uniform([0, 0], [3800, 2100], (n_fp, 2)), np.full((n_fp, 2), 90.0)], 1))
        boxes.append(np.concatenate([b, fp]))
        who.append(np.concatenate([idx, -np.ones(n_fp, int)]))
    return boxes, who


def measure(n_people: int, n_frames: int, with_features: bool, rng: np.random.Generator) -> float:
    boxes, who = scene(n_people, n_frames, rng)
    appearance = rng.normal(size=(n_people + 1, 64))
    appearance /= np.linalg.norm(appearance, axis=1, keepdims=True)
    tracker = Tracker(with_association(TrackerConfig(), max_tracks=128))
    warmup = 10
    for f in range(n_frames):
        if f == warmup:
            t0 = time.perf_counter()
        scores = np.where(who[f] >= 0, 0.9, 0.4)
        feats = appearance[who[f]] if with_features else None
        tracker.step(f + 1, boxes[f], scores, feats)
    return (time.perf_counter() - t0) / (n_frames - warmup)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--tracks", type=int, nargs="+", default=[1, 2, 5, 10, 20, 50])
    args = parser.parse_args()
    print(f"{'tracks':>6} {'ms/frame (motion)':>18} {'ms/frame (+features)':>21} {'us/track (motion)':>18}")
    for n in args.tracks:
        motion = measure(n, args.frames, False, np.random.default_rng(n))
        feats = measure(n, args.frames, True, np.random.default_rng(n))
        print(f"{n:6d} {1000 * motion:18.3f} {1000 * feats:21.3f} {1e6 * motion / n:18.1f}")


if __name__ == "__main__":
    main()
