"""The pinhole camera: intrinsics (assumed when not given) and the root translation that explains 2D keypoints.

Frame: OpenCV's camera frame (x right, y down, z forward), metres; pixels with the origin at the
top-left corner of the image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# The focal length assumed when none is given: the longer side in pixels, a field of view of
# 2 atan(1/2) = 53.13 degrees across it (a typical phone or consumer camera at its widest zoom).
DEFAULT_FOV_DEG = math.degrees(2.0 * math.atan(0.5))
MIN_DEPTH = 0.1  # metres: solutions closer than this are held here
MIN_ROBUST_POINTS = 4  # the robust rounds need this many keypoints and never leave fewer


def pinhole_intrinsics(width: int, height: int, focal_px: float | None = None) -> np.ndarray:
    """``(3, 3)`` pixel camera matrix: square pixels, principal point at the image centre.

    Args:
        width, height: image size in pixels.
        focal_px: focal length in pixels; None assumes ``max(width, height)`` (``DEFAULT_FOV_DEG``
            across the longer side).
    """
    f = float(max(width, height)) if focal_px is None else float(focal_px)
    if not f > 0:
        raise ValueError(f"focal length must be positive, got {focal_px}")
    return np.array([[f, 0.0, width / 2.0], [0.0, f, height / 2.0], [0.0, 0.0, 1.0]])


def project(points: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Pixels ``(..., 2)`` of camera-frame points ``(..., 3)`` (metres, z > 0)."""
    points = np.asarray(points, dtype=np.float64)
    uvw = points @ np.asarray(K, dtype=np.float64).T
    return uvw[..., :2] / uvw[..., 2:3]


@dataclass(frozen=True)
class RobustLoss:
    """How :func:`solve_translation` down-weights keypoints that disagree with the others.

    Iteratively reweighted Gauss-Newton: each keypoint's reprojection error (pixels) is divided by a
    scale, the weighted median error of its frame times 1.4826 (the standard deviation it implies for
    Gaussian errors), but at least ``min_scale`` times the keypoints' extent (the larger side of their
    bounding box): a frame that fits well keeps all its points. ``huber_rounds`` steps with Huber's
    weights (``huber``: errors beyond this many scales count linearly) move a start pulled by the
    outliers towards the inliers; ``tukey_rounds`` steps with Tukey's biweight (``tukey``: errors
    beyond this many scales get no weight) then drop the outliers.

    A landmark model that sees a person partly hidden can put a limb or the head on the person in
    front; Huber alone still lets those points pull the depth by tens of percent.
    """

    huber: float = 1.345
    tukey: float = 4.685
    huber_rounds: int = 3
    tukey_rounds: int = 5
    min_scale: float = 0.02


