"""Scene solve for a static camera: one floor under everyone, the camera above it, a size per person.

A monocular backend places each person at the depth that makes an assumed skeleton (1.70 m tall)
project onto their pixels, so a person of true height ``h`` is placed at about ``1.70 / h`` of their true
distance: scaling a track by ``s`` about the camera centre changes their height and distance together
and nothing in the image. The floor breaks that tie. Feet planted on the floor satisfy, in the track's
own (unscaled) camera-frame coordinates ``p``, ``n . p + c_i = f`` with one floor normal ``n`` for
everyone, a per-track offset ``c_i`` (the camera's height ``d`` over the factor that puts the track's
planted feet on the floor) and ``f`` the foot joint's height above the sole. The backend's skeletons are
not the people scaled, though: their lean is off (the ``lite`` backend's by 8-23 degrees on the synthetic
suite, more from a high camera) and their distances are off their sizes by a few to 15 percent. So the
normal and the heights come from the image where they can:

1. Stance points: per record, the lower foot (along the current floor normal) when its speed across
   the image (the viewing ray's jitter left out: monocular depth is the noisy part) is below
   ``max_stance_speed``. Each foot is on the ray through the pixel the backend saw it at, at the backend's
   distance (:func:`seen_feet`): the backend's posed feet miss their own pixels by its pose error, which a
   track's plane reads as pitch and its offset as distance.
2. The image's vertical (:func:`_image_vertical`): an upright body's axis (ankles to shoulders, their
   pixels) lies in a plane through the camera centre that contains the floor's normal; the planes of
   every record, Tukey-reweighted, give the normal where the people stand at different places across the
   image (the axes converge to its vanishing point), the skeletons' mean axis a weak prior elsewhere. A bent
   body (crouching: its skeleton's ankles-to-shoulders span short of its track's standing span) is left out
   here and in step 4's heights, and the axes count by their measured spread, not only the modelled one.
3. The normal and the offsets: a plane fit with one offset per track (the eigenvector of least spread
   of the stance points about their tracks' means, plus step 2's information), Tukey-reweighted (IRLS),
   repeated with the stance points re-chosen under the new normal. Then the normal is refined
   (Gauss-Newton over its two angles) on the stance points, the body axes and each person's height measured
   in the image (:func:`shoulder_heights`) staying the same from frame to frame: the plane alone can pivot
   about any direction the paths do not span, where the pitch trades against the people's sizes. The prior
   that people are about one height does not tilt it: where only that prior would hold the floor, it
   makes people of unlike heights alike by tilting it as far as their difference needs (step 4 uses the
   prior for the scale alone).
4. The heights: with the floor in units of ``d``, each person's shoulders over their planted foot give
   their height over ``d`` from pixels alone; the prior that people are about the assumed height (their
   ``log`` toward it) sets ``d``, each person's measurement and the prior combined by their variances,
   and heights kept within a plausible range. Each track's skeleton is sized by its height and its
   distance from the camera scaled by ``d / c_i`` (:attr:`Scene.distances`), so its planted feet stay on
   the floor whatever the backend's own distances were.

Too few stance frames, an implausible plane, or floors that differ between the clip's halves (a moving
camera) give a :class:`Scene` that says so and scales nobody.

Frames: camera frame OpenCV (x right, y down, z forward), metres. The world of ``world_from_camera``:
Z up, the floor at z = 0, origin on the floor under the camera, Y along the optical axis's heading,
X to the right: a level camera's world is ``ram_core.contract.coords.CAMERA_TO_BLENDER`` lifted by its height.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ram_core.contract.results import (
    SCENE_MOVING,
    SCENE_NO_FLOOR,
    SCENE_SOLVED,
    SCENE_UNCERTAIN,
    Results,
    Track,
)
from ram_core.contract.skeleton import JOINT_INDEX

FEET = (JOINT_INDEX["left_foot"], JOINT_INDEX["right_foot"])
SHOULDERS = (JOINT_INDEX["left_shoulder"], JOINT_INDEX["right_shoulder"])
ANKLES = (JOINT_INDEX["left_ankle"], JOINT_INDEX["right_ankle"])
HIPS = (JOINT_INDEX["left_hip"], JOINT_INDEX["right_hip"])
HEAD = JOINT_INDEX["head"]
# The default skeleton (anny, 1.70 m) has its head joint 1.5254 m above its foot joints; stature per
# metre of that span, for any rest skeleton of the same proportions.
STATURE_PER_HEAD_SPAN = 1.70 / 1.5254
POINT_NOISE = 0.02  # m: a stance foot joint's noise apart from depth (landmarks, the foot's own roll)
SOLVED, NO_FLOOR, MOVING, UNCERTAIN = SCENE_SOLVED, SCENE_NO_FLOOR, SCENE_MOVING, SCENE_UNCERTAIN


@dataclass(frozen=True)
class SceneOptions:
    """How :func:`solve_scene` chooses stance feet and weighs the evidence (metres, seconds, degrees).

    Attributes:
        foot_height: the foot joint (ball of the foot) above the sole at scale 1, as a fraction of the
            skeleton's stature (anny's bodies: 2.6 cm of 1.70 m).
        max_stance_speed: a foot moving slower than this across the image (m/s) may be planted.
        speed_window_s: the speed is measured over this long either side of a frame (noise averages out).
        min_stance_frames: fewer stance points over all tracks: no floor.
        min_track_stance: a track with fewer stance points does not vote for the floor or the camera height.
        height_range: the plausible standing heights, metres; sizes are kept inside.
        scale_prior_sigma: spread of ``log`` height about the assumed height's (people's heights about it).
        frames_per_sample: consecutive frames of one person are not independent: this many count once.
        up_prior_deg: the spread of the skeletons' mean upright axis as a prior on the normal (weak: the
            ``lite`` backend's is 8-23 degrees off on the synthetic suite).
        axis_noise_deg: a body axis's angle out of the vertical plane through it, one frame (gait, lean,
            landmark noise; about 3 degrees at the ground truth's floor on the synthetic suite); scaled up by
            the axes' own robust spread about the fitted normal where that is wider.
        height_noise: the relative spread of one frame's shoulder height measured in the image.
        max_tilt_deg: a floor normal further than this from the image's up (-y) is refused.
        moving_angle_deg: floors fitted on the clip's two halves further apart than this: moving camera.
            On the street clip (static camera, lite backend) the halves differ by 7.5 degrees: the lite
            backend's depth errors tilt each half's plane, so a smaller move than this goes unnoticed.
            The halves must also differ by more than 3 times their combined standard errors (``normal_sd``):
            a lone person's path leaves each half's floor free to tilt by as much.
        min_camera_height: a floor fitted closer under the camera than this (metres) is refused.
        rounds: stance re-selection rounds; iterations: IRLS steps per round.
        min_pixel_weight: a joint's observed pixel (``keypoints_2d``) with at least this weight gives its
            viewing ray; else the posed joint does.
        min_upright: a record whose ankles-to-shoulders span (the skeleton's, bone lengths fixed) is shorter
            than this fraction of its track's standing span (90th percentile) is bent (crouching, sitting,
            a stride's deep knee): its body axis and its shoulder height say nothing of the vertical or the
            person's height.
        uncertain_deg: a solved floor whose normal's standard error (the fit's curvature, along its worst-decided
            direction) is above this says :data:`UNCERTAIN` in its status (one person, paths along one line, a
            steep view of people walking toward the camera). On the sweep of ``benchmarks/scene_solve_sweep.py``
            the standard error runs about 3 times the actual error and every floor off by more than 2 degrees
            (7 of 188 solved scenes, seed 0) had one above 1.8. It is the image's evidence alone, as is the
            normal itself: the suite's ``cross_hidden``, a level camera 1.6 m up and people of 1.95 and 1.55 m
            walking across it at 4.5 and 15 m, has a standard error of 2.4 degrees and is 1.4 off.
        known_up: the floor's unit normal in the camera frame (up), when it is known (a camera levelled or with
            an inclinometer, or the ground truth of a synthetic clip, ``tools/scene_errors.py``): the floor's tilt
            is taken as given and only its offsets, the camera's height and the people's heights are solved.
    """

    foot_height: float = 0.026 / 1.70
    max_stance_speed: float = 0.5
    speed_window_s: float = 0.08
    min_stance_frames: int = 30
    min_track_stance: int = 8
    height_range: tuple[float, float] = (1.4, 2.0)
    scale_prior_sigma: float = 0.05
    frames_per_sample: float = 10.0
    up_prior_deg: float = 20.0
    axis_noise_deg: float = 3.0
    height_noise: float = 0.05
    max_tilt_deg: float = 70.0
    moving_angle_deg: float = 12.0
    min_camera_height: float = 0.3
    rounds: int = 3
    iterations: int = 10
    min_pixel_weight: float = 0.5
    min_upright: float = 0.9
    uncertain_deg: float = 1.8
    known_up: tuple[float, float, float] | None = None


@dataclass(frozen=True)
class Scene:
    """What :func:`solve_scene` found.

    Attributes:
        status: starts with :data:`SOLVED`, :data:`NO_FLOOR` or :data:`MOVING`, then a few words why / how.
        world_from_camera: ``(4, 4)`` camera frame -> world (Z up, floor z = 0); None unless solved.
        floor_cam: ``(4,)`` the floor ``n . x + d = 0`` in the camera frame (``n`` unit, up; ``d`` the
            camera's height); None unless solved.
        scales: track id -> the factor to size that track's skeleton by (1.0 unless solved).
        heights: track id -> the person's standing height after scaling, metres.
        stance_frames: the stance points the floor was fitted to.
        distances: track id -> the factor its distance from the camera changes by (its planted feet on the
            floor); a track not named here moves with its ``scales``.
        normal_sd: degrees, the floor normal's standard error along its worst-decided direction from the image's
            evidence (0 unless solved); above :attr:`SceneOptions.uncertain_deg` the
            status says :data:`UNCERTAIN`.
    """

    status: str
    world_from_camera: np.ndarray | None
    floor_cam: np.ndarray | None
    scales: dict[int, float]
    heights: dict[int, float]
    stance_frames: int = 0
    distances: dict[int, float] = dataclasses.field(default_factory=dict)
    normal_sd: float = 0.0

    @property
    def solved(self) -> bool:
        return self.status.startswith(SOLVED)


def rest_stature(rest_joints: np.ndarray) -> float:
    """Standing height (metres) of a rest skeleton ``(24, 3)`` (SMPL body frame, y up), from its head-to-foot span."""
    rest = np.asarray(rest_joints, dtype=np.float64)
    return float((rest[HEAD, 1] - rest[list(FEET), 1].min()) * STATURE_PER_HEAD_SPAN)


def camera_pose(floor_cam: np.ndarray) -> tuple[float, float, float]:
    """The camera's height above the floor (m), pitch (degrees, positive looking down) and roll (degrees,
    positive when the floor normal leans toward the image's +x) from ``floor_cam`` ``(4,)``."""
    n, d = np.asarray(floor_cam[:3], dtype=np.float64), float(floor_cam[3])
    pitch = np.degrees(np.arcsin(np.clip(-n[2], -1.0, 1.0)))
    roll = np.degrees(np.arctan2(n[0], -n[1]))
    return d, float(pitch), float(roll)


def world_from_floor(floor_cam: np.ndarray) -> np.ndarray:
    """``(4, 4)`` camera frame -> world (Z up along the floor normal, floor z = 0, Y the optical axis's heading)."""
    n = np.asarray(floor_cam[:3], dtype=np.float64)
    n = n / np.linalg.norm(n)
    forward = np.array([0.0, 0.0, 1.0]) - n[2] * n
    if np.linalg.norm(forward) < 1e-6:  # looking straight down: the image's up is the heading
        forward = np.array([0.0, -1.0, 0.0]) - n[1] * n
    y = forward / np.linalg.norm(forward)
    out = np.eye(4)
    out[:3, :3] = np.stack([np.cross(y, n), y, n])
    out[2, 3] = float(floor_cam[3])
    return out


@dataclass
class _Evidence:
    """The stance-candidate samples of every track, flattened: feet ``(R, 2, 3)`` (:func:`seen_feet`), their
    image speeds ``(R, 2)`` m/s, the track index ``(R,)``, the frame ``(R,)``, the foot height ``(R,)``, the track's
    relative depth jitter ``(R,)`` per record, the viewing rays (unit, camera frame) of the feet
    ``(R, 2, 3)`` and of the shoulders' midpoint ``(R, 3)``, and the unit normal ``(R, 3)`` of the plane through
    the camera centre, the ankles' midpoint and the shoulders' midpoint (zero where they are not seen): an
    upright body's axis lies in it, so the floor's normal does too; the hips' line ``(R, 3)`` (right to left) and per foot
    the horizontal step from it to under the shoulders (:func:`foot_to_shoulders` at the track's size) ``(R, 2, 2)``."""

    feet: np.ndarray
    speed: np.ndarray
    track: np.ndarray
    frame: np.ndarray
    foot_height: np.ndarray
    jitter: np.ndarray
    foot_ray: np.ndarray
    shoulder_ray: np.ndarray
    axis_plane: np.ndarray
    across: np.ndarray
    step: np.ndarray

    def select(self, mask: np.ndarray) -> _Evidence:
        return _Evidence(*(getattr(self, f.name)[mask] for f in dataclasses.fields(self)))


def _straight(ev: _Evidence, rows: np.ndarray) -> np.ndarray:
    """Whether the records ``rows`` stand straight and show their body axis (:attr:`SceneOptions.min_upright`)."""
    return np.linalg.norm(ev.axis_plane[rows], axis=-1) > 0.5


def _depth_jitter(pelvis: np.ndarray, frame: np.ndarray) -> float:
    """The relative frame-to-frame noise of a track's distance from the camera (robust std of ``log |pelvis|``).

    Measured on second differences over consecutive frames, where a walker's own acceleration is
    millimetres: what is left is the monocular depth guess's noise, which runs along the viewing ray.
    """
    if len(frame) < 3:
        return 0.0
    log_d = np.log(np.maximum(np.linalg.norm(pelvis, axis=-1), 1e-3))
    consecutive = (frame[2:] - frame[1:-1] == 1) & (frame[1:-1] - frame[:-2] == 1)
    second = (log_d[2:] - 2 * log_d[1:-1] + log_d[:-2])[consecutive]
    if len(second) < 3:
        return 0.0
    return float(1.4826 * np.median(np.abs(second - np.median(second))) / np.sqrt(6.0))


def upright_records(joints: np.ndarray, min_upright: float) -> np.ndarray:
    """``(T,)`` whether each posed record ``joints`` ``(T, 24, 3)`` stands straight: its ankles-to-shoulders span at
    least ``min_upright`` of the track's standing span (the 90th percentile; bone lengths are fixed per track)."""
    span = np.linalg.norm(joints[:, list(SHOULDERS)].mean(axis=1) - joints[:, list(ANKLES)].mean(axis=1), axis=-1)
    if not len(span):
        return np.zeros(0, dtype=bool)
    return span >= min_upright * float(np.percentile(span, 90))


def image_speed(feet: np.ndarray, frame: np.ndarray, fps: float, window: int) -> np.ndarray:
    """Speed across the image (m/s, at the foot's depth) of ``feet`` ``(T, 2, 3)``; inf where unmeasured.

    Measured between the records ``window`` frames before and after (both must exist), as the change of
    the viewing ray's direction times depth, so depth jitter along the ray does not count.
    """
    t = len(frame)
    out = np.full(feet.shape[:2], np.inf)
    if t < 2:
        return out
    index = {int(f): i for i, f in enumerate(frame)}
    before = np.array([index.get(int(f) - window, -1) for f in frame])
    after = np.array([index.get(int(f) + window, -1) for f in frame])
    ok = (before >= 0) & (after >= 0)
    if not ok.any():
        return out
    z = np.maximum(feet[..., 2], 1e-3)
    ray = feet[..., :2] / z[..., None]
    step = np.linalg.norm(ray[after[ok]] - ray[before[ok]], axis=-1) * z[ok]
    out[ok] = step * fps / (2 * window)
    return out


def _rays(track: Track, joints: tuple[int, ...], from_camera: np.ndarray, min_weight: float) -> np.ndarray:
    """Unit viewing rays ``(T, len(joints), 3)`` of ``joints``: through the pixel the backend saw where it saw
    it (weight at least ``min_weight``), else through the posed joint (``from_camera``: the inverse intrinsics)."""
    idx = list(joints)
    ray = track.joints[:, idx].astype(np.float64)
    seen = track.keypoints_2d[:, idx].astype(np.float64)
    pixel = np.concatenate([seen[..., :2], np.ones(seen.shape[:-1] + (1,))], axis=-1) @ from_camera.T
    ray = np.where((seen[..., 2] >= min_weight)[..., None], pixel, ray)
    return ray / np.maximum(np.linalg.norm(ray, axis=-1, keepdims=True), 1e-9)


def seen_feet(track: Track, intrinsics: np.ndarray, min_weight: float = SceneOptions.min_pixel_weight) -> np.ndarray:
    """``(T, 2, 3)`` the feet (camera frame) on the rays through the pixels the backend saw them at (weight at least
    ``min_weight``), at the distances of its posed feet; the posed feet where unseen.

    The pixel is the measurement and the distance the part it does not give: the backend's posed feet miss their
    own pixels by its pose error (``lite`` draws the farther foot of a walker seen from the side 2-8 px below it
    on the synthetic suite), a few centimetres that a floor seen nearly edge-on turns into degrees of pitch and,
    along a viewing ray 7-20 degrees below the horizon, 3-8 times as much distance.
    """
    feet = track.joints[:, list(FEET)].astype(np.float64)
    from_camera = np.linalg.inv(np.asarray(intrinsics, dtype=np.float64))
    return _rays(track, FEET, from_camera, min_weight) * np.linalg.norm(feet, axis=-1, keepdims=True)


def feet_cut_off(
    track: Track, intrinsics: np.ndarray, height: int, min_weight: float = SceneOptions.min_pixel_weight
) -> np.ndarray:
    """``(T,)`` True where a foot of ``track`` was not seen (its pixel's weight below ``min_weight``) and the backend
    put it below the bottom of a picture ``height`` pixels tall: a person close by, seen from the waist up, whose
    legs the backend guessed. Where it put those feet says nothing about the floor. A foot it saw (its pixel, even
    just past the edge) and a foot beside the picture (a person half out at a side) are not cut off."""
    feet = track.joints[:, list(FEET)].astype(np.float64) @ np.asarray(intrinsics, dtype=np.float64).T
    below = (feet[..., 2] <= 0) | (feet[..., 1] > height * feet[..., 2])
    unseen = track.keypoints_2d[:, list(FEET), 2] < min_weight
    return np.any(below & unseen, axis=-1)


def _evidence(
    tracks: list[Track],
    fps: float,
    rest: np.ndarray,
    intrinsics: np.ndarray,
    options: SceneOptions,
    height: int,
) -> _Evidence:
    stature = rest_stature(rest)
    step = foot_to_shoulders(rest)
    window = max(1, int(round(options.speed_window_s * fps)))
    from_camera = np.linalg.inv(np.asarray(intrinsics, dtype=np.float64))
    parts = []
    for i, t in enumerate(tracks):
        keep = ~t.predicted & ~feet_cut_off(t, intrinsics, height, options.min_pixel_weight)
        feet = t.joints[:, list(FEET)].astype(np.float64)
        speed = image_speed(feet, t.frame, fps, window)
        h = options.foot_height * stature * t.scale.astype(np.float64)
        jitter = np.full(int(keep.sum()), _depth_jitter(t.joints[keep, 0].astype(np.float64), t.frame[keep]))
        foot_ray = _rays(t, FEET, from_camera, options.min_pixel_weight)
        on_ray = seen_feet(t, intrinsics, options.min_pixel_weight)
        shoulder = _rays(t, SHOULDERS, from_camera, options.min_pixel_weight).sum(axis=1)
        shoulder /= np.maximum(np.linalg.norm(shoulder, axis=-1, keepdims=True), 1e-9)
        axis = np.cross(_rays(t, ANKLES, from_camera, options.min_pixel_weight).sum(axis=1), shoulder)
        length = np.linalg.norm(axis, axis=-1, keepdims=True)
        axis = np.where(length > 1e-6, axis / np.maximum(length, 1e-9), 0.0)
        upright = upright_records(t.joints.astype(np.float64), options.min_upright)
        axis = np.where(upright[:, None], axis, 0.0)
        parts.append(
            (
                on_ray[keep],
                speed[keep],
                np.full(int(keep.sum()), i),
                t.frame[keep],
                h[keep],
                jitter,
                foot_ray[keep],
                shoulder[keep],
                axis[keep],
                (t.joints[keep, HIPS[0]] - t.joints[keep, HIPS[1]]).astype(np.float64),
                step[None] * t.scale[keep].astype(np.float64)[:, None, None],
            )
        )
    if not parts:
        empty = np.zeros(0)
        return _Evidence(
            np.zeros((0, 2, 3)),
            np.zeros((0, 2)),
            empty.astype(int),
            empty.astype(int),
            empty,
            empty,
            np.zeros((0, 2, 3)),
            np.zeros((0, 3)),
            np.zeros((0, 3)),
            np.zeros((0, 3)),
            np.zeros((0, 2, 2)),
        )
    return _Evidence(*(np.concatenate(p) for p in zip(*parts)))


def _upright_axis(tracks: list[Track]) -> np.ndarray:
    """The people's mean feet-to-head direction ``(3,)`` (camera frame); the image's up when there are none."""
    axes = [t.joints[:, HEAD] - t.joints[:, list(FEET)].mean(axis=1) for t in tracks if len(t)]
    if not axes:
        return np.array([0.0, -1.0, 0.0])
    a = np.concatenate(axes).astype(np.float64)
    a /= np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-9)
    up = a.mean(axis=0)
    return up / max(np.linalg.norm(up), 1e-9)


