"""Score a capture (a results file) against synthetic ground truth (``gt.npz``): pose, identity, physics.

Tracks are matched to people per frame by amodal 2D box IoU (Hungarian, IoU at least ``MIN_IOU``) on the
frames a person is present; each person's main track is the one matched to them on most of their visible
frames. Pose errors use the per-frame matches on visible frames; consistency, foot skate, penetration and
jitter use the main track. Identity (HOTA, AssA, IDSW) comes from trackeval (``ram_core.eval.track``) on
the amodal boxes of every present frame, hidden ones included, as MOTChallenge keeps occluded people: a
tracker that coasts through an occlusion is right. Pose errors come from ``ram_core.eval.pose``.
Definitions: ``docs/evaluation.md``. Results with a solved scene (format 2, ``meta.floor_cam``) are
scored in their own world: foot skate in their ``world_from_camera``, penetration below their floor, and
their floor and camera height against the ground truth's; results without one get the ground truth's
world and floor, and those two errors are n/a. A person's height is their main track's skeleton
(``rest_stature(rest_joints) * scale``) against the ground truth's ``heights``.

Results whose root joints were copied from the ground truth (``ROOT_FROM_GT_BACKEND``: the raw-landmark
baseline) get no absolute MPJPE or depth error: those would measure the copy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ram_core.contract.results import Results
from ram_core.contract.skeleton import JOINT_NAMES
from ram_core.eval.pose import mpjpe, npz_problem, pa_mpjpe
from ram_core.scene.solve import rest_stature
from ram_core.tracking.boxes import iou_matrix, xyxy_to_xywh
from ram_core.tracking.mot import MotTable

STILL = 1e-2  # m/s^2: ground truth this steady has no jitter of its own to compare with (float32 rounding only)
MIN_IOU = 0.3  # a track and a person overlap at least this much to be matched in a frame
DUPLICATE_IOU = 0.5  # an unmatched track this close to a matched person's box is a duplicate
PELVIS = JOINT_NAMES.index("pelvis")
FEET = (JOINT_NAMES.index("left_foot"), JOINT_NAMES.index("right_foot"))
NECK = JOINT_NAMES.index("neck")
WORLD_NOTE = "world frame: ground truth's world_from_camera applied to the predicted camera-frame joints"
SCENE_NOTE = "world frame: the results' solved scene (their world_from_camera and floor)"
#: ``CaptureMeta.backend`` of results whose pelvis was placed at the ground truth's (``ram_core.eval.baseline``).
ROOT_FROM_GT_BACKEND = "baseline:blazepose-world-on-gt-boxes"


class CaptureEvalError(ValueError):
    """Ground truth or results that cannot be scored."""


def load_gt(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of a ``gt.npz`` (plain arrays, no pickle)."""
    try:
        with np.load(Path(path), allow_pickle=False) as z:
            gt = {k: np.asarray(z[k]) for k in z.files}
    except (OSError, ValueError) as e:
        raise CaptureEvalError(f"{path}: not a readable ground-truth .npz ({npz_problem(e)})") from None
    for key in ("joints_cam", "present", "box_amodal", "box_visible", "floor_cam", "world_from_camera", "fps"):
        if key not in gt:
            raise CaptureEvalError(f"{path}: ground truth lacks '{key}'")
    return gt


@dataclass(frozen=True)
class Scores:
    """One person's figures, or everyone's (``person`` None). Millimetres, percent, cm, m/s^2; None: n/a.

    ``frames``: visible person-frames with a matched track (the samples of the pose errors).
    """

    person: int | None
    frames: int
    pa_mpjpe_mm: float | None
    mpjpe_mm: float | None
    abs_mpjpe_mm: float | None
    depth_error_pct: float | None
    consistency: float | None
    coverage: float | None
    duplicate_frames: int
    height_error_pct: float | None
    foot_skate_cm: float | None
    penetration_p95_cm: float | None
    jitter: float | None
    jitter_ratio: float | None
    contact_precision: float | None = None
    contact_recall: float | None = None
    lean_deg: float | None = None