def solve_translation(
    joints_rel: np.ndarray,
    keypoints_px: np.ndarray,
    weights: np.ndarray | None,
    K: np.ndarray,
    iterations: int = 5,
    robust: RobustLoss | None = RobustLoss(),
) -> np.ndarray:
    """Translations ``t`` that best explain 2D keypoints: ``project(joints_rel + t, K) ~ keypoints_px``.

    A weighted linear least-squares solve (reprojection error multiplied by depth), then ``iterations``
    Gauss-Newton steps on the true weighted reprojection error, then the robust rounds of ``robust``
    (None: plain least squares); vectorised over frames.

    Args:
        joints_rel: ``(N, J, 3)`` joint positions relative to any origin, camera orientation, metres;
            NaN for a joint that has no keypoint (it is ignored).
        keypoints_px: ``(N, J, 2)`` observed pixels of those joints (NaN: ignored).
        weights: ``(N, J)`` confidences (0 for unseen), or None for all 1.
        K: ``(3, 3)`` pixel camera matrix.
        iterations: Gauss-Newton steps after the linear solve.
        robust: how to down-weight keypoints that disagree with the rest (:class:`RobustLoss`).

    Returns:
        ``(N, 3)`` translations in metres (camera frame); NaN where fewer than two keypoints have
        weight, since depth is then undetermined.
    """
    x = np.asarray(joints_rel, dtype=np.float64)
    uv = np.asarray(keypoints_px, dtype=np.float64)
    n, j = x.shape[:2]
    w = np.ones((n, j)) if weights is None else np.clip(np.asarray(weights, dtype=np.float64), 0.0, None)
    w = np.where(np.all(np.isfinite(uv), axis=-1) & np.all(np.isfinite(x), axis=-1) & np.isfinite(w), w, 0.0)
    uv = np.nan_to_num(uv)
    x = np.nan_to_num(x)
    K = np.asarray(K, dtype=np.float64)
    f = np.array([K[0, 0], K[1, 1]])
    c = np.array([K[0, 2], K[1, 2]])
    d = uv - c  # (N, J, 2) pixel offsets from the principal point

    # (u - cx)(z + tz) = fx (x + tx)  ->  fx tx - (u - cx) tz = (u - cx) z - fx x, likewise for y.
    a = np.zeros((n, j, 2, 3))
    a[..., 0, 0] = f[0]
    a[..., 1, 1] = f[1]
    a[..., :, 2] = -d
    b = d * x[..., 2:3] - f * x[..., :2]
    t = _weighted_normal_solve(a, b, w)

    min_z = np.min(np.where(w > 0, x[..., 2], np.inf), axis=1)

    def residuals(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """At ``t`` (depth clamped so every seen joint lies in front of the camera): the clamped ``t``,
        the residuals ``(N, J, 2)`` (pixels) and the Jacobian of the projections ``(N, J, 2, 3)``."""
        t = t.copy()
        t[:, 2] = np.maximum(t[:, 2], MIN_DEPTH - min_z)
        p = x + t[:, None, :]
        z = np.maximum(p[..., 2], 1e-6)
        proj = f * p[..., :2] / z[..., None]
        jac = np.zeros((n, j, 2, 3))
        jac[..., 0, 0] = f[0] / z
        jac[..., 1, 1] = f[1] / z
        jac[..., :, 2] = -proj / z[..., None]
        return t, d - proj, jac

    def gauss_newton_step(t: np.ndarray, weights: np.ndarray) -> np.ndarray:
        t, r, jac = residuals(t)
        return t + _weighted_normal_solve(jac, r, weights)

    for _ in range(iterations):
        t = gauss_newton_step(t, w)
    if robust is not None and n and j:
        seen = w > 0
        lo = np.min(np.where(seen[..., None], uv, np.inf), axis=1)
        hi = np.max(np.where(seen[..., None], uv, -np.inf), axis=1)
        extent = np.nan_to_num(np.max(hi - lo, axis=1), posinf=0.0, neginf=0.0)
        few = np.count_nonzero(seen, axis=1) < MIN_ROBUST_POINTS
        for k in range(robust.huber_rounds + robust.tukey_rounds):
            err = np.linalg.norm(residuals(t)[1], axis=-1)
            if k < robust.huber_rounds:
                u = err / np.maximum(robust.min_scale * extent, 1e-9)[:, None]
                rw = np.minimum(1.0, robust.huber / np.maximum(u, 1e-12))
            else:
                scale = np.maximum(1.4826 * _weighted_median(err, w), robust.min_scale * extent)
                u = err / np.maximum(scale, 1e-9)[:, None]
                rw = np.where(u < robust.tukey, (1.0 - (u / robust.tukey) ** 2) ** 2, 0.0)
            # A frame with too few points to tell outliers, or that the weights would leave with too
            # few, keeps its plain weights.
            rw[few | (np.count_nonzero(w * rw > 0, axis=1) < MIN_ROBUST_POINTS)] = 1.0
            t = gauss_newton_step(t, w * rw)

    enough = np.count_nonzero(w > 0, axis=1) >= 2
    t[~enough] = np.nan
    return t


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per row of ``values`` ``(N, J)``, the median under ``weights`` ``(N, J)`` (0 where no weight)."""
    order = np.argsort(values, axis=1)
    v = np.take_along_axis(values, order, axis=1)
    cw = np.cumsum(np.take_along_axis(weights, order, axis=1), axis=1)
    half = 0.5 * cw[:, -1:]
    idx = np.minimum(np.argmax(cw >= half, axis=1), values.shape[1] - 1)
    return np.where(cw[:, -1] > 0, v[np.arange(len(v)), idx], 0.0)


def _weighted_normal_solve(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Solve ``min sum w |a t - b|^2`` per frame: ``a`` ``(N, J, 2, 3)``, ``b`` ``(N, J, 2)``, ``w`` ``(N, J)``."""
    ata = np.einsum("nj,njki,njkl->nil", w, a, a)
    atb = np.einsum("nj,njki,njk->ni", w, a, b)
    # A whisper of damping keeps frames with too few points solvable; they are masked afterwards.
    ata = ata + 1e-9 * np.eye(3)
    return np.linalg.solve(ata, atb[..., None])[..., 0]
