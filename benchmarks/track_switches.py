"""Where `ram-core track`'s ID switches come from, on benchmarks/track_vs_peers.py's simulated detections.

Replays CLEAR's matching (trackeval's: IoU >= 0.5, a ground-truth person kept on the track they had on the
previous frame while it still overlaps) on ours' output and says, for every ID switch, what the tracker did:

- ``overlap``: the box written there is another person's (it overlaps them more): two people close together;
- ``relink``: the new id's re-linked chain starts its piece here, joined onto a track from someone else;
- ``back``: the person returns to the track they had before a short stay on another;
- ``taken``: the new id was on a neighbour a moment ago (it took this person's box);
- ``born, old ended``: the new id is a track born a moment ago, the old one had ended, and the offline re-link
  did not join them (the line says which of its tests refused: gap, size, cosine, distance);
- ``born, old elsewhere``: born a moment ago while the old track was still going (on someone else or no one);
- ``other``: none of these.

Each line gives the frame, the ground-truth id, old -> new id (final, after re-linking; ``raw`` the tracker's
own after the swap repair, `ram_core.tracking.swaps`, which ours runs before the re-link), how long the person
went unmatched before it, and whether the new track had coasted just before.
``--links`` lists every re-link the offline step made instead, each marked by whether the two tracklets' boxes
were on the same person (by majority of their end boxes' best-overlapping ground truth).

    PYTHONPATH=. /tmp/envs/trackbench/bin/python benchmarks/track_switches.py --data /tmp/dl/motm/motmetrics/data \\
        --variants normal normal-cut --seeds 0 1 2

Seeds 0-2 are the benchmark's tuning seeds; look at others only to check that a mechanism holds beyond them,
never at the reported ones (10-19) to choose anything.
"""

from __future__ import annotations

import argparse
import collections
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment
from track_vs_peers import VARIANTS, Runner, SimConfig, ours_config  # beside this script (sys.path[0])

from ram_core.tracking.boxes import iou_matrix, xywh_to_xyxy
from ram_core.tracking.mot import MOT_RELINK, MOT_SWAPS, MotTable
from ram_core.tracking.relink import TrackletEnds, link_cost, link_tracklets, tracklet_ends
from ram_core.tracking.swaps import unswapped_ids
from ram_core.tracking.tracker import Tracker, TrackerConfig

#: The grid settings benchmarks/track_vs_peers.py chose for ours on the tuning seeds (at 9edd20e and with the swap
#: repair alike).
TUNED = {
    "normal": {"confirm_hits": 2, "kalman": "default", "max_coast_frames": 60},
    "fast": {"confirm_hits": 2, "kalman": "agile", "max_coast_frames": 15},
    "normal-cut": {"confirm_hits": 3, "kalman": "default", "max_coast_frames": 30},
    "fast-cut": {"confirm_hits": 2, "kalman": "agile", "max_coast_frames": 15},
}
#: Frames before a switch within which a track counts as "born a moment ago" or a piece as "starting here".
RECENT = 8


@dataclass
class Row:
    """One box ours writes: frame, the tracker's own id, the box and what the tracker did there."""

    frame: int
    raw: int
    box: np.ndarray  # (4,) xyxy
    observed: bool
    coasted: int  # frames the track had gone without an update before this one


def run_ours(dets: MotTable, cfg: TrackerConfig) -> list[Row]:
    """The rows `ram_core.tracking.mot.track_detections` writes (after the swap repair, before re-linking), with what
    the tracker did (``coasted``: the track the row had before the repair)."""
    tracker = Tracker(cfg)
    last = int(dets.frames.max())
    starts = np.searchsorted(dets.frames, np.arange(1, last + 2))
    rows: list[Row] = []
    confirmed: set[int] = set()
    coasting: dict[int, int] = {}
    for frame in range(1, last + 1):
        sl = slice(starts[frame - 1], starts[frame])
        for v in tracker.step(frame, xywh_to_xyxy(dets.boxes[sl]), dets.conf[sl]):
            if v.confirmed:
                confirmed.add(v.track_id)
            if v.detection_index >= 0:
                rows.append(Row(frame, v.track_id, v.box, v.observed, coasting.get(v.track_id, 0)))
            coasting[v.track_id] = v.coasting_frames
    rows = [r for r in rows if r.raw in confirmed]
    if MOT_SWAPS is not None and rows:
        frames, boxes = np.array([r.frame for r in rows]), np.stack([r.box for r in rows])
        ids = unswapped_ids(np.array([r.raw for r in rows]), frames, boxes, MOT_SWAPS)
        rows = [Row(r.frame, int(i), r.box, r.observed, r.coasted) for r, i in zip(rows, ids)]
    return rows


