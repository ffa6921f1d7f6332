"""Records whose body faces against the person's walk: a partly hidden person's pose turned round. Numpy only.

The landmark model's pose of a person mostly covered by someone in front of them is often turned round (a back
taken for a front, or the front person's limbs), and the backend coasts on from such a pose; nothing later turns
it back, since its 2D and 3D keypoints agree with it (the suite's three_crossing: 47 of 300 person-frames more
than 60 degrees off the true heading, PA-MPJPE 129 mm on them against 69 on the rest). A walking person faces
roughly where they walk, so a record of a person moving at least ``min_speed`` whose body faces more than
``max_angle`` away from their travel direction is taken as turned, provided most of the track's walking records
face the way they walk (someone who walks backwards all along keeps their pose). ``ram_core.scene.gaps`` drops
such records and fills them from the frames around, as it fills a gap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ram_core.contract.results import Results, Track
from ram_core.contract.skeleton import axis_angle_to_matrix
from ram_core.scene.gaps import GapConfig, fill_track_gaps


@dataclass(frozen=True)
class HeadingConfig:
    """Which records count as turned round.

    window_s: the travel direction is the slope of a straight line fitted to the pelvis over this long around
      each record (seconds; averages the backend's depth jitter).
    min_speed: the least speed along the floor (m/s) at which a person's facing is read from their walk.
    max_angle: degrees between the body's facing and the travel direction beyond which a record is turned.
    min_agree: the least share of a track's walking records that face within ``max_angle`` of their walk.
    """

    window_s: float = 1.0
    min_speed: float = 0.5
    max_angle: float = 110.0
    min_agree: float = 0.6


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.divide(v, n, out=np.zeros_like(v), where=n > 1e-9)


def travel(frames: np.ndarray, pelvis: np.ndarray, half: int) -> np.ndarray:
    """``(T, 3)`` velocity per frame at each record: the slope of a least-squares line through the pelvis
    positions ``(T, 3)`` of the records within ``half`` frames (``frames`` ``(T,)`` increasing); zero where
    fewer than 3 records are."""
    frames = np.asarray(frames, dtype=np.int64)
    lo = np.searchsorted(frames, frames - half, side="left")
    hi = np.searchsorted(frames, frames + half, side="right")
    t = (frames - frames[0]).astype(np.float64)
    p = np.asarray(pelvis, dtype=np.float64)

    def window(x: np.ndarray) -> np.ndarray:  # sums over each record's window
        c = np.concatenate([np.zeros((1, *x.shape[1:])), np.cumsum(x, axis=0)])
        return c[hi] - c[lo]

    n = (hi - lo).astype(np.float64)
    st, stt = window(t), window(t * t)
    sp, stp = window(p), window(t[:, None] * p)
    var = stt - st * st / np.maximum(n, 1.0)
    ok = (n >= 3) & (var > 1e-9)
    slope = (stp - st[:, None] * sp / np.maximum(n, 1.0)[:, None]) / np.where(ok, var, 1.0)[:, None]
    return np.where(ok[:, None], slope, 0.0)


def turned_records(track: Track, fps: float, cfg: HeadingConfig | None = None) -> np.ndarray:
    """``(T,)`` True for the records of ``track`` whose body faces against their walk (see the module docstring).

    The floor's normal is the track's own mean body up axis (people stand upright on average), so this needs no
    solved scene; the facing is the body's forward axis (SMPL +z) and the walk the pelvis's travel, both
    along the floor."""
    cfg = cfg or HeadingConfig()
    n = len(track)
    out = np.zeros(n, dtype=bool)
    if n < 3 or fps <= 0:
        return out
    rot = axis_angle_to_matrix(track.global_orient.astype(np.float64))  # (T, 3, 3) body -> camera
    up = _unit(np.mean(rot[:, :, 1], axis=0))
    flat = np.eye(3) - np.outer(up, up)
    facing = _unit(rot[:, :, 2] @ flat)
    half = max(1, int(round(cfg.window_s * fps / 2)))
    velocity = travel(track.frame.astype(np.int64), track.joints[:, 0].astype(np.float64), half) * fps @ flat
    speed = np.linalg.norm(velocity, axis=-1)
    walking = speed >= cfg.min_speed
    if not walking.any():
        return out
    cos = np.sum(facing * _unit(velocity), axis=-1)
    against = walking & (cos < np.cos(np.radians(cfg.max_angle)))
    if 1.0 - against.sum() / walking.sum() < cfg.min_agree:
        return out
    return against


def refill_turned(
    results: Results,
    cfg: HeadingConfig | None = None,
    gaps: GapConfig | None = None,
    behind: Mapping[tuple[int, int], set[int]] | None = None,
) -> Results:
    """``results`` with each track's turned records (:func:`turned_records`) filled from the frames around them as
    ``ram_core.scene.gaps`` fills a gap (flagged predicted). Another track's box there does not stop the fill (as it
    stops a gap's): the record was this track's person, only its pose is replaced."""
    fps = float(results.meta.fps)
    drop = {t.track_id: turned_records(t, fps, cfg) for t in results.tracks}
    if not any(m.any() for m in drop.values()):
        return results
    everyone = {t.track_id for t in results.tracks}
    over = dict(behind or {})
    for t in results.tracks:
        for f in t.frame[drop[t.track_id]]:
            over[(t.track_id, int(f))] = everyone
    return fill_track_gaps(results, gaps, behind=over, drop=drop)


__all__ = ["HeadingConfig", "refill_turned", "travel", "turned_records"]
