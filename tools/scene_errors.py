"""Where a capture's person heights and camera height go wrong, against synthetic ground truth.

Run: ``PYTHONPATH=. python tools/scene_errors.py SUITE KEPT [--clips a,b]``, ``SUITE`` the suite's folder
(``tests/data/synth``) and ``KEPT`` a ``benchmarks/synthetic_suite.py --keep`` folder holding each clip's raw records
(``KEPT/<clip>/raw.ram.npz``). Each clip's records go through this code's refinement up to the scene solve
(``ram_core.scene.refine.unsolved``), then the solve runs twice: as the capture runs it, and with the ground
truth's floor normal given (``SceneOptions.known_up``). Per clip it prints the floor angle and the camera height's
error both ways and the part the heights' prior alone implies (people are assumed 1.70 m on average, so a clip of
taller people gets a camera that much lower: 1.70 m over their geometric mean height); per track, the person
matched to it (most summed box IoU), their true height and the solved height's error both ways, and the error
relative to the clip's people (their common factor, which only the prior sets, divided out).

What is left once the true normal is given is the prior's part and the image's height measurement; what the
solved normal adds is its pitch (a floor seen nearly edge-on turns a degree into several percent).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np

from ram_core.contract.results import Results, load_results
from ram_core.eval.capture import load_gt
from ram_core.scene.refine import unsolved
from ram_core.scene.solve import SceneOptions, camera_pose, solve_scene
from ram_core.tracking.boxes import iou_matrix


def matched_person(gt: dict[str, np.ndarray], frames: np.ndarray, boxes: np.ndarray) -> int:
    """The ground-truth person whose amodal boxes overlap a track's ``boxes`` ``(T, 4)`` most over its ``frames``."""
    n_people, n_frames = gt["present"].shape
    score = np.zeros(n_people)
    for f, box in zip(frames, boxes.astype(np.float64)):
        if 0 <= f < n_frames:
            here = gt["present"][:, f].astype(bool)
            score[here] += iou_matrix(gt["box_amodal"][here, f].astype(np.float64), box[None])[:, 0]
    return int(np.argmax(score))


def clip_report(name: str, gt: dict[str, np.ndarray], raw: Results) -> list[str]:
    """The lines for one clip (see the module docstring)."""
    pre = unsolved(raw)
    truth = gt["floor_cam"].astype(np.float64)
    solved = solve_scene(pre)
    given = solve_scene(pre, dataclasses.replace(SceneOptions(), known_up=tuple(float(v) for v in truth[:3])))
    heights = gt["heights"].astype(np.float64)
    prior = 100 * (1.70 / float(np.exp(np.mean(np.log(heights)))) - 1)
    lines = [
        f"{name}: people {', '.join(f'{h:.2f}' for h in heights)} m; the prior's part of the camera height {prior:+.1f} %"
    ]
    for label, scene in (("solved", solved), ("true normal", given)):
        if scene.floor_cam is None:
            lines.append(f"  {label:12s} {scene.status}")
            continue
        angle = float(np.degrees(np.arccos(np.clip(scene.floor_cam[:3] @ truth[:3], -1.0, 1.0))))
        height, pitch, _ = camera_pose(scene.floor_cam)
        lines.append(
            f"  {label:12s} floor {angle:.2f} deg (pitch {pitch:.1f}, true {camera_pose(truth)[1]:.1f}), "
            f"camera {height:.2f} m ({100 * (height / truth[3] - 1):+.1f} %)"
        )
    rows = []
    for t in pre.tracks:
        if not len(t) or t.track_id not in solved.heights:
            continue
        person = matched_person(gt, t.frame, t.box)
        rows.append((t.track_id, person, solved.heights[t.track_id], given.heights[t.track_id], heights[person]))
    if rows:
        ratio = np.log(np.array([[r[2] / r[4], r[3] / r[4]] for r in rows]))
        common = ratio.mean(axis=0)
        for (track_id, person, ours, with_true, true), rel in zip(rows, ratio - common):
            lines.append(
                f"  track {track_id:3d} -> person {person}: {true:.2f} m; solved {100 * (ours / true - 1):+5.1f} %, "
                f"true normal {100 * (with_true / true - 1):+5.1f} %; relative to the clip's people "
                f"{100 * rel[0]:+5.1f} % / {100 * rel[1]:+5.1f} %"
            )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("suite", type=Path)
    ap.add_argument("kept", type=Path)
    ap.add_argument("--clips", help="clip names, comma-separated (default: every clip folder of the suite)")
    args = ap.parse_args()
    names = args.clips.split(",") if args.clips else sorted(p.parent.name for p in args.suite.glob("*/gt.npz"))
    for name in names:
        raw = args.kept / name / "raw.ram.npz"
        if not raw.is_file():
            print(f"{name}: no {raw}")
            continue
        print("\n".join(clip_report(name, load_gt(args.suite / name / "gt.npz"), load_results(raw))))


if __name__ == "__main__":
    main()
