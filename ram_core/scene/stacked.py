"""Offline: two tracks on one person for a run of frames; the one that person does not continue lets go there.

When people cross, the one in front hides the others, and a hidden person's track, whose crop now holds mostly
the person in front, often follows that person for a few frames: two tracks with about the same box (in the
synthetic three_crossing clip a walker's track took the box of the person in front, 1.15 times its own height,
for eight frames while that person's own track kept a smaller box on them) and then, as the people part, each track goes on with
one of them. Online the tracker cannot tell which of the two is the intruder; with the whole clip at hand the
motion can: the front person's own track goes on through the run with the box and size it had before and
after, the intruder's records there jump away from the line between its own records on either side.

So, for every run of frames on which two tracks' boxes coincide (IoU at least ``stack_iou``), each track's
records in the run are compared with the straight line between its nearest records before and after the run
that coincide with no other track (centre offset in heights plus the log of the height ratio); where one
track strays clearly further (``ratio`` times the other, at least ``min_stray``), its records in the run are
dropped and ``ram_core.scene.gaps`` fills the gap they leave from that track's own motion, on those frames
even where the fill lies on the other track's box (the person is behind the other: ``behind``). Both tracks
need records clear of any other track on both sides of the run, or neither lets go. Numpy only, like the
contract (it runs in ``CaptureClient.results``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ram_core.contract.results import Results, Track, make_track
from ram_core.scene.depth import frame_runs
from ram_core.scene.gaps import box_iou


@dataclass(frozen=True)
class StackConfig:
    """When two tracks are on one person and which one lets go.

    stack_iou: two tracks' boxes on one frame overlapping at least this much are on one person (two people
      side by side or one behind the other rarely overlap that much: their amodal boxes do, but a hidden
      person's track keeps the box of what shows of them).
    ratio, min_stray: the intruder strays from its own line at least ``ratio`` times as far as the other track
      and at least ``min_stray`` (heights); otherwise both stay (neither's motion says which). In the synthetic
      three_crossing clip the intruder strayed 0.19, the front person's own track 0.11 (its records in the run
      are partly mixed skeletons): any ratio from 1.0 to 1.5 gave the same suite figures, 2.0 changed nothing.
    max_gap_s: the intruder's records on either side of the run lie within this many seconds of each other
      (what ``ram_core.scene.gaps`` fills), or it keeps its records.
    """

    stack_iou: float = 0.6
    ratio: float = 1.25
    min_stray: float = 0.1
    max_gap_s: float = 2.0


def _cwh(box: np.ndarray) -> np.ndarray:
    """Centre x, centre y and height of xyxy boxes ``(..., 4)``."""
    return np.stack([(box[..., 0] + box[..., 2]) / 2, (box[..., 1] + box[..., 3]) / 2, box[..., 3] - box[..., 1]], -1)


def stray(track: Track, first: int, last: int, clear: np.ndarray, max_gap: int) -> float | None:
    """How far ``track``'s records on frames ``first..last`` lie from the straight line between its nearest
    records before and after them that are ``clear`` (``(T,)`` bool: on no other track's person): the mean of
    centre offset over height plus ``|log|`` of the height ratio. None without such records on both sides
    within ``max_gap`` frames of each other."""
    frames = track.frame
    before = np.flatnonzero(clear & (frames < first))
    after = np.flatnonzero(clear & (frames > last))
    if not len(before) or not len(after):
        return None
    a, b = before[-1], after[0]
    if frames[b] - frames[a] > max_gap:
        return None
    inside = np.flatnonzero((frames >= first) & (frames <= last))
    ends = _cwh(track.box[[a, b]].astype(np.float64))
    t = ((frames[inside] - frames[a]) / (frames[b] - frames[a]))[:, None]
    line = (1 - t) * ends[0] + t * ends[1]
    got = _cwh(track.box[inside].astype(np.float64))
    offset = np.linalg.norm(got[:, :2] - line[:, :2], axis=1) / np.maximum(line[:, 2], 1e-9)
    size = np.abs(np.log(np.maximum(got[:, 2], 1e-9) / np.maximum(line[:, 2], 1e-9)))
    return float(np.mean(offset + size))


def _stacked(tracks: list[Track], cfg: StackConfig) -> dict[tuple[int, int], np.ndarray]:
    """{(i, j): frames} on which tracks i < j have boxes overlapping at least ``cfg.stack_iou``."""
    out = {}
    for i, a in enumerate(tracks):
        for j in range(i + 1, len(tracks)):
            b = tracks[j]
            both, ia, ib = np.intersect1d(a.frame, b.frame, return_indices=True)
            if not len(both):
                continue
            iou = box_iou(a.box[ia], b.box[ib])
            if (iou >= cfg.stack_iou).any():
                out[(i, j)] = both[iou >= cfg.stack_iou]
    return out


def _drop(track: Track, first: int, last: int) -> Track:
    """``track`` without its records on frames ``first..last``."""
    keep = (track.frame < first) | (track.frame > last)
    return make_track(track.track_id, **{k: v[keep] for k, v in track.arrays().items()})


def unstack_tracks(results: Results, cfg: StackConfig | None = None) -> tuple[Results, dict[tuple[int, int], set[int]]]:
    """``results`` with, for every run of frames two tracks share one person on, the intruder's records there
    dropped (see the module docstring), the clearest case (largest ratio of the two strays) first, then all
    looked at again (each drop removes records, so this ends); and ``behind``: (intruder's id, frame) -> the ids of the tracks its person is
    hidden behind there (for ``ram_core.scene.gaps.fill_track_gaps``)."""
    cfg = cfg or StackConfig()
    max_gap = int(round(cfg.max_gap_s * results.meta.fps))
    tracks = [t for t in results.tracks if len(t)]
    empty = [t for t in results.tracks if not len(t)]
    behind: dict[tuple[int, int], set[int]] = {}
    while True:
        stacked = _stacked(tracks, cfg)
        clear = [np.ones(len(t), dtype=bool) for t in tracks]
        for (i, j), frames in stacked.items():
            clear[i] &= ~np.isin(tracks[i].frame, frames)
            clear[j] &= ~np.isin(tracks[j].frame, frames)
        best: tuple[float, int, int, int, int] | None = None
        for (i, j), frames in stacked.items():
            for first, last in ((int(frames[r.start]), int(frames[r.stop - 1])) for r in frame_runs(frames)):
                si, sj = (stray(tracks[k], first, last, clear[k], max_gap) for k in (i, j))
                for k, mine, theirs in ((i, si, sj), (j, sj, si)):
                    if mine is None or theirs is None or mine < cfg.min_stray or mine < cfg.ratio * theirs:
                        continue
                    margin = mine / max(theirs, 1e-9)
                    if best is None or margin > best[0]:
                        best = (margin, k, first, last, j if k == i else i)
        if best is None:
            break
        _, k, first, last, other = best
        for f in range(first, last + 1):
            behind.setdefault((tracks[k].track_id, f), set()).add(tracks[other].track_id)
        tracks[k] = _drop(tracks[k], first, last)
    out = sorted(tracks + empty, key=lambda t: t.track_id)
    return Results(meta=results.meta, tracks=out), behind


__all__ = ["StackConfig", "stray", "unstack_tracks"]