@dataclass(frozen=True)
class CaptureScores:
    """Per person and overall; identity from trackeval; floor angle (degrees between the solved and the true
    floor normals, camera frame) and camera height error (%) where the results carry a solved scene."""

    people: list[Scores]
    overall: Scores
    hota: float
    assa: float
    idsw: int
    floor_angle_deg: float | None = None
    camera_height_error_pct: float | None = None
    root_from_gt: bool = False
    note: str = WORLD_NOTE

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def dense_tracks(results: Results, n_frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Track ids ``(K,)``, joints ``(K, F, 24, 3)`` and boxes ``(K, F, 4)``, NaN where a track has no record."""
    k = len(results.tracks)
    joints = np.full((k, n_frames, len(JOINT_NAMES), 3), np.nan)
    boxes = np.full((k, n_frames, 4), np.nan)
    for i, t in enumerate(results.tracks):
        keep = (t.frame >= 0) & (t.frame < n_frames)
        joints[i, t.frame[keep]] = t.joints[keep]
        boxes[i, t.frame[keep]] = t.box[keep]
    return np.array([t.track_id for t in results.tracks], dtype=np.int64), joints, boxes


def dense_predicted(results: Results, n_frames: int) -> np.ndarray:
    """Each track's ``predicted`` flag ``(K, F)``, False where it has no record."""
    out = np.zeros((len(results.tracks), n_frames), dtype=bool)
    for i, t in enumerate(results.tracks):
        keep = (t.frame >= 0) & (t.frame < n_frames)
        out[i, t.frame[keep]] = t.predicted[keep]
    return out


def amodal_boxes(gt: dict[str, np.ndarray]) -> np.ndarray:
    """The ground truth's amodal boxes ``(P, F, 4)``, NaN where a person is not in the clip (what ``match`` takes)."""
    return np.where(gt["present"].astype(bool)[..., None], gt["box_amodal"].astype(np.float64), np.nan)


def dense_contact(results: Results, n_frames: int) -> np.ndarray | None:
    """Each track's foot contact probabilities ``(K, F, 2)`` (NaN where it has no record), or None when no record
    of the results has any contact (files before version 3, an unsolved scene): nothing to score."""
    if not any(np.any(t.contact > 0) for t in results.tracks):
        return None
    out = np.full((len(results.tracks), n_frames, 2), np.nan)
    for i, t in enumerate(results.tracks):
        keep = (t.frame >= 0) & (t.frame < n_frames)
        out[i, t.frame[keep]] = t.contact[keep]
    return out


def match(gt_boxes: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per frame Hungarian matching of tracks to people.

    Returns ``assign`` ``(P, F)`` track index or -1, and ``duplicates`` ``(P, F)`` the count of other tracks
    overlapping a matched person by ``DUPLICATE_IOU`` that no other person claims.
    """
    from scipy.optimize import linear_sum_assignment

    p, f = gt_boxes.shape[:2]
    assign = np.full((p, f), -1)
    dup = np.zeros((p, f), dtype=int)
    for t in range(f):
        iou = iou_matrix(gt_boxes[:, t], boxes[:, t]) if boxes.shape[0] else np.zeros((p, 0))
        rows, cols = linear_sum_assignment(-iou)
        for r, c in zip(rows, cols):
            if iou[r, c] >= MIN_IOU:
                assign[r, t] = c
        taken = set(assign[:, t][assign[:, t] >= 0].tolist())
        for c in range(iou.shape[1]):
            if c in taken or not iou[:, c].max(initial=0) >= DUPLICATE_IOU:
                continue
            r = int(np.argmax(iou[:, c]))
            if assign[r, t] >= 0:
                dup[r, t] += 1
    return assign, dup


def visible_mask(gt: dict[str, np.ndarray]) -> np.ndarray:
    """``(P, F)`` True where a person is present and some of them shows (a visible box, a visible fraction > 0)."""
    vis = gt["present"] & np.all(np.isfinite(gt["box_visible"]), axis=-1)
    if "visible_fraction" in gt:
        vis &= np.nan_to_num(gt["visible_fraction"]) > 0
    return vis


def _to_world(points_cam: np.ndarray, world_from_camera: np.ndarray) -> np.ndarray:
    return points_cam @ world_from_camera[:3, :3].T + world_from_camera[:3, 3]


def _acceleration(x: np.ndarray, fps: float) -> np.ndarray:
    """Per frame with both neighbours, mean joint acceleration (m/s^2) of ``x`` ``(F, J, 3)``; NaN elsewhere."""
    a = np.full(x.shape[0], np.nan)
    if x.shape[0] >= 3:
        a[1:-1] = np.linalg.norm(x[2:] - 2 * x[1:-1] + x[:-2], axis=-1).mean(axis=-1) * fps**2
    return a


def _mean(values: list[np.ndarray]) -> float | None:
    v = np.concatenate([np.ravel(x) for x in values]) if values else np.zeros(0)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else None


def torso_lean(joints: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """``(F,)`` the torso's angle from the floor's normal (degrees): pelvis -> neck of ``joints`` ``(F, 24, 3)``
    against ``floor[:3]`` (both in one frame; 0: upright)."""
    torso = joints[:, NECK] - joints[:, PELVIS]
    normal = floor[:3] / np.linalg.norm(floor[:3])
    cos = torso @ normal / np.maximum(np.linalg.norm(torso, axis=-1), 1e-9)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def _person_parts(
    gt: dict[str, np.ndarray],
    i: int,
    vis: np.ndarray,
    track: np.ndarray,
    joints: np.ndarray,
    world: tuple[np.ndarray, np.ndarray],
    heights: np.ndarray,
    contact: np.ndarray | None = None,
) -> dict[str, object]:
    """The raw samples person ``i`` contributes (``vis`` ``(F,)`` their visible frames, ``track`` ``(F,)`` the
    matched track index or -1): matched frames' joints, foot steps, depths below the floor, accelerations.

    ``world``: the world_from_camera ``(4, 4)`` and floor ``(4,)`` to measure skate and penetration in;
    ``heights``: ``(K,)`` each track's standing height (metres); ``contact``: ``(K, F, 2)`` each track's
    planted feet (NaN where it has no record), None when the results carry no contact."""
    fps = float(gt["fps"])
    present = gt["present"][i]
    frames = np.flatnonzero(vis & (track >= 0))
    g = gt["joints_cam"][i].astype(np.float64)
    pred = joints[track[frames], frames] if frames.size else np.zeros((0, len(JOINT_NAMES), 3))
    out: dict[str, object] = {"visible": int(vis.sum()), "matched": int(frames.size), "pred": pred, "gt": g[frames]}
    # Lean: each one's torso against its own floor (ours: the world we are scored in; the truth's: its own).
    lean = torso_lean(pred, world[1]) - torso_lean(g[frames], gt["floor_cam"].astype(np.float64))
    out["lean"] = np.abs(lean)
    counts = np.bincount(track[vis & (track >= 0)], minlength=1)
    main = int(np.argmax(counts)) if counts.sum() else -1
    out["on_main"] = int(counts[main]) if main >= 0 else 0
    on = np.zeros(len(track), bool)
    if main >= 0:
        on = (track == main) & present
        mj = np.where(on[:, None, None], joints[main], np.nan)
        world_joints = _to_world(mj, world[0])
        step = np.linalg.norm(np.diff(world_joints[:, list(FEET), :2], axis=0), axis=-1)  # (F-1, 2)
        contact_gt = gt["contact"][i].astype(bool) if "contact" in gt else np.zeros((len(track), 2), bool)
        both = contact_gt[1:] & contact_gt[:-1]
        out["skate"] = 100 * step[both]
        if contact is not None:
            ours = contact[main][on] >= 0.5
            truth = contact_gt[on]
            out["contact_counts"] = np.array([(ours & truth).sum(), (ours & ~truth).sum(), (~ours & truth).sum()])
        floor = world[1]
        height = mj @ floor[:3] + floor[3]  # (F, J) signed height above the floor
        out["below"] = 100 * np.clip(-np.nanmin(np.where(np.isfinite(height), height, np.inf), axis=1), 0, None)[on]
        acc = _acceleration(mj, fps)
        gacc = _acceleration(np.where(on[:, None, None], g, np.nan), fps)
        ok = np.isfinite(acc) & np.isfinite(gacc)
        out["acc"], out["gacc"] = acc[ok], gacc[ok]
        true_height = float(gt["heights"][i]) if "heights" in gt else np.nan
        out["height"] = np.array([100 * abs(heights[main] / true_height - 1)]) if true_height > 0 else np.zeros(0)
    else:
        out["skate"] = out["below"] = out["acc"] = out["gacc"] = out["height"] = np.zeros(0)
    return out


def _scores(person: int | None, parts: list[dict[str, object]], dup: int, root_from_gt: bool) -> Scores:
    pred = np.concatenate([p["pred"] for p in parts])
    g = np.concatenate([p["gt"] for p in parts])
    has = pred.shape[0] > 0
    absolute = has and not root_from_gt

    def mm(v: float) -> float | None:
        return 1000.0 * v if has else None

    depth = None
    if absolute:
        # Distance of the pelvis from the camera centre, along its viewing ray: the scale a monocular capture guesses.
        dist = np.linalg.norm(g[:, PELVIS], axis=-1)
        depth = float(np.mean(np.abs(np.linalg.norm(pred[:, PELVIS], axis=-1) - dist) / dist) * 100)
    visible = sum(p["visible"] for p in parts)
    below = np.concatenate([p["below"] for p in parts])
    jit, gjit = _mean([p["acc"] for p in parts]), _mean([p["gacc"] for p in parts])
    counts = [p["contact_counts"] for p in parts if "contact_counts" in p]
    tp, fp, fn = (int(v) for v in np.sum(counts, axis=0)) if counts else (0, 0, 0)
    return Scores(
        person=person,
        frames=int(pred.shape[0]),
        pa_mpjpe_mm=mm(pa_mpjpe(pred, g)) if has else None,
        mpjpe_mm=mm(mpjpe(pred, g, root=PELVIS)) if has else None,
        abs_mpjpe_mm=mm(mpjpe(pred, g, root=None)) if absolute else None,
        depth_error_pct=depth,
        consistency=sum(p["on_main"] for p in parts) / visible if visible else None,
        coverage=sum(p["matched"] for p in parts) / visible if visible else None,
        duplicate_frames=dup,
        height_error_pct=_mean([p["height"] for p in parts]),
        foot_skate_cm=_mean([p["skate"] for p in parts]),
        penetration_p95_cm=float(np.percentile(below, 95)) if below.size else None,
        jitter=jit,
        jitter_ratio=jit / gjit if jit is not None and gjit is not None and gjit > STILL else None,
        contact_precision=tp / (tp + fp) if counts and tp + fp else None,
        contact_recall=tp / (tp + fn) if counts and tp + fn else None,
        lean_deg=_mean([p["lean"] for p in parts]),
    )


def _mot(frames: np.ndarray, ids: np.ndarray, xyxy: np.ndarray) -> MotTable:
    keep = np.all(np.isfinite(xyxy), axis=1)
    return MotTable(frames[keep] + 1, ids[keep], xyxy_to_xywh(xyxy[keep]), np.ones(int(keep.sum())))


@dataclass(frozen=True)
class ClipParts:
    """What one clip contributes to the scores, before any averaging (several clips pool exactly).

    Attributes:
        person_ids: ``(P,)`` the ground truth's person ids.
        parts: per person, the raw samples (``_person_parts``).
        duplicates: ``(P,)`` duplicate person-frames per person.
        matched: ``(P, F)`` True on the visible person-frames that a track was matched to (the pose samples).
        mot: ground-truth and predicted boxes as MOTChallenge tables, and the frame count, for trackeval.
        root_from_gt: the pelvis was copied from the ground truth (absolute errors n/a).
        floor_angle_deg, camera_height_error_pct: the solved scene's errors; None when the results have none.
    """

    person_ids: np.ndarray
    parts: list[dict[str, object]]
    duplicates: np.ndarray
    matched: np.ndarray
    mot: tuple[MotTable, MotTable, int]
    root_from_gt: bool
    floor_angle_deg: float | None = None
    camera_height_error_pct: float | None = None


def check_same_clip(gt: dict[str, np.ndarray], width: int, height: int, fps: float, what: str) -> None:
    """CaptureEvalError, one line, when ``what`` (the results, a video) of ``width`` x ``height`` pixels at ``fps``
    is not of the ground truth's clip: scores of another video against it are meaningless numbers, not an error.
    A size or rate not known (0) is not compared."""
    size = tuple(int(v) for v in np.asarray(gt.get("image_size", (0, 0))))
    rate = float(gt["fps"]) if "fps" in gt else 0.0
    other_size = width > 0 and height > 0 and 0 not in size and (width, height) != size
    other_rate = fps > 0 and rate > 0 and abs(fps - rate) > 1e-2 * rate
    if other_size or other_rate:
        raise CaptureEvalError(
            f"{what} is {width}x{height} at {fps:g} fps, the ground truth's clip {size[0]}x{size[1]} at {rate:g} fps: "
            "not the same clip (the ground truth's is the clip.mp4 beside its gt.npz)"
        )


def clip_parts(
    gt: dict[str, np.ndarray], results: Results, root_from_gt: bool | None = None, mask: np.ndarray | None = None
) -> ClipParts:
    """Match ``results`` to ``gt`` and gather the raw samples of every figure (see ``score_capture``)."""
    meta = results.meta
    check_same_clip(gt, meta.width, meta.height, meta.fps, f"the results' video ({Path(meta.video_path).name})")
    if root_from_gt is None:
        root_from_gt = results.meta.backend == ROOT_FROM_GT_BACKEND
    p, f = gt["present"].shape
    _ids, joints, boxes = dense_tracks(results, f)
    present = gt["present"].astype(bool)
    gt_boxes = amodal_boxes(gt)
    assign, dup = match(gt_boxes, boxes)
    vis = visible_mask(gt)
    scored = present.copy()
    if mask is not None:
        scored &= np.asarray(mask, dtype=bool)
        vis &= scored
    dup = np.where(vis, dup > 0, 0).sum(axis=1)
    world, floor_angle, camera_error = _scene(gt, results)
    stature = rest_stature(results.meta.rest_joints)
    heights = np.array([stature * float(np.median(t.scale)) if len(t) else stature for t in results.tracks])
    contact = dense_contact(results, f)
    parts = [
        _person_parts(gt, i, vis[i], np.where(scored[i], assign[i], -1), joints, world, heights, contact)
        for i in range(p)
    ]
    gt_frames, gt_ids = np.tile(np.arange(f), p), np.repeat(np.arange(p), f)
    tr_frames, tr_ids = np.tile(np.arange(f), boxes.shape[0]), np.repeat(np.arange(boxes.shape[0]), f)
    mot = (_mot(gt_frames, gt_ids, gt_boxes.reshape(-1, 4)), _mot(tr_frames, tr_ids, boxes.reshape(-1, 4)), f)
    pid = np.asarray(gt["person_ids"]) if "person_ids" in gt else np.arange(p)
    return ClipParts(pid, parts, dup, vis & (assign >= 0), mot, bool(root_from_gt), floor_angle, camera_error)


def _scene(
    gt: dict[str, np.ndarray], results: Results
) -> tuple[tuple[np.ndarray, np.ndarray], float | None, float | None]:
    """The world to score skate and penetration in (world_from_camera, floor), and the solved scene's floor
    angle (degrees) and camera height error (%): the results' own scene when solved, else the ground truth's."""
    gt_floor = gt["floor_cam"].astype(np.float64)
    floor, world = results.meta.floor_cam, results.meta.world_from_camera
    if floor is None or world is None:
        return (gt["world_from_camera"].astype(np.float64), gt_floor), None, None
    floor = np.asarray(floor, dtype=np.float64)
    cos = float(floor[:3] @ gt_floor[:3]) / float(np.linalg.norm(floor[:3]) * np.linalg.norm(gt_floor[:3]))
    angle = float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
    camera = float(100 * abs(floor[3] / gt_floor[3] - 1))
    return (np.asarray(world, dtype=np.float64), floor), angle, camera


def combine(clips: list[ClipParts], per_person: bool = True) -> CaptureScores:
    """The scores of one clip or several pooled: every person-frame, step and acceleration counts once; identity
    from trackeval's combination of the sequences. ``per_person``: also each person's row (one clip only)."""
    from ram_core.eval.track import evaluate_sequences

    if not clips:
        raise CaptureEvalError("no clip to score")
    root_from_gt = any(c.root_from_gt for c in clips)
    people = []
    if per_person and len(clips) == 1:
        c = clips[0]
        people = [
            _scores(int(c.person_ids[i]), [c.parts[i]], int(c.duplicates[i]), c.root_from_gt)
            for i in range(len(c.parts))
        ]
    parts = [part for c in clips for part in c.parts]
    overall = _scores(None, parts, int(sum(int(c.duplicates.sum()) for c in clips)), root_from_gt)
    track = evaluate_sequences([c.mot for c in clips])
    angles = [c.floor_angle_deg for c in clips if c.floor_angle_deg is not None]
    cameras = [c.camera_height_error_pct for c in clips if c.camera_height_error_pct is not None]
    solved = bool(angles)
    return CaptureScores(
        people,
        overall,
        hota=track.hota,
        assa=track.assa,
        idsw=track.idsw,
        floor_angle_deg=float(np.mean(angles)) if solved else None,
        camera_height_error_pct=float(np.mean(cameras)) if cameras else None,
        root_from_gt=root_from_gt,
        note=SCENE_NOTE
        if len(angles) == len(clips)
        else WORLD_NOTE
        if not solved
        else f"{SCENE_NOTE}; others: {WORLD_NOTE}",
    )


def score_capture(
    gt: dict[str, np.ndarray], results: Results, root_from_gt: bool | None = None, mask: np.ndarray | None = None
) -> CaptureScores:
    """Every figure of ``results`` against ``gt`` (see the module docstring), per person and overall.

    Args:
        root_from_gt: the results' pelvis positions were copied from the ground truth, so absolute MPJPE and
            depth error are n/a; None decides from ``results.meta.backend`` (``ROOT_FROM_GT_BACKEND``).
        mask: ``(P, F)`` the person-frames to score (e.g. those another capture was matched on, to compare
            two captures on the same samples); None: all. It restricts the pose errors, consistency,
            coverage, duplicates, foot skate, penetration and jitter; identity always uses every frame.
    """
    return combine([clip_parts(gt, results, root_from_gt, mask)])


COLUMNS = (
    ("frames", "frames", "{:d}"),
    ("PA-MPJPE", "pa_mpjpe_mm", "{:.1f}"),
    ("MPJPE", "mpjpe_mm", "{:.1f}"),
    ("abs", "abs_mpjpe_mm", "{:.1f}"),
    ("depth%", "depth_error_pct", "{:.1f}"),
    ("consist", "consistency", "{:.3f}"),
    ("cover", "coverage", "{:.3f}"),
    ("dup", "duplicate_frames", "{:d}"),
    ("height%", "height_error_pct", "{:.1f}"),
    ("skate", "foot_skate_cm", "{:.2f}"),
    ("pen95", "penetration_p95_cm", "{:.1f}"),
    ("jitter", "jitter", "{:.1f}"),
    ("jit/gt", "jitter_ratio", "{:.2f}"),
    ("lean", "lean_deg", "{:.1f}"),
    ("contactP", "contact_precision", "{:.2f}"),
    ("contactR", "contact_recall", "{:.2f}"),
)


def format_table(scores: CaptureScores) -> str:
    """A table for a terminal: one row per person and one overall, identity and notes below."""
    head = f"{'person':>8} " + " ".join(f"{c:>9}" for c, _, _ in COLUMNS)
    rows = [head]
    for s in [*scores.people, scores.overall]:
        cells = []
        for _, key, fmt in COLUMNS:
            v = getattr(s, key)
            cells.append(f"{'n/a' if v is None else fmt.format(v):>9}")
        rows.append(f"{'all' if s.person is None else s.person:>8} " + " ".join(cells))
    rows.append(f"HOTA {scores.hota:.2f}  AssA {scores.assa:.2f}  IDSW {scores.idsw}")
    if scores.floor_angle_deg is None:
        rows.append("floor angle n/a, camera height n/a (the results carry no solved scene)")
    else:
        camera = scores.camera_height_error_pct
        rows.append(f"floor angle {scores.floor_angle_deg:.2f} deg, camera height error {camera:.1f}%")
    if scores.root_from_gt:
        rows.append("pelvis copied from the ground truth: absolute MPJPE and depth error n/a")
    rows.append(scores.note)
    return "\n".join(rows)


__all__ = [
    "ROOT_FROM_GT_BACKEND",
    "CaptureEvalError",
    "CaptureScores",
    "ClipParts",
    "Scores",
    "clip_parts",
    "combine",
    "format_table",
    "load_gt",
    "match",
    "score_capture",
    "visible_mask",
]