@dataclass(frozen=True)
class _Fit:
    normal: np.ndarray  # (3,) unit, up
    offsets: np.ndarray  # (K,) per track c_i, NaN where the track has no stance points
    points: np.ndarray  # (M, 3) the stance points
    track: np.ndarray  # (M,) their track index
    weights: np.ndarray  # (M,) their final robust weights
    residual: np.ndarray  # (M,) their signed distances from the track's plane, metres
    noise: np.ndarray  # (M,) their tracks' relative depth jitter
    foot: np.ndarray  # (M,) the foot joint's height above the sole each should lie at
    scale: float  # the robust scale of the residuals over their modelled noise (1: as modelled)
    select: np.ndarray  # (2, M) the stance points' record and foot in the evidence
    normal_sd: float = 0.0  # degrees: the normal's standard error along its worst-decided direction


def _stance(ev: _Evidence, normal: np.ndarray, options: SceneOptions) -> np.ndarray:
    """Indices ``(M,)`` into the records whose lower foot is slow, and which foot ``(M,)``."""
    height = ev.feet @ normal  # (R, 2) up to each track's offset
    lower = np.argmin(height, axis=1)
    rows = np.arange(len(lower))
    slow = ev.speed[rows, lower] < options.max_stance_speed
    return np.stack([rows[slow], lower[slow]])


