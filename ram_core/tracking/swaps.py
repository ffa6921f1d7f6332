"""Offline repair of box tracks that exchanged their people where they met.

When people pass close by, the online tracker decides each frame on that frame's boxes alone: a jittered box,
a missed detection or a coasting prediction that drifted makes it give one person's box to another's track,
often for a frame or two before giving it back (each such exchange is two ID switches per person). Seen over a
longer stretch the people are easy to tell apart: each keeps walking the way, and at the size, they had before
they met. So, after the whole file is tracked, every meeting (a stretch of frames where tracks' boxes overlap;
tracks that meet one another at the same time are one meeting of up to ``max_tracks``) is judged again: each
track's boxes just before it and just after it are fitted with a line (centre across, bottom edge and their
velocities; median height), and the labelling of the boxes inside the meeting and after it is chosen that
best continues each person before it into one of the tracks after it: a path over the permutations of the
tracks, frame by frame, with a cost per change, whose box costs are negative log-likelihoods. The tracker's own
labelling is kept unless another is clearly better.

Used by `ram_core.tracking.mot.track_detections` (`ram-core track`) before the re-link; it sees boxes only.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SwapRepairConfig:
    """When tracks met and how their boxes are judged again.

    contact_iou: two tracks meet on a frame where a box of one overlaps the other's box (its own or, between
      two of its boxes at most ``max_fill`` frames apart, the line between them) by more than this IoU.
    merge_gap: meeting frames of two tracks at most this many frames apart form one meeting.
    max_tracks: a meeting of more tracks than this (connected by overlapping meetings) is left alone.
    window: how many of each track's boxes just before and just after a meeting its ends are fitted to; at
      least ``min_rows`` boxes each side, within 2 * window frames of the meeting, or the meeting is left alone.
    sigma: spread of a box's centre across (in widths) and of its bottom edge (in heights) about where its person
      is expected (a detector's box jitters with its size, and a person is narrower than tall, so the centre
      across tells two people apart better than the edges' heights: measured in heights too, a passer-by's
      jittered short boxes were given to the man standing behind him); the ends' extrapolations across a
      meeting of g frames are allowed sigma * (1 + g / window) heights.
    size_sigma: spread of the log of a box's height about the expected one.
    switch_cost: cost of two tracks exchanging their people inside a meeting (the costs are half the squared
      deviations in those spreads: negative log-likelihoods).
    margin: another labelling replaces the tracker's only when its cost is lower by more than this.
    """

    contact_iou: float = 0.3
    merge_gap: int = 3
    max_tracks: int = 3
    window: int = 8
    min_rows: int = 3
    max_fill: int = 10
    sigma: float = 0.05
    size_sigma: float = 0.08
    switch_cost: float = 2.0
    margin: float = 3.0


@dataclass(frozen=True)
class _End:
    """One side of a meeting for one track: the frame of its box nearest the meeting, where its line puts the
    centre across and the bottom edge (x, bottom) px on that frame, their velocity px/frame, the median height and
    width."""

    frame: int
    at: np.ndarray
    velocity: np.ndarray
    height: float
    width: float


@dataclass(frozen=True)
class _Meeting:
    """Tracks (sorted ids) whose boxes overlap on frames first..last."""

    tracks: tuple[int, ...]
    first: int
    last: int


def unswapped_ids(ids: np.ndarray, frames: np.ndarray, boxes: np.ndarray, cfg: SwapRepairConfig) -> np.ndarray:
    """Track ids (R,) with the boxes of tracks that met relabelled where a clearly better-fitting labelling says
    so; frames (R,), boxes (R, 4) xyxy px, at most one row per id and frame, any row order."""
    ids = np.asarray(ids).copy()
    frames = np.asarray(frames)
    boxes = np.asarray(boxes, np.float64)
    judged: set[_Meeting] = set()
    meetings = _meetings(ids, frames, boxes, cfg)
    while True:
        waiting = [m for m in meetings if m not in judged]
        if not waiting:
            return ids
        m = min(waiting, key=lambda m: (m.first, m.tracks))
        judged.add(m)
        if len(m.tracks) <= cfg.max_tracks and _rejudge(ids, frames, boxes, m, cfg):
            meetings = _meetings(ids, frames, boxes, cfg)


def _dense(frames: np.ndarray, boxes: np.ndarray, start: int, stop: int, max_fill: int) -> np.ndarray:
    """(stop - start, 4) one track's box on each frame start..stop-1: its own, the line between two of its boxes
    at most max_fill frames apart, NaN elsewhere; frames (K,) increasing, boxes (K, 4)."""
    out = np.full((stop - start, 4), np.nan)
    out[frames - start] = boxes
    for k in np.flatnonzero((np.diff(frames) > 1) & (np.diff(frames) <= max_fill)):
        gap = int(frames[k + 1] - frames[k])
        w = (np.arange(1, gap) / gap)[:, None]
        out[frames[k] + 1 - start : frames[k + 1] - start] = (1 - w) * boxes[k] + w * boxes[k + 1]
    return out


def _pair_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(K,) IoU of each box of a (K, 4) with the same row of b (K, 4), xyxy."""
    w = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
    h = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0, None)
    inter = w * h
    union = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter
    return inter / np.maximum(union, 1e-9)