def pieces(rows: list[Row]) -> dict[int, TrackletEnds]:
    """Each raw track's two ends as the re-link sees them."""
    by_id: dict[int, list[Row]] = collections.defaultdict(list)
    for r in rows:
        by_id[r.raw].append(r)
    return {
        t: tracklet_ends(np.array([r.frame for r in rs]), np.stack([r.box for r in rs]), MOT_RELINK.end_frames)
        for t, rs in by_id.items()
    }


def final_ids(ends: dict[int, TrackletEnds], fps: float) -> dict[int, int]:
    """{raw id: id written} after the offline re-link (`ram_core.tracking.relink`)."""
    parent = link_tracklets(ends, fps, MOT_RELINK) if MOT_RELINK is not None else {}

    def root(t: int) -> int:
        while t in parent:
            t = parent[t]
        return t

    return {t: root(t) for t in ends}


def why_not_linked(a: TrackletEnds, b: TrackletEnds, fps: float) -> str:
    """Which of the re-link's tests refused to continue tracklet ``a`` with ``b`` (centre velocities)."""
    cfg = MOT_RELINK
    gap = b.first - a.last
    h0, h1 = a.end[3], b.start[3]
    height = 0.5 * (h0 + h1)
    v0, v1 = a.end_velocity[:2], b.start_velocity[:2]
    cos = float(v0 @ v1) / max(float(np.linalg.norm(v0) * np.linalg.norm(v1)), 1e-9)
    forward = np.linalg.norm(a.end[:2] + gap * v0 - b.start[:2]) / height
    backward = np.linalg.norm(b.start[:2] - gap * v1 - a.end[:2]) / height
    allowed = cfg.reach + cfg.drift * gap / fps
    return (
        f"gap {gap}, size {max(h0, h1) / min(h0, h1):.2f}, cosine {cos:.2f}, distance {max(forward, backward):.2f} "
        f"of {allowed:.2f}, linked {link_cost(a, b, fps, cfg) is not None}"
    )


def switches(gt: MotTable, rows: list[Row], ends: dict[int, TrackletEnds], final: dict[int, int], fps: float) -> list:
    """(kind, line) for every CLEAR ID switch of ours' rows against the ground truth."""
    by_frame: dict[int, list[Row]] = collections.defaultdict(list)
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for r in rows:
        by_frame[r.frame].append(r)
        f = final[r.raw]
        first[f], last[f] = min(first.get(f, r.frame), r.frame), max(last.get(f, r.frame), r.frame)
    prev: dict[int, tuple[int, int]] = {}  # gt -> (final id, frame) it last matched
    held: dict[int, int] = {}  # gt -> final id on the previous frame
    on: dict[int, list[int]] = collections.defaultdict(list)  # final id -> gts it matched, in order
    had: dict[int, set[int]] = collections.defaultdict(set)  # gt -> final ids it matched
    out = []
    for frame in range(1, int(gt.frames.max()) + 1):
        g = gt.frames == frame
        gids, gboxes, rs = gt.ids[g], xywh_to_xyxy(gt.boxes[g]), by_frame.get(frame, [])
        if not len(gids) or not rs:
            held = {}
            continue
        ids = np.array([final[r.raw] for r in rs])
        sim = iou_matrix(gboxes, np.stack([r.box for r in rs]))
        cont = np.array([[held.get(int(a), -1) == b for b in ids] for a in gids])
        score = np.where(sim >= 0.5 - 1e-9, 1000 * cont + sim, 0.0)
        step = {}
        for i, j in zip(*linear_sum_assignment(-score)):
            if score[i, j] <= 0:
                continue
            person, new, r = int(gids[i]), int(ids[j]), rs[j]
            step[person] = new
            if person in prev and prev[person][0] != new:
                old, seen = prev[person]
                before = on[new]
                if int(gids[np.argmax(sim[:, j])]) != person:
                    kind = f"overlap (box on gt {int(gids[np.argmax(sim[:, j])])})"
                elif r.raw != new and ends[r.raw].first > frame - RECENT:
                    kind = "relink"
                elif new in had[person] and before and before[-1] == person:
                    kind = "back"
                elif before and before[-1] != person:
                    kind = f"taken (from gt {before[-1]})"
                elif first[new] > frame - RECENT and last[old] < frame:
                    old_piece = max((rr for rr in rows if final[rr.raw] == old), key=lambda rr: rr.frame).raw
                    kind = f"born, old ended ({why_not_linked(ends[old_piece], ends[r.raw], fps)})"
                elif first[new] > frame - RECENT:
                    kind = "born, old elsewhere"
                else:
                    kind = "other"
                out.append(
                    (
                        kind.split(" (")[0],
                        f"f{frame:4d} gt {person:3d}: {old} -> {new} (raw {r.raw}), unmatched {frame - seen - 1:2d} "
                        f"frames, coasted {r.coasted}: {kind}",
                    )
                )
            prev[person] = (new, frame)
            on[new].append(person)
            had[person].add(new)
        held = step
    return out