def _fit_plane(ev: _Evidence, select: np.ndarray, n_tracks: int, vertical: _Vertical, options: SceneOptions) -> _Fit:
    """The shared normal and per-track offsets fitted to the stance points ``select`` (rows, foot), with the body
    axes' information on the normal (``vertical``) added."""
    up = vertical.normal
    rows, foot = select
    if len(rows) == 0:
        empty = np.zeros(0)
        return _Fit(
            up.copy(),
            np.full(n_tracks, np.nan),
            np.zeros((0, 3)),
            empty.astype(int),
            empty,
            empty,
            empty,
            empty,
            1.0,
            np.asarray(select),
        )
    p = ev.feet[rows, foot]
    k = ev.track[rows]
    f = ev.foot_height[rows]
    # Depth noise runs along each point's viewing ray: its covariance, subtracted from the scatter, keeps
    # it from tilting the plane toward the rays (a plain eigen-fit pitches the floor by about a degree).
    dist = np.linalg.norm(p, axis=-1)
    ray = p / np.maximum(dist, 1e-9)[:, None]
    var_ray = (ev.jitter[rows] * dist) ** 2
    robust = np.ones(len(p))
    spread = 1.0
    normal = up.copy()
    offsets = np.full(n_tracks, np.nan)
    residual = np.zeros(len(p))
    count = np.bincount(k, minlength=n_tracks)
    for _ in range(options.iterations):
        w = robust / (POINT_NOISE**2 + var_ray * (ray @ normal) ** 2)
        safe = np.maximum(np.bincount(k, weights=w, minlength=n_tracks), 1e-12)
        mean = np.stack([np.bincount(k, weights=w * p[:, a], minlength=n_tracks) for a in range(3)], 1) / safe[:, None]
        centred = p - mean[k]
        total = max(w.sum(), 1e-12)
        scatter = np.einsum("m,mi,mj->ij", w, centred, centred) / total
        noise = np.einsum("m,mi,mj->ij", w * var_ray, ray, ray) / total
        _, vecs = np.linalg.eigh((scatter - noise) * total / options.frames_per_sample + vertical.info)
        normal = vecs[:, 0] * (1.0 if vecs[:, 0] @ up >= 0 else -1.0)
        offsets = np.where(count > 0, np.bincount(k, weights=w * (f - p @ normal), minlength=n_tracks) / safe, np.nan)
        residual = p @ normal + offsets[k] - f
        expected = np.sqrt(POINT_NOISE**2 + var_ray * (ray @ normal) ** 2)
        scaled = residual / expected
        spread = max(1.4826 * float(np.median(np.abs(scaled))), 1.0)
        u = scaled / (4.685 * spread)
        robust = np.where(np.abs(u) < 1.0, (1.0 - u**2) ** 2, 0.0)
    return _Fit(normal, offsets, p, k, robust, residual, ev.jitter[rows], f, spread, np.asarray(select))


