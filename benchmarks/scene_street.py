"""What the scene solve made of a capture: the camera, each person's height, and their feet on the floor.

Reads a results file written by ``ram-core capture`` (format 2, the scene solved at the end), and prints
the solved camera height, pitch and roll, each track's height, and the height above the solved floor of
each frame's lower foot joint (p5/p50/p95, cm) before the solve scaled the people (every person 1.70 m)
and after; also, for comparison, today's level-camera view (no floor: heights along the image's up about
everyone's median). ``--plot OUT.png`` draws the lower foot's height over time per person and the paths
seen from above::

    PYTHONPATH=. python benchmarks/scene_street.py OUT.npz [--plot OUT.png]
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
from ram_core.scene.solve import FEET, camera_pose, rest_stature


def lower_foot(joints: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """``(T,)`` height (m) of the lower foot joint above ``floor`` ``(4,)`` for camera-frame ``joints`` ``(T, 24, 3)``."""
    return (joints[:, list(FEET)] @ floor[:3] + floor[3]).min(axis=1)


def pct(values: np.ndarray) -> str:
    p5, p50, p95 = np.percentile(values, [5, 50, 95]) * 100
    return f"{p5:6.1f} {p50:6.1f} {p95:6.1f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results")
    ap.add_argument("--plot", help="write a PNG: feet heights over time and paths from above")
    args = ap.parse_args(argv)
    r = load_results(args.results)
    m = r.meta
    print(f"scene: {m.scene_status or 'not solved'}")
    if m.floor_cam is None or m.world_from_camera is None:
        return 1
    floor = np.asarray(m.floor_cam, dtype=np.float64)
    height, pitch, roll = camera_pose(floor)
    print(f"camera {height:.2f} m above the floor, pitched {pitch:.1f} degrees down, roll {roll:.1f}")
    stature = rest_stature(m.rest_joints)
    level = np.array([0.0, -1.0, 0.0, 0.0])  # today's Blender: up is the image's up, no floor
    tracks = [t for t in r.tracks if (~t.predicted).sum() >= 5]
    level_all = np.concatenate(
        [lower_foot(t.joints[~t.predicted] / t.scale[~t.predicted, None, None], level) for t in tracks]
    )
    level_median = float(np.median(level_all))
    print(
        f"{'track':>5} {'frames':>6} {'height':>6}  {'level p5/p50/p95 cm':>20}  {'before p5/p50/p95':>20}  {'after p5/p50/p95':>20}"
    )
    befores, afters, levels = [], [], []
    for t in tracks:
        obs = ~t.predicted
        after_joints = t.joints[obs].astype(np.float64)
        before_joints = after_joints / t.scale[obs, None, None]
        lv = lower_foot(before_joints, level) - level_median
        before, after = lower_foot(before_joints, floor), lower_foot(after_joints, floor)
        levels.append(lv)
        befores.append(before)
        afters.append(after)
        h = stature * float(t.scale[0])
        print(f"{t.track_id:5d} {int(obs.sum()):6d} {h:6.2f}  {pct(lv):>20}  {pct(before):>20}  {pct(after):>20}")
    print(
        f"{'all':>5} {sum(len(a) for a in afters):6d} {'':>6}  {pct(np.concatenate(levels)):>20}  "
        f"{pct(np.concatenate(befores)):>20}  {pct(np.concatenate(afters)):>20}"
    )
    spread = lambda xs: 100 * float(np.ptp([np.median(x) for x in xs]))  # noqa: E731
    print(
        f"spread of the people's median foot heights: level {spread(levels):.1f} cm, "
        f"before {spread(befores):.1f} cm, after {spread(afters):.1f} cm"
    )
    if args.plot:
        plot(r, tracks, befores, afters, args.plot)
        print(f"wrote {args.plot}")
    return 0


def plot(r, tracks, befores, afters, out: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    world = np.asarray(r.meta.world_from_camera, dtype=np.float64)
    fig, ax = plt.subplots(1, 3, figsize=(18, 5))
    for t, b, a in zip(tracks, befores, afters):
        f = t.frame[~t.predicted]
        ax[0].plot(f, 100 * b, lw=0.8, label=f"{t.track_id}")
        ax[1].plot(f, 100 * a, lw=0.8, label=f"{t.track_id}")
        pelvis = t.joints[~t.predicted, 0].astype(np.float64) @ world[:3, :3].T + world[:3, 3]
        ax[2].plot(pelvis[:, 0], pelvis[:, 1], lw=1.0, label=f"{t.track_id}")
    for a_, title in zip(
        ax[:2], ("lower foot above the solved floor, every person 1.70 m", "after the solve's scales")
    ):
        a_.axhline(0, color="k", lw=0.5)
        a_.set(title=title, xlabel="frame", ylabel="cm", ylim=(-80, 80))
    ax[2].plot([0], [0], "k^", label="camera")
    ax[2].set(title="pelvis paths from above (world, m)", xlabel="X", ylabel="Y", aspect="equal")
    ax[2].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=90)


if __name__ == "__main__":
    raise SystemExit(main())
