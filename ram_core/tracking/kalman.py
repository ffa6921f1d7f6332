"""A constant-velocity Kalman filter over one box, as pure kernels.

State x = (cx, cy, w, h, vcx, vcy, vw, vh) in pixels and pixels per frame; observation z = (cx, cy, w, h).
Every kernel also accepts a batch: mean (B, 8), cov (B, 8, 8), boxes (B, 4), and returns the same
leading shape, so a tracker can predict all its tracks in one call.

Noise scales are relative to the box size (as in SORT/DeepSORT), so one config serves a person 50 px
tall and one 500 px tall: the standard deviation of a quantity is ``weight * size`` where size is the
box width for x-like entries (cx, w, vcx, vw) and the height for y-like entries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ram_core.tracking.boxes import cxcywh_to_xyxy, xyxy_to_cxcywh

_MIN_SIZE = 1.0

_F = np.eye(8)
_F[:4, 4:] = np.eye(4)
_H = np.eye(4, 8)


@dataclass(frozen=True)
class KalmanConfig:
    """Noise of the constant-velocity box filter, as fractions of the box size (per frame).

    position_weight: process noise std of (cx, cy, w, h) per frame, times the size.
    velocity_weight: process noise std of the velocities per frame, times the size.
    measurement_weight: std of an observed box's (cx, cy, w, h), times the size.
    init_position_scale: initial position std = init_position_scale * position_weight * size.
    init_velocity_scale: initial velocity std = init_velocity_scale * velocity_weight * size (unknown at birth).
      The default (about 6% of the size per frame) suits pedestrians at 25-30 frames/s and keeps new
      tracks in a crowd from jumping to a neighbour. For sport, dance, low frame rates or steps over
      several frames use `agile`.
    vertical_velocity_scale, size_velocity_scale: the velocity noise (initial and per frame) of cy, and of w and
      h, is this times the rest's. People walk across a picture far faster than their feet move up it or their
      boxes grow (both only as they near or leave the camera), so after a track's first two boxes the
      difference of their jittered bottoms and sizes is mostly noise, not motion; with a loose velocity prior
      (`agile`) it was taken for motion and a new track in a crowd drifted onto a neighbour. 1 (the default):
      isotropic, as DeepSORT/ByteTrack's filter.
    """

    position_weight: float = 1.0 / 20.0
    velocity_weight: float = 1.0 / 160.0
    measurement_weight: float = 1.0 / 20.0
    init_position_scale: float = 2.0
    init_velocity_scale: float = 10.0
    size_velocity_scale: float = 1.0
    vertical_velocity_scale: float = 1.0

    @staticmethod
    def agile() -> KalmanConfig:
        """Noise for people who accelerate hard or enter the view fast (a third of their size per frame).

        The defaults were chosen on walking pedestrians, where this looser model costs some identity
        switches in crowds (see benchmarks/track_vs_peers.py). The across-the-picture velocity is loose; the
        vertical one and the size change rates keep a tenth and three tenths of it (chosen on seeds 0-9 of
        benchmarks/track_vs_peers.py's every-third-frame variant, where this model is the one tuned: 0.1/0.3 of
        1, 0.3, 0.1, 0.05, 0.03 x 1, 0.5, 0.3, 0.1: HOTA 65.4 -> 66.6, ID switches 64 -> 55; the others within
        0.5 HOTA and 9 switches of it).
        """
        return KalmanConfig(
            velocity_weight=1.0 / 40.0, init_velocity_scale=50.0, vertical_velocity_scale=0.1, size_velocity_scale=0.3
        )


@dataclass(frozen=True)
class KalmanState:
    """Gaussian over the box state: mean (..., 8), cov (..., 8, 8)."""

    mean: np.ndarray
    cov: np.ndarray


def _sizes(cxcywh: np.ndarray) -> np.ndarray:
    """(..., 4) -> (..., 4) the (w, h, w, h) scale each entry's noise is relative to."""
    w = np.maximum(cxcywh[..., 2], _MIN_SIZE)
    h = np.maximum(cxcywh[..., 3], _MIN_SIZE)
    return np.stack([w, h, w, h], axis=-1)


def _velocity_std(cfg: KalmanConfig, sizes: np.ndarray) -> np.ndarray:
    """(..., 4) per-frame process noise std of the velocities (vcx, vcy, vw, vh) from `_sizes`."""
    std = cfg.velocity_weight * sizes
    if cfg.size_velocity_scale != 1.0 or cfg.vertical_velocity_scale != 1.0:
        std = std * np.array([1.0, cfg.vertical_velocity_scale, cfg.size_velocity_scale, cfg.size_velocity_scale])
    return std


