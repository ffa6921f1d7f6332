"""2D keypoint error of the landmark model against synthetic ground truth, for several ways of choosing its crop.

Runs only the landmark model (no detector, no tracker) on the suite's clips, on every visible person-frame,
with the crop chosen by one of the ``STRATEGIES``, and scores the 2D keypoints it gives (``smpl_pixels``:
shoulders, elbows, wrists, hands, hips, knees, ankles, feet) against the ground truth's projected SMPL joints
(where the joint is visible), in pixels and as a fraction of the person's height (amodal box), per joint
group; and the world landmarks' 3D pose (``smpl_targets``, the baseline's joints) as PA-MPJPE in mm.

Chained strategies crop a person's frame from the model's own landmarks on that person's previous frame, as
a tracker does (the ground truth's visible box on their first frame and after a gap):

- ``box``: the ground truth's visible box, ``crop_scale`` 1.25 (the suite's baseline).
- ``box-exact``: the same square, its centre and side not rounded to whole pixels (resampled).
- ``lite``: the previous landmarks' padded box (``landmark_boxes``) scaled by ``roi_scale`` 1.07, then the
  square crop 1.25 times its longer side (the lite backend's crop, less the Kalman prediction).
- ``mp``: MediaPipe's region of interest from the previous landmarks' auxiliary hip centre and body-circle
  points (``roi_from_landmarks``): centred on the hips, side 2.5 times the circle radius, rotated upright.
- ``mp-axis``: the same, not rotated.

``--kept DIR`` scores instead the 2D keypoints a kept suite run's records carry (``DIR/<clip>/raw.ram.npz``),
each track on the person the capture scorer matched it to; ``--bias`` prints each joint's mean signed error.

Run: ``PYTHONPATH=. python benchmarks/landmark_rois.py [--suite tests/data/synth] [--clips a,b|all]
[--strategies box,lite,mp] [--scale 1.25] [--flip] [--bias] [--kept DIR]``. Findings: docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from ram_core.backends.records import rest_skeleton
from ram_core.body.blazepose import smpl_pixels, smpl_targets
from ram_core.contract.results import load_results
from ram_core.contract.skeleton import JOINT_INDEX, JOINT_NAMES
from ram_core.eval.capture import dense_tracks, load_gt, match, visible_mask
from ram_core.eval.pose import procrustes_align
from ram_core.perception.landmarks import LandmarkConfig, PoseLandmarker, box_rois, roi_from_landmarks
from ram_core.perception.people import landmark_boxes
from ram_core.tracking.boxes import scale_boxes
from ram_core.video import iter_frames

ROOT = Path(__file__).resolve().parents[1]
GROUPS = {
    "torso": ("left_shoulder", "right_shoulder", "left_hip", "right_hip"),
    "arms": ("left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hand", "right_hand"),
    "legs": ("left_knee", "right_knee", "left_ankle", "right_ankle", "left_foot", "right_foot"),
}
SCORED = np.isin(np.arange(24), [JOINT_INDEX[j] for joints in GROUPS.values() for j in joints])
STRATEGIES = ("box", "lite", "mp", "mp-axis")
BOX_PAD, BOX_ASPECT, ROI_SCALE = (0.1, 0.05, 0.03), 0.35, 1.07  # the lite backend's (LiteConfig)


def rois_for(strategy: str, gt_box: np.ndarray, previous: dict[str, np.ndarray] | None, scale: float) -> np.ndarray:
    """One person's ROI (cx, cy, side, angle) for ``strategy``; ``previous``: their last frame's outputs or None."""
    if strategy == "box-exact":  # the box's own centre and scaled side, resampled (no rounding)
        side = scale * float(np.max(gt_box[2:] - gt_box[:2]))
        return np.array([*(gt_box[:2] + gt_box[2:]) / 2, side, 1e-9])
    if strategy == "box" or previous is None:
        return box_rois(gt_box[None], scale)[0]
    if strategy == "lite":
        box = scale_boxes(landmark_boxes(previous["image"][None], BOX_PAD, BOX_ASPECT), ROI_SCALE)
        return box_rois(box, scale)[0]
    roi = roi_from_landmarks(previous["aux"][None], scale)[0]
    if strategy == "mp-axis":
        roi[3] = 0.0
    return roi


def run_clip(
    clip: Path, model: PoseLandmarker, strategy: str, scale: float, flip: bool, rest: np.ndarray
) -> dict[str, list[np.ndarray]]:
    gt = load_gt(clip / "gt.npz")
    vis = visible_mask(gt)
    last: dict[int, tuple[int, dict[str, np.ndarray]]] = {}
    out: dict[str, list[np.ndarray]] = {"err": [], "d": [], "w": [], "height": [], "pa": []}
    for t, image in iter_frames(clip / "clip.mp4", 0, vis.shape[1]):
        who = np.flatnonzero(vis[:, t])
        if not who.size:
            continue
        rois = []
        for p in who:
            prev = last.get(int(p))
            prev_out = prev[1] if prev is not None and prev[0] == t - 1 else None
            rois.append(rois_for(strategy, gt["box_visible"][p, t].astype(np.float64), prev_out, scale))
        batch = model.estimate_rois(image, np.array(rois), flip=flip)
        pix = smpl_pixels(batch.image, batch.visibility * batch.presence)
        truth2d = gt["joints_2d"][who, t].astype(np.float64)
        err = np.linalg.norm(pix[..., :2] - truth2d, axis=-1)
        w = gt["joint_visible"][who, t] & SCORED[None]
        box = gt["box_amodal"][who, t]
        out["err"].append(err)
        out["d"].append(pix[..., :2] - truth2d)
        out["w"].append(w)
        out["height"].append((box[:, 3] - box[:, 1]).astype(np.float64))
        targets = smpl_targets(batch.world, batch.visibility, rest)
        truth3d = gt["joints_cam"][who, t].astype(np.float64)
        aligned = procrustes_align(targets.joints, truth3d)
        out["pa"].append(1000 * np.linalg.norm(aligned - truth3d, axis=-1).mean(axis=1))
        for k, p in enumerate(who):
            last[int(p)] = (t, {"image": batch.image[k], "aux": batch.aux[k]})
    return out


def score_kept(clip: Path, records: Path) -> dict[str, list[np.ndarray]]:
    """The same figures (no PA) for the 2D keypoints a capture's records carry (``raw.ram.npz`` of a kept
    suite run), each track's frames scored against the person it was matched to there."""
    gt = load_gt(clip / "gt.npz")
    results = load_results(records)
    n_frames = int(gt["present"].shape[1])
    ids, _joints, boxes = dense_tracks(results, n_frames)
    gt_boxes = np.where(gt["present"][..., None], gt["box_amodal"].astype(np.float64), np.nan)
    assign, _dup = match(gt_boxes, boxes)
    out: dict[str, list[np.ndarray]] = {"err": [], "w": [], "height": [], "pa": []}
    column = {int(tid): k for k, tid in enumerate(ids.tolist())}
    for track in results.tracks:
        k = column[track.track_id]
        frames = np.asarray(track.frame)
        person = assign[:, frames]  # (P, n): which person each frame was matched to
        keys = np.asarray(track.arrays()["keypoints_2d"])
        real = ~np.asarray(track.predicted, bool)
        for p in range(len(gt_boxes)):
            on = (person[p] == k) & real
            if not on.any():
                continue
            f = frames[on]
            err = np.linalg.norm(keys[on, :, :2] - gt["joints_2d"][p, f], axis=-1)
            out["err"].append(err)
            out["w"].append(gt["joint_visible"][p, f] & SCORED[None] & (keys[on, :, 2] > 0))
            box = gt["box_amodal"][p, f]
            out["height"].append((box[:, 3] - box[:, 1]).astype(np.float64))
    out["pa"].append(np.full(1, np.nan))
    return out


