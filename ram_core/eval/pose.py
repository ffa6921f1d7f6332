"""Pose accuracy against ground truth given as arrays: MPJPE, PA-MPJPE and PCK.

Inputs are plain arrays so any benchmark (3DPW, COCO, PoseTrack) can be scored once its
predictions and annotations are matched per person and frame. numpy only.

File format (``ram-core eval pose --pred PRED.npz --gt GT.npz``), arrays read with
``allow_pickle=False``:

- ``joints3d``: ``(N, J, 3)`` metres, any frame shared by prediction and ground truth (both files).
- ``keypoints2d``: ``(N, J, 2)`` pixels (both files).
- ``visible`` (gt, optional): ``(N, J)`` 1 where the joint is annotated; default all.
- ``bbox_size`` (gt, optional): ``(N,)`` pixels, the PCK reference length per sample; default the
  larger side of the box around the sample's visible ground-truth keypoints.

A file may hold either or both of ``joints3d`` and ``keypoints2d``; the metrics of what both hold
are computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

PCK_THRESHOLDS: tuple[float, ...] = (0.05, 0.1)


class PoseEvalError(ValueError):
    """Prediction and ground-truth arrays that cannot be compared."""


@dataclass(frozen=True)
class PoseMetrics:
    """Scores over all samples. Millimetres for the 3D errors, fractions in [0, 1] for PCK.

    Fields that the inputs did not allow are None.
    """

    num_samples: int
    mpjpe_mm: float | None = None
    pa_mpjpe_mm: float | None = None
    pck: dict[str, float] | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "num_samples": self.num_samples,
            "mpjpe_mm": self.mpjpe_mm,
            "pa_mpjpe_mm": self.pa_mpjpe_mm,
            "pck": self.pck,
        }


def _check_pair(pred: np.ndarray, gt: np.ndarray, dim: int, name: str) -> None:
    if pred.shape != gt.shape or pred.ndim != 3 or pred.shape[2] != dim:
        raise PoseEvalError(f"{name}: prediction {pred.shape} and ground truth {gt.shape} must both be (N, J, {dim})")


def _visibility(visible: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
    if visible is None:
        return np.ones(shape, dtype=np.float64)
    visible = np.asarray(visible, dtype=np.float64)
    if visible.shape != shape:
        raise PoseEvalError(f"visible: shape {visible.shape}, expected {shape}")
    return visible


def _mean_joint_error(err: np.ndarray, visible: np.ndarray) -> float:
    """Mean of ``err`` ``(N, J)`` over visible joints, first per sample then over samples with any."""
    counts = visible.sum(axis=1)
    keep = counts > 0
    if not np.any(keep):
        raise PoseEvalError("no visible joints to score")
    per_sample = (err * visible).sum(axis=1)[keep] / counts[keep]
    return float(per_sample.mean())


def mpjpe(pred: np.ndarray, gt: np.ndarray, visible: np.ndarray | None = None, root: int | None = 0) -> float:
    """Mean per-joint position error.

    Args:
        pred, gt: ``(N, J, 3)`` joints in metres.
        visible: ``(N, J)`` joint weights (1 annotated, 0 not); default all.
        root: joint subtracted from both before comparing (0: SMPL pelvis); None compares as given.

    Returns:
        The error in metres, averaged over visible joints per sample, then over samples.
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    _check_pair(pred, gt, 3, "joints3d")
    if root is not None:
        pred = pred - pred[:, root : root + 1]
        gt = gt - gt[:, root : root + 1]
    err = np.linalg.norm(pred - gt, axis=-1)
    return _mean_joint_error(err, _visibility(visible, gt.shape[:2]))


