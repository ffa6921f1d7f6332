"""Temporal smoothing that keeps motion crisp, and filling of short gaps.

One-Euro filters (Casiez et al., CHI 2012): a low-pass whose cutoff rises with speed, so a still
pose loses its jitter while a fast move is followed with little lag.

* Rotations: each joint's rotation is filtered on the sphere of rotations: the step from the
  filtered rotation to the new one (a unit quaternion made to lie in the same hemisphere, so sign
  flips and the +-pi wrap of axis-angle cause no jump) is taken by a fraction ``alpha`` of its angle.
  The speed that drives the cutoff is that step's angle per second (radians/s).
* Translation: the classic filter per coordinate, with the speed taken as the velocity's norm (m/s).
* Depth gate: an observed translation whose depth is far off the track's recent median depth is an
  outlier (a partly hidden person's skeleton, too small or too large for a frame or two); its depth
  becomes that median, along the same ray from the camera (:class:`SmoothingConfig`).

:class:`MotionSmoother` is the causal, one-frame-at-a-time form with per-track state (for the
worker's stream). :func:`fill_gaps` fills short gaps between observed frames by slerp/linear
interpolation and marks the frames it made.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ram_core.contract.skeleton import NUM_JOINTS, axis_angle_to_quaternion, quaternion_to_axis_angle


@dataclass(frozen=True)
class OneEuroConfig:
    """``min_cutoff`` (Hz): cutoff when still; ``beta`` (Hz per unit/s): how fast the cutoff rises with
    speed; ``d_cutoff`` (Hz): cutoff of the speed estimate itself."""

    min_cutoff: float
    beta: float
    d_cutoff: float = 1.0


@dataclass(frozen=True)
class SmoothingConfig:
    """Filters for rotations (speed in rad/s) and translation (speed in m/s), how long a gap may be
    filled (frames), and the gate on depth.

    ``max_depth_ratio``: an observed translation whose depth (z, camera frame) is more than this factor
    off the median depth of the track's last ``depth_window`` accepted observations (either way) is an
    outlier: a landmark model that sees a partly hidden person gives a skeleton too small or too large
    for a frame or two, which puts the person much too far or too close. Its depth is replaced by that
    median, along the ray through the observed translation (so the person stays where the image shows
    them). The gate needs ``depth_window // 2 + 1`` accepted observations, none more than ``max_gap``
    frames old. None: no gate. ``max_depth_outlier_s``: once outliers have come in a row for this long
    (seconds) the depth is believed (the person did move, or the track's first frames were the wrong
    ones) and the translation filter starts again from it; half a second covers a walker passing behind
    a post (on vtest.avi the sign's post hid one for 5 frames at 10 frames/s, and 3 frames let the
    fourth through). Walking at 1.5 m/s changes depth by 4% per frame at 10 frames/s even 4 m from the
    camera; the median of the last 5 lags it by 2.5 frames.
    """

    rotation: OneEuroConfig = OneEuroConfig(min_cutoff=1.0, beta=0.6)
    translation: OneEuroConfig = OneEuroConfig(min_cutoff=0.8, beta=1.5)
    max_gap: int = 8
    max_depth_ratio: float | None = 1.25
    max_depth_outlier_s: float = 0.5
    depth_window: int = 5


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray:
    """Smoothing factor of an exponential low-pass with ``cutoff`` (Hz) at time step ``dt`` (s)."""
    tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff, dtype=np.float64))
    return 1.0 / (1.0 + tau / dt)


# --- quaternion helpers ((..., 4) as w, x, y, z) ------------------------------------------------------


def _qmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )


def _qconj(q: np.ndarray) -> np.ndarray:
    return q * np.array([1.0, -1.0, -1.0, -1.0])


def _step_towards(q_from: np.ndarray, q_to: np.ndarray) -> np.ndarray:
    """Axis-angle ``(..., 3)`` of the shortest rotation from ``q_from`` to ``q_to`` (either sign of ``q_to``)."""
    delta = _qmul(_qconj(q_from), q_to)
    return quaternion_to_axis_angle(delta)  # takes the w >= 0 hemisphere: the short way round


def slerp(q0: np.ndarray, q1: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """Spherical interpolation of unit quaternions ``(..., 4)`` the short way; ``t`` broadcasts over ``...``."""
    step = _step_towards(q0, q1)
    return _qmul(q0, axis_angle_to_quaternion(step * np.asarray(t, dtype=np.float64)[..., None]))


# --- the filters -----------------------------------------------------------------------------------------


@dataclass
class RotationFilterState:
    """Per-track state: filtered quaternions ``(J, 4)`` and filtered angular speed ``(J,)`` (rad/s)."""

    quat: np.ndarray
    speed: np.ndarray


@dataclass
class VectorFilterState:
    """Per-track state: filtered value ``(D,)``, the filter's speed estimate ``(D,)`` (units/s; as
    One-Euro defines it, from the previous *filtered* value, so it runs high while moving) and
    ``trend`` ``(D,)``, the low-passed velocity of the filtered value (units/s) used to coast."""

    value: np.ndarray
    velocity: np.ndarray
    trend: np.ndarray


def rotation_filter_step(
    state: RotationFilterState | None, quat: np.ndarray, dt: float, cfg: OneEuroConfig
) -> RotationFilterState:
    """One One-Euro step on rotations ``quat`` ``(J, 4)``; returns the new state (its ``quat`` is the output)."""
    quat = np.asarray(quat, dtype=np.float64)
    if state is None:
        return RotationFilterState(quat=quat * np.where(quat[..., :1] < 0, -1.0, 1.0), speed=np.zeros(quat.shape[:-1]))
    step = _step_towards(state.quat, quat)
    raw_speed = np.linalg.norm(step, axis=-1) / dt
    speed = state.speed + _alpha(cfg.d_cutoff, dt) * (raw_speed - state.speed)
    alpha = _alpha(cfg.min_cutoff + cfg.beta * speed, dt)
    out = _qmul(state.quat, axis_angle_to_quaternion(step * alpha[..., None]))
    out /= np.linalg.norm(out, axis=-1, keepdims=True)
    return RotationFilterState(quat=out, speed=speed)


def vector_filter_step(
    state: VectorFilterState | None, value: np.ndarray, dt: float, cfg: OneEuroConfig
) -> VectorFilterState:
    """One One-Euro step on a vector ``(D,)``; the cutoff follows the velocity's norm."""
    value = np.asarray(value, dtype=np.float64)
    if state is None:
        return VectorFilterState(value=value.copy(), velocity=np.zeros_like(value), trend=np.zeros_like(value))
    a_d = _alpha(cfg.d_cutoff, dt)
    velocity = state.velocity + a_d * ((value - state.value) / dt - state.velocity)
    alpha = _alpha(cfg.min_cutoff + cfg.beta * np.linalg.norm(velocity), dt)
    out = state.value + alpha * (value - state.value)
    trend = state.trend + a_d * ((out - state.value) / dt - state.trend)
    return VectorFilterState(value=out, velocity=velocity, trend=trend)


