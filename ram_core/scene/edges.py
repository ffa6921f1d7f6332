"""People at the picture's edge: a track that leaves (or enters) through it is carried on to where they went.

A person walking out of the picture is lost by the landmark model once too little of them shows (in the
synthetic enter_leave clip with 0.3 of their box still inside; the detector needs a face to find one coming
in). They are still there, and every tracker benchmark counts them until the last of them leaves. With the
whole clip at hand, a track whose last observed box touches the picture's edge while it moves out through it is
carried on, at its last velocity, until all of its box has left the picture (and a track whose first box touches the
edge, moving in, is carried back the same way): pose held, root translation and box extrapolated linearly,
flagged ``predicted``, confidence 0, like a gap fill (``ram_core.scene.gaps``; the temporal fit shapes them
by its motion terms). A frame where the carried box lies on another track's box (IoU above ``max_iou``) ends
it. Numpy only, like the contract (it runs in ``CaptureClient.results``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ram_core.contract.results import RECORD_FIELDS, Results, Track, make_track
from ram_core.contract.skeleton import forward_kinematics
from ram_core.scene.gaps import _box_iou


@dataclass(frozen=True)
class EdgeConfig:
    """When and how far a track is carried through the picture's edge.

    margin: the box touches the edge when it lies within this fraction of the picture's width (height, for
      the top and bottom) of it or beyond.
    window: the velocity is the least-squares slope over this many of the track's last (first) records
      (at most one frame missing between two).
    min_speed: the box's side still inside moves out through the touched edge by at least this fraction of
      the box height per frame (a person standing at the edge is not carried anywhere). That side, not the
      centre: the landmark box of a person half outside shrinks to what shows, and its centre lags.
    max_s: carried for at most this many seconds.
    max_iou: a carried box overlapping another track's box by more than this IoU ends the carrying (the
      issue's test for two tracks on one person).
    """

    margin: float = 0.01
    window: int = 5
    min_speed: float = 0.01
    max_s: float = 1.0
    max_iou: float = 0.5


def _slope(frames: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Least-squares slope of ``values`` ``(K, D)`` over ``frames`` ``(K,)`` -> ``(D,)``."""
    t = frames - frames.mean()
    return (t[:, None] * (values - values.mean(axis=0))).sum(axis=0) / max(float((t * t).sum()), 1e-9)


#: For each edge a person may leave through (left, right, top, bottom): the box coordinate (xyxy index) on that
#: edge, the one opposite it (the side still inside: it moves with the person while the rest is cut off) and
#: the sign of "outwards".
_EDGES = ((0, 2, -1), (2, 0, 1), (1, 3, -1), (3, 1, 1))


def _leaving_edge(boxes: np.ndarray, velocity: np.ndarray, width: int, height: int, cfg: EdgeConfig) -> int | None:
    """Which edge (an index into ``_EDGES``) the last of ``boxes`` (K, 4) touches while its side still inside
    moves out through it (``velocity`` (4,) px/frame of each coordinate, outwards along the track); None."""
    box = boxes[-1]
    tall = max(float(np.max(boxes[:, 3] - boxes[:, 1])), 1e-9)
    size = (width, height, width, height)
    for e, (edge, inner, sign) in enumerate(_EDGES):
        border = 0.0 if sign < 0 else float(size[edge])
        touches = sign * (box[edge] - border) >= -cfg.margin * size[edge]
        if touches and sign * velocity[inner] >= cfg.min_speed * tall:
            return e
    return None