@dataclass(frozen=True)
class _Vertical:
    """The floor's normal as the image's people show it: each record's body axis (ankles to shoulders) lies in a
    plane through the camera centre, whose unit normal ``planes`` ``(N, 3)`` is perpendicular to the floor's normal
    for an upright body. ``weights`` ``(N,)``: their final robust weights over their noise (1 / rad^2, correlated
    frames counted :attr:`SceneOptions.frames_per_sample` to one); ``info`` ``(3, 3)``: the information on the
    normal (``n^T info n`` its cost, the people's mean skeleton axis as a weak prior included); ``normal`` ``(3,)``:
    the normal it alone gives (weakly decided along directions the people's positions in the image do not span)."""

    normal: np.ndarray
    planes: np.ndarray
    weights: np.ndarray
    info: np.ndarray


def _image_vertical(ev: _Evidence, up: np.ndarray, options: SceneOptions) -> _Vertical:
    """The body axes' vanishing direction (:class:`_Vertical`), Tukey-reweighted, with ``up`` as its prior."""
    planes = ev.axis_plane[np.linalg.norm(ev.axis_plane, axis=-1) > 0.5]
    sigma = np.radians(options.axis_noise_deg)
    prior = (np.eye(3) - np.outer(up, up)) / np.radians(options.up_prior_deg) ** 2
    robust = np.ones(len(planes))
    normal, info, w = up.copy(), prior, np.zeros(len(planes))
    spread = 1.0
    for _ in range(options.iterations):
        w = robust / (sigma**2 * options.frames_per_sample * spread**2)
        info = (planes * w[:, None]).T @ planes + prior
        vec = np.linalg.eigh(info)[1][:, 0]
        normal = vec if vec @ up >= 0 else -vec
        if not len(planes):
            break
        scaled = (planes @ normal) / sigma
        spread = max(1.4826 * float(np.median(np.abs(scaled))), 1.0)
        u = scaled / (4.685 * spread)
        robust = np.where(np.abs(u) < 1.0, (1.0 - u**2) ** 2, 0.0)
    return _Vertical(normal, planes, w, info)


