"""Peak RSS of SegFollow tracking 2,000 frames vs 200 frames (goal: within 20%), beside SAM2's own video predictor.

Each run is a fresh process (tiny SAM2.1 architecture, random weights, small synthetic frames, 3 people,
births tried on every keyframe), so ``ru_maxrss`` is that run's peak. The peer is the official
``SAM2VideoPredictor`` on the same architecture and frames (``init_state`` on a folder of JPEGs, the
3 boxes on frame 0, ``propagate_in_video``), whose state keeps every frame and every frame's memory:
its ratio shows the sizes are large enough for an unbounded store to show. Exits 1 if ours exceeds the
goal, or if SAM2's own ratio is within it too (then the sizes prove nothing).

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


def run_peer(frames: int, height: int, width: int) -> None:
    """SAM2's own predictor over the same kind of frames and boxes; prints frames, peak MiB, seconds, masks."""
    import tempfile

    import cv2
    import numpy as np
    import sam2  # noqa: F401  (registers the package's hydra config module)
    import torch
    from hydra import compose
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    from ram_core.tracking.segfollow import Sam2Architecture

    torch.manual_seed(0)
    torch.set_num_threads(1)
    arch = Sam2Architecture.tiny()
    overrides = [*arch.hydra_overrides(), "++model._target_=sam2.sam2_video_predictor.SAM2VideoPredictor"]
    cfg = compose(config_name=arch.config_file, overrides=overrides)
    OmegaConf.resolve(cfg)
    predictor = instantiate(cfg.model, _recursive_=True).eval()
    rng = np.random.default_rng(0)
    boxes = np.array([[10.0, 10.0, 50.0, 80.0], [90.0, 5.0, 140.0, 85.0], [60.0, 20.0, 85.0, 70.0]])
    with tempfile.TemporaryDirectory() as folder:
        for f in range(frames):
            cv2.imwrite(f"{folder}/{f:05d}.jpg", rng.integers(0, 255, (height, width, 3), dtype=np.uint8))
        start = time.perf_counter()
        masks = 0
        with torch.inference_mode():
            state = predictor.init_state(folder)
            for obj, box in enumerate(boxes, 1):
                predictor.add_new_points_or_box(state, frame_idx=0, obj_id=obj, box=box)
            for _, ids, _ in predictor.propagate_in_video(state):
                masks += len(ids)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{frames} {peak_mib:.1f} {time.perf_counter() - start:.1f} {masks} {len(boxes)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", type=int, default=200)
    parser.add_argument("--long", type=int, default=2000)
    parser.add_argument("--height", type=int, default=90)
    parser.add_argument("--width", type=int, default=160)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--peer", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        (run_peer if args.peer else run_child)(args.child, args.height, args.width)
        return
    ratios = {}
    for who, extra in (("SegFollow", []), ("SAM2VideoPredictor", ["--peer"])):
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
                *extra,
            ]
            line = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
            _, peak, seconds, people, ids = line.split()
            peaks[frames] = float(peak)
            print(
                f"{who:18s} {frames:5d} frames: peak RSS {float(peak):8.1f} MiB, {float(seconds):6.1f} s, "
                f"{people} person-frames, {ids} ids"
            )
        ratios[who] = peaks[args.long] / peaks[args.short]
    ours, peer = ratios["SegFollow"], ratios["SAM2VideoPredictor"]
    print(
        f"ratio long/short: SegFollow {ours:.3f} (goal <= 1.20: {'ok' if ours <= 1.2 else 'FAIL'}), SAM2's own {peer:.3f}"
    )
    if peer <= 1.2:
        print("SAM2's own store stays within the goal at these sizes too: they prove nothing; use longer runs")
    sys.exit(0 if ours <= 1.2 < peer else 1)


if __name__ == "__main__":
    main()
