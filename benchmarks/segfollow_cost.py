"""Per-frame cost of SegFollow at 1, 5 and 10 tracked people (random weights: cost does not depend on them).

One frame = image encoder once + one batched decode of every person + selection + batched memory encoding
of the reliable ones (all are made reliable here, the costly case). Prints mean ms per frame per count.

    PYTHONPATH=. python benchmarks/segfollow_cost.py                      # CPU, tiny test architecture, 128 px
    PYTHONPATH=. python benchmarks/segfollow_cost.py --variant tiny --image-size 1024 --device cuda
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
import torch

from ram_core.tracking.association import with_association
from ram_core.tracking.segfollow import Sam2Architecture, SegFollowConfig, build_segfollow, sam2_variant
from ram_core.tracking.selector import UpdateConfig


def people_boxes(n: int, height: int, width: int) -> np.ndarray:
    """n side-by-side person-shaped boxes (n, 4) xyxy px."""
    step = width / n
    return np.array([[i * step + 0.1 * step, 0.2 * height, (i + 0.9) * step, 0.95 * height] for i in range(n)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="test-tiny", help="tiny/small/base_plus/large or test-tiny")
    parser.add_argument("--image-size", type=int, default=None, help="SAM2 input side (default: the variant's)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--frames", type=int, default=10, help="timed frames per count (after 2 warm-up frames)")
    parser.add_argument("--people", type=int, nargs="+", default=[1, 5, 10])
    parser.add_argument("--video-size", type=int, nargs=2, default=[720, 1280], metavar=("H", "W"))
    parser.add_argument("--bf16", action="store_true", help="run under torch.autocast(bfloat16) (GPU)")
    args = parser.parse_args()

    arch = Sam2Architecture.tiny() if args.variant == "test-tiny" else sam2_variant(args.variant).architecture
    if args.image_size is not None:
        arch = dataclasses.replace(arch, image_size=args.image_size)
    height, width = args.video_size
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (height, width, 3), dtype=np.uint8) for _ in range(4)]
    cfg = with_association(SegFollowConfig(keyframe_interval=10**9), update=UpdateConfig(tau=-1.0))
    print(f"variant {args.variant}, SAM2 input {arch.image_size} px, video {width}x{height}, device {args.device}")
    autocast = torch.autocast(device_type=torch.device(args.device).type, dtype=torch.bfloat16, enabled=args.bf16)
    for n in args.people:
        torch.manual_seed(0)
        tracker = build_segfollow(arch, device=args.device, config=cfg)
        with autocast:
            tracker.step(0, frames[0], (people_boxes(n, height, width), np.full(n, 0.9)))
            for f in range(1, 3):
                tracker.step(f, frames[f % 4])
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            start = time.perf_counter()
            for f in range(3, 3 + args.frames):
                tracker.step(f, frames[f % 4])
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
        ms = (time.perf_counter() - start) / args.frames * 1000
        print(f"{n:3d} people: {ms:8.1f} ms/frame ({ms / n:7.1f} ms per person)")


if __name__ == "__main__":
    main()