def summary(parts: dict[str, list[np.ndarray]]) -> dict[str, float]:
    err, w = np.concatenate(parts["err"]), np.concatenate(parts["w"])
    height = np.concatenate(parts["height"])
    rel = err / height[:, None]
    row = {"px": float(err[w].mean()), "med": float(np.median(err[w])), "%h": float(100 * rel[w].mean())}
    for name, joints in GROUPS.items():
        idx = [JOINT_INDEX[j] for j in joints]
        m = w[:, idx]
        row[name] = float(err[:, idx][m].mean())
    row["PA"] = float(np.concatenate(parts["pa"]).mean())
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", type=Path, default=ROOT / "tests" / "data" / "synth")
    parser.add_argument("--clips", default="couple,pillar,toward_away,crouch")
    parser.add_argument("--strategies", default="box,lite,mp")
    parser.add_argument("--scale", type=float, default=1.25)
    parser.add_argument("--flip", action="store_true")
    parser.add_argument("--bias", action="store_true", help="print each scored joint's mean signed error")
    parser.add_argument("--kept", type=Path, help="score the records of a kept suite run (DIR/<clip>/raw.ram.npz)")
    args = parser.parse_args(argv)
    clips = [args.suite / n for n in args.clips.split(",") if n] if args.clips != "all" else None
    if clips is None:
        clips = sorted(p for p in args.suite.iterdir() if (p / "gt.npz").is_file())
    rest = rest_skeleton(None).joints
    model = PoseLandmarker(LandmarkConfig())
    print("strategy  clip               px    med     %h  torso   arms   legs  PA mm   ms/crop")
    for strategy in ["kept"] if args.kept else args.strategies.split(","):
        every: dict[str, list[np.ndarray]] = {"err": [], "d": [], "w": [], "height": [], "pa": []}
        for clip in clips:
            start = time.perf_counter()
            if args.kept:
                parts = score_kept(clip, args.kept / clip.name / "raw.ram.npz")
            else:
                parts = run_clip(clip, model, strategy, args.scale, args.flip, rest)
            ms = 1000 * (time.perf_counter() - start) / max(1, sum(len(e) for e in parts["err"]))
            for key in every:
                every[key] += parts.get(key, [])
            r = summary(parts)
            print(
                f"{strategy:9s} {clip.name:15s} {r['px']:6.2f} {r['med']:6.2f} {r['%h']:6.2f} {r['torso']:6.2f} {r['arms']:6.2f}"
                f" {r['legs']:6.2f} {r['PA']:6.1f}  {ms:6.1f}"
            )
        r = summary(every)
        if args.bias and every["d"]:
            d, w = np.concatenate(every["d"]), np.concatenate(every["w"])
            for j in np.flatnonzero(SCORED):
                m = w[:, j]
                print(f"    bias {JOINT_NAMES[j]:15s} dx {d[m, j, 0].mean():+5.2f} dy {d[m, j, 1].mean():+5.2f} px")
        print(
            f"{strategy:9s} {'ALL':15s} {r['px']:6.2f} {r['med']:6.2f} {r['%h']:6.2f} {r['torso']:6.2f} {r['arms']:6.2f}"
            f" {r['legs']:6.2f} {r['PA']:6.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
