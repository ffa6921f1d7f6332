"""How late the `lite` backend first finds people entering the picture, per detector sweep (synthetic suite).

For each clip of the suite and each ``--sweep-frames`` value (``LiteConfig.sweep_frames``: 10 is the default
sweep, 1 runs every tile on every frame, the most the detector can do), runs ``LiteBackend`` on the clip and
prints the detector's tiles due and run per frame, landmark crops per frame, and for every entry of a person
(the first frame of each run of frames they are visible in: walking in, or coming out from behind something)
two delays in frames: until a detector box whose crop the landmark model confirmed lies on them (IoU >= 0.3
with their true box), and until a record of the capture does (looking back included). "-" where neither
happens within the run. When the delays at 1 are those at 10, the sweep is not what makes the person late:
the detector does not fire on them yet (mostly outside the picture), or their track is not confirmed yet.

    PYTHONPATH=. python benchmarks/entry_delays.py [--suite tests/data/synth] [--clips enter_leave,run] [--sweep-frames 10 1]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from ram_core.backends.base import camera_intrinsics
from ram_core.backends.lite.backend import DETECTOR_BOX, LiteBackend, LiteConfig
from ram_core.eval.capture import load_gt, visible_mask
from ram_core.perception.landmarks import LandmarkBatch
from ram_core.tracking.boxes import iou_matrix
from ram_core.video import iter_frames, open_video

ROOT = Path(__file__).resolve().parent.parent
ON_PERSON_IOU = 0.3


def capture(
    video: Path, cfg: LiteConfig, focal: float
) -> tuple[np.ndarray, dict[str, float], list[tuple[int, np.ndarray]]]:
    """The clip's records, per-frame counts (tiles due, tiles run, crops) and the detector boxes whose crop gave
    a pose, as (frame, box xyxy px)."""
    info = open_video(video)
    intrinsics, assumed = camera_intrinsics(info.width, info.height, focal)
    backend = LiteBackend(cfg=cfg)
    backend.open(info, intrinsics, assumed)
    detector = backend._detector
    assert detector is not None
    counts = {"due": 0.0, "run": 0.0, "crops": 0.0}
    sweep, detect = backend._sweep_regions, detector.detect_all

    def counted_sweep(everything: bool) -> list[tuple[int, int, int]]:
        regions = sweep(everything)
        counts["due"] += len(regions)
        return regions

    def counted_detect(image: np.ndarray, regions: list[tuple[int, int, int]] | None = None):
        counts["run"] += len(regions) if regions is not None else len(detector.tiles(*image.shape[1::-1]))
        return detect(image, regions)

    hits: list[tuple[int, np.ndarray]] = []
    now = [0]

    def on_crops(why: np.ndarray, boxes: np.ndarray, found: LandmarkBatch) -> None:
        counts["crops"] += len(why)
        hits.extend(
            (now[0], np.asarray(b, dtype=np.float64))
            for w, b, s in zip(why, boxes, found.score)
            if w == DETECTOR_BOX and s >= cfg.min_pose_score
        )

    backend._sweep_regions = counted_sweep  # type: ignore[method-assign]
    detector.detect_all = counted_detect  # type: ignore[method-assign]
    backend.on_crops = on_crops
    records = []
    frames = 0
    for index, image in iter_frames(video):
        now[0] = index
        records.append(backend.process(index, image))
        frames += 1
    records.append(backend.finish())
    backend.close()
    return np.concatenate(records), {k: v / max(frames, 1) for k, v in counts.items()}, hits


def entry_delays(gt: dict[str, np.ndarray], records: np.ndarray, hits: list[tuple[int, np.ndarray]]) -> list[str]:
    """``person@frame: detector +D, records +R`` for the first frame of each run of a person's visible frames."""
    visible = visible_mask(gt)
    truth = gt["box_amodal"].astype(np.float64)
    observed = records[~records["predicted"]]
    found = [(int(r["frame"]), r["box"].astype(np.float64)) for r in observed]

    def first(pairs: list[tuple[int, np.ndarray]], person: int, a: int, b: int) -> str:
        on = [
            f
            for f, box in pairs
            if a <= f <= b and iou_matrix(truth[person, f][None], box[None])[0, 0] >= ON_PERSON_IOU
        ]
        return f"+{min(on) - a}" if on else "-"

    out = []
    for person in range(visible.shape[0]):
        frames = np.flatnonzero(visible[person])
        starts = [f for f in frames if f == 0 or not visible[person, f - 1]]
        for a in starts:
            b = a
            while b + 1 < visible.shape[1] and visible[person, b + 1]:
                b += 1
            out.append(f"{person}@{a}: detector {first(hits, person, a, b)}, records {first(found, person, a, b)}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", type=Path, default=ROOT / "tests" / "data" / "synth")
    parser.add_argument("--clips", default="", help="comma-separated clip names (default: every clip)")
    parser.add_argument("--sweep-frames", type=int, nargs="+", default=[10, 1])
    args = parser.parse_args()
    names = [n for n in args.clips.split(",") if n] or sorted(
        p.name for p in args.suite.iterdir() if (p / "gt.npz").is_file()
    )
    for name in names:
        clip = args.suite / name
        if not (clip / "gt.npz").is_file() or not (clip / "clip.mp4").is_file():
            print(f"{clip}: no gt.npz and clip.mp4 there (pass --suite)", file=sys.stderr)
            return 2
        gt = load_gt(str(clip / "gt.npz"))
        focal = float(np.asarray(gt["intrinsics"])[0, 0])
        for sweep_frames in args.sweep_frames:
            cfg = replace(LiteConfig(), sweep_frames=sweep_frames)
            records, counts, hits = capture(clip / "clip.mp4", cfg, focal)
            tracks = len(np.unique(records["track_id"][~records["predicted"]]))
            print(
                f"{name} sweep {sweep_frames}: tiles due {counts['due']:.2f} run {counts['run']:.2f}, "
                f"crops {counts['crops']:.2f} a frame, {tracks} tracks; entries "
                + "; ".join(entry_delays(gt, records, hits)),
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
