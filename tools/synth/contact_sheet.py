"""A PNG grid of a clip's frames with its ground truth drawn on: skeleton, joints, amodal and visible boxes.

Run in an env with OpenCV (the worker's): ``$(python3 tools/dev.py env worker-full) tools/synth/contact_sheet.py
tests/data/synth/NAME OUT.png``. Joints: filled where ``joint_visible``, hollow where covered; boxes: thin
grey amodal, person-coloured visible.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from ram_core.contract.skeleton import PARENTS
from tools.synth.gt_format import load_gt

COLOURS = [(60, 60, 255), (60, 220, 60), (255, 120, 40), (0, 220, 255), (255, 60, 255), (255, 255, 60)]  # BGR


def draw(frame: np.ndarray, gt: dict[str, np.ndarray], t: int, scale: float) -> np.ndarray:
    img = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    for i in range(gt["present"].shape[0]):
        if not gt["present"][i, t]:
            continue
        c = COLOURS[i % len(COLOURS)]
        a = gt["box_amodal"][i, t] * scale
        cv2.rectangle(img, (int(a[0]), int(a[1])), (int(a[2]), int(a[3])), (150, 150, 150), 1)
        v = gt["box_visible"][i, t]
        if np.all(np.isfinite(v)):
            v = v * scale
            cv2.rectangle(img, (int(v[0]), int(v[1])), (int(v[2]), int(v[3])), c, 1)
        uv = gt["joints_2d"][i, t] * scale
        for j, p in enumerate(PARENTS):
            if p >= 0:
                cv2.line(img, tuple(int(x) for x in uv[j]), tuple(int(x) for x in uv[p]), c, 1, cv2.LINE_AA)
        for j in range(uv.shape[0]):
            cv2.circle(img, tuple(int(x) for x in uv[j]), 2, c, -1 if gt["joint_visible"][i, t, j] else 1)
        cv2.putText(
            img,
            f"{i} {gt['visible_fraction'][i, t]:.2f}",
            (int(a[0]), max(10, int(a[1]) - 3)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.35,
            c,
            1,
            cv2.LINE_AA,
        )
    cv2.putText(img, f"frame {t}", (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return img


def contact_sheet(
    clip_dir: Path, out: Path, frames: list[int] | None = None, cols: int = 4, rows: int = 3, scale: float = 0.5
) -> Path:
    """Write a ``rows`` x ``cols`` grid of frames (evenly spaced unless ``frames``) of ``clip_dir`` to ``out``."""
    gt = load_gt(clip_dir / "gt.npz")
    cap = cv2.VideoCapture(str(clip_dir / "clip.mp4"))
    video = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        video.append(f)
    n = min(len(video), int(gt["n_frames"]))
    frames = frames or np.linspace(0, n - 1, cols * rows).round().astype(int).tolist()
    tiles = [draw(video[t], gt, t, scale) for t in frames]
    blank = np.zeros_like(tiles[0])
    tiles += [blank] * (cols * rows - len(tiles))
    grid = np.vstack([np.hstack(tiles[r * cols : (r + 1) * cols]) for r in range(rows)])
    cv2.imwrite(str(out), grid, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clip_dir", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--frames", type=int, nargs="*")
    ap.add_argument("--scale", type=float, default=0.5)
    ap.add_argument("--cols", type=int, default=4)
    ap.add_argument("--rows", type=int, default=3)
    args = ap.parse_args()
    print(contact_sheet(args.clip_dir, args.out, args.frames, args.cols, args.rows, args.scale))


if __name__ == "__main__":
    main()