def procrustes_align(pred: np.ndarray, gt: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Similarity transform (scale, rotation, translation) of ``pred`` that best fits ``gt`` in least squares.

    Umeyama's closed form, with the reflection removed so the result is a proper rotation.

    Args:
        pred, gt: ``(N, J, 3)`` joints.
        weights: ``(N, J)`` per-joint weights (0 excludes a joint from the fit); default all 1.

    Returns:
        ``(N, J, 3)`` aligned prediction (all joints moved, the fit uses the weighted ones).
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    w = _visibility(weights, gt.shape[:2])[..., None]
    wsum = np.maximum(w.sum(axis=1, keepdims=True), 1e-12)
    mu_p = (w * pred).sum(axis=1, keepdims=True) / wsum
    mu_g = (w * gt).sum(axis=1, keepdims=True) / wsum
    p = pred - mu_p
    g = gt - mu_g
    cov = np.einsum("nji,njk->nik", w * g, p)  # (N, 3, 3): sum_j g_j p_j^T
    u, s, vt = np.linalg.svd(cov)
    d = np.sign(np.linalg.det(u @ vt))
    fix = np.ones_like(s)
    fix[:, 2] = d
    rot = u @ (fix[:, :, None] * vt)
    var_p = (w * p**2).sum(axis=(1, 2))
    scale = (s * fix).sum(axis=1) / np.maximum(var_p, 1e-12)
    return scale[:, None, None] * np.einsum("nik,njk->nji", rot, p) + mu_g


def pa_mpjpe(pred: np.ndarray, gt: np.ndarray, visible: np.ndarray | None = None) -> float:
    """MPJPE after a per-sample Procrustes alignment with scale (metres); see :func:`mpjpe`."""
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    _check_pair(pred, gt, 3, "joints3d")
    vis = _visibility(visible, gt.shape[:2])
    aligned = procrustes_align(pred, gt, vis)
    return mpjpe(aligned, gt, vis, root=None)


def pck(
    pred: np.ndarray,
    gt: np.ndarray,
    threshold: float,
    visible: np.ndarray | None = None,
    bbox_size: np.ndarray | None = None,
) -> float:
    """Percentage of correct 2D keypoints: distance below ``threshold * bbox_size``.

    Args:
        pred, gt: ``(N, J, 2)`` keypoints in pixels.
        threshold: fraction of the reference length (0.05, 0.1).
        visible: ``(N, J)`` 1 where the joint is annotated; default all.
        bbox_size: ``(N,)`` reference length in pixels; default the larger side of the box around
            each sample's visible ground-truth keypoints.

    Returns:
        The fraction of visible joints within the threshold, in ``[0, 1]`` (pooled over all joints).
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    _check_pair(pred, gt, 2, "keypoints2d")
    vis = _visibility(visible, gt.shape[:2]) > 0
    if bbox_size is None:
        lo = np.where(vis[..., None], gt, np.inf).min(axis=1)
        hi = np.where(vis[..., None], gt, -np.inf).max(axis=1)
        bbox_size = np.where(np.isfinite(lo).all(axis=1), (hi - lo).max(axis=1), 0.0)
    bbox_size = np.asarray(bbox_size, dtype=np.float64).reshape(-1)
    if bbox_size.shape[0] != gt.shape[0]:
        raise PoseEvalError(f"bbox_size: {bbox_size.shape[0]} values for {gt.shape[0]} samples")
    if not np.any(vis):
        raise PoseEvalError("no visible keypoints to score")
    dist = np.linalg.norm(pred - gt, axis=-1)
    correct = dist <= threshold * bbox_size[:, None]
    return float(correct[vis].mean())


def evaluate_pose(pred: dict[str, np.ndarray], gt: dict[str, np.ndarray]) -> PoseMetrics:
    """All metrics that the two array sets allow (see the module docstring for the keys)."""
    visible = gt.get("visible")
    has3d = "joints3d" in pred and "joints3d" in gt
    has2d = "keypoints2d" in pred and "keypoints2d" in gt
    if not (has3d or has2d):
        results = "format_name" in pred or "format_name" in gt  # a RAM results file: its joints are per track
        raise PoseEvalError(
            "prediction and ground truth share neither 'joints3d' nor 'keypoints2d'"
            + ("; a RAM results file is scored with 'ram-core eval capture --gt GT.npz RESULTS.npz'" if results else "")
        )
    n = int(np.asarray(gt["joints3d" if has3d else "keypoints2d"]).shape[0])
    mp = pa = None
    pcks = None
    if has3d:
        mp = 1000.0 * mpjpe(pred["joints3d"], gt["joints3d"], visible)
        pa = 1000.0 * pa_mpjpe(pred["joints3d"], gt["joints3d"], visible)
    if has2d:
        size = gt.get("bbox_size")
        pcks = {f"{t:g}": pck(pred["keypoints2d"], gt["keypoints2d"], t, visible, size) for t in PCK_THRESHOLDS}
    return PoseMetrics(num_samples=n, mpjpe_mm=mp, pa_mpjpe_mm=pa, pck=pcks)


def load_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """Read an ``.npz`` of plain arrays (no pickle)."""
    try:
        with np.load(Path(path), allow_pickle=False) as npz:
            return {k: np.asarray(npz[k]) for k in npz.files}
    except FileNotFoundError:
        raise PoseEvalError(f"{path}: no such file") from None
    except (OSError, ValueError) as exc:
        raise PoseEvalError(f"{path}: not a readable .npz of plain arrays ({npz_problem(exc)})") from exc


def npz_problem(exc: Exception) -> str:
    """Why ``np.load(allow_pickle=False)`` failed, in words for this case: for a file that is no .npz at all
    (a video, a text file) numpy says it "contains pickled data" and suggests loading it unsafely."""
    return "not an .npz file" if "pickled" in str(exc) or "allow_pickle" in str(exc) else str(exc)


__all__ = [
    "PCK_THRESHOLDS",
    "PoseEvalError",
    "PoseMetrics",
    "evaluate_pose",
    "load_arrays",
    "mpjpe",
    "npz_problem",
    "pa_mpjpe",
    "pck",
    "procrustes_align",
]
