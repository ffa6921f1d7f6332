"""Which observed records of a capture are mixed skeletons: one person's upper body joined to another's legs.

Run: ``PYTHONPATH=. python tools/mixed_skeletons.py GT.npz OUT.ram.npz [...more GT OUT pairs]``

For every observed (not gap-filled) record, the upper body's 2D joints (head, neck, shoulders, elbows, wrists)
and the legs' (knees, ankles, feet) are each matched to the ground-truth person whose projected joints lie
nearest (mean pixel distance over the joints the record saw). A record is mixed when the two halves are nearest
to two different people. Each mixed record is printed with its box's height and width/height beside the
track's median over its previous 10 observed records, the cues a tracker could see without ground truth.
"""

from __future__ import annotations

import argparse

import numpy as np

from ram_core.contract.results import load_results
from ram_core.contract.skeleton import JOINT_INDEX
from ram_core.eval.capture import load_gt

UPPER = [JOINT_INDEX[n] for n in ("head", "neck", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow")]
LOWER = [JOINT_INDEX[n] for n in ("left_knee", "right_knee", "left_ankle", "right_ankle", "left_foot", "right_foot")]


def nearest_person(points: np.ndarray, seen: np.ndarray, gt_2d: np.ndarray, present: np.ndarray) -> tuple[int, float]:
    """The ground-truth person (index) whose joints ``gt_2d`` (P, J, 2) lie nearest the record's ``points`` (J, 2)
    on the joints ``seen`` (J,) bool, and the mean distance (px); (-1, inf) when none is present or nothing seen."""
    if not seen.any() or not present.any():
        return -1, float("inf")
    d = np.linalg.norm(gt_2d[:, seen] - points[seen][None], axis=-1).mean(axis=1)
    d = np.where(present, d, np.inf)
    return int(np.argmin(d)), float(d.min())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pairs", nargs="+", help="GT.npz OUT.ram.npz pairs")
    args = ap.parse_args()
    if len(args.pairs) % 2:
        ap.error("give GT and OUT in pairs")
    for gt_path, out_path in zip(args.pairs[::2], args.pairs[1::2]):
        gt = load_gt(gt_path)
        results = load_results(out_path)
        total = mixed = 0
        print(out_path)
        for track in results.tracks:
            heights = track.box[:, 3] - track.box[:, 1]
            aspect = (track.box[:, 2] - track.box[:, 0]) / np.maximum(heights, 1e-6)
            observed = np.flatnonzero(~track.predicted)
            for k, i in enumerate(observed):
                f = int(track.frame[i])
                points, conf = track.keypoints_2d[i, :, :2], track.keypoints_2d[i, :, 2]
                present = gt["present"][:, f]
                up, up_d = nearest_person(points[UPPER], conf[UPPER] > 0.5, gt["joints_2d"][:, f][:, UPPER], present)
                lo, lo_d = nearest_person(points[LOWER], conf[LOWER] > 0.5, gt["joints_2d"][:, f][:, LOWER], present)
                total += 1
                if up < 0 or lo < 0 or up == lo:
                    continue
                mixed += 1
                before = observed[max(0, k - 10) : k]
                h_med = float(np.median(heights[before])) if len(before) else float("nan")
                a_med = float(np.median(aspect[before])) if len(before) else float("nan")
                print(
                    f"  track {track.track_id} frame {f}: upper body person {up} ({up_d:.0f} px), legs person {lo} "
                    f"({lo_d:.0f} px); height {heights[i]:.0f} px ({heights[i] / h_med:.2f} x the track's median), "
                    f"width/height {aspect[i]:.2f} (median {a_med:.2f}), score {track.confidence[i]:.2f}"
                )
        print(f"  {mixed} mixed of {total} observed records")


if __name__ == "__main__":
    main()
