"""Which refinement step turns a body round: each person-frame's heading error after every step.

Run: ``PYTHONPATH=. python tools/heading_stages.py SUITE KEPT [--clips a,b]``, ``KEPT`` a
``benchmarks/synthetic_suite.py --keep`` folder (``KEPT/<clip>/raw.ram.npz``). For each clip it refines the raw
records step by step (relink, unstack, gaps, edges, depth, heading, solve, plant, fit: ``ram_core.scene.refine``) and prints
per ground-truth person one line per step: a character per frame for how far the best rotation of that step's
matched joints onto the truth turns about the floor's normal (``.`` under 30 degrees, ``o`` under 60, ``X`` over 60,
space unmatched), then the matched record's kind (``p`` predicted, ``.`` observed) and the truth's visible fraction
(0-9). A count of turned frames per step ends each clip.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ram_core.contract.results import Results, load_results
from ram_core.eval.capture import amodal_boxes, dense_predicted, dense_tracks, load_gt, match, visible_mask
from ram_core.scene.contact import plant_feet
from ram_core.scene.depth import smooth_depth
from ram_core.scene.edges import extend_at_edges
from ram_core.scene.fit import fit_motion
from ram_core.scene.gaps import fill_track_gaps
from ram_core.scene.heading import refill_turned
from ram_core.scene.relink import relink_tracks
from ram_core.scene.solve import solve_and_apply
from ram_core.scene.stacked import unstack_tracks

sys.path.insert(0, str(Path(__file__).parent))
from pose_errors import best_rotation, heading_and_tilt


def stages(raw: Results) -> list[tuple[str, Results]]:
    """``raw`` after each refinement step, in ``ram_core.scene.refine``'s order."""
    out = [("raw", raw)]
    relinked = relink_tracks(raw)
    out.append(("relink", relinked))
    unstacked, behind = unstack_tracks(relinked)
    out.append(("unstack", unstacked))
    out.append(("gaps", fill_track_gaps(unstacked, behind=behind)))
    out.append(("edges", extend_at_edges(out[-1][1])))
    out.append(("depth", smooth_depth(out[-1][1])))
    out.append(("heading", refill_turned(out[-1][1], behind=behind)))
    out.append(("solve", solve_and_apply(out[-1][1])))
    out.append(("plant", plant_feet(out[-1][1])))
    out.append(("fit", fit_motion(out[-1][1])))
    return out


def headings(gt: dict[str, np.ndarray], results: Results) -> tuple[np.ndarray, np.ndarray]:
    """``(P, F)`` heading error in degrees (NaN unmatched) and ``(P, F)`` the matched record's predicted flag."""
    p, f = gt["present"].shape
    _ids, joints, boxes = dense_tracks(results, f)
    predicted = dense_predicted(results, f)
    gt_boxes = amodal_boxes(gt)
    assign, _dup = match(gt_boxes, boxes)
    ok = visible_mask(gt) & (assign >= 0)
    normal = gt["floor_cam"][:3] / np.linalg.norm(gt["floor_cam"][:3])
    out = np.full((p, f), np.nan)
    pred = np.zeros((p, f), bool)
    for i in range(p):
        frames = np.flatnonzero(ok[i])
        if frames.size:
            rot = best_rotation(joints[assign[i, frames], frames], gt["joints_cam"][i, frames].astype(np.float64))
            out[i, frames] = heading_and_tilt(rot, normal)[0]
            pred[i, frames] = predicted[assign[i, frames], frames]
    return out, pred


def _chars(h: np.ndarray) -> str:
    return "".join(" " if not np.isfinite(x) else ("X" if x > 60 else ("o" if x > 30 else ".")) for x in h)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite", type=Path)
    parser.add_argument("kept", type=Path)
    parser.add_argument("--clips", default=None, metavar="A,B")
    args = parser.parse_args(argv)
    names = sorted(p.name for p in args.suite.iterdir() if (args.kept / p.name / "raw.ram.npz").is_file())
    if args.clips:
        names = [n for n in names if n in args.clips.split(",")]
    for name in names:
        gt = load_gt(args.suite / name / "gt.npz")
        steps = [(label, *headings(gt, r)) for label, r in stages(load_results(args.kept / name / "raw.ram.npz"))]
        vis = np.nan_to_num(gt["visible_fraction"]) if "visible_fraction" in gt else np.ones(gt["present"].shape)
        print(f"== {name}")
        for i in range(gt["present"].shape[0]):
            if not any(np.any(h[i] > 60) for _label, h, _p in steps):
                continue
            print(f"person {i}")
            for label, h, _p in steps:
                print(f"  {label:8s} {_chars(h[i])}")
            print(f"  {'pred':8s} {''.join('p' if x else '.' for x in steps[-1][2][i])}")
            print(f"  {'visible':8s} {''.join(str(min(9, int(v * 10))) for v in vis[i])}")
        print("  turned (>60 deg): " + ", ".join(f"{label} {int(np.sum(h > 60))}" for label, h, _p in steps))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
