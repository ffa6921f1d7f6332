"""Per-track statistics of a results file, and curves over time as a PNG.

Run: ``PYTHONPATH=. python tools/inspect_capture.py OUT.npz [--plot curves.png] [--iou 0.5] [--min-frames 3]``

Prints, per track: frame span, records, % predicted, mean confidence, the largest standard deviation of
a bone's length over the track (metres; the skeleton is rigid, so this must be ~0), and the number of
jumps (observed frames whose box centre moved more than half the box height since the previous observed
frame: a hint of an id switch). Then every pair of tracks observed on one frame with box IoU above
``--iou`` for at least ``--min-frames`` frames (two tracks on one person, or two people crossing), and the
frames where a gap-filled record lies on another track's record with box IoU above ``--iou`` (a second,
invented body on one person).
``--plot`` draws each track's life (observed / predicted), its knee angles and its foot heights above
the pelvis (joint positions in the camera frame, y down, so higher feet are smaller y differences).
``--sheets PREFIX`` writes one contact sheet (12 frames, tracks drawn) per ``--sheet-frames`` frames of the
capture, ``PREFIX_<first frame>.png``, for counting people missed and id switches by eye.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ram_core.contract.results import Results, Track, load_results
from ram_core.contract.skeleton import JOINT_INDEX, PARENTS
from ram_core.tracking.boxes import iou_matrix


@dataclass(frozen=True)
class TrackStats:
    """What ``track_stats`` measures on one track (lengths in metres, frames as video frame indices)."""

    track_id: int
    first: int
    last: int
    records: int
    predicted_fraction: float
    mean_confidence: float
    bone_std_max: float
    jumps: int
    finite: bool
    sorted_unique: bool


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    """``(T, 23)`` length of every bone (joint to parent) of ``(T, 24, 3)`` joint positions."""
    child = np.arange(1, len(PARENTS))
    parent = np.asarray(PARENTS)[1:]
    return np.linalg.norm(joints[:, child] - joints[:, parent], axis=-1)


def count_jumps(track: Track, fraction: float = 0.5) -> int:
    """Observed frames whose box centre moved more than ``fraction`` of the box height per frame elapsed."""
    seen = ~track.predicted
    frames, boxes = track.frame[seen].astype(np.float64), track.box[seen].astype(np.float64)
    if len(frames) < 2:
        return 0
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    height = np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)
    step = np.linalg.norm(np.diff(centre, axis=0), axis=1) / np.diff(frames)
    return int(np.sum(step > fraction * height[1:]))


def track_stats(track: Track) -> TrackStats:
    frames = track.frame
    lengths = bone_lengths(track.joints.astype(np.float64))
    return TrackStats(
        track_id=track.track_id,
        first=int(frames.min()),
        last=int(frames.max()),
        records=len(track),
        predicted_fraction=float(track.predicted.mean()),
        mean_confidence=float(track.confidence[~track.predicted].mean()) if (~track.predicted).any() else 0.0,
        bone_std_max=float(lengths.std(axis=0).max()) if len(track) else 0.0,
        jumps=count_jumps(track),
        finite=bool(np.all(np.isfinite(track.joints)) and np.all(np.isfinite(track.transl))),
        sorted_unique=bool(np.all(np.diff(frames) > 0)),
    )


def overlapping_pairs(results: Results, iou: float, min_frames: int) -> dict[tuple[int, int], list[int]]:
    """Pairs of tracks both observed on a frame with box IoU above ``iou``, kept if on >= ``min_frames`` frames.

    Returns:
        {(id_a, id_b): [frames]}, ids ascending.
    """
    by_frame: dict[int, list[tuple[int, np.ndarray]]] = defaultdict(list)
    for t in results.tracks:
        for f, box, pred in zip(t.frame, t.box, t.predicted):
            if not pred:
                by_frame[int(f)].append((t.track_id, box.astype(np.float64)))
    pairs: dict[tuple[int, int], list[int]] = defaultdict(list)
    for f, entries in sorted(by_frame.items()):
        if len(entries) < 2:
            continue
        ids = [e[0] for e in entries]
        m = iou_matrix(np.stack([e[1] for e in entries]), np.stack([e[1] for e in entries]))
        for a, b in zip(*np.nonzero(np.triu(m, k=1) > iou)):
            pairs[tuple(sorted((ids[a], ids[b])))].append(f)
    return {k: v for k, v in pairs.items() if len(v) >= min_frames}


def fill_overlaps(results: Results, iou: float) -> dict[tuple[int, int], list[int]]:
    """Gap-filled records lying on another track's record of the same frame (box IoU above ``iou``).

    Two tracks on one person where one of them is only a fill: the fill invents a second body there.

    Returns:
        {(filled id, other id): [frames]}.
    """
    by_frame: dict[int, list[tuple[int, np.ndarray, bool]]] = defaultdict(list)
    for t in results.tracks:
        for f, box, pred in zip(t.frame, t.box, t.predicted):
            by_frame[int(f)].append((t.track_id, box.astype(np.float64), bool(pred)))
    pairs: dict[tuple[int, int], list[int]] = defaultdict(list)
    for f, entries in sorted(by_frame.items()):
        if len(entries) < 2:
            continue
        m = iou_matrix(np.stack([e[1] for e in entries]), np.stack([e[1] for e in entries]))
        np.fill_diagonal(m, 0.0)
        for a, b in zip(*np.nonzero(m > iou)):
            if entries[a][2] and (a < b or not entries[b][2]):
                pairs[(entries[a][0], entries[b][0])].append(f)
    return dict(pairs)


def knee_angles(joints: np.ndarray) -> np.ndarray:
    """``(T, 2)`` left and right knee flexion in degrees (0 = straight leg) from ``(T, 24, 3)`` joints."""
    out = []
    for side in ("left", "right"):
        hip, knee, ankle = (joints[:, JOINT_INDEX[f"{side}_{j}"]] for j in ("hip", "knee", "ankle"))
        thigh, shin = knee - hip, ankle - knee
        cos = np.einsum("ti,ti->t", thigh, shin) / np.maximum(
            np.linalg.norm(thigh, axis=1) * np.linalg.norm(shin, axis=1), 1e-9
        )
        out.append(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
    return np.stack(out, axis=1)


def plot_curves(results: Results, path: Path) -> Path:
    """Timeline, knee angles and foot heights of every track, one colour per track, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ram_core.contract.colors import track_color_bgr8

    fig, axes = plt.subplots(3, 1, figsize=(14, 10), sharex=True)
    for row, t in enumerate(results.tracks):
        b, g, r = track_color_bgr8(t.track_id)
        colour = (r / 255, g / 255, b / 255)
        seen = ~t.predicted
        axes[0].plot(t.frame[seen], np.full(seen.sum(), row), "|", color=colour, markersize=8)
        axes[0].plot(t.frame[~seen], np.full((~seen).sum(), row), "x", color="k", markersize=4)
        axes[0].text(t.frame[0], row + 0.25, str(t.track_id), fontsize=7)
        joints = t.joints.astype(np.float64)
        gaps = np.concatenate([[False], np.diff(t.frame) > 1])
        frames = np.where(gaps, np.nan, t.frame)  # break the line across gaps
        knees = knee_angles(joints)
        axes[1].plot(frames, knees[:, 0], color=colour, lw=0.8)
        axes[1].plot(frames, knees[:, 1], color=colour, lw=0.8, ls="--")
        pelvis_y = joints[:, JOINT_INDEX["pelvis"], 1]
        for side, style in (("left", "-"), ("right", "--")):
            foot = pelvis_y - joints[:, JOINT_INDEX[f"{side}_foot"], 1]
            axes[2].plot(frames, foot, color=colour, lw=0.8, ls=style)
    axes[0].set_ylabel("track (| seen, x predicted)")
    axes[1].set_ylabel("knee flexion (deg), left - right --")
    axes[2].set_ylabel("foot below pelvis (m), left - right --")
    axes[2].set_xlabel("frame")
    fig.suptitle(f"{Path(results.meta.video_path).name}: {len(results.tracks)} tracks")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def write_sheets(results: Results, prefix: Path, span: int) -> list[Path]:
    """Contact sheets of consecutive spans of ``span`` frames: ``prefix_<first frame>.png``."""
    from ram_core.preview import write_contact_sheet

    meta = results.meta
    paths = []
    for first in range(meta.frame_start, meta.frame_end, span):
        part = replace(results, meta=replace(meta, frame_start=first, frame_end=min(first + span, meta.frame_end)))
        path = prefix.parent / f"{prefix.name}_{first:05d}.png"
        paths.append(write_contact_sheet(part, path))
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="a results .npz written by ram-core capture")
    parser.add_argument("--plot", type=Path, default=None, metavar="OUT.png", help="write curves over time here")
    parser.add_argument("--iou", type=float, default=0.5, help="box IoU above which two tracks overlap")
    parser.add_argument(
        "--min-frames", type=int, default=3, help="report overlapping pairs on at least this many frames"
    )
    parser.add_argument("--sheets", type=Path, default=None, metavar="PREFIX", help="write contact sheets here")
    parser.add_argument("--sheet-frames", type=int, default=100, help="frames covered by each contact sheet")
    args = parser.parse_args(argv)

    results = load_results(args.results)
    meta = results.meta
    print(f"{args.results}: {len(results.tracks)} tracks, frames {meta.frame_start}..{meta.frame_end - 1}")
    print(" track  frames        records  pred%  conf  bone_std_m  jumps  ok")
    stats = [track_stats(t) for t in results.tracks]
    for s in stats:
        ok = "yes" if s.finite and s.sorted_unique else "NO"
        print(
            f" {s.track_id:5d}  {s.first:5d}..{s.last:<5d}  {s.records:7d}  {100 * s.predicted_fraction:5.1f}"
            f"  {s.mean_confidence:4.2f}  {s.bone_std_max:10.2e}  {s.jumps:5d}  {ok}"
        )
    pairs = overlapping_pairs(results, args.iou, args.min_frames)
    print(f"pairs observed together with box IoU > {args.iou} on >= {args.min_frames} frames: {len(pairs)}")
    for (a, b), frames in sorted(pairs.items()):
        print(f"  {a} & {b}: {len(frames)} frames ({frames[0]}..{frames[-1]})")
    fills = fill_overlaps(results, args.iou)
    frames_with = sorted({f for v in fills.values() for f in v})
    print(f"frames with a gap fill on another track (box IoU > {args.iou}): {len(frames_with)}")
    for (a, b), frames in sorted(fills.items()):
        print(f"  fill of {a} on {b}: {len(frames)} frames ({frames[0]}..{frames[-1]})")
    if stats:
        spans = np.array([s.last - s.first + 1 for s in stats])
        print(
            f"tracks >= 10 frames: {int((spans >= 10).sum())}; max bone std {max(s.bone_std_max for s in stats):.2e} m; "
            f"jumps {sum(s.jumps for s in stats)}"
        )
    if args.plot:
        print(f"wrote {plot_curves(results, args.plot)}")
    if args.sheets:
        for path in write_sheets(results, args.sheets, args.sheet_frames):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
