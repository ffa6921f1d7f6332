"""Offline gap filling: a person hidden for a moment inside one track is interpolated across the gap.

The `lite` backend fills a track's gaps of up to a few frames as it goes; a longer one (the track coasted
behind someone and found them again) and the gap a re-link joins (``ram_core.scene.relink``) stay empty, so
a person hidden for a second is missing from the capture, though every tracker benchmark counts them (their
amodal box is where they are). With the whole clip at hand, each such gap is filled as the backend fills a
short one: rotations slerped, translation, box and scale interpolated linearly, joints by forward
kinematics, flagged ``predicted``, confidence 0. A frame whose filled box lies on another track's box
(IoU above ``max_iou``) is left empty: that person was seen (or filled) there by the other track, and the
fill would be a second track on them. Numpy only, like the contract (it runs in ``CaptureClient.results``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ram_core.contract.results import RECORD_FIELDS, Results, Track, make_track
from ram_core.contract.skeleton import (
    NUM_JOINTS,
    axis_angle_to_quaternion,
    forward_kinematics,
    quaternion_to_axis_angle,
    slerp,
)


@dataclass(frozen=True)
class GapConfig:
    """Which gaps are filled.

    max_gap_s: gaps of at most this many seconds (the re-link's reach: a person hidden up to about 2 s).
    max_iou: a filled box overlapping another track's box on that frame by more than this IoU is
      dropped (the issue's test for two tracks on one person is IoU > 0.5).
    """

    max_gap_s: float = 2.0
    max_iou: float = 0.5


def fill_gaps(
    frames: np.ndarray,
    global_orient: np.ndarray,
    body_pose: np.ndarray,
    transl: np.ndarray,
    max_gap: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fill gaps of up to ``max_gap`` missing frames between observed ones.

    Rotations are slerped per joint and the translation interpolated linearly between the frames on
    either side of a gap; longer gaps stay gaps.

    Args:
        frames: ``(T,)`` strictly increasing frame indices of one track.
        global_orient: ``(T, 3)``; body_pose ``(T, 23, 3)``; transl ``(T, 3)``.

    Returns:
        ``frames`` ``(T',)``, ``global_orient`` ``(T', 3)``, ``body_pose`` ``(T', 23, 3)``,
        ``transl`` ``(T', 3)`` and ``filled`` ``(T',)`` bool (True for frames made here).
    """
    frames = np.asarray(frames, dtype=np.int64)
    if np.any(np.diff(frames) <= 0):
        raise ValueError("frames must be strictly increasing")
    rot = np.concatenate(
        [np.asarray(global_orient, dtype=np.float64)[:, None], np.asarray(body_pose, dtype=np.float64)], axis=1
    )
    tr = np.asarray(transl, dtype=np.float64)
    gaps = np.diff(frames) - 1
    fill = np.nonzero((gaps > 0) & (gaps <= max_gap))[0]
    if len(fill) == 0:
        return frames.copy(), rot[:, 0], rot[:, 1:], tr.copy(), np.zeros(len(frames), dtype=bool)
    # Which interval each output frame belongs to, and how far along it lies.
    new_frames = np.concatenate([np.arange(frames[i] + 1, frames[i + 1]) for i in fill])
    left = np.searchsorted(frames, new_frames) - 1
    t = (new_frames - frames[left]) / (frames[left + 1] - frames[left])
    quat = axis_angle_to_quaternion(rot)
    new_rot = quaternion_to_axis_angle(
        slerp(quat[left], quat[left + 1], np.broadcast_to(t[:, None], (len(t), NUM_JOINTS)))
    )
    new_tr = tr[left] + t[:, None] * (tr[left + 1] - tr[left])
    all_frames = np.concatenate([frames, new_frames])
    order = np.argsort(all_frames, kind="stable")
    all_rot = np.concatenate([rot, new_rot])[order]
    filled = np.concatenate([np.zeros(len(frames), bool), np.ones(len(new_frames), bool)])[order]
    return all_frames[order], all_rot[:, 0], all_rot[:, 1:], np.concatenate([tr, new_tr])[order], filled


def _box_iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """IoU of one xyxy box ``(4,)`` with each of ``others`` ``(K, 4)`` -> ``(K,)``."""
    lt = np.maximum(box[:2], others[:, :2])
    rb = np.minimum(box[2:], others[:, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=1)
    area = np.prod(np.clip(box[2:] - box[:2], 0, None)) + np.prod(
        np.clip(others[:, 2:] - others[:, :2], 0, None), axis=1
    )
    return np.divide(inter, area - inter, out=np.zeros_like(inter), where=area - inter > 0)


def filled_track(
    track: Track,
    rest_joints: np.ndarray,
    max_gap: int,
    seen: dict[int, list[tuple[int, np.ndarray]]],
    max_iou: float,
    skipped: frozenset[int] = frozenset(),
) -> Track:
    """``track`` with its gaps of at most ``max_gap`` frames filled, except on frames where the filled box
    overlaps another track's box (``seen``: frame -> [(track id, box)]) by more than ``max_iou``, and on
    ``skipped`` frames (damaged frames the video could not decode: they stay missing, not invented)."""
    if len(track) < 2 or not np.any(np.diff(track.frame) > 1):
        return track
    frames, go, bp, transl, filled = fill_gaps(track.frame, track.global_orient, track.body_pose, track.transl, max_gap)
    new = frames[filled]
    left = np.searchsorted(track.frame, new) - 1
    t = ((new - track.frame[left]) / (track.frame[left + 1] - track.frame[left]))[:, None]
    box = (1 - t) * track.box[left] + t * track.box[left + 1]
    free = np.ones(len(new), dtype=bool)
    for i, f in enumerate(new):
        others = [b for tid, b in seen.get(int(f), []) if tid != track.track_id]
        free[i] = int(f) not in skipped and (not others or _box_iou(box[i], np.stack(others)).max() <= max_iou)
    if not free.any():
        return track
    new, left, t, box = new[free], left[free], t[free], box[free]
    rows = np.flatnonzero(filled)[free]
    scale = (1 - t[:, 0]) * track.scale[left] + t[:, 0] * track.scale[left + 1]
    joints, _ = forward_kinematics(go[rows], bp[rows], np.asarray(rest_joints, dtype=np.float64), transl[rows])
    n = len(new)
    fill = {
        "frame": new,
        "global_orient": go[rows],
        "body_pose": bp[rows],
        "betas": track.betas[left],
        "transl": transl[rows],
        "joints": joints,
        "box": box,
        "confidence": np.zeros(n),
        "predicted": np.ones(n, dtype=bool),
        "scale": scale,
        "contact": np.zeros((n, 2)),
    }
    for name, field in RECORD_FIELDS.items():  # any other field: its default (what a file without it loads as)
        if name not in fill:
            fill[name] = np.full((n, *field.shape), 0 if field.default is None else field.default, field.dtype)
    order = np.argsort(np.concatenate([track.frame, new]), kind="stable")
    arrays = {k: np.concatenate([v, fill[k]])[order] for k, v in track.arrays().items()}
    return make_track(track.track_id, **arrays)


def fill_track_gaps(results: Results, cfg: GapConfig | None = None) -> Results:
    """``results`` with every track's gaps of up to ``cfg.max_gap_s`` filled (``filled_track``).

    A fill never lies on another track's record, observed or filled (by the backend or here, tracks in order),
    nor on a frame the video could not decode (``meta.skipped_frames``).
    """
    cfg = cfg or GapConfig()
    seen: dict[int, list[tuple[int, np.ndarray]]] = {}  # frame -> (track id, box) of every record
    for t in results.tracks:
        for f, box in zip(t.frame, t.box):
            seen.setdefault(int(f), []).append((t.track_id, box.astype(np.float64)))
    max_gap = int(round(cfg.max_gap_s * results.meta.fps))
    skipped = frozenset(results.meta.skipped_frames)
    tracks = []
    for t in results.tracks:
        filled = filled_track(t, results.meta.rest_joints, max_gap, seen, cfg.max_iou, skipped)
        made = ~np.isin(filled.frame, t.frame)
        for f, box in zip(filled.frame[made], filled.box[made]):
            seen.setdefault(int(f), []).append((t.track_id, box.astype(np.float64)))
        tracks.append(filled)
    return Results(meta=results.meta, tracks=tracks)