def _solve_floor(ev: _Evidence, n_tracks: int, up: np.ndarray, options: SceneOptions) -> tuple[_Fit, np.ndarray]:
    """Rounds of stance selection and plane fit; the last fit and its stance selection."""
    if options.known_up is not None:
        n = np.asarray(options.known_up, dtype=np.float64)
        n = n / np.linalg.norm(n)
        # The normal held by an information far beyond any evidence's: the plane fit keeps it and solves the offsets.
        held = _Vertical(n, np.zeros((0, 3)), np.zeros(0), 1e12 * (np.eye(3) - np.outer(n, n)))
        select = _stance(ev, n, options)
        return _fit_plane(ev, select, n_tracks, held, options), select
    vertical = _image_vertical(ev, up, options)
    select = _stance(ev, vertical.normal, options)
    fit = _fit_plane(ev, select, n_tracks, vertical, options)
    for _ in range(options.rounds - 1):
        select = _stance(ev, fit.normal, options)
        fit = _fit_plane(ev, select, n_tracks, vertical, options)
    return _refine_with_heights(ev, fit, n_tracks, vertical, up, options), select


def _refine_with_heights(
    ev: _Evidence, fit: _Fit, n_tracks: int, vertical: _Vertical, up: np.ndarray, options: SceneOptions
) -> _Fit:
    """The normal that best explains the stance points, the body axes and people's heights.

    The plane fit alone leaves the floor free to pivot about any direction the stance points do not
    span (everyone walking across the image at their own depth: the pitch trades against their sizes).
    Here the normal minimises, by Gauss-Newton over its two angles, the stance residuals (robust weights
    and noise levels of the plane fit, correlated frames counted :attr:`SceneOptions.frames_per_sample`
    to one), each stance point's shoulder height measured in the image (:func:`shoulder_heights`) against
    its track's mean (``height_noise``), the body axes' planes (``vertical``) and the angle to the skeletons'
    upright axis (``up_prior_deg``).

    Not the prior that people are about one height (``scale_prior_sigma``): a term pulling the voting tracks'
    ``log`` heights together moved the normal only where the image leaves it weakly decided, and there by as
    much as the people's difference needed (the suite's ``cross_hidden``, people of 1.95 and 1.55 m: pitch
    1.6 degrees off, heights -12 and +9 %, camera height -20 %; without it 1.1 degrees the other way, +3 and
    -7 %, +7 %). On ``benchmarks/scene_solve_sweep.py`` (seeds 0-3, 790 scenes) leaving it out passes the
    issue's bounds with the prior's part aside on 84.8 % of scenes instead of 83.7 %.
    """
    used = fit.weights > 0
    if used.sum() < 3:
        return fit
    p, k = fit.points[used], fit.track[used]
    f = fit.foot[used]
    dist = np.linalg.norm(p, axis=-1)
    ray = p / np.maximum(dist, 1e-9)[:, None]
    var_ray = (fit.noise[used] * dist) ** 2
    count = np.bincount(k, minlength=n_tracks)
    voters = count >= options.min_track_stance
    sigma_up = np.radians(options.up_prior_deg)
    n0 = fit.normal
    e1 = np.cross(n0, [1.0, 0.0, 0.0] if abs(n0[0]) < 0.9 else [0.0, 0.0, 1.0])
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(n0, e1)

    def normal_of(x: np.ndarray) -> np.ndarray:
        n = n0 + x[0] * e1 + x[1] * e2
        return n / np.linalg.norm(n)

    rows, foot = fit.select[0][used], fit.select[1][used]
    foot_ray, shoulder_ray = ev.foot_ray[rows, foot], ev.shoulder_ray[rows]
    ok0 = voters & (fit.offsets > 1e-3)
    d0 = float(np.exp(np.mean(np.log(fit.offsets[ok0])))) if ok0.any() else np.inf
    lift, to_shoulders, across = f / d0, ev.step[rows, foot] / d0, ev.across[rows]
    m_weight = _straight(ev, rows).astype(np.float64)  # a bent body's shoulders are not its height

    def heights(n: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per point its measured shoulder height (camera heights), per track their mean and its variance."""
        eta = shoulder_heights(n, foot_ray, shoulder_ray, lift, across, to_shoulders)
        good = np.isfinite(eta) & (eta > 0)
        w = np.where(good, m_weight, 0.0)
        eta = np.where(good, eta, 0.0)
        wsum = np.bincount(k, weights=w, minlength=n_tracks)
        mean = np.bincount(k, weights=w * eta, minlength=n_tracks) / np.maximum(wsum, 1e-12)
        var = options.height_noise**2 * options.frames_per_sample / np.maximum(wsum, 1e-12)
        return eta, mean, np.where(wsum > 0, var, np.inf)

    def residuals(x: np.ndarray) -> np.ndarray:
        n = normal_of(x)
        var = fit.scale**2 * (POINT_NOISE**2 + var_ray * (ray @ n) ** 2)
        w = fit.weights[used] / var / options.frames_per_sample
        wsum = np.maximum(np.bincount(k, weights=w, minlength=n_tracks), 1e-12)
        c = np.bincount(k, weights=w * (f - p @ n), minlength=n_tracks) / wsum
        data = np.sqrt(w) * (p @ n + c[k] - f)
        eta, mean, var_eta = heights(n)
        ok = voters & (mean > 1e-3) & np.isfinite(var_eta)
        safe = np.where(ok, mean, 1.0)
        constancy = np.sqrt(m_weight / options.frames_per_sample) * (eta - safe[k]) / (options.height_noise * safe[k])
        constancy = np.where(ok[k] & (eta > 0), constancy, 0.0)
        tilt = np.arccos(np.clip(n @ up, -1.0, 1.0)) / sigma_up
        axes = np.sqrt(vertical.weights) * (vertical.planes @ n)
        return np.concatenate([data, constancy, axes, [tilt]])

    x = np.zeros(2)
    r = residuals(x)
    cost = float(r @ r)
    damping = 1e-3
    for _ in range(options.iterations * 2):
        jac = np.stack([(residuals(x + h) - r) / 1e-6 for h in np.eye(2) * 1e-6], axis=1)
        jtj = jac.T @ jac
        step = -np.linalg.solve(jtj + damping * np.diag(np.diag(jtj) + 1e-9), jac.T @ r)
        trial = residuals(x + step)
        if float(trial @ trial) < cost:
            x, r, cost = x + step, trial, float(trial @ trial)
            damping = max(damping / 10, 1e-9)
            if np.linalg.norm(step) < 1e-7:
                break
        else:
            damping *= 10
            if damping > 1e6:
                break
    n = normal_of(x)
    # The normal's standard error from the curvature of the cost at the solution (the residuals are scaled
    # to unit variance, correlated frames counted once per sample): along its worst-decided direction.
    jac = np.stack([(residuals(x + h) - r) / 1e-6 for h in np.eye(2) * 1e-6], axis=1)
    smallest = float(np.linalg.eigvalsh(jac.T @ jac)[0])
    normal_sd = float(np.degrees(1.0 / np.sqrt(max(smallest, 1e-12))))
    w = fit.weights[used] / (POINT_NOISE**2 + var_ray * (ray @ n) ** 2)
    wsum = np.maximum(np.bincount(k, weights=w, minlength=n_tracks), 1e-12)
    offsets = np.where(count > 0, np.bincount(k, weights=w * (f - p @ n), minlength=n_tracks) / wsum, np.nan)
    residual = fit.points @ n + np.nan_to_num(offsets)[fit.track] - fit.foot
    return dataclasses.replace(fit, normal=n, offsets=offsets, residual=residual, normal_sd=normal_sd)


def _unsolved(status: str, tracks: list[Track], stature: float, stance: int = 0) -> Scene:
    ones = {t.track_id: 1.0 for t in tracks}
    heights = {t.track_id: stature * float(t.scale[0]) if len(t) else stature for t in tracks}
    return Scene(status, None, None, ones, heights, stance)


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(abs(float(a @ b)), -1.0, 1.0))))


def solve_scene(results: Results, options: SceneOptions = SceneOptions()) -> Scene:
    """Solve the floor, the camera above it and every track's scale from all of ``results``' tracks.

    Returns a :class:`Scene`; when it is not solved (see its ``status``) every scale is 1.
    """
    tracks = [t for t in results.tracks if len(t)]
    stature = rest_stature(results.meta.rest_joints)
    meta = results.meta
    ev = _evidence(tracks, float(meta.fps), meta.rest_joints, meta.intrinsics, options, meta.height)
    up = _upright_axis(tracks)
    if len(ev.feet) == 0:
        return _unsolved(f"{NO_FLOOR}: no observed person", results.tracks, stature)
    fit, select = _solve_floor(ev, len(tracks), up, options)
    used = fit.weights > 0
    stance = int(used.sum())
    if stance < options.min_stance_frames:
        return _unsolved(
            f"{NO_FLOOR}: too few stance frames ({stance}, at least {options.min_stance_frames})",
            results.tracks,
            stature,
            stance,
        )
    count = np.bincount(fit.track[used], minlength=len(tracks))
    if not np.any((count >= options.min_track_stance) & (fit.offsets > 0)):
        # The floor passes above the camera for everyone: no plane under them (not a moving camera's sign).
        return _unsolved(f"{NO_FLOOR}: no person with enough stance frames under the camera", results.tracks, stature)
    # Before the tilt: one plane fitted to a camera that moved can lie anywhere.
    moving = _halves_disagree(ev, select, fit, len(tracks), up, options)
    if moving is not None:
        return _unsolved(f"{MOVING}: {moving}", results.tracks, stature, stance)
    tilt = _angle_deg(fit.normal, np.array([0.0, -1.0, 0.0]))
    if tilt > options.max_tilt_deg:
        return _unsolved(
            f"{NO_FLOOR}: the fitted floor is tilted {tilt:.0f} degrees from the image's up", results.tracks, stature
        )
    return _scaled_scene(results, tracks, ev, fit, stature, stance, options)


def _halves_disagree(
    ev: _Evidence, select: np.ndarray, fit: _Fit, n_tracks: int, up: np.ndarray, options: SceneOptions
) -> str | None:
    """Why the floors fitted on the first and the second half of the stance frames differ, or None."""
    frames = ev.frame[select[0]][fit.weights > 0]
    if len(frames) < 2 * options.min_stance_frames:
        return None
    cut = float(np.median(frames))
    normals, sds = [], []
    for half in (ev.frame <= cut, ev.frame > cut):
        sub, _ = _solve_floor(ev.select(half), n_tracks, up, options)
        normals.append(sub.normal)
        sds.append(sub.normal_sd)
    angle = _angle_deg(normals[0], normals[1])
    if angle > max(options.moving_angle_deg, 3.0 * float(np.hypot(*sds))):
        return f"the floors of the clip's two halves differ by {angle:.1f} degrees"
    return None


def shoulder_heights(
    normal: np.ndarray,
    foot_ray: np.ndarray,
    shoulder_ray: np.ndarray,
    lift: np.ndarray,
    across: np.ndarray | None = None,
    step: np.ndarray | None = None,
) -> np.ndarray:
    """The shoulders' heights above the floor ``(M,)``, in units of the camera's height, measured in the image.

    The planted foot's viewing ray ``foot_ray`` ``(M, 3)`` meets the floor ``normal . x + 1 = lift`` (``lift``
    ``(M,)`` the foot joint's own height, in the same units) at the foot; the shoulders stand on the vertical
    through the point ``step`` ``(M, 2)`` (to the body's left, forward; same units) from it, the body's left
    along the hips' line ``across`` ``(M, 3)``, where that vertical passes closest to their ray ``shoulder_ray``
    ``(M, 3)``. Nothing here depends on the backend's depth: only on pixels, the body's heading and the floor.
    NaN where the foot's ray does not meet the floor.
    """
    down = foot_ray @ normal
    ok = down < -1e-3
    base = foot_ray * ((lift - 1.0) / np.where(ok, down, -1.0))[:, None]
    if across is not None and step is not None:
        left = across - (across @ normal)[:, None] * normal
        left /= np.maximum(np.linalg.norm(left, axis=-1, keepdims=True), 1e-9)
        base = base + step[:, :1] * left + step[:, 1:] * np.cross(left, normal)
    c = shoulder_ray @ normal
    above = (-(base @ normal) + c * np.einsum("mi,mi->m", base, shoulder_ray)) / np.maximum(1.0 - c**2, 1e-9)
    return np.where(ok, lift + above, np.nan)


def foot_to_shoulders(rest_joints: np.ndarray) -> np.ndarray:
    """``(2, 2)`` per foot (left, right) the horizontal step from the foot joint to under the shoulders' midpoint
    (to the body's left, forward), metres, in a rest skeleton ``(24, 3)`` (SMPL body frame: x left, z front)."""
    rest = np.asarray(rest_joints, dtype=np.float64)
    step = rest[list(SHOULDERS)].mean(axis=0)[None] - rest[list(FEET)]
    return step[:, [0, 2]]


def shoulder_fraction(rest_joints: np.ndarray, foot_height: float) -> float:
    """The shoulders' height above the soles as a fraction of the stature, for a rest skeleton ``(24, 3)``."""
    rest = np.asarray(rest_joints, dtype=np.float64)
    above = rest[list(SHOULDERS), 1].mean() - rest[list(FEET), 1].min()
    return float(above / rest_stature(rest) + foot_height)


def _robust_location(values: np.ndarray) -> tuple[float, float]:
    """Median and robust spread (1.4826 MAD) of ``values``."""
    mid = float(np.median(values))
    return mid, 1.4826 * float(np.median(np.abs(values - mid)))


def _scaled_scene(
    results: Results,
    tracks: list[Track],
    ev: _Evidence,
    fit: _Fit,
    stature: float,
    stance: int,
    options: SceneOptions,
) -> Scene:
    """The camera height, each person's height and each track's distance factor from a fitted floor
    (see the module docstring, step 3).

    Heights are measured in the image (:func:`shoulder_heights`) in units of the camera's height, whose
    value follows from the prior on people's heights; each track's distance factor is the camera height over
    its plane offset (its planted feet on the floor). Tracks with enough stance points set the camera's
    height; the others (a person seen for a second) are measured on every frame's lower foot, which is
    mostly the planted one, and lean on the prior by as much as that is noisier.
    """
    used = fit.weights > 0
    k = fit.track[used]
    n_tracks = len(tracks)
    count = np.bincount(k, minlength=n_tracks)
    spread = np.sqrt(np.bincount(k, weights=fit.residual[used] ** 2, minlength=n_tracks) / np.maximum(count, 1))
    offsets = fit.offsets.copy()
    voters = (count >= options.min_track_stance) & (offsets > 0)
    if not voters.any():
        return _unsolved(f"{NO_FLOOR}: no person with enough stance frames under the camera", results.tracks, stature)
    lower_foot = np.argmin(ev.feet @ fit.normal, axis=1)
    lower = (ev.feet @ fit.normal).min(axis=1)
    rows, foot = fit.select[0][used], fit.select[1][used]
    points = [rows[k == i] if voters[i] else np.flatnonzero(ev.track == i) for i in range(n_tracks)]
    feet = [foot[k == i] if voters[i] else lower_foot[ev.track == i] for i in range(n_tracks)]
    for i in np.flatnonzero(~voters):
        mine = ev.track == i
        if mine.sum() >= 3:
            offsets[i], spread[i] = _robust_location(ev.foot_height[mine] - lower[mine])
            count[i] = int(mine.sum())
    placed = offsets > 0
    samples = np.maximum(count / options.frames_per_sample, 1.0)
    var_c = (np.maximum(spread, 0.01) / np.where(placed, offsets, 1.0)) ** 2 / samples
    prior = options.scale_prior_sigma**2
    # First guess of the camera height from the offsets (people about the assumed size), for the feet's lift.
    a = np.where(voters, 1.0 / (prior + var_c), 0.0)
    log_d = float(np.sum(a * np.log(np.where(placed, offsets, 1.0))) / a.sum())
    target = np.log(stature * shoulder_fraction(results.meta.rest_joints, options.foot_height))
    log_eta, var_eta = np.zeros(n_tracks), np.full(n_tracks, np.inf)
    for _ in range(2):
        for i in range(n_tracks):
            r, f = points[i], feet[i]
            straight = _straight(ev, r)
            if straight.sum() >= 3:
                r, f = r[straight], f[straight]
            if len(r) < 3:
                continue
            d = np.exp(log_d)
            lift, step = ev.foot_height[r] / d, ev.step[r, f] / d
            eta = shoulder_heights(fit.normal, ev.foot_ray[r, f], ev.shoulder_ray[r], lift, ev.across[r], step)
            eta = eta[np.isfinite(eta) & (eta > 0)]
            if len(eta) < 3:
                continue
            mid, mad = _robust_location(eta)
            if mid <= 0:
                continue
            log_eta[i] = np.log(mid)
            var_eta[i] = (max(mad, 0.01) / mid) ** 2 / max(len(eta) / options.frames_per_sample, 1.0)
        measured = np.isfinite(var_eta)
        a = np.where(voters & measured, 1.0 / (prior + np.where(measured, var_eta, 1.0)), 0.0)
        if a.sum() <= 0:
            return _unsolved(f"{NO_FLOOR}: nobody's height could be measured on the floor", results.tracks, stature)
        log_d = float(np.sum(a * (target - log_eta)) / a.sum())
    shrink = np.where(measured, prior / (prior + np.where(measured, var_eta, 1.0)), 0.0)
    log_size = np.where(measured, shrink * (log_eta + log_d - target), 0.0)  # log(height / assumed height)
    log_far = np.log(np.where(placed, np.exp(log_d) / np.where(placed, offsets, 1.0), 1.0))
    # The backend's distances are off its people's sizes by a common factor (its pose and proportions): the
    # tracks whose own offset is noisy lean on it.
    a_far = np.where(voters & measured, 1.0 / (prior + var_c), 0.0)
    bias = float(np.sum(a_far * (log_far - log_size)) / a_far.sum()) if a_far.sum() > 0 else 0.0
    trust = np.where(placed, prior / (prior + var_c), 0.0)
    log_far = trust * log_far + (1.0 - trust) * (log_size + bias)
    lo, hi = (np.log(h / stature) for h in options.height_range)
    by_id = {t.track_id: i for i, t in enumerate(tracks)}
    scales, distances, heights = {}, {}, {}
    for t in results.tracks:
        i = by_id.get(t.track_id)
        ok = i is not None and (placed[i] or measured[i])
        size = float(np.exp(np.clip(log_size[i], lo, hi))) if ok else 1.0
        scales[t.track_id] = size
        distances[t.track_id] = float(np.exp(log_far[i])) if ok else size
        heights[t.track_id] = stature * size * (float(t.scale[0]) if len(t) else 1.0)
    d = float(np.exp(log_d))
    if d < options.min_camera_height:
        return _unsolved(
            f"{NO_FLOOR}: the fitted floor passes {d:.2f} m under the camera, implausibly close",
            results.tracks,
            stature,
        )
    floor = np.append(fit.normal, d)
    height, pitch, roll = camera_pose(floor)
    doubt = (
        f"{UNCERTAIN} (about +-{fit.normal_sd:.1f} degrees: the people's paths and poses leave it free to tilt); "
        if fit.normal_sd > options.uncertain_deg
        else ""
    )
    status = (
        f"{SOLVED}: {doubt}floor from {stance} stance frames of {int(voters.sum())} people; camera {height:.2f} m above it, "
        f"pitched {pitch:.1f} degrees down, roll {roll:.1f}"
    )
    return Scene(status, world_from_floor(floor), floor, scales, heights, stance, distances, fit.normal_sd)


def apply_scene(results: Results, scene: Scene) -> Results:
    """``results`` with each track sized by its ``scene.scales`` and moved to its ``scene.distances`` from the
    camera, and the scene in its metadata.

    The skeleton scales about the pelvis by the size factor and the pelvis moves along its viewing ray by the
    distance factor (both the same: the whole track scaled about the camera centre). ``transl`` follows
    (SMPL's pelvis is ``scale * rest[0] + transl``, and the track's skeleton becomes ``scale * rest_joints``),
    rotations do not change, so bone lengths stay constant per track; each record's ``scale`` is multiplied
    by the size factor.
    """
    tracks = []
    for t in results.tracks:
        size = scene.scales.get(t.track_id, 1.0)
        far = scene.distances.get(t.track_id, size)
        arrays = t.arrays()
        if size != 1.0 or far != 1.0:
            joints, transl = t.joints.astype(np.float64), t.transl.astype(np.float64)
            pelvis = joints[:, :1]
            rest_pelvis = t.scale.astype(np.float64)[:, None] * np.asarray(results.meta.rest_joints, np.float64)[0]
            arrays["joints"] = (size * joints + (far - size) * pelvis).astype(t.joints.dtype)
            arrays["transl"] = (far * transl + (far - size) * rest_pelvis).astype(t.transl.dtype)
            arrays["scale"] = (t.scale * size).astype(t.scale.dtype)
        tracks.append(type(t)(t.track_id, **arrays))
    meta = dataclasses.replace(
        results.meta,
        world_from_camera=scene.world_from_camera,
        floor_cam=scene.floor_cam,
        scene_status=scene.status,
    )
    return Results(meta, tracks)


def solve_and_apply(results: Results, options: SceneOptions = SceneOptions()) -> Results:
    """:func:`apply_scene` of :func:`solve_scene`: the results of a whole capture, sized and standing on their floor."""
    return apply_scene(results, solve_scene(results, options))


__all__ = [
    "MOVING",
    "NO_FLOOR",
    "SOLVED",
    "UNCERTAIN",
    "Scene",
    "SceneOptions",
    "apply_scene",
    "camera_pose",
    "rest_stature",
    "seen_feet",
    "solve_and_apply",
    "solve_scene",
    "world_from_floor",
]
