"""Where a capture's 3D pose error comes from, against synthetic ground truth and beside the raw-landmark baseline.

Run: ``PYTHONPATH=. python tools/pose_errors.py SUITE KEPT [--clips a,b]``, ``SUITE`` the suite's folder
(``tests/data/synth``) and ``KEPT`` a ``benchmarks/synthetic_suite.py --keep`` folder (``KEPT/<clip>/lite.ram.npz``
and ``baseline.ram.npz``). Scored on the person-frames the suite scores (the capture scorer's matching, the
baseline on the frames ours was matched on). It prints:

- per clip, PA-MPJPE and root-relative MPJPE of ours and of the baseline;
- per joint over all clips: PA error, root-relative error split into the image plane (camera x, y) and depth
  (camera z) for ours and the baseline, and ours' mean error in the ground truth's pelvis frame after the
  Procrustes alignment (x to the body's left, y up, z forward): a bias there is a mismatch of the skeletons or
  of the landmark-to-joint correspondence rather than noise;
- per clip, how far the best rotation of ours onto the truth turns about the floor's normal (heading) and tilts
  it (mean degrees): how much of the root-relative error is the whole body's orientation.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ram_core.contract.results import load_results
from ram_core.contract.skeleton import JOINT_INDEX, JOINT_NAMES, matrix_to_axis_angle
from ram_core.eval.capture import clip_parts, load_gt
from ram_core.eval.pose import procrustes_align


def _pairs(parts: list[dict[str, object]]) -> tuple[np.ndarray, np.ndarray]:
    pred = [np.asarray(p["pred"]) for p in parts]
    truth = [np.asarray(p["gt"]) for p in parts]
    return np.concatenate(pred), np.concatenate(truth)


def best_rotation(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """``(N, 3, 3)`` the rotations that best turn each centred ``pred`` ``(N, J, 3)`` onto ``truth``."""
    p = pred - pred.mean(axis=1, keepdims=True)
    g = truth - truth.mean(axis=1, keepdims=True)
    u, _, vt = np.linalg.svd(np.einsum("nji,njk->nik", g, p))
    fix = np.ones((len(p), 3))
    fix[:, 2] = np.sign(np.linalg.det(u @ vt))
    return u @ (fix[:, :, None] * vt)


def heading_and_tilt(rotation: np.ndarray, normal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Degrees ``(N,)`` each rotation turns about ``normal`` (heading) and moves ``normal`` by (tilt)."""
    heading = np.degrees(np.abs(matrix_to_axis_angle(rotation) @ normal))
    tilt = np.degrees(np.arccos(np.clip((rotation @ normal) @ normal, -1.0, 1.0)))
    return heading, tilt


def body_frame(joints: np.ndarray) -> np.ndarray:
    """``(N, 3, 3)`` columns x (right hip -> left hip), y (pelvis -> spine3, made orthogonal), z = x cross y."""
    x = joints[:, JOINT_INDEX["left_hip"]] - joints[:, JOINT_INDEX["right_hip"]]
    x /= np.linalg.norm(x, axis=-1, keepdims=True)
    y = joints[:, JOINT_INDEX["spine3"]] - joints[:, JOINT_INDEX["pelvis"]]
    y -= np.sum(y * x, axis=-1, keepdims=True) * x
    y /= np.linalg.norm(y, axis=-1, keepdims=True)
    return np.stack([x, y, np.cross(x, y)], axis=-1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite", type=Path)
    parser.add_argument("kept", type=Path)
    parser.add_argument("--clips", default=None, metavar="A,B")
    args = parser.parse_args(argv)
    names = sorted(p.name for p in args.suite.iterdir() if (p / "gt.npz").is_file() and (args.kept / p.name).is_dir())
    if args.clips:
        names = [n for n in names if n in args.clips.split(",")]
    ours_all, base_all, truth_all = [], [], []
    print(
        f"{'clip':15s} {'ours PA':>8s} {'RR':>7s} {'base PA':>8s} {'RR':>7s}  ours heading/tilt deg  base heading/tilt"
    )
    for name in names:
        gt = load_gt(args.suite / name / "gt.npz")
        ours = clip_parts(gt, load_results(args.kept / name / "lite.ram.npz"))
        base = clip_parts(gt, load_results(args.kept / name / "baseline.ram.npz"), mask=ours.matched)
        (p, g), (b, gb) = _pairs(ours.parts), _pairs(base.parts)
        if not len(p):
            continue
        normal = gt["floor_cam"][:3] / np.linalg.norm(gt["floor_cam"][:3])
        cells = []
        for pred, truth in ((p, g), (b, gb)):
            pa = np.linalg.norm(procrustes_align(pred, truth) - truth, axis=-1).mean()
            rr = np.linalg.norm((pred - pred[:, :1]) - (truth - truth[:, :1]), axis=-1).mean()
            cells.append((pa, rr, *(a.mean() for a in heading_and_tilt(best_rotation(pred, truth), normal))))
        (pa, rr, h, t), (bpa, brr, bh, bt) = cells
        print(
            f"{name:15s} {1000 * pa:8.1f} {1000 * rr:7.1f} {1000 * bpa:8.1f} {1000 * brr:7.1f}  {h:9.1f} {t:5.1f}  {bh:14.1f} {bt:5.1f}"
        )
        ours_all.append(p)
        base_all.append(b)
        truth_all.append(g)
    if not ours_all:
        print("nothing scored")
        return 1
    p, b, g = np.concatenate(ours_all), np.concatenate(base_all), np.concatenate(truth_all)
    aligned = procrustes_align(p, g)
    bias = np.einsum("nji,nkj->nki", body_frame(g), aligned - g)
    rel = {k: (x - x[:, :1]) - (g - g[:, :1]) for k, x in (("ours", p), ("base", b))}
    pa_base = np.linalg.norm(procrustes_align(b, g) - g, axis=-1)
    pa_ours = np.linalg.norm(aligned - g, axis=-1)
    print("\nmm over all clips; rr xy/z: root-relative error in the image plane / along the camera axis (median)")
    print(
        f"{'joint':15s} {'PA ours':>8s} {'base':>6s} {'rr xy':>7s} {'z':>6s} {'base xy':>8s} {'z':>6s}  bias x y z (ours, body frame)"
    )
    for j, joint in enumerate(JOINT_NAMES):
        xy = {k: 1000 * np.median(np.linalg.norm(v[:, j, :2], axis=-1)) for k, v in rel.items()}
        z = {k: 1000 * np.median(np.abs(v[:, j, 2])) for k, v in rel.items()}
        mean = 1000 * bias[:, j].mean(axis=0)
        print(
            f"{joint:15s} {1000 * pa_ours[:, j].mean():8.1f} {1000 * pa_base[:, j].mean():6.1f} {xy['ours']:7.1f} "
            f"{z['ours']:6.1f} {xy['base']:8.1f} {z['base']:6.1f}  {mean[0]:+5.0f} {mean[1]:+5.0f} {mean[2]:+5.0f}"
        )
    print(f"{'mean':15s} {1000 * pa_ours.mean():8.1f} {1000 * pa_base.mean():6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["best_rotation", "body_frame", "heading_and_tilt", "main"]