@dataclass
class MotionSmoother:
    """Causal smoother for one track: call :meth:`update` per observed frame, in increasing order.

    Rotations are SMPL's 24 (``global_orient`` + 23 ``body_pose``) as axis-angle; translation in metres.
    """

    fps: float
    config: SmoothingConfig = field(default_factory=SmoothingConfig)
    last_frame: int | None = None
    rotations: RotationFilterState | None = None
    translation: VectorFilterState | None = None
    recent_depths: list[tuple[int, float]] = field(default_factory=list)
    outliers_since: int | None = None

    def update(self, frame: int, rotvecs: np.ndarray, transl: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Filter frame ``frame``'s ``rotvecs`` ``(24, 3)`` and ``transl`` ``(3,)``; returns the smoothed pair.

        ``transl`` (metres, camera frame) first passes the depth gate (``SmoothingConfig.max_depth_ratio``).
        """
        dt = self._dt(frame)
        quat = axis_angle_to_quaternion(np.asarray(rotvecs, dtype=np.float64).reshape(NUM_JOINTS, 3))
        self.rotations = rotation_filter_step(self.rotations, quat, dt, self.config.rotation)
        transl = self._gate_depth(frame, np.asarray(transl, dtype=np.float64))
        self.translation = vector_filter_step(self.translation, transl, dt, self.config.translation)
        self.last_frame = frame
        return quaternion_to_axis_angle(self.rotations.quat), self.translation.value.copy()

    def _gate_depth(self, frame: int, transl: np.ndarray) -> np.ndarray:
        """``transl`` ``(3,)``, or, for a depth outlier, that translation scaled to the recent median depth."""
        cfg = self.config
        depth = float(transl[2])
        if cfg.max_depth_ratio is None or not depth > 0:
            return transl
        recent = [(f, z) for f, z in self.recent_depths if frame - f <= cfg.max_gap]
        reference = float(np.median([z for _, z in recent])) if recent else depth
        if max(depth / reference, reference / depth) > cfg.max_depth_ratio:
            if len(recent) <= cfg.depth_window // 2:
                recent = []  # too few to outvote it: they are forgotten
            else:
                if self.outliers_since is None:
                    self.outliers_since = frame
                if (frame - self.outliers_since) / self.fps < cfg.max_depth_outlier_s:
                    return transl * (reference / depth)
                # The depth has moved for good: the filter starts again from here.
                self.translation = None
                recent = []
        self.outliers_since = None
        self.recent_depths = [*recent, (frame, depth)][-cfg.depth_window :]
        return transl

    def _dt(self, frame: int) -> float:
        if self.last_frame is not None and frame <= self.last_frame:
            raise ValueError(f"frames must increase: {frame} after {self.last_frame}")
        steps = 1 if self.last_frame is None else frame - self.last_frame
        return steps / self.fps


def fill_gaps(
    frames: np.ndarray,
    global_orient: np.ndarray,
    body_pose: np.ndarray,
    transl: np.ndarray,
    max_gap: int = SmoothingConfig.max_gap,
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


__all__ = [
    "MotionSmoother",
    "OneEuroConfig",
    "SmoothingConfig",
    "fill_gaps",
    "rotation_filter_step",
    "slerp",
    "vector_filter_step",
]