def links(gt: MotTable, rows: list[Row], ends: dict[int, TrackletEnds], fps: float) -> list[tuple[bool, str]]:
    """(same person, line) for every re-link: each tracklet's person is the ground truth its boxes at that end
    overlap best (IoU >= 0.3) on most of the re-link's end frames."""

    def person(raw: int, tail: bool) -> int:
        rs = [r for r in rows if r.raw == raw]
        votes = collections.Counter()
        for r in rs[-MOT_RELINK.end_frames :] if tail else rs[: MOT_RELINK.end_frames]:
            g = gt.frames == r.frame
            iou = iou_matrix(r.box, xywh_to_xyxy(gt.boxes[g]))[0] if g.any() else np.zeros(0)
            votes[int(gt.ids[g][iou.argmax()]) if len(iou) and iou.max() >= 0.3 else -1] += 1
        return votes.most_common(1)[0][0]

    out = []
    for later, earlier in sorted(link_tracklets(ends, fps, MOT_RELINK).items()):
        a, b = person(earlier, True), person(later, False)
        cost = link_cost(ends[earlier], ends[later], fps, MOT_RELINK)
        out.append(
            (
                a == b,
                f"{earlier} (gt {a}, last f{ends[earlier].last}) -> {later} (gt {b}, first f{ends[later].first}), "
                f"cost {cost:.2f}: {'same person' if a == b else 'TWO PEOPLE'}",
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="motmetrics/data folder holding TUD-*/gt.txt")
    parser.add_argument("--sequences", nargs="+", default=["TUD-Campus", "TUD-Stadtmitte"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", default=["normal", "normal-cut"], choices=[v.name for v in VARIANTS])
    parser.add_argument("--links", action="store_true", help="list the re-links instead of the ID switches")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    runner = Runner(args.data, SimConfig(), None)
    for variant in (v for v in VARIANTS if v.name in args.variants):
        counts: collections.Counter[str] = collections.Counter()
        for seq in args.sequences:
            for seed in args.seeds:
                gt, dets, _ = runner.detections(seq, seed, variant)
                rows = run_ours(dets, ours_config(TUNED[variant.name]))
                ends = pieces(rows)
                if args.links:
                    found = links(gt, rows, ends, variant.fps)
                    counts.update("same person" if same else "two people" for same, _ in found)
                    lines = [line for _, line in found]
                else:
                    found = switches(gt, rows, ends, final_ids(ends, variant.fps), variant.fps)
                    counts.update(kind for kind, _ in found)
                    lines = [line for _, line in found]
                print(f"=== {variant.name} {seq} seed {seed}: {len(lines)}")
                for line in lines:
                    print(f"  {line}")
        print(f"### {variant.name}, seeds {args.seeds}: {dict(counts)}\n")


if __name__ == "__main__":
    main()