def _meetings(ids: np.ndarray, frames: np.ndarray, boxes: np.ndarray, cfg: SwapRepairConfig) -> list[_Meeting]:
    """Every meeting: runs of frames on which two tracks' boxes overlap (`SwapRepairConfig.contact_iou`), those
    sharing a track and overlapping in time joined."""
    dense, own, span = {}, {}, {}
    for t in np.unique(ids):
        rows = np.flatnonzero(ids == t)
        rows = rows[np.argsort(frames[rows], kind="stable")]
        start, stop = int(frames[rows[0]]), int(frames[rows[-1]]) + 1
        span[int(t)] = (start, stop)
        dense[int(t)] = _dense(frames[rows], boxes[rows], start, stop, cfg.max_fill)
        own[int(t)] = np.zeros(stop - start, bool)
        own[int(t)][frames[rows] - start] = True
    pairs = []
    keys = sorted(dense, key=lambda t: (span[t][0], t))  # by first frame: a pair overlaps in time or none later does
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            start, stop = span[b][0], min(span[a][1], span[b][1])
            if start >= span[a][1]:
                break
            da, db = (dense[t][start - span[t][0] : stop - span[t][0]] for t in (a, b))
            mine = own[a][start - span[a][0] : stop - span[a][0]] | own[b][: stop - start]
            at = np.flatnonzero(~np.isnan(da[:, 0]) & ~np.isnan(db[:, 0]) & mine)
            if not len(at):
                continue
            touching = at[_pair_iou(da[at], db[at]) > cfg.contact_iou]
            for run in np.split(touching, np.flatnonzero(np.diff(touching) > cfg.merge_gap) + 1):
                if len(run):
                    pairs.append(({a, b}, int(run[0]) + start, int(run[-1]) + start))
    groups: list[tuple[set[int], int, int]] = []
    for tracks, first, last in sorted(pairs, key=lambda p: (p[1], *sorted(p[0]))):
        joined = [g for g in groups if g[0] & tracks and g[1] <= last and g[2] >= first]
        for g in joined:
            groups.remove(g)
            tracks, first, last = tracks | g[0], min(first, g[1]), max(last, g[2])
        groups.append((tracks, first, last))
    return [_Meeting(tuple(sorted(t)), first, last) for t, first, last in groups]


def _side(
    ids: np.ndarray, frames: np.ndarray, boxes: np.ndarray, t: int, m: _Meeting, cfg: SwapRepairConfig, after: bool
) -> _End | None:
    """Track t's end fitted to its last ``window`` boxes before the meeting (or first after it), or None."""
    mine = ids == t
    if after:
        near = mine & (frames > m.last) & (frames <= m.last + 2 * cfg.window)
    else:
        near = mine & (frames < m.first) & (frames >= m.first - 2 * cfg.window)
    rows = np.flatnonzero(near)
    rows = rows[np.argsort(frames[rows], kind="stable")]
    rows = rows[: cfg.window] if after else rows[-cfg.window :]
    if len(rows) < cfg.min_rows:
        return None
    f = frames[rows].astype(np.float64)
    b = boxes[rows]
    points = np.stack([0.5 * (b[:, 0] + b[:, 2]), b[:, 3]], axis=1)
    nearest = f[0] if after else f[-1]
    velocity, at = np.polyfit(f - nearest, points, 1)
    return _End(int(nearest), at, velocity, float(np.median(b[:, 3] - b[:, 1])), float(np.median(b[:, 2] - b[:, 0])))


def _join_cost(before: _End, after: _End, cfg: SwapRepairConfig) -> float:
    """How badly ``after`` continues ``before``: the mean of each end's miss of the other, extrapolated with its
    velocity across the meeting, in heights, and their log height ratio, as a negative log-likelihood."""
    gap = after.frame - before.frame
    height = max(0.5 * (before.height + after.height), 1.0)
    forward = np.linalg.norm(before.at + gap * before.velocity - after.at)
    backward = np.linalg.norm(after.at - gap * after.velocity - before.at)
    miss = 0.5 * (forward + backward) / height / (cfg.sigma * (1.0 + gap / cfg.window))
    size = np.log(max(before.height, 1.0) / max(after.height, 1.0)) / cfg.size_sigma
    return float(0.5 * (miss**2 + size**2))