def _diag(std: np.ndarray) -> np.ndarray:
    """(..., n) standard deviations -> (..., n, n) diagonal covariance."""
    n = std.shape[-1]
    return np.eye(n) * (std**2)[..., None, :]


def init_state(box_xyxy: np.ndarray, cfg: KalmanConfig) -> KalmanState:
    """A new filter at box (..., 4) xyxy with zero velocity of large uncertainty."""
    z = xyxy_to_cxcywh(box_xyxy)
    s = _sizes(z)
    mean = np.concatenate([z, np.zeros_like(z)], axis=-1)
    std = np.concatenate(
        [cfg.init_position_scale * cfg.position_weight * s, cfg.init_velocity_scale * _velocity_std(cfg, s)], axis=-1
    )
    return KalmanState(mean=mean, cov=_diag(std))


def predict(state: KalmanState, cfg: KalmanConfig) -> KalmanState:
    """One frame ahead: x' = F x, P' = F P F^T + Q, Q relative to the current box size."""
    s = _sizes(state.mean[..., :4])
    q = _diag(np.concatenate([cfg.position_weight * s, _velocity_std(cfg, s)], axis=-1))
    mean = state.mean @ _F.T
    cov = _F @ state.cov @ _F.T + q
    return KalmanState(mean=mean, cov=cov)


def update(state: KalmanState, box_xyxy: np.ndarray, cfg: KalmanConfig) -> KalmanState:
    """Posterior after observing box (..., 4) xyxy; R relative to the predicted size."""
    z = xyxy_to_cxcywh(box_xyxy)
    r = _diag(cfg.measurement_weight * _sizes(state.mean[..., :4]))
    cov_hx = state.cov[..., :, :4]  # P H^T
    s = state.cov[..., :4, :4] + r  # H P H^T + R
    gain = np.swapaxes(np.linalg.solve(s, np.swapaxes(cov_hx, -1, -2)), -1, -2)  # P H^T S^-1 (S symmetric)
    innovation = z - state.mean[..., :4]
    mean = state.mean + (gain @ innovation[..., None])[..., 0]
    cov = state.cov - gain @ np.swapaxes(cov_hx, -1, -2)
    cov = (cov + np.swapaxes(cov, -1, -2)) / 2
    return KalmanState(mean=mean, cov=cov)


def mahalanobis(state: KalmanState, boxes_xyxy: np.ndarray, cfg: KalmanConfig) -> np.ndarray:
    """Squared Mahalanobis distance of box centres (K, 4) xyxy from each state's predicted centre.

    state (8,) or (T, 8) -> (K,) or (T, K). Under the model it follows a chi-square law with 2 degrees of
    freedom (95% below 5.99): it rejects a box whose centre the filter's motion cannot explain, e.g. a
    person walking the other way. Only the centre is gated: detectors (and annotators) disagree on a
    person's extent far more than on where the person is, which IoU already scores.
    """
    z = xyxy_to_cxcywh(np.asarray(boxes_xyxy, dtype=np.float64).reshape(-1, 4))[:, :2]
    r = _diag(cfg.measurement_weight * _sizes(state.mean[..., :4]))
    s_inv = np.linalg.inv((state.cov[..., :4, :4] + r)[..., :2, :2])
    y = z - state.mean[..., None, :2]
    return np.einsum("...ki,...ij,...kj->...k", y, s_inv, y)


def predicted_box(state: KalmanState) -> np.ndarray:
    """The state's box (..., 4) xyxy; width and height are kept at least 1 px."""
    c = state.mean[..., :4].copy()
    c[..., 2:] = np.maximum(c[..., 2:], _MIN_SIZE)
    return cxcywh_to_xyxy(c)


def uncertainty(state: KalmanState) -> np.ndarray:
    """Positional uncertainty (...) : the centre's std (RMS over x and y) divided by the box height.

    About 0.05 for a freshly observed box with the default config; it grows while the track coasts.
    """
    var = (state.cov[..., 0, 0] + state.cov[..., 1, 1]) / 2
    return np.sqrt(np.maximum(var, 0.0)) / np.maximum(state.mean[..., 3], _MIN_SIZE)


def stack_states(states: list[KalmanState]) -> KalmanState:
    """Single states -> one batched state (B, 8), (B, 8, 8)."""
    return KalmanState(mean=np.stack([s.mean for s in states]), cov=np.stack([s.cov for s in states]))


def unstack_state(state: KalmanState) -> list[KalmanState]:
    """A batched state -> its B single states."""
    return [KalmanState(mean=m, cov=c) for m, c in zip(state.mean, state.cov)]
