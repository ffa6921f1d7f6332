"""Offline gap filling: a person hidden for a moment inside one track is interpolated across the gap.

The `lite` backend fills a track's gaps of up to a few frames as it goes; a longer one (the track coasted
behind someone and found them again) and the gap a re-link joins (``ram_core.scene.relink``) stay empty, so
a person hidden for a second is missing from the capture, though every tracker benchmark counts them (their
amodal box is where they are). With the whole clip at hand, each such gap is filled as the backend fills a
short one: rotations slerped, translation, box and scale interpolated linearly, joints by forward
kinematics on the scaled skeleton (``scale * rest_joints``), flagged ``predicted``, confidence 0; except that
a person who walks keeps walking: their body pose is copied from their own strides a whole number of periods before and after the gap (the period from
their legs' swing over the frames they were seen), not slerped between the gap's two ends (which leaves a
hidden walker gliding with legs half apart). A frame whose filled box lies on another track's box
(IoU above ``max_iou``) is left empty: that person was seen (or filled) there by the other track, and the
fill would be a second track on them; unless the two tracks were apart on both sides of the gap (two people,
one passing behind the other) or ``ram_core.scene.stacked`` found this track's person hidden behind the
other's there. A gap whose two end records both cross one edge of the picture, the track moving out through it
before the gap or in after it, is not filled: the person left the picture there and came back
(``ram_core.backends.lite.reentry``), and was not where a line between the two ends puts them;
``ram_core.scene.edges`` carries each end out. Numpy only, like the contract (it runs in ``CaptureClient.results``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ram_core.contract.results import RECORD_FIELDS, Results, Track, make_track
from ram_core.contract.skeleton import (
    JOINT_INDEX,
    NUM_JOINTS,
    axis_angle_to_matrix,
    axis_angle_to_quaternion,
    forward_kinematics,
    quaternion_to_axis_angle,
    slerp,
)

# The legs' joints whose left-minus-right offset swings once per stride.
LEFT = [JOINT_INDEX[n] for n in ("left_knee", "left_ankle", "left_foot")]
RIGHT = [JOINT_INDEX[n] for n in ("right_knee", "right_ankle", "right_foot")]


@dataclass(frozen=True)
class GapConfig:
    """Which gaps are filled.

    max_gap_s: gaps of at most this many seconds (the re-link's reach: a person hidden up to about 2 s).
    max_iou: a filled box overlapping another track's box on that frame by more than this IoU is
      dropped (the issue's test for two tracks on one person is IoU > 0.5).
    apart: except where the other track's records on the gap's two end frames overlap this track's by at most
      ``max_iou``: two people apart before and after, one passing behind the other (whose amodal box lies on
      the front one's), not one person with two tracks. On the synthetic suite with ``ram_core.scene.stacked``
      three_crossing's consistency 0.917 -> 0.960, ID switches 7 -> 0; no other clip changed.
    ended: another track apart from this one before the gap that has no record after it (within the gap's length)
      does not block the fill either (``ended_inside``): it met this track's person inside the gap and was lost
      there. The synthetic stop_go_15fps: a man standing still, his track lost for two frames while the other
      man's track took the one pose found on the two of them and ended behind him; the fill was refused.
    gait: fill a walking person's body pose from their own strides (:func:`gait_period`, :func:`gait_fill`)
      rather than slerping it. On the suite's tuning clips (couple, pillar, toward_away, crouch) with 1 s cut
      from each track's records (6 tracks, 160 person-frames filled), PA-MPJPE on the filled frames 151 -> 96 mm
      and on all 75.5 rather than 96.5, root-relative 93 rather than 119 mm (the fit's ``predicted_weight`` 0.1);
      the crouching person shows no gait and keeps the slerp.
    gait_min_s, gait_max_s: the strides' periods looked for (seconds; walking about 1 s, running 0.7).
    gait_seen: the least weight of every leg keypoint on a frame the period is measured on (a partly hidden
      person's legs are guesses).
    gait_frames: the fewest such frames to measure a period on.
    gait_fit: the least share of the legs' variance the period's sinusoid must explain (walkers on the suite's
      clips 0.6 to 0.9; a crouch 0.4).
    edge_s: the records within this long of a gap of at least ``edge_gap_s`` (on either side) are dropped and
      filled with it (:func:`trim_gap_edges`): the person was going behind someone, or coming out, and the
      landmark model's pose of a partly hidden person is often mirrored or another's limbs, while the track's
      last frames before it was lost may already lie on the person in front. Slerped from such an end, a
      second-long fill turned the whole body round (the suite's cross_hidden: 22 frames more than 60 degrees off
      the true heading, 4 before the fill). On the suite's two clips with such gaps (cross_hidden at 30 fps,
      three_crossing at 25; the only ones, so none is held out for this value) dropping 3 / 4 / 5 / 6 / 8
      frames of cross_hidden took its PA-MPJPE from 82.0 to 80.7 / 73.4 / 81.5 / 70.4 / 71.2 mm (an end landing
      on a turned frame or not), three_crossing's from 77.1 to 75.0-75.5 mm, its ID switches from 7 to 5-6 and
      its coverage from 0.953 to 0.98-0.99. 0.2 s, about how long one person takes to pass behind another,
      drops 6 and 5 frames there. Dropping only frames another person's box overlaps kept the 7 switches.
    edge_gap_s: see ``edge_s``; shorter gaps are a frame or two of a missed detection.
    """

    max_gap_s: float = 2.0
    max_iou: float = 0.5
    apart: bool = True
    ended: bool = True
    gait: bool = True
    gait_min_s: float = 0.6
    gait_max_s: float = 1.6
    gait_seen: float = 0.5
    gait_frames: int = 20
    gait_fit: float = 0.5
    edge_s: float = 0.2
    edge_gap_s: float = 0.2


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


def trim_gap_edges(frames: np.ndarray, edge: int, min_gap: int, max_gap: int) -> np.ndarray:
    """``(T,)`` True for the records of a track (``frames`` ``(T,)``, strictly increasing) to keep: those within
    ``edge`` records of a gap of ``min_gap`` to ``max_gap`` missing frames are not, except the track's first and
    last, and so far as the gap they widen stays within ``max_gap`` (it is filled in their place)."""
    frames = np.asarray(frames, dtype=np.int64)
    keep = np.ones(len(frames), dtype=bool)
    if edge <= 0 or len(frames) < 3:
        return keep
    missing = np.diff(frames) - 1
    for g in np.flatnonzero((missing >= min_gap) & (missing <= max_gap)):
        lo, hi = g, g + 1  # the records either side of the gap
        for _ in range(edge):
            for side in (0, 1):
                j = lo if side == 0 else hi
                nxt = (lo - 1, hi) if side == 0 else (lo, hi + 1)
                if j in (0, len(frames) - 1) or not keep[j] or frames[nxt[1]] - frames[nxt[0]] - 1 > max_gap:
                    continue
                keep[j] = False
                lo, hi = nxt
    return keep


def gait_period(track: Track, fps: float, cfg: GapConfig) -> float | None:
    """The period (frames) of a track's gait, or None when it shows none.

    The legs' left-minus-right offsets (knees, ankles, feet, in the body's frame) swing once per stride: over the
    frames they were seen on (observed, every leg keypoint's weight at least ``cfg.gait_seen``, at least
    ``cfg.gait_frames`` of them), the period between ``cfg.gait_min_s`` and ``cfg.gait_max_s`` whose sinusoid
    explains most of their variance (a periodogram: missing frames need no care), if it explains at least
    ``cfg.gait_fit``."""
    keep = ~track.predicted.astype(bool) & (track.keypoints_2d[:, LEFT + RIGHT, 2].min(axis=1) >= cfg.gait_seen)
    if keep.sum() < cfg.gait_frames:
        return None
    turn = axis_angle_to_matrix(track.global_orient[keep].astype(np.float64))
    apart = (track.joints[keep][:, LEFT] - track.joints[keep][:, RIGHT]).astype(np.float64)
    signal = np.einsum("tji,tkj->tki", turn, apart).reshape(int(keep.sum()), -1)
    signal -= signal.mean(axis=0)
    total = float(np.sum(signal**2))
    if not total > 0:
        return None
    t = track.frame[keep].astype(np.float64)
    best, best_period = 0.0, None
    for period in np.arange(cfg.gait_min_s * fps, cfg.gait_max_s * fps, 0.01 * fps):
        w = 2.0 * np.pi / period
        basis = np.stack([np.cos(w * t), np.sin(w * t), np.ones_like(t)], axis=1)
        coef, *_ = np.linalg.lstsq(basis, signal, rcond=None)
        explained = 1.0 - float(np.sum((signal - basis @ coef) ** 2)) / total
        if explained > best:
            best, best_period = explained, float(period)
    return best_period if best >= cfg.gait_fit else None


def gait_fill(
    frames: np.ndarray, body_pose: np.ndarray, observed: np.ndarray, new_frames: np.ndarray, period: float
) -> np.ndarray:
    """``(N, 23, 3)`` local rotations for ``new_frames`` (missing from the track) that go on with its gait: the pose
    a whole number of ``period`` s (frames) before each (at or before the gap's start, observed) and the one as many
    after it (at or after the gap's end), blended across the gap as the slerp blends the gap's ends; one of them
    where the other was not seen; NaN where neither was."""
    frames = np.asarray(frames, dtype=np.int64)
    keep = np.asarray(observed, dtype=bool)
    index = {int(f): i for i, f in enumerate(frames) if keep[i]}
    pose = np.asarray(body_pose, dtype=np.float64)
    quat = axis_angle_to_quaternion(pose)
    out = np.full((len(new_frames), pose.shape[1], 3), np.nan)
    for n, f in enumerate(np.asarray(new_frames, dtype=np.int64)):
        left = int(np.searchsorted(frames, f)) - 1
        a, b = int(frames[left]), int(frames[left + 1])
        back = [int(round(f - k * period)) for k in range(1, 6)]
        ahead = [int(round(f + k * period)) for k in range(1, 6)]
        before = next((index[g] for g in back if g <= a and g in index), None)
        after = next((index[g] for g in ahead if g >= b and g in index), None)
        if before is None and after is None:
            continue
        if before is None or after is None:
            out[n] = pose[before if after is None else after]
            continue
        t = (f - a) / (b - a)
        out[n] = quaternion_to_axis_angle(slerp(quat[before], quat[after], np.full(pose.shape[1], t)))
    return out


def box_iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """IoU of xyxy boxes broadcast against each other: one box ``(4,)`` with each of ``others`` ``(K, 4)`` ->
    ``(K,)``, or each of ``(K, 4)`` with its counterpart in ``(K, 4)`` -> ``(K,)``."""
    box = np.asarray(box, dtype=np.float64)
    others = np.asarray(others, dtype=np.float64)
    lt = np.maximum(box[..., :2], others[..., :2])
    rb = np.minimum(box[..., 2:], others[..., 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=-1)
    area = np.prod(np.clip(box[..., 2:] - box[..., :2], 0, None), axis=-1) + np.prod(
        np.clip(others[..., 2:] - others[..., :2], 0, None), axis=-1
    )
    return np.divide(inter, area - inter, out=np.zeros_like(inter), where=area - inter > 0)


def posed_joints(
    global_orient: np.ndarray, body_pose: np.ndarray, rest_joints: np.ndarray, transl: np.ndarray, scale: np.ndarray
) -> np.ndarray:
    """``(T, 24, 3)`` new records' joints as the results format has them: forward kinematics of the rotations on
    ``scale * rest_joints`` (``scale`` ``(T,)``, each record its own; ``rest_joints`` ``(24, 3)`` unscaled), plus
    ``transl``. The posed skeleton is linear in the rest joints, so it is scaled after posing."""
    joints, _ = forward_kinematics(global_orient, body_pose, np.asarray(rest_joints, dtype=np.float64))
    return joints * np.asarray(scale, dtype=np.float64)[:, None, None] + np.asarray(transl, dtype=np.float64)[:, None]


def apart_at_ends(
    track: Track, a: int, b: int, seen: dict[int, list[tuple[int, np.ndarray]]], max_iou: float, ended: bool = False
) -> set[int]:
    """Ids of the other tracks whose last record on or before ``a`` and first on or after ``b`` (the observed
    frames around one of ``track``'s gaps), each at most the gap's length away, overlap ``track``'s record
    there by at most ``max_iou``: someone else on both sides of the gap. (Not only on ``a`` and ``b``
    themselves: the other track may have a gap there too, one that ``ram_core.scene.stacked`` left or that
    is filled only after this track's.) With ``ended``, also those apart before the gap that end inside it
    (``ended_inside``)."""
    ia, ib = int(np.flatnonzero(track.frame == a)[0]), int(np.flatnonzero(track.frame == b)[0])
    reach = b - a

    def near(frames: range) -> dict[int, np.ndarray]:
        """The first record of each other track met on ``frames``, in their order."""
        out: dict[int, np.ndarray] = {}
        for f in frames:
            for tid, o in seen.get(f, []):
                if tid != track.track_id and tid not in out:
                    out[tid] = o
        return out

    at_a = near(range(a, a - reach - 1, -1))
    at_b = near(range(b, b + reach + 1))
    apart = {
        tid
        for tid in set(at_a) & set(at_b)
        if box_iou(track.box[ia].astype(np.float64), at_a[tid][None])[0] <= max_iou
        and box_iou(track.box[ib].astype(np.float64), at_b[tid][None])[0] <= max_iou
    }
    return apart | (ended_inside(track, a, b, seen, max_iou) if ended else set())


def ended_inside(
    track: Track, a: int, b: int, seen: dict[int, list[tuple[int, np.ndarray]]], max_iou: float
) -> set[int]:
    """Ids of the other tracks apart from ``track`` before its gap ``a..b`` (their last record on or before ``a``,
    at most the gap's length away, overlapping ``track``'s by at most ``max_iou``) that have no record from ``b``
    on within the gap's length: someone else who met this track's person inside the gap and was lost there (its
    last records there are that meeting, often the lost track's crop sliding onto this person). Each was seen
    already a gap's length before ``a``: a track born as this one was lost, and lost as this one came back, is
    this person found again by a new track (on vtest.avi a man crossing another: his track's box on the other
    man on the gap's first frame, the new track on him throughout the gap)."""
    ia = int(np.flatnonzero(track.frame == a)[0])
    reach = b - a
    after = {tid for f in range(b, b + reach + 1) for tid, _ in seen.get(f, [])}
    earlier = {tid for f in range(a - 2 * reach, a - reach + 1) for tid, _ in seen.get(f, [])}
    out: set[int] = set()
    for tid in ({tid for f in range(a - reach, b) for tid, _ in seen.get(f, [])} & earlier) - after - {track.track_id}:
        last = next(
            (o for f in range(a, a - reach - 1, -1) for t, o in seen.get(f, []) if t == tid),
            None,
        )
        if last is not None and box_iou(track.box[ia].astype(np.float64), last[None])[0] <= max_iou:
            out.add(tid)
    return out


def note_boxes(
    seen: dict[int, list[tuple[int, np.ndarray]]], track_id: int, frames: np.ndarray, boxes: np.ndarray
) -> None:
    """Add a track's records (``frames`` ``(N,)``, ``boxes`` ``(N, 4)``) to ``seen``: frame -> (track id, box) of every
    record, what a fill may not lie on (``filled_track``, ``ram_core.scene.edges``)."""
    for f, box in zip(frames, boxes):
        seen.setdefault(int(f), []).append((track_id, np.asarray(box, dtype=np.float64)))


def merge_records(track: Track, added: dict[str, np.ndarray], predicted: bool = False) -> Track:
    """``track`` with the records ``added`` (field -> ``(N, ...)``) put in among its own in frame order. A field
    ``added`` lacks takes its default (what a file without it loads as); ``predicted``: they are made here, flagged
    predicted, with confidence 0 and no contact."""
    n = len(added["frame"])
    if predicted:
        added = {"confidence": np.zeros(n), "predicted": np.ones(n, dtype=bool), "contact": np.zeros((n, 2)), **added}
    for name, field in RECORD_FIELDS.items():
        if name not in added:
            added = {
                **added,
                name: np.full((n, *field.shape), 0 if field.default is None else field.default, field.dtype),
            }
    order = np.argsort(np.concatenate([track.frame, added["frame"]]), kind="stable")
    arrays = {k: np.concatenate([v, np.asarray(added[k]).astype(v.dtype)])[order] for k, v in track.arrays().items()}
    return make_track(track.track_id, **arrays)


def filled_track(
    track: Track,
    rest_joints: np.ndarray,
    max_gap: int,
    seen: dict[int, list[tuple[int, np.ndarray]]],
    max_iou: float,
    skipped: frozenset[int] = frozenset(),
    fps: float | None = None,
    cfg: GapConfig | None = None,
    behind: Mapping[tuple[int, int], set[int]] | None = None,
    drop: np.ndarray | None = None,
    size: tuple[float, float] | None = None,
) -> Track:
    """``track`` with its gaps of at most ``max_gap`` frames filled, except on frames where the filled box
    overlaps another track's box (``seen``: frame -> [(track id, box)]) by more than ``max_iou``, on
    ``skipped`` frames (damaged frames the video could not decode: they stay missing, not invented) and, given
    the picture's ``size`` (width, height) and ``fps``, in the gaps its person spent out of the picture
    (``out_and_back``).

    Another track does not count where it was apart from this one at both ends of the gap (``cfg.apart``,
    ``apart_at_ends``), nor on the frames ``behind`` ((this track's id, frame) -> ids) names: there this
    track's person is known to be hidden behind that track's (``ram_core.scene.stacked``). Given ``fps`` and
    ``cfg``, the records at a gap's edges are filled with it (``GapConfig.edge_s``); one whose frame cannot be
    filled is kept. ``drop`` ``(T,)``: records to fill likewise in place of their own (``ram_core.scene.heading``)."""
    keep = np.ones(len(track), dtype=bool)
    away = out_and_back(track, size, fps) if size is not None and fps is not None else frozenset()
    if fps is not None and cfg is not None:
        edge, min_gap = (int(np.ceil(s * fps - 1e-6)) for s in (cfg.edge_s, cfg.edge_gap_s))
        keep = trim_gap_edges(track.frame, edge, min_gap, max_gap)
        if away:  # not a person going behind someone: the records beside such a gap stay
            keep |= np.abs(track.frame[:, None] - np.array(sorted(away))[None, :]).min(axis=1) <= edge
    if drop is not None:
        keep &= ~np.asarray(drop, dtype=bool)
    trimmed = track if keep.all() else make_track(track.track_id, **{k: v[keep] for k, v in track.arrays().items()})
    if size is not None and fps is not None:
        skipped = skipped | away | out_and_back(trimmed, size, fps)
    out = _filled(trimmed, rest_joints, max_gap, seen, max_iou, skipped, fps, cfg, behind)
    back = ~keep & ~np.isin(track.frame, out.frame)
    if not back.any():
        return out
    return merge_records(out, {k: v[back] for k, v in track.arrays().items()})


def _filled(
    track: Track,
    rest_joints: np.ndarray,
    max_gap: int,
    seen: dict[int, list[tuple[int, np.ndarray]]],
    max_iou: float,
    skipped: frozenset[int],
    fps: float | None,
    cfg: GapConfig | None,
    behind: Mapping[tuple[int, int], set[int]] | None,
) -> Track:
    if len(track) < 2 or not np.any(np.diff(track.frame) > 1):
        return track
    frames, go, bp, transl, filled = fill_gaps(track.frame, track.global_orient, track.body_pose, track.transl, max_gap)
    new = frames[filled]
    left = np.searchsorted(track.frame, new) - 1
    t = ((new - track.frame[left]) / (track.frame[left + 1] - track.frame[left]))[:, None]
    box = (1 - t) * track.box[left] + t * track.box[left + 1]
    free = np.ones(len(new), dtype=bool)
    kind = cfg or GapConfig()
    apart: dict[tuple[int, int], set[int]] = {}  # per gap (its two observed frames), judged once
    for i, f in enumerate(new):
        a, b = int(track.frame[left[i]]), int(track.frame[left[i] + 1])
        if (a, b) not in apart:
            apart[a, b] = apart_at_ends(track, a, b, seen, max_iou, kind.ended) if kind.apart else set()
        ignore = apart[a, b] | (behind or {}).get((track.track_id, int(f)), set())
        others = [o for tid, o in seen.get(int(f), []) if tid != track.track_id and tid not in ignore]
        free[i] = int(f) not in skipped and (not others or box_iou(box[i], np.stack(others)).max() <= max_iou)
    if not free.any():
        return track
    new, left, t, box = new[free], left[free], t[free], box[free]
    rows = np.flatnonzero(filled)[free]
    scale = (1 - t[:, 0]) * track.scale[left] + t[:, 0] * track.scale[left + 1]
    period = None if fps is None or cfg is None or not cfg.gait else gait_period(track, fps, cfg)
    if period is not None:
        copied = gait_fill(track.frame, track.body_pose, ~track.predicted.astype(bool), new, period)
        got = np.isfinite(copied[:, 0, 0])
        bp = bp.copy()
        bp[rows[got]] = copied[got]
    joints = posed_joints(go[rows], bp[rows], rest_joints, transl[rows], scale)
    fill = {
        "frame": new,
        "global_orient": go[rows],
        "body_pose": bp[rows],
        "betas": track.betas[left],
        "transl": transl[rows],
        "joints": joints,
        "box": box,
        "scale": scale,
    }
    return merge_records(track, fill, predicted=True)


def out_and_back(track: Track, size: tuple[float, float], fps: float) -> frozenset[int]:
    """The frames of ``track``'s gaps its person spent out of the picture (``size``: width, height): the two end
    records' boxes reach beyond one edge, and the track's observed records move out through the picture's edge
    before the gap or in after it (``ram_core.scene.edges.edge_frames``, what carries such an end out; one side
    is enough: on the street clip the woman in red comes back in straight, but her box grows as she leaves). A box
    reaching beyond the edge alone is not enough: a person near the camera with their feet cut by the bottom edge,
    or anyone in a half-body shot, stays in the picture while hidden."""
    from ram_core.scene.edges import EdgeConfig, edge_frames, edges_crossed  # edges builds on this module

    width, height = size
    cfg = EdgeConfig()
    observed = ~track.predicted.astype(bool)
    frames, boxes = track.frame[observed], track.box[observed].astype(np.float64)
    span = (int(track.frame[0]), int(track.frame[-1])) if len(track) else (0, 0)

    def leaves(part: np.ndarray, side: int) -> bool:
        return edge_frames(frames[part], boxes[part], side, size, span, fps, cfg) is not None

    out: set[int] = set()
    for i in np.flatnonzero(np.diff(track.frame) > 1):
        if not (edges_crossed(track.box[i], width, height) & edges_crossed(track.box[i + 1], width, height)).any():
            continue
        if leaves(frames <= track.frame[i], 1) or leaves(frames >= track.frame[i + 1], -1):
            out.update(range(int(track.frame[i]) + 1, int(track.frame[i + 1])))
    return frozenset(out)


def fill_track_gaps(
    results: Results,
    cfg: GapConfig | None = None,
    behind: Mapping[tuple[int, int], set[int]] | None = None,
    drop: Mapping[int, np.ndarray] | None = None,
) -> Results:
    """``results`` with every track's gaps of up to ``cfg.max_gap_s`` filled (``filled_track``).

    A fill never lies on another track's record, observed or filled (by the backend or here, tracks in order),
    unless that track was apart from this one at both ends of the gap or this one's person is ``behind`` it
    there (``filled_track``), nor on a frame the video could not decode (``meta.skipped_frames``), nor in a gap its
    person spent out of the picture (``out_and_back``). ``drop``: track id
    -> ``(T,)`` records filled in place of their own (``filled_track``).
    """
    cfg = cfg or GapConfig()
    seen: dict[int, list[tuple[int, np.ndarray]]] = {}
    for t in results.tracks:
        note_boxes(seen, t.track_id, t.frame, t.box)
    max_gap = int(round(cfg.max_gap_s * results.meta.fps))
    skipped = frozenset(results.meta.skipped_frames)
    tracks = []
    for t in results.tracks:
        filled = filled_track(
            t,
            results.meta.rest_joints,
            max_gap,
            seen,
            cfg.max_iou,
            skipped,
            float(results.meta.fps),
            cfg,
            behind,
            None if drop is None else drop.get(t.track_id),
            (float(results.meta.width), float(results.meta.height)),
        )
        made = ~np.isin(filled.frame, t.frame)
        note_boxes(seen, t.track_id, filled.frame[made], filled.box[made])
        tracks.append(filled)
    return Results(meta=results.meta, tracks=tracks)