def _box_cost(box: np.ndarray, expected: np.ndarray, cfg: SwapRepairConfig) -> float:
    """How far one box (4,) xyxy lies from where a person is expected (x, bottom, height, width) px: its centre
    across in widths, its bottom edge in heights and its log height ratio, as a negative log-likelihood."""
    h = max(expected[2], 1.0)
    across = (0.5 * (box[0] + box[2]) - expected[0]) / max(expected[3], 1.0) / cfg.sigma
    bottom = (box[3] - expected[1]) / h / cfg.sigma
    size = np.log(max(box[3] - box[1], 1.0) / h) / cfg.size_sigma
    return float(0.5 * (across**2 + bottom**2 + size**2))


def _expected(before: _End, after: _End, f: int) -> np.ndarray:
    """(x, bottom, height, width) px on frame f, on the line from one end to the other."""
    w = (f - before.frame) / max(after.frame - before.frame, 1)
    return np.array(
        [
            *(before.at + w * (after.at - before.at)),
            before.height + w * (after.height - before.height),
            before.width + w * (after.width - before.width),
        ]
    )


def _rejudge(ids: np.ndarray, frames: np.ndarray, boxes: np.ndarray, m: _Meeting, cfg: SwapRepairConfig) -> bool:
    """Relabel (in place) the meeting's tracks' boxes in and after it when another labelling fits clearly better;
    True when it did.

    Person i is whoever track m.tracks[i] followed before the meeting; a labelling is a permutation p per frame
    (person i's box is track p[i]'s) inside the meeting and one after it."""
    k = len(m.tracks)
    sides = [_side(ids, frames, boxes, t, m, cfg, after) for after in (False, True) for t in m.tracks]
    ends = [e for e in sides if e is not None]
    if len(ends) < len(sides):
        return False
    pre, post = ends[:k], ends[k:]
    inside = [
        {int(frames[r]): int(r) for r in np.flatnonzero((ids == t) & (frames >= m.first) & (frames <= m.last))}
        for t in m.tracks
    ]
    steps = sorted(set().union(*inside))
    perms = list(itertools.permutations(range(k)))
    changes = np.array([[sum(a != b for a, b in zip(p, q)) / 2 for q in perms] for p in perms]) * cfg.switch_cost
    original = None
    best = None
    for end, after in enumerate(perms):
        joins = sum(_join_cost(pre[i], post[after[i]], cfg) for i in range(k))
        emission = np.zeros((len(steps), len(perms)))
        for s, f in enumerate(steps):
            expected = [_expected(pre[i], post[after[i]], f) for i in range(k)]
            for j, p in enumerate(perms):
                emission[s, j] = sum(
                    _box_cost(boxes[inside[p[i]][f]], expected[i], cfg) for i in range(k) if f in inside[p[i]]
                )
        path, cost = _cheapest_path(emission, changes, end)
        if end == 0:
            original = joins + float(emission[:, 0].sum())
        if best is None or joins + cost < best[0]:
            best = (joins + cost, path, end)
    assert best is not None and original is not None
    total, path, end = best
    if original - total <= cfg.margin or (end == 0 and not any(path)):
        return False
    new = ids.copy()
    for f, j in zip(steps, path):
        for i, t in enumerate(perms[j]):
            if f in inside[t]:
                new[inside[t][f]] = m.tracks[i]
    for i, t in enumerate(perms[end]):
        new[(ids == m.tracks[t]) & (frames > m.last)] = m.tracks[i]
    ids[:] = new
    return True


def _cheapest_path(emission: np.ndarray, changes: np.ndarray, end: int) -> tuple[list[int], float]:
    """The cheapest state per step (Viterbi), coming from state 0 before the first step and going to state
    ``end`` after the last: emission (S, P) per step and state, changes (P, P) the cost of moving between two
    states. Returns the states and the path's cost."""
    cost = np.where(np.arange(changes.shape[0]) == 0, 0.0, np.inf)
    back = []
    for e in emission:
        total = cost[:, None] + changes  # from (row) -> to (column)
        back.append(total.argmin(axis=0))
        cost = total.min(axis=0) + e
    final = cost + changes[:, end]
    s = int(np.argmin(final))
    best = float(final[s])
    states = []
    for choice in reversed(back):
        states.append(s)
        s = int(choice[s])
    return states[::-1], best
