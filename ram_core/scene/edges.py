"""Offline: a person at the picture's edge or hidden when the clip ends, kept where the motion says they are.

Two kinds of track end leave a person unseen though they are there, and every tracker benchmark counts them:

* entering or leaving the picture: the landmark model's pose flag drops to nothing once about half of a person
  is outside the frame (in the synthetic enter_leave clip crops on the true box scored 0.00-0.2 while 5-60 % of
  the person was inside, though its landmarks lay on them), and on an empty place its landmarks look just as
  good, so a crop cannot tell a person half outside the picture from nobody. The motion can: a track whose
  first (last) observed box already crosses the picture's edge and moves out through it (read backwards for
  the first) is a person entering (leaving), and the rest of them is still there on the frames before (after).
  Such a track is extended, at the velocity of its observed records next to that end, frame by frame until
  its box lies (almost) wholly outside (``edge_frames``);
* hidden when the clip ends: a track lost inside the picture within ``clip_end_s`` of the clip's end is a
  person behind something there (people do not vanish inside a picture;
  in the synthetic pillar clip two walkers went behind the pillar 7 and 17 frames before the end, and the
  landmark model's pose flag on their true boxes was 0.0-0.5 while 3-28 % of them showed). Such a track is
  carried to the clip's end at the velocity and size of its last second's records that show all of
  the person (``tail_frames``: a person going behind something shows less and less, and their box's centre
  moves away from the occluder; a gap's fill is not used either, having no far end).

Box and translation follow the same straight line; the body's turn is held from the nearest record wholly in
the picture and its pose goes on with its own gait where it shows one (``ram_core.scene.gaps``); flagged
``predicted``, confidence 0, like a gap's fill. Never onto a frame where the box lies on another track's record
(IoU above ``max_iou``: the extension ends there; at the clip's end not a track this one was apart from shortly
before, whom its person went behind: ``went_behind``), outside the clip, or onto a frame the video could not decode.
Numpy only, like the contract (it runs in ``CaptureClient.results``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ram_core.contract.results import Results, Track
from ram_core.scene.gaps import GapConfig, box_iou, gait_period, merge_records, note_boxes, posed_joints


@dataclass(frozen=True)
class EdgeConfig:
    """When and how far a track is extended.

    touch: the end's observed box has less than this fraction of its area inside the picture: it crosses the
      edge (a box wholly inside, however near the edge, is someone who may stop or turn there).
    out: the extension ends on the first frame whose box has less than this fraction inside.
    max_s: at the picture's edge the extension must reach ``out`` within this many seconds, or the track is not
      extended at that end (someone standing at the edge, a velocity too small to trust).
    fit_s, fit_min: at the edge, the velocity is the least-squares line through the observed records of the last
      ``fit_s`` seconds before the end (at least ``fit_min`` frames' span: a low frame rate's few frames), at
      least ``fit_min`` of them (fewer: not extended).
    clip_end_s: a track lost inside the picture at most this many seconds before the clip's last frame is
      carried there. Not at the clip's start: a track first seen within a second of it may be a person who
      came in there (a door; the test suite's scripted walker), and the synthetic suite's figures were the
      same without it.
    whole_s, whole_height: that carry's line and box size are those of the records of the last ``whole_s``
      seconds before the end whose box is at least ``whole_height`` of their median height (the person not yet
      going behind something), at least ``fit_min`` of them.
    along_whole: at the picture's edge, the box's extent along the edge it crosses (its height at the left or
      right edge, its width at the top or bottom) and its centre's line in that direction are those of the
      records near the end whose extent there is at least ``whole_height`` of its median over ``whole_s`` (the
      edge does not cut a person that way, but the landmark model's box of a half-shown person often shrinks:
      in the synthetic enter_leave clip a man's box fell from 104 to 77 px tall over his last four frames
      while his true box stayed 100, and the extension's boxes at 77 px missed him on six frames).
    max_iou: a frame whose extended box overlaps another track's record by more than this IoU ends the
      extension there (the issue's test for two tracks on one person is IoU > 0.5).
    height_whole: at the picture's top or bottom edge, the box's height is that of the tallest records lying in
      the picture within ``max_s`` of the end (the median of those at least ``whole_height`` of their 90th
      percentile), and the box hangs from the line of the side that shows (its top edge at the bottom of the
      picture, its bottom edge at the top). A person cut by the bottom edge shows their head and shoulders, and
      the landmark model guesses the rest: in the synthetic enter_leave clip a woman walking in from the bottom
      had first boxes 1.3-1.6 times her true height reaching far below the picture (the extension left the
      picture after three frames and missed her on eight), then, once the box lay in the picture, boxes of
      0.5-0.8 of her height with the whole body squeezed into what showed: only the tallest of the records in
      the picture are her whole height. Her head's line was 0.8 of its true speed. (A person's height in the
      picture changes only with their distance, their width with every stride: the left and right edges keep
      the end box's width.)
    behind_end: the carry to the clip's end is not stopped by another track that was apart from this one (IoU at
      most ``max_iou``) on one of its observed frames within ``whole_s`` of its end and has records after that end
      (``went_behind``): the two people met where this one was lost, and what goes on there is the one in front.
      The synthetic stop_go_15fps: a man walks behind another who stands, 4 frames before the clip ends; his
      carry lay on the other's box from its first frame and was not made.
    """

    touch: float = 0.98
    out: float = 0.02
    max_s: float = 1.0
    fit_s: float = 0.3
    fit_min: int = 3
    clip_end_s: float = 1.0
    whole_s: float = 1.0
    whole_height: float = 0.9
    along_whole: bool = True
    max_iou: float = 0.5
    height_whole: bool = True
    behind_end: bool = True


def edges_crossed(box: np.ndarray, width: float, height: float) -> np.ndarray:
    """``(4,)`` bool: which of the picture's edges (left, top, right, bottom) the xyxy ``box`` ``(4,)`` reaches
    beyond (``width`` x ``height`` px)."""
    return np.array([box[0] < 0, box[1] < 0, box[2] > width, box[3] > height])


def inside_fraction(boxes: np.ndarray, width: float, height: float) -> np.ndarray:
    """``(N,)`` the fraction of each xyxy box's area ``(N, 4)`` inside the picture ``[0, width] x [0, height]``."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    w = np.clip(np.minimum(boxes[:, 2], width) - np.maximum(boxes[:, 0], 0), 0, None)
    h = np.clip(np.minimum(boxes[:, 3], height) - np.maximum(boxes[:, 1], 0), 0, None)
    area = np.prod(np.clip(boxes[:, 2:] - boxes[:, :2], 0, None), axis=1)
    return np.divide(w * h, area, out=np.zeros(len(boxes)), where=area > 0)


def _centre_line(frames: np.ndarray, boxes: np.ndarray, use: np.ndarray, origin: int) -> tuple[np.ndarray, np.ndarray]:
    """The least-squares straight line through the centres of ``boxes[use]``: its velocity ``(2,)`` in pixels a
    frame and its centre ``(2,)`` at frame ``origin``."""
    t = (frames[use] - origin).astype(np.float64)
    centre = (boxes[use, :2] + boxes[use, 2:]) / 2
    (velocity, start), *_ = np.linalg.lstsq(np.stack([t, np.ones_like(t)], axis=1), centre, rcond=None)
    return velocity, start


def _hung_from_shown_side(
    frames: np.ndarray,
    boxes: np.ndarray,
    near: np.ndarray,
    end: int,
    size: tuple[float, float],
    fps: float,
    cfg: EdgeConfig,
) -> tuple[float, float, float] | None:
    """For an end box crossing the picture's top or bottom edge: the vertical velocity and centre (at the end's
    frame) of the line of the box's side that shows (fitted on the ``near`` records) shifted by half the height of
    the records wholly in the picture nearest the end, and that half height; None for another edge or without
    ``cfg.fit_min`` records wholly in the picture within ``cfg.max_s`` of the end (``EdgeConfig.height_whole``)."""
    width, height = size
    b = boxes[end]
    if b[0] < 0 or b[2] > width or not (b[1] < 0 or b[3] > height):
        return None
    shown = (inside_fraction(boxes, width, height) >= cfg.touch) & (np.abs(frames - frames[end]) <= cfg.max_s * fps)
    idx = np.flatnonzero(shown)
    if len(idx) < cfg.fit_min:
        return None
    tall = boxes[idx, 3] - boxes[idx, 1]
    half = float(np.median(tall[tall >= cfg.whole_height * np.quantile(tall, 0.9)])) / 2
    side = 1 if b[3] > height else 3  # crossing the bottom, the top edge shows; crossing the top, the bottom one
    t = (frames[near] - frames[end]).astype(np.float64)
    (velocity, start), *_ = np.linalg.lstsq(np.stack([t, np.ones_like(t)], axis=1), boxes[near, side], rcond=None)
    return float(velocity), float(start + (half if side == 1 else -half)), half


def edge_frames(
    frames: np.ndarray,
    boxes: np.ndarray,
    side: int,
    size: tuple[float, float],
    frame_range: tuple[int, int],
    fps: float,
    cfg: EdgeConfig,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Where one end of a track goes on through the picture's edge.

    Args:
        frames: ``(T,)`` the frames of the track's observed records, ascending; ``boxes`` ``(T, 4)`` their boxes.
        side: -1 the track's start (extended backwards), +1 its end.
        size: the picture's (width, height); ``frame_range``: the clip's first and last frame (inclusive).

    Returns:
        ``(new frames (K,), boxes (K, 4), used (T,))`` for the frames beyond that end (nearest first, none
        outside the clip), ``used`` the records whose straight line they follow, up to where the person has
        left the picture; None unless the end's box crosses the picture's edge and moves straight out through
        it within ``cfg.max_s``. The boxes keep the end box's size (the landmark model places a half-shown
        person's hidden landmarks about where they are, so that box is already about whole: in the synthetic
        run clip 0.86-1.22 of the true box's width on the first four frames of a man running in from the left)
        and move at the velocity of the end's observed records over the last ``cfg.fit_s`` seconds; along the edge
        it crosses, size and line are those of the records showing all of the person's extent that way
        (``cfg.along_whole``).
    """
    frames = np.asarray(frames, dtype=np.int64)
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    width, height = size
    if len(frames) < cfg.fit_min:
        return None
    end = 0 if side < 0 else len(frames) - 1
    near = np.abs(frames - frames[end]) <= max(cfg.fit_s * fps, cfg.fit_min - 1)
    if near.sum() < cfg.fit_min:
        return None
    velocity, start = _centre_line(frames, boxes, near, frames[end])
    half = (boxes[end, 2:] - boxes[end, :2]) / 2
    if cfg.along_whole:
        b = boxes[end]
        along = 1 if (b[0] < 0 or b[2] > width) else 0  # y for the left or right edge, x for the top or bottom
        window = np.abs(frames - frames[end]) <= cfg.whole_s * fps
        extent = boxes[:, 2 + along] - boxes[:, along]
        whole = window & (extent >= cfg.whole_height * np.median(extent[window]))
        idx = np.flatnonzero(whole)
        nearest = idx[-1] if side > 0 else idx[0]
        fit = whole & (np.abs(frames - frames[nearest]) <= max(cfg.fit_s * fps, cfg.fit_min - 1))
        if fit.sum() >= cfg.fit_min:
            whole_velocity, whole_start = _centre_line(frames, boxes, fit, frames[end])
            velocity[along], start[along] = whole_velocity[along], whole_start[along]
            half[along] = np.median(boxes[fit, 2 + along] - boxes[fit, along]) / 2
    if cfg.height_whole:
        hung = _hung_from_shown_side(frames, boxes, near, end, (width, height), fps, cfg)
        if hung is not None:
            velocity[1], start[1], half[1] = hung
    most = int(np.ceil(cfg.max_s * fps))
    steps = np.arange(1, most + 1)
    centres = start + side * steps[:, None] * velocity
    out = np.concatenate([centres - half, centres + half], axis=1)
    inside = inside_fraction(out, width, height)
    gone = np.flatnonzero(inside < cfg.out)
    if not len(gone) or inside_fraction(boxes[end], width, height)[0] >= cfg.touch:
        return None  # does not leave the picture in time, or the end does not cross its edge
    was = inside_fraction(np.concatenate([start - half, start + half])[None], width, height)[0]
    if np.any(np.diff(np.concatenate([[was], inside[: gone[0] + 1]])) > 1e-9):
        return None  # not straight out
    new = frames[end] + side * steps
    keep = np.arange(len(steps)) < gone[0]
    keep &= (new >= frame_range[0]) & (new <= frame_range[1])
    return new[keep], out[keep], near


def tail_frames(
    frames: np.ndarray,
    boxes: np.ndarray,
    side: int,
    size: tuple[float, float],
    frame_range: tuple[int, int],
    fps: float,
    cfg: EdgeConfig,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Where one end of a track lost inside the picture goes on to the clip's end (``side`` +1; -1: its start,
    the same backwards) when it lies within ``cfg.clip_end_s`` of it; arguments and returns as ``edge_frames``'s.
    None when the clip's end is further, when the end's box is not (almost) wholly inside the picture (less than
    ``cfg.touch`` of it: a track lost at the edge is ``edge_frames``'s, which leaves someone standing there or
    leaving too slowly to trust unextended), or when the track has fewer than ``cfg.fit_min`` records showing all
    of the person near that end. The boxes leave the picture's frames once they are (almost) wholly outside it."""
    frames = np.asarray(frames, dtype=np.int64)
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    width, height = size
    end = 0 if side < 0 else len(frames) - 1
    left = (frame_range[1] - frames[end]) if side > 0 else (frames[end] - frame_range[0])
    if left <= 0 or left > cfg.clip_end_s * fps or inside_fraction(boxes[end], width, height)[0] < cfg.touch:
        return None
    window = np.abs(frames - frames[end]) <= cfg.whole_s * fps
    heights = boxes[:, 3] - boxes[:, 1]
    whole = window & (heights >= cfg.whole_height * np.median(heights[window]))
    if whole.sum() < cfg.fit_min:
        return None
    velocity, start = _centre_line(frames, boxes, whole, 0)
    half = np.median(boxes[whole, 2:] - boxes[whole, :2], axis=0) / 2
    steps = np.arange(1, left + 1)
    new = frames[end] + side * steps
    centres = start + new[:, None] * velocity
    out = np.concatenate([centres - half, centres + half], axis=1)
    inside = inside_fraction(out, width, height)
    keep = np.cumprod(inside >= cfg.out).astype(bool)
    return new[keep], out[keep], whole


def went_behind(
    track_id: int,
    frames: np.ndarray,
    boxes: np.ndarray,
    seen: dict[int, list[tuple[int, np.ndarray]]],
    fps: float,
    cfg: EdgeConfig,
) -> set[int]:
    """Ids of the tracks a track lost inside the picture near the clip's end went behind (``cfg.behind_end``): each
    other track with a record apart from this one's (IoU at most ``cfg.max_iou``) on one of its observed
    ``frames`` (``(T,)`` ascending, boxes ``(T, 4)``) within ``cfg.whole_s`` of its last, and a record after that
    last frame; none when ``behind_end`` is off."""
    if not cfg.behind_end or not len(frames):
        return set()
    last = int(frames[-1])
    later = {tid for f, rows in seen.items() if f > last for tid, _ in rows if tid != track_id}
    out: set[int] = set()
    for f, box in zip(frames, boxes):
        if last - int(f) > cfg.whole_s * fps:
            continue
        for tid, other in seen.get(int(f), []):
            if tid in later and box_iou(np.asarray(box, dtype=np.float64), other[None])[0] <= cfg.max_iou:
                out.add(tid)
    return out


def _track_ends(frames: np.ndarray, observed: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """The ends a track may be extended at: ``(side, part)``, ``part`` ``(T,)`` bool over its ``observed`` frames
    ``(T,)`` (ascending) of the records that end is the end of. The track's first and last (side -1 and +1, all of
    them), then both sides of every hole among its records ``frames`` (all of them, ascending): a person who left
    the picture and came back through its edge, their track continued by the backend (``reentry``) across frames
    that no fill reaches."""
    everything = np.ones(len(observed), dtype=bool)
    ends = [(-1, everything), (1, everything)]
    for i in np.flatnonzero(np.diff(frames) > 1):
        ends += [(1, observed <= frames[i]), (-1, observed >= frames[i + 1])]
    return ends


def extended_track(
    track: Track,
    rest_joints: np.ndarray,
    seen: dict[int, list[tuple[int, np.ndarray]]],
    meta_size: tuple[float, float],
    frame_range: tuple[int, int],
    fps: float,
    skipped: frozenset[int] = frozenset(),
    cfg: EdgeConfig | None = None,
    gaps: GapConfig | None = None,
) -> Track:
    """``track`` extended at each end that crosses the picture's edge or lies near the clip's (see the module
    docstring).

    ``seen``: frame -> [(track id, box)] of every record; ``meta_size``: the picture's (width, height);
    ``frame_range``: the clip's first and last frame (inclusive).
    """
    cfg = cfg or EdgeConfig()
    gaps = gaps or GapConfig()
    observed = ~track.predicted.astype(bool)
    if observed.sum() < cfg.fit_min:
        return track
    frames, boxes = track.frame[observed], track.box[observed].astype(np.float64)
    period = gait_period(track, fps, gaps) if gaps.gait else None
    index = {int(f): i for i, f in enumerate(track.frame) if observed[i]}
    inside = inside_fraction(track.box, *meta_size)
    whole = {i for i in index.values() if inside[i] >= cfg.touch}  # observed records wholly in the picture
    parts: list[dict[str, np.ndarray]] = []
    taken: list[int] = []  # frames an earlier end's extension took (the two sides of a hole may meet)
    for side, part in _track_ends(track.frame, frames):
        found = edge_frames(frames[part], boxes[part], side, meta_size, frame_range, fps, cfg)
        if found is None and side > 0 and part.all():
            found = tail_frames(frames, boxes, side, meta_size, frame_range, fps, cfg)
        if found is None:
            continue
        new, box, near = found
        used = np.zeros(len(frames), dtype=bool)
        used[np.flatnonzero(part)[near]] = True
        mine = {index[int(f)] for f in frames[part]}
        end = index[int(frames[part][0 if side < 0 else -1])]
        free = ~np.isin(new, list(skipped))
        free &= ~np.isin(new, track.frame) & ~np.isin(new, taken)
        front = went_behind(track.track_id, frames, boxes, seen, fps, cfg) if side > 0 and part.all() else set()
        for i, f in enumerate(new):
            others = [b for tid, b in seen.get(int(f), []) if tid != track.track_id and tid not in front]
            free[i] &= not others or box_iou(box[i], np.stack(others)).max() <= cfg.max_iou
        stop = np.flatnonzero(~free)
        count = int(stop[0]) if len(stop) else len(new)
        if count == 0:
            continue
        new, box = new[:count], box[:count]
        taken += new.tolist()
        t = frames[used].astype(np.float64)
        moves = track.transl[observed][used].astype(np.float64)
        (velocity, start), *_ = np.linalg.lstsq(np.stack([t, np.ones_like(t)], axis=1), moves, rcond=None)
        transl = start + new[:, None] * velocity
        # The pose of a person wholly in the picture: the landmark model guesses a half-shown body's turn and lean.
        shown = [i for i in whole & mine if abs(int(track.frame[i]) - int(track.frame[end])) <= cfg.max_s * fps]
        pose = min(shown, key=lambda i: abs(int(track.frame[i]) - int(track.frame[end])), default=end)
        go = np.repeat(track.global_orient[pose : pose + 1], count, axis=0).astype(np.float64)
        bp = np.repeat(track.body_pose[pose : pose + 1], count, axis=0).astype(np.float64)
        if period is not None:  # the gait goes on: the pose a whole number of periods nearer the track
            for i, f in enumerate(new):
                for k in range(1, 6):
                    source = index.get(int(round(f - side * k * period)))
                    if source is not None and source in whole and source in mine:
                        bp[i] = track.body_pose[source]
                        break
        scale = np.repeat(track.scale[end : end + 1], count, axis=0)
        joints = posed_joints(go, bp, rest_joints, transl, scale)
        parts.append(
            {
                "frame": new,
                "global_orient": go,
                "body_pose": bp,
                "betas": np.repeat(track.betas[end : end + 1], count, axis=0),
                "transl": transl,
                "joints": joints,
                "box": box,
                "scale": scale,
            }
        )
    if not parts:
        return track
    return merge_records(track, {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}, predicted=True)


def extend_at_edges(results: Results, cfg: EdgeConfig | None = None) -> Results:
    """``results`` with every track entering or leaving the picture, or hidden near the clip's end, extended
    (``extended_track``); tracks in order, each one's new records seen by the next."""
    cfg = cfg or EdgeConfig()
    meta = results.meta
    seen: dict[int, list[tuple[int, np.ndarray]]] = {}
    for t in results.tracks:
        note_boxes(seen, t.track_id, t.frame, t.box)
    last = meta.frame_end - 1 if meta.frame_end > meta.frame_start else max(meta.frame_count - 1, 0)
    tracks = []
    for t in results.tracks:
        grown = extended_track(
            t,
            meta.rest_joints,
            seen,
            (float(meta.width), float(meta.height)),
            (int(meta.frame_start), int(last)),
            float(meta.fps),
            frozenset(meta.skipped_frames),
            cfg,
        )
        made = ~np.isin(grown.frame, t.frame)
        note_boxes(seen, t.track_id, grown.frame[made], grown.box[made])
        tracks.append(grown)
    return Results(meta=meta, tracks=tracks)
