"""Where a capture loses people against synthetic ground truth: identity losses, duplicates, coverage misses.

Run: ``PYTHONPATH=. python tools/identity_losses.py GT.npz OUT.ram.npz [...more GT OUT pairs]``

Matching is the capture scorer's (``ram_core.eval.capture.match``: per frame Hungarian on amodal box IoU).
For every person it prints their visible frames, the frames on their main track, and runs of frames that
count against them, each with its cause as far as the records show it:

- ``other T (obs|fill)``: matched to track T, not the main one (an identity loss); ``fill`` when T's records
  there are gap fills (``predicted``).
- ``dup T (obs|fill)``: a second track T on them (box IoU >= 0.5) beside the matched one.
- ``miss (before-first|after-last|gap)``: visible but unmatched; before-first: before any track was matched to them (detection delay), after-last: after the last match,
  gap: between matches (the track lost them and nothing filled or coasted).
Each run also gives the mean unoccluded fraction of the person (``visible_fraction``: others hiding them)
and the mean fraction of their amodal box inside the frame. Then the number of tracks against people.

``--probe`` also runs the `lite` backend's models on each run's frames (the clip's video is ``clip.mp4`` beside
the ground truth): the landmark model on the person's true box, as a track's own crop would be (padded beyond
the picture's edge), gives its pose flag (the backend keeps a pose from 0.5) and says on how many frames that
pose lies on them (``whose_pose``: closest to their true joints of everybody in the picture, within ``ON_PERSON``
of their height), then again with the others painted out (each as the landmark model finds them in their own
true box where that pose is closest to them, as the backend paints the people it found): a flag of 1.0 on someone else says nothing about this person
(a person behind another gets the front one's pose). The detector over the whole frame says on how many frames
one of its boxes lies on the person's visible box (IoU at least 0.5).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ram_core.contract.results import load_results
from ram_core.eval.capture import (
    DUPLICATE_IOU,
    amodal_boxes,
    dense_predicted,
    dense_tracks,
    load_gt,
    match,
    visible_mask,
)
from ram_core.tracking.boxes import inside_fraction, iou_matrix

#: Joints that BlazePose's landmarks and the ground truth's SMPL joints both name, at about the same place.
SHARED_JOINTS = tuple(
    f"{side}_{part}" for part in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle") for side in ("left", "right")
)
#: A pose lies on a person when its shared joints are within this fraction of the person's box height of theirs
#: (median): the landmark model's own error on a person in plain view is about 0.03.
ON_PERSON = 0.05


def whose_pose(
    points: np.ndarray, names: list[str], joints: np.ndarray, joint_names: list[str], heights: np.ndarray
) -> tuple[int, float]:
    """The person a pose lies on and how far it is from them.

    ``points`` ``(L, 2)``: the pose's landmark pixels, named ``names``; ``joints`` ``(P, J, 2)``: everybody's true
    joint pixels (NaN for anyone not in the picture), named ``joint_names``; ``heights`` ``(P,)``: their box heights.
    Returns the person whose ``SHARED_JOINTS`` lie closest (median distance over their height) and that distance;
    (-1, inf) when nobody is in the picture.
    """
    mine = np.asarray(points, dtype=np.float64)[[names.index(n) for n in SHARED_JOINTS]]
    theirs = np.asarray(joints, dtype=np.float64)[:, [joint_names.index(n) for n in SHARED_JOINTS]]
    far = np.median(np.linalg.norm(theirs - mine[None], axis=-1), axis=1) / np.maximum(np.asarray(heights), 1e-9)
    far = np.where(np.isfinite(far), far, np.inf)
    if not len(far) or not np.isfinite(far.min()):
        return -1, float("inf")
    best = int(np.argmin(far))
    return best, float(far[best])


def _runs(labels: list[str | None]) -> list[tuple[int, int, str]]:
    """(first, last, label) of each run of equal non-None labels."""
    out: list[tuple[int, int, str]] = []
    for f, lab in enumerate(labels):
        if lab is None:
            continue
        if out and out[-1][2] == lab and out[-1][1] == f - 1:
            out[-1] = (out[-1][0], f, lab)
        else:
            out.append((f, f, lab))
    return out


class Probe:
    """The `lite` backend's landmark model and detector, run on a run of frames of one person (``--probe``)."""

    def __init__(self) -> None:
        from ram_core.backends.lite.backend import LiteConfig
        from ram_core.perception.blazepose_detector import PersonDetector
        from ram_core.perception.landmarks import PoseLandmarker

        self.cfg = LiteConfig()
        self.landmarks = PoseLandmarker(self.cfg.landmarks)
        self.detector = PersonDetector(self.cfg.detector)
        self.frames: dict[int, np.ndarray] = {}

    def load(self, video: str, count: int) -> None:
        from ram_core.video import iter_frames

        self.frames = dict(iter_frames(video, 0, count))

    def __call__(self, gt: dict[str, np.ndarray], person: int, frames: range) -> str:
        """The pose flags' range on ``person``'s true box over ``frames``, the frames its pose lies on them (alone and
        with the others painted out) and the detector's hits on them."""
        from ram_core.body.blazepose import LANDMARK_NAMES
        from ram_core.perception.blazepose_detector import person_boxes
        from ram_core.perception.people import paint_people
        from ram_core.tracking.boxes import scale_boxes

        amodal = gt["box_amodal"].astype(np.float64)
        names, joint_names = list(LANDMARK_NAMES), [str(n) for n in gt["joint_names"]]
        flags, hits, on, on_alone, shown = [], 0, 0, 0, 0
        for t in frames:
            here = np.flatnonzero(gt["present"][:, t] & np.all(np.isfinite(amodal[:, t]), axis=1))
            if t not in self.frames or person not in here:
                continue
            image = self.frames[t]
            crops = scale_boxes(amodal[here, t], self.cfg.roi_scale)
            poses = self.landmarks.estimate(image, crops)
            joints = np.where(gt["present"][:, t, None, None], gt["joints_2d"][:, t].astype(np.float64), np.nan)
            heights = amodal[:, t, 3] - amodal[:, t, 1]
            mine = int(np.flatnonzero(here == person)[0])
            flags.append(float(poses.score[mine]))
            who, far = whose_pose(poses.image[mine], names, joints, joint_names, heights)
            on += who == person and far < ON_PERSON
            others = [
                k
                for k in range(len(here))
                if k != mine
                and poses.score[k] >= self.cfg.min_pose_score
                and whose_pose(poses.image[k], names, joints, joint_names, heights)[0] == here[k]
            ]
            painted = paint_people(image, poses.image[others], self.cfg.paint_width)
            alone = self.landmarks.estimate(painted, crops[mine : mine + 1])
            if alone.score[0] >= self.cfg.min_pose_score:
                shown += 1
                who, far = whose_pose(alone.image[0], names, joints, joint_names, heights)
                on_alone += who == person and far < ON_PERSON
            found = person_boxes(self.detector.detect_all(image).keypoints, self.cfg.detector.box_aspect)
            seen = np.nan_to_num(gt["box_visible"][person, t].astype(np.float64))[None]
            hits += bool(len(found) and iou_matrix(seen, found.astype(np.float64)).max() >= 0.5)
        if not flags:
            return ""
        return (
            f"; pose flag on the true box {min(flags):.2f}-{max(flags):.2f}, on them on {on} of {len(flags)},"
            f" others painted out: a pose on {shown}, on them on {on_alone}; detector on {hits} of {len(flags)}"
        )