def _carried(
    track: Track,
    at: int,
    direction: int,
    results: Results,
    seen: dict[int, list[tuple[int, np.ndarray]]],
    cfg: EdgeConfig,
) -> dict[str, np.ndarray] | None:
    """Records carrying ``track`` on from its record ``at`` (its last: direction +1; its first: -1)."""
    meta = results.meta
    ends = np.arange(len(track))[-cfg.window :] if direction > 0 else np.arange(len(track))[: cfg.window][::-1]
    if len(ends) < 2 or np.any(np.abs(np.diff(track.frame[ends])) > 2):
        return None
    frames = track.frame[ends].astype(np.float64) * direction  # increasing outwards along the track
    boxes = track.box[ends].astype(np.float64)
    velocity = _slope(frames, boxes)
    e = _leaving_edge(boxes, velocity, meta.width, meta.height, cfg)
    if e is None:
        return None
    edge, inner, sign = _EDGES[e]
    size = (meta.width, meta.height, meta.width, meta.height)[edge]
    # The whole person: the inner side moves on, the box keeps the largest extent it had near the end.
    extent = float(np.max(sign * (boxes[:, edge] - boxes[:, inner])))
    transl_v = _slope(frames, track.transl[ends].astype(np.float64))
    box0 = track.box[at].astype(np.float64)
    limit = int(round(cfg.max_s * meta.fps))
    new: list[int] = []
    carried: list[np.ndarray] = []
    for k in range(1, limit + 1):
        f = int(track.frame[at]) + direction * k
        if not meta.frame_start <= f < meta.frame_end or f in meta.skipped_frames:
            break
        box = box0 + velocity * k
        box[edge] = box[inner] + sign * extent
        if sign * (box[inner] - (0.0 if sign < 0 else size)) >= 0:  # all of them outside
            break
        others = [b for tid, b in seen.get(f, []) if tid != track.track_id]
        if others and _box_iou(box, np.stack(others)).max() > cfg.max_iou:
            break
        new.append(f)
        carried.append(box)
    if not new:
        return None
    n, k = len(new), np.abs(np.asarray(new, dtype=np.float64) - track.frame[at])[:, None]
    go = np.repeat(track.global_orient[at : at + 1].astype(np.float64), n, axis=0)
    bp = np.repeat(track.body_pose[at : at + 1].astype(np.float64), n, axis=0)
    transl = track.transl[at].astype(np.float64) + transl_v * k
    joints, _ = forward_kinematics(go, bp, np.asarray(meta.rest_joints, dtype=np.float64), transl)
    fill = {
        "frame": np.asarray(new),
        "global_orient": go,
        "body_pose": bp,
        "betas": np.repeat(track.betas[at : at + 1], n, axis=0),
        "transl": transl,
        "joints": joints,
        "box": np.stack(carried),
        "confidence": np.zeros(n),
        "predicted": np.ones(n, dtype=bool),
        "scale": np.repeat(track.scale[at : at + 1], n, axis=0),
        "contact": np.zeros((n, 2)),
    }
    for name, field in RECORD_FIELDS.items():  # any other field: its default (what a file without it loads as)
        if name not in fill:
            fill[name] = np.full((n, *field.shape), 0 if field.default is None else field.default, field.dtype)
    return fill


def carry_through_edges(results: Results, cfg: EdgeConfig | None = None) -> Results:
    """``results`` with every track that leaves or enters through the picture's edge carried on beyond its
    last (before its first) observed record (``_carried``). A carried record never lies on another track's
    record (observed or filled), tracks in order, nor before the track's first or after its last record."""
    cfg = cfg or EdgeConfig()
    seen: dict[int, list[tuple[int, np.ndarray]]] = {}
    for t in results.tracks:
        for f, box in zip(t.frame, t.box):
            seen.setdefault(int(f), []).append((t.track_id, box.astype(np.float64)))
    tracks = []
    for t in results.tracks:
        parts = []
        if len(t) >= 2:
            for at, direction in ((0, -1), (len(t) - 1, 1)):
                if t.predicted[at]:
                    continue
                fill = _carried(t, at, direction, results, seen, cfg)
                if fill is not None:
                    parts.append(fill)
                    for f, box in zip(fill["frame"], fill["box"]):
                        seen.setdefault(int(f), []).append((t.track_id, box))
        if parts:
            arrays = t.arrays()
            order = np.argsort(np.concatenate([arrays["frame"], *[p["frame"] for p in parts]]), kind="stable")
            t = make_track(
                t.track_id,
                **{k: np.concatenate([v, *[p[k] for p in parts]])[order] for k, v in arrays.items()},
            )
        tracks.append(t)
    return Results(meta=results.meta, tracks=tracks)
