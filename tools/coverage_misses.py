"""Which visible person-frames of a synthetic-suite capture no track covers, or another track covers, and why.

For each clip of a ``benchmarks/synthetic_suite.py --keep DIR`` folder (``DIR/<clip>/lite.ram.npz``; the suite's
``gt.npz``), matched as the suite's scorer matches (``ram_core.eval.capture``: per frame Hungarian on amodal box
IoU, at least ``MIN_IOU``): per person, their visible frames, how many lie on their main track, and each frame that
does not, with the person's visible fraction (occlusion), the share of their amodal box inside the picture, the
best-overlapping track there and whether that record is observed or predicted. ``--probe`` also runs the models on
each such frame: the landmark model on the person's true box (as a track's crop would be, padded beyond the
picture's edge) -> its pose flag and how well its landmark box fits the true one, and the detector over the whole
frame -> the best IoU of its boxes with the person's visible box::

    PYTHONPATH=. python tools/coverage_misses.py DIR [--suite tests/data/synth] [--clips a,b] [--probe]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ram_core.contract.results import load_results
from ram_core.eval.capture import dense_tracks, load_gt, match, visible_mask
from ram_core.scene.edges import inside_fraction
from ram_core.tracking.boxes import iou_matrix, scale_boxes


def frames_of(video: Path, wanted: set[int]) -> dict[int, np.ndarray]:
    """The decoded frames ``wanted`` of ``video`` (BGR)."""
    import cv2

    cap = cv2.VideoCapture(str(video))
    out, index = {}, 0
    while wanted - out.keys():
        ok, image = cap.read()
        if not ok:
            break
        if index in wanted:
            out[index] = image
        index += 1
    cap.release()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("keep", type=Path, help="a synthetic_suite.py --keep folder")
    parser.add_argument("--suite", type=Path, default=ROOT / "tests" / "data" / "synth")
    parser.add_argument("--clips", default="", help="comma-separated clip names (default: all in KEEP)")
    parser.add_argument("--probe", action="store_true", help="run the landmark model and the detector on them")
    args = parser.parse_args(argv)
    clips = [c for c in args.clips.split(",") if c] or sorted(p.parent.name for p in args.keep.glob("*/lite.ram.npz"))
    probe = None
    if args.probe:
        from ram_core.backends.lite.backend import LiteConfig
        from ram_core.perception.blazepose_detector import PersonDetector, person_boxes
        from ram_core.perception.landmarks import PoseLandmarker
        from ram_core.perception.people import landmark_boxes

        cfg = LiteConfig()
        probe = (PoseLandmarker(cfg.landmarks), PersonDetector(cfg.detector))
    for clip in clips:
        gt = load_gt(args.suite / clip / "gt.npz")
        width, height = (float(v) for v in np.asarray(gt["image_size"]))
        results = load_results(args.keep / clip / "lite.ram.npz")
        people, count = gt["present"].shape
        ids, _, boxes = dense_tracks(results, count)
        predicted = np.zeros((len(ids), count), dtype=bool)
        for k, t in enumerate(results.tracks):
            keep = (t.frame >= 0) & (t.frame < count)
            predicted[k, t.frame[keep][t.predicted[keep]]] = True
        truth = np.where(gt["present"][..., None], gt["box_amodal"].astype(np.float64), np.nan)
        assign, _ = match(truth, boxes)
        vis = visible_mask(gt)
        fraction = np.nan_to_num(gt["visible_fraction"]) if "visible_fraction" in gt else np.ones((people, count))
        print(f"== {clip}: {len(ids)} tracks for {people} people")
        rows: list[tuple[int, int, str]] = []
        for p in range(people):
            on = assign[p][vis[p] & (assign[p] >= 0)]
            main = int(np.bincount(on).argmax()) if len(on) else -1
            off = np.flatnonzero(vis[p] & (assign[p] != main))
            print(
                f" person {p}: visible {int(vis[p].sum())}, on track {ids[main] if main >= 0 else '-'} "
                f"{int((assign[p][vis[p]] == main).sum())}, missed {int((vis[p] & (assign[p] < 0)).sum())}, "
                f"on another track {int((vis[p] & (assign[p] >= 0) & (assign[p] != main)).sum())}"
            )
            for f in off:
                iou = iou_matrix(truth[p, f][None], np.nan_to_num(boxes[:, f], nan=-1e6))[0] if len(ids) else []
                best = int(np.argmax(iou)) if len(iou) and iou.max() > 0 else -1
                what = "missed" if assign[p, f] < 0 else f"track {ids[assign[p, f]]}"
                near = (
                    f"best track {ids[best]} IoU {iou[best]:.2f}{' predicted' if predicted[best, f] else ''}"
                    if best >= 0
                    else "no track on them"
                )
                line = (
                    f"   frame {f:4d} {what:9s} visible {fraction[p, f]:.2f} "
                    f"in picture {inside_fraction(truth[p, f], width, height)[0]:.2f} {near}"
                )
                rows.append((int(f), p, line))
        if probe is not None and rows:
            images = frames_of(args.suite / clip / "clip.mp4", {f for f, _, _ in rows})
            landmarker, detector = probe
            for i, (f, p, line) in enumerate(rows):
                if f not in images:
                    continue
                pose = landmarker.estimate(images[f], scale_boxes(truth[p, f][None], cfg.roi_scale))
                fitted = iou_matrix(truth[p, f][None], landmark_boxes(pose.image, cfg.box_pad, cfg.box_aspect))[0, 0]
                found = person_boxes(detector.detect_all(images[f]).keypoints, cfg.detector.box_aspect)
                seen = gt["box_visible"][p, f].astype(np.float64)[None]
                hit = iou_matrix(seen, found.astype(np.float64)).max() if len(found) else 0.0
                rows[i] = (
                    f,
                    p,
                    f"{line} | pose flag on the true box {pose.score[0]:.2f} (landmark box IoU "
                    f"{fitted:.2f}), detector IoU {hit:.2f}",
                )
        for _, _, line in sorted(rows, key=lambda r: (r[1], r[0])):
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
