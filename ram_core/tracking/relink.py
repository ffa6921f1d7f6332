"""Offline re-linking of box tracklets: a track born where another one's motion leads, a moment after it ended.

`ram-core track` writes its tracks after the whole file is tracked, so a person lost for longer than a track
coasts (hidden, or missed by the detector for a few frames in fast motion) and found again by a new track can
still keep one id. Each tracklet's two ends get a position and a velocity (a line fitted to its first and last
few boxes); a later tracklet continues an earlier one when each, extrapolated over the gap, lands near the
other's end (within a reach that grows with the gap), their sizes agree (or one is the other cut to its visible
part) and, where both move, they move the same way (a person leaving the frame at an edge and another one
entering there a second later do not). All ended/started pairs are assigned at once (Hungarian, one continuation
each way), so chains form.

The lite path re-links its records in `ram_core.scene.relink` (appearance-free too, but on pose records with
fills and part tracks); this one works on boxes only and is used by `ram_core.tracking.mot`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment


@dataclass(frozen=True)
class TrackletLinkConfig:
    """When a tracklet continues another (chosen on the tuning seeds of benchmarks/track_vs_peers.py, seeds 0-9 of
    both TUD sequences: a plateau, reach 0.2-0.5 and drift 0.25-1 gave HOTA within 0.2 of each other).

    max_gap_s: at most this many seconds from the earlier tracklet's last box to the later one's first.
    reach, drift: each end, extrapolated with its velocity over the gap, lies within (reach + drift * gap
      seconds) times the two boxes' mean height of the other end's centre (the uncertainty grows with the gap).
    max_size_ratio: the two end boxes' heights differ by at most this factor.
    end_frames: how many boxes at each end the position and velocity are fitted to.
    min_cosine, still: where both ends move faster than ``still`` heights per second, the cosine between their
      velocities is at least min_cosine (without it most links in the benchmark joined a person who left the
      frame at the right edge to another who entered there 12-37 frames later).
    width_rate: where an end's box widens or narrows faster than this many heights per second, something passing
      in front is cutting one of its sides and its centre moves with that cut, not with the person (a man standing
      still while others walked past him: his first tracklet's centre slid one way, his second's the other, and
      the cosine refused his own continuation): each side's velocity is then tried too, and the best agreement
      counts. inf: the centre only.
    cut_ratio: two ends whose heights differ by more than max_size_ratio but at most this factor, with widths
      within max_size_ratio, may still be one person seen whole at one end and cut to the part an obstacle or a
      nearer person leaves visible at the other (the tracker keeps a track born on such a box at its height): the
      shorter is then compared as the box of the taller's height hanging from its top edge or standing on its
      bottom one, whichever lies nearer. 1 (or max_size_ratio): off.
      max_size_ratio 1.25 (1.4 before), width_rate 0.4 and cut_ratio 3 were chosen on seeds 0-2 of the four
      variants of benchmarks/track_vs_peers.py, with `ram_core.tracking.mot.MOT_TRACKER`'s lost-track height
      gate: summed HOTA 242.28 -> 242.85, ID switches 65 -> 56 (1.25 with 0.4 alone: 242.36, 58; 1.4 with 0.4:
      241.97, 55; width_rate 0.2 or 0.8: 242.37 / 242.15; cut_ratio 2: 242.78, 55; cut_ratio without the width
      condition lost 1.7 HOTA, 0.7 of it at every frame without cuts). Of the links made on the cut variants'
      tuning seeds, 10 of 31 had joined two people with 1.4, 6 of 27 with 1.25 (benchmarks/track_switches.py
      --links). Checked on seeds 3-9 (neither tuned on nor reported): ID switches 163 -> 142, HOTA 240.76 ->
      240.90.
    """

    max_gap_s: float = 2.0
    reach: float = 0.3
    drift: float = 0.5
    max_size_ratio: float = 1.25
    end_frames: int = 5
    min_cosine: float = 0.0
    still: float = 0.05
    width_rate: float = 0.4
    cut_ratio: float = 3.0


@dataclass(frozen=True)
class TrackletEnds:
    """A tracklet's two ends: first/last frame, centre-size (cx, cy, w, h) and its velocity per frame there."""

    first: int
    start: np.ndarray
    start_velocity: np.ndarray
    last: int
    end: np.ndarray
    end_velocity: np.ndarray