def report(gt_path: str, results_path: str, probe: Probe | None = None) -> str:
    """The text report of one clip."""
    gt = load_gt(gt_path)
    results = load_results(results_path)
    p, f = gt["present"].shape
    ids, _joints, boxes = dense_tracks(results, f)
    predicted = dense_predicted(results, f)
    gt_boxes = amodal_boxes(gt)
    assign, _dup = match(gt_boxes, boxes)
    vis = visible_mask(gt)
    vfrac = np.nan_to_num(gt.get("visible_fraction", np.ones((p, f))))
    w, h = (int(v) for v in gt["image_size"])
    inside = np.nan_to_num(inside_fraction(np.nan_to_num(gt_boxes.reshape(-1, 4)), w, h).reshape(p, f))
    lines = [f"{results_path}: {p} people, {len(ids)} tracks ({', '.join(str(i) for i in ids)})"]
    if probe is not None:
        probe.load(str(Path(gt_path).with_name("clip.mp4")), f)
    totals = {"visible": 0, "on_main": 0, "dup": 0, "miss": 0}
    for i in range(p):
        track = np.where(vis[i], assign[i], -1)
        counts = np.bincount(track[track >= 0], minlength=max(len(ids), 1))
        main = int(np.argmax(counts)) if counts.sum() else -1
        matched = np.flatnonzero(track >= 0)
        labels: list[str | None] = [None] * f
        for t in range(f):
            if not vis[i, t]:
                continue
            k = track[t]
            if k < 0:
                where = (
                    "before-first" if not len(matched) or t < matched[0] else "after-last" if t > matched[-1] else "gap"
                )
                labels[t] = f"miss ({where})"
            elif k != main:
                labels[t] = f"other {ids[k]} ({'fill' if predicted[k, t] else 'obs'})"
            others = [c for c in range(len(ids)) if c != k and np.all(np.isfinite(boxes[c, t]))]
            for c in others:
                if k >= 0 and iou_matrix(gt_boxes[i, t], boxes[c, t])[0, 0] >= DUPLICATE_IOU:
                    claimed = any(assign[j, t] == c for j in range(p))
                    if not claimed:
                        lab = f"dup {ids[c]} ({'fill' if predicted[c, t] else 'obs'})"
                        labels[t] = lab if labels[t] is None else f"{labels[t]} + {lab}"
        visible = int(vis[i].sum())
        on_main = int((track == main).sum()) if main >= 0 else 0
        miss = int((vis[i] & (track < 0)).sum())
        dups = sum(1 for lab in labels if lab and "dup" in lab)
        totals["visible"] += visible
        totals["on_main"] += on_main
        totals["miss"] += miss
        totals["dup"] += dups
        main_id = ids[main] if main >= 0 else "-"
        lines.append(
            f"  person {i}: visible {visible}, main track {main_id} on {on_main} "
            f"({on_main / max(visible, 1):.3f}), missed {miss}, duplicate frames {dups}"
        )
        for a, b, lab in _runs(labels):
            v, n = float(vfrac[i, a : b + 1].mean()), float(inside[i, a : b + 1].mean())
            seen = probe(gt, i, range(a, b + 1)) if probe is not None else ""
            lines.append(f"    {a:4d}-{b:<4d} {lab} (not occluded {v:.2f}, in frame {n:.2f}{seen})")
    lines.append(
        f"  total: visible {totals['visible']}, on main {totals['on_main']}, missed {totals['miss']}, "
        f"duplicate frames {totals['dup']}, tracks {len(ids)} for {p} people"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", nargs="+", help="GT.npz OUT.ram.npz, repeated")
    parser.add_argument("--probe", action="store_true", help="run the lite backend's models on each run's frames")
    args = parser.parse_args(argv)
    if len(args.pairs) % 2:
        print("give ground truth and results in pairs", file=sys.stderr)
        return 2
    probe = Probe() if args.probe else None
    for g, r in zip(args.pairs[::2], args.pairs[1::2]):
        print(report(g, r, probe))
    return 0


if __name__ == "__main__":
    sys.exit(main())
