"""Frames per second of the whole ``ram`` pipeline (SegFollow on SAM2.1, birth detector, T-HMR, Predictor,
Combiner) at 1, 5 and 10 people, with random weights (they time the same as trained ones).

The pipeline is the backend's own :class:`~ram_core.backends.ram.pipeline.RamPipeline`. To time the
costly steady state with random weights, every SAM2 candidate is accepted (reliability threshold -1,
so every person's memory is encoded every frame), every frame enters the Regressor's Memory Cache,
the Predictor and Combiner run for everyone, and nobody is lost. The detector is torchvision's
Faster R-CNN (random weights, the real network's cost) on every ``--keyframe-interval``-th frame; it
reports the scripted people so the count stays fixed. Frames are random 1280x720 images by default.

    PYTHONPATH=. python benchmarks/ram_pipeline.py --device cuda                    # full size (GPU)
    PYTHONPATH=. python benchmarks/ram_pipeline.py --device cuda --dtype bfloat16   # under autocast
    PYTHONPATH=. python benchmarks/ram_pipeline.py                                   # CPU: test-size networks

Full size is SAM2.1 (``--sam2``, default base_plus, 1024 px) and HMR2.0's ViT-H/16 (630 M parameters);
on a CPU only the test-size networks (SAM2.1 at 128 px, ``RamConfig.tiny()``) are practical, and their
numbers say nothing about the paper's: only full size on a GPU compares with its 10.32 frames/s.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
import torch

from ram_core.backends.base import camera_intrinsics
from ram_core.backends.ram.pipeline import RamPipeline, resolve_device
from ram_core.models import RamConfig, Regressor, build_ram
from ram_core.perception.torchvision_detector import DEFAULT_DETECTOR, DETECTOR_VARIANTS, build_detector
from ram_core.tracking.association import with_association
from ram_core.tracking.segfollow import Sam2Architecture, SegFollowConfig, build_segfollow, sam2_variant
from ram_core.tracking.selector import UpdateConfig

PAPER_FPS = 10.32  # RAM on PoseTrack21 (RAM_PAPER.md, table 1)
GOAL_FPS_AT_5 = 20.0  # issue 5: twice the paper at 5 people on one H100


def people_boxes(n: int, height: int, width: int) -> np.ndarray:
    """n side-by-side person-shaped boxes (n, 4) xyxy px."""
    step = width / n
    return np.array([[i * step + 0.1 * step, 0.2 * height, (i + 0.9) * step, 0.95 * height] for i in range(n)])


class ScriptedDetector:
    """Runs a torchvision detector for its cost, then reports the scripted people (fixed count)."""

    def __init__(self, network: torch.nn.Module | None, boxes: np.ndarray, device: torch.device) -> None:
        self.network, self.boxes, self.device = network, boxes, device
        self.calls = 0

    def detect(self, image_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.calls += 1
        if self.network is not None:
            image = torch.from_numpy(np.ascontiguousarray(image_bgr[..., ::-1])).to(self.device)
            self.network([image.permute(2, 0, 1).float() / 255.0])
        return self.boxes, np.full(len(self.boxes), 0.9)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def build(args: argparse.Namespace, n: int, device: torch.device, intrinsics: np.ndarray, boxes: np.ndarray):
    """A RamPipeline with random weights, set up to keep ``n`` people, and its detector."""
    full = args.size == "full"
    arch = sam2_variant(args.sam2).architecture if full else Sam2Architecture.tiny()
    cfg = RamConfig() if full else RamConfig.tiny()
    cfg = dataclasses.replace(cfg, memory=dataclasses.replace(cfg.memory, min_visibility=0.0))
    network = build_detector(DETECTOR_VARIANTS[DEFAULT_DETECTOR]).to(device) if args.detector else None
    detector = ScriptedDetector(network, boxes, device)
    track_cfg = with_association(
        SegFollowConfig(keyframe_interval=args.keyframe_interval),
        update=UpdateConfig(tau=-1.0),
        max_coast_frames=10**9,
        max_tracks=n,
    )
    torch.manual_seed(0)
    tracker = build_segfollow(arch, device=device, detector=detector, config=track_cfg)
    model = build_ram(cfg).to(device)
    regressor = Regressor(model, intrinsics, args.mode, fuse=True)
    return RamPipeline(tracker, regressor, getattr(torch, args.dtype)), detector


def measure(args: argparse.Namespace, n: int, device: torch.device, frames: list[np.ndarray]) -> dict[str, float]:
    height, width = frames[0].shape[:2]
    intrinsics, _ = camera_intrinsics(width, height)
    boxes = people_boxes(n, height, width)
    pipeline, detector = build(args, n, device, intrinsics, boxes)
    timed = {"tracker": 0.0, "regressor": 0.0}
    for stage, owner, method in (("tracker", pipeline.tracker, "step"), ("regressor", pipeline.regressor, "push")):
        original = getattr(owner, method)

        def timed_call(*a, _original=original, _stage=stage, **k):
            _sync(device)
            start = time.perf_counter()
            out = _original(*a, **k)
            _sync(device)
            timed[_stage] += time.perf_counter() - start
            return out

        setattr(owner, method, timed_call)
    warm = args.warmup
    for f in range(warm):
        pipeline.step(f, frames[f % len(frames)])
    assert len(pipeline.tracker.live_ids) == n, f"expected {n} tracks, have {pipeline.tracker.live_ids}"
    timed.update(dict.fromkeys(timed, 0.0))
    _sync(device)
    start = time.perf_counter()
    for f in range(warm, warm + args.frames):
        pipeline.step(f, frames[f % len(frames)])
    _sync(device)
    seconds = time.perf_counter() - start
    fps = args.frames / seconds
    return {
        "fps": fps,
        "tracker_ms": timed["tracker"] / args.frames * 1000,
        "regressor_ms": timed["regressor"] / args.frames * 1000,
        "detector_calls": detector.calls,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto (cuda when available), cuda, cpu")
    parser.add_argument("--size", choices=("full", "tiny"), default=None, help="default: full on cuda, tiny on cpu")
    parser.add_argument("--sam2", default="base_plus", help="SAM2.1 variant at full size (tiny/small/base_plus/large)")
    parser.add_argument("--dtype", choices=("float32", "bfloat16", "float16"), default="float32")
    parser.add_argument("--mode", choices=("online", "offline"), default="online")
    parser.add_argument("--people", type=int, nargs="+", default=[1, 5, 10])
    parser.add_argument("--frames", type=int, default=30, help="timed frames per count")
    parser.add_argument("--warmup", type=int, default=12, help="frames before timing (fills the memory window)")
    parser.add_argument("--keyframe-interval", type=int, default=10)
    parser.add_argument("--no-detector", dest="detector", action="store_false", help="leave the detector's cost out")
    parser.add_argument("--video-size", type=int, nargs=2, default=[720, 1280], metavar=("H", "W"))
    args = parser.parse_args()
    device = resolve_device(args.device)
    if args.size is None:
        args.size = "full" if device.type == "cuda" else "tiny"
    height, width = args.video_size
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (height, width, 3), dtype=np.uint8) for _ in range(4)]
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    sam2 = f"SAM2.1 {args.sam2} at 1024 px" if args.size == "full" else "SAM2.1 test-size at 128 px"
    print(
        f"ram pipeline, {args.size} size ({sam2}, regressor {'ViT-H/16' if args.size == 'full' else 'tiny'}), "
        f"{args.dtype}, {args.mode}, video {width}x{height}, detector every {args.keyframe_interval} frames "
        f"{'on' if args.detector else 'off'}, on {name}"
    )
    if args.size == "tiny":
        print("  (test-size networks: a smoke figure, not comparable with the paper's full-size 10.32 frames/s)")
    for n in args.people:
        r = measure(args, n, device, frames)
        ratio = r["fps"] / PAPER_FPS
        print(
            f"{n:3d} people: {r['fps']:7.2f} frames/s ({1000 / r['fps']:7.1f} ms/frame: tracker {r['tracker_ms']:.1f}, "
            f"regressor {r['regressor_ms']:.1f}); {ratio:.2f}x the paper's {PAPER_FPS}"
            + (f"; goal {GOAL_FPS_AT_5:.0f} at 5 people: {r['fps'] / GOAL_FPS_AT_5:.2f}x" if n == 5 else "")
        )
        if device.type == "cuda":
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
