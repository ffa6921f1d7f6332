"""Parameters, FLOPs and CPU seconds per person-frame of the RAM regressor, tiny and full size.

    PYTHONPATH=. python benchmarks/regressor_cost.py [--people 5] [--frames 3] [--full-frames 2]

FLOPs come from torch.utils.flop_counter.FlopCounterMode (matrix products and convolutions; the
norms, softmaxes and GELUs it does not count are a few per cent). Random weights time the same as
trained ones. At full size (ViT-H/16, 630 M parameters) a CPU takes seconds per person: only a
couple of frames are timed, and the number is a CPU figure, not the GPU target's.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from ram_core.models import PARTS, FrameInput, PersonInput, RamConfig, Regressor, build_ram
from ram_core.models.geometry import default_intrinsics


def _frames(n: int, people: int, size: tuple[int, int] = (480, 640)) -> list[FrameInput]:
    h, w = size
    return [
        FrameInput(
            t,
            torch.rand(3, h, w),
            [PersonInput(i, (40.0 + 100 * i + t, 60.0, 120.0 + 100 * i + t, 300.0)) for i in range(people)],
        )
        for t in range(n)
    ]


def measure(name: str, cfg: RamConfig, people: int, frames: int, warm: int) -> None:
    """Print parameters, FLOPs and CPU time per person-frame after ``warm`` frames fill the state."""
    model = build_ram(cfg)
    parts = {p: sum(x.numel() for x in getattr(model, p).parameters()) for p in PARTS}
    k = default_intrinsics(640, 480, cfg.camera)
    clip = _frames(warm + 1 + frames, people)
    regressor = Regressor(model, k, "online", fuse=True)
    for frame in clip[:warm]:  # fill memory and motion queues so the measured frames do the full work
        regressor.push(frame)
    with FlopCounterMode(display=False) as counter:
        regressor.push(clip[warm])
    crops = torch.zeros(people, 3, *cfg.backbone.image_size)
    with FlopCounterMode(display=False) as backbone_counter:
        model.encode(crops)
    start = time.perf_counter()
    for frame in clip[warm + 1 :]:
        regressor.push(frame)
    seconds = (time.perf_counter() - start) / (frames * people)
    total, backbone = counter.get_total_flops(), backbone_counter.get_total_flops()
    print(
        f"[{name}] parameters {sum(parts.values()) / 1e6:.2f} M ({', '.join(f'{p} {n / 1e6:.3f} M' for p, n in parts.items())})"
    )
    print(
        f"[{name}] GFLOPs per person-frame {total / people / 1e9:.3f} "
        f"(backbone {backbone / people / 1e9:.3f}, rest {(total - backbone) / people / 1e9:.4f}; batch of {people})"
    )
    print(
        f"[{name}] CPU {seconds * 1e3:.1f} ms per person-frame over {frames} frames x {people} people "
        f"({torch.get_num_threads()} threads, memory holding {warm} past frames)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=5, help="people per frame at tiny size")
    parser.add_argument("--frames", type=int, default=10, help="timed frames at tiny size")
    parser.add_argument("--full-people", type=int, default=2, help="people per frame at full size")
    parser.add_argument("--full-frames", type=int, default=2, help="timed frames at full size (slow on CPU)")
    parser.add_argument("--skip-full", action="store_true")
    args = parser.parse_args()
    with torch.inference_mode():
        tiny = RamConfig.tiny()
        measure("tiny", tiny, args.people, args.frames, warm=tiny.memory.window)
        if not args.skip_full:
            # Two warm frames, not a full window: the memory's share of the cost is small (see "rest").
            measure("full", RamConfig(), args.full_people, args.full_frames, warm=2)


if __name__ == "__main__":
    main()