def _line(frames: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Value at ``frames[0]`` and slope per frame of a least-squares line through (frames, values (K, 4))."""
    if len(frames) < 2:
        return values[0], np.zeros(values.shape[1])
    slope, at = np.polyfit(frames - frames[0], values, 1)
    return at, slope


def tracklet_ends(frames: np.ndarray, boxes: np.ndarray, end_frames: int) -> TrackletEnds:
    """Both ends of one tracklet from its frames (T,) in increasing order and boxes (T, 4) xyxy px."""
    f = np.asarray(frames, np.float64)
    b = np.asarray(boxes, np.float64)
    cwh = np.concatenate([(b[:, :2] + b[:, 2:]) / 2, b[:, 2:] - b[:, :2]], axis=1)
    start, start_velocity = _line(f[:end_frames], cwh[:end_frames])
    end, end_velocity = _line(f[::-1][:end_frames], cwh[::-1][:end_frames])
    return TrackletEnds(int(f[0]), start, start_velocity, int(f[-1]), end, end_velocity)


def _velocities(at: np.ndarray, velocity: np.ndarray, fps: float, cfg: TrackletLinkConfig) -> list[np.ndarray]:
    """The (vx, vy) per frame a tracklet's end may move at: its centre's, and where its box's width changes faster
    than cfg.width_rate heights per second (one side cut by something passing in front), each side's."""
    out = [velocity[:2]]
    if abs(velocity[2]) * fps > cfg.width_rate * max(at[3], 1e-9):
        out += [velocity[:2] - [0.5 * velocity[2], 0.0], velocity[:2] + [0.5 * velocity[2], 0.0]]
    return out


def link_cost(before: TrackletEnds, after: TrackletEnds, fps: float, cfg: TrackletLinkConfig) -> float | None:
    """How far (in units of the allowed distance, below 1) ``after`` starts from where ``before``'s motion leads,
    or None when it cannot continue it."""
    gap = after.first - before.last
    if gap < 1 or gap > cfg.max_gap_s * fps:
        return None
    h0, h1 = before.end[3], after.start[3]
    if min(h0, h1) <= 0:
        return None
    pairs = [(before.end, after.start)]
    if max(h0, h1) > cfg.max_size_ratio * min(h0, h1):
        w0, w1 = before.end[2], after.start[2]
        if max(h0, h1) > cfg.cut_ratio * min(h0, h1) or max(w0, w1) > cfg.max_size_ratio * max(min(w0, w1), 1e-9):
            return None
        pairs = _completed_pairs(before.end, after.start)
    costs = [
        _cost(p0, p1, v0, v1, gap, fps, cfg)
        for p0, p1 in pairs
        for v0 in _velocities(before.end, before.end_velocity, fps, cfg)
        for v1 in _velocities(after.start, after.start_velocity, fps, cfg)
    ]
    found = [c for c in costs if c is not None]
    return min(found) if found else None


def _completed_pairs(a: np.ndarray, b: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The two ends (cx, cy, w, h) with the shorter one made as tall as the other, hanging from its top edge or
    standing on its bottom one (a box cut to the part of a person an obstacle leaves visible)."""
    out = []
    for sign in (1.0, -1.0):
        a2, b2 = a.copy(), b.copy()
        short, tall = (a2, b2) if a[3] < b[3] else (b2, a2)
        short[1] += sign * 0.5 * (tall[3] - short[3])
        short[3] = tall[3]
        out.append((a2, b2))
    return out


def _cost(
    end: np.ndarray,
    start: np.ndarray,
    v0: np.ndarray,
    v1: np.ndarray,
    gap: int,
    fps: float,
    cfg: TrackletLinkConfig,
) -> float | None:
    """`link_cost` of one end (cx, cy, w, h) moving at v0 and one start moving at v1 (per frame), ``gap`` frames
    apart."""
    height = 0.5 * (end[3] + start[3])
    s0, s1 = np.linalg.norm(v0) * fps / height, np.linalg.norm(v1) * fps / height
    if (
        s0 > cfg.still
        and s1 > cfg.still
        and float(v0 @ v1) / (np.linalg.norm(v0) * np.linalg.norm(v1)) < cfg.min_cosine
    ):
        return None
    forward = np.linalg.norm(end[:2] + gap * v0 - start[:2])
    backward = np.linalg.norm(start[:2] - gap * v1 - end[:2])
    distance = max(forward, backward) / height
    allowed = cfg.reach + cfg.drift * gap / fps
    return float(distance / allowed) if distance <= allowed else None


def link_tracklets(ends: dict[int, TrackletEnds], fps: float, cfg: TrackletLinkConfig) -> dict[int, int]:
    """{later id: earlier id} for the continuations: one optimal assignment over every ended/started pair
    (`link_cost`), each tracklet continuing at most one and continued by at most one."""
    ids = list(ends)
    cost = np.full((len(ids), len(ids)), np.inf)
    for i, a in enumerate(ids):
        for j, b in enumerate(ids):
            if a != b:
                c = link_cost(ends[a], ends[b], fps, cfg)
                if c is not None:
                    cost[i, j] = c
    if not np.isfinite(cost).any():
        return {}
    rows, cols = linear_sum_assignment(np.where(np.isfinite(cost), cost, 1e6))
    return {ids[j]: ids[i] for i, j in zip(rows, cols) if np.isfinite(cost[i, j])}


def relinked_ids(
    ids: np.ndarray, frames: np.ndarray, boxes: np.ndarray, fps: float, cfg: TrackletLinkConfig
) -> np.ndarray:
    """Track ids (R,) with every continuation (`link_tracklets`) given its chain's first id; frames (R,), boxes
    (R, 4) xyxy px, any row order."""
    ids = np.asarray(ids)
    order = np.lexsort((frames, ids))
    ends = {}
    for tid in np.unique(ids):
        rows = order[ids[order] == tid]
        ends[int(tid)] = tracklet_ends(frames[rows], boxes[rows], cfg.end_frames)
    parent = link_tracklets(ends, fps, cfg)

    def root(tid: int) -> int:
        while tid in parent:
            tid = parent[tid]
        return tid

    return np.asarray([root(int(t)) for t in ids], dtype=ids.dtype)
