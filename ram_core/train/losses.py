"""The SMPL training losses of RAM's three stages (METHOD.md, "Training"), one small function each.

Every loss returns a scalar tensor averaged over the batch, so gradients do not change scale with
the batch size and DDP's gradient averaging gives the same update as one large batch. Weights
(keypoint confidences, "is annotated" masks) are broadcast per element; a batch with no annotated
element gives a loss of exactly 0 (not NaN) so mixed data sets can share one step.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

_EPS = 1e-8


def _weighted_mean(err: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``sum(weight * err) / sum(weight)`` with ``weight`` broadcast to ``err``; 0 when no weight."""
    weight = weight.expand_as(err).to(err.dtype)
    return (weight * err).sum() / weight.sum().clamp_min(_EPS)


def keypoint_2d_l1(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 on 2D joint projections, weighted by the target's confidence.

    Args:
        pred: ``(B, J, 2)`` projected joints, normalised crop coordinates (``[-0.5, 0.5]`` spans the crop).
        target: ``(B, J, 3)`` annotated joints in the same units, last column the confidence in ``[0, 1]``.

    Returns:
        Scalar: mean absolute error per coordinate over confident joints.
    """
    err = (pred - target[..., :2]).abs()
    return _weighted_mean(err, target[..., 2:3])


def joints_3d_l1(pred: torch.Tensor, target: torch.Tensor, root: int = 0) -> torch.Tensor:
    """L1 on root-relative (pelvis-relative) 3D joints, weighted by the target's confidence.

    Both sets are translated so that joint ``root`` is at the origin; a sample whose root is not
    annotated contributes nothing.

    Args:
        pred: ``(B, J, 3)`` joints, metres, any frame shared with ``target``.
        target: ``(B, J, 4)`` annotated joints, last column the confidence.
        root: index of the pelvis (0 for SMPL's 24 joints).

    Returns:
        Scalar: mean absolute error per coordinate (metres).
    """
    pred_rel = pred - pred[:, root : root + 1]
    gt_rel = target[..., :3] - target[:, root : root + 1, :3]
    weight = target[..., 3:4] * target[:, root : root + 1, 3:4]
    return _weighted_mean((pred_rel - gt_rel).abs(), weight)


def rotation_l2(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Squared Frobenius distance between rotation matrices, for samples with SMPL pose annotations.

    Args:
        pred: ``(B, J, 3, 3)`` joint rotations (root first), any consistent convention.
        target: ``(B, J, 3, 3)`` annotated rotations.
        mask: ``(B,)`` 1 where the sample's pose is annotated, else 0.

    Returns:
        Scalar: ``mean over annotated samples and joints of ||R_pred - R_gt||_F^2``.
    """
    err = ((pred - target) ** 2).sum(dim=(-1, -2))
    return _weighted_mean(err, mask.reshape(-1, 1))


def betas_l1(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """L1 on shape coefficients for samples whose betas are annotated.

    Args:
        pred: ``(B, K)`` predicted betas.
        target: ``(B, K)`` annotated betas.
        mask: ``(B,)`` 1 where betas are annotated, else 0.

    Returns:
        Scalar: mean absolute error per coefficient over annotated samples.
    """
    return _weighted_mean((pred - target).abs(), mask.reshape(-1, 1))


def confidence_bce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy on the prediction confidence (unmatched outputs are negatives).

    Args:
        logits: ``(B,)`` confidence logits.
        target: ``(B,)`` 1 for a prediction matched to a person, 0 for an unmatched one (soft values allowed).

    Returns:
        Scalar mean BCE (nats).
    """
    return F.binary_cross_entropy_with_logits(logits, target.to(logits.dtype))


def gaussian_heatmaps(keypoints: torch.Tensor, height: int, width: int, sigma: float) -> torch.Tensor:
    """Render one Gaussian per keypoint on a ``height x width`` grid.

    Args:
        keypoints: ``(B, J, 2)`` positions in normalised crop coordinates (x, y in ``[-0.5, 0.5]``
            over the crop's width and height).
        height, width: heatmap size in cells; cell ``(i, j)`` has its centre at
            ``((j + 0.5) / width - 0.5, (i + 0.5) / height - 0.5)``.
        sigma: Gaussian standard deviation in cells.

    Returns:
        ``(B, J, height, width)`` heatmaps with peak value 1 at the keypoint.
    """
    ys = (torch.arange(height, dtype=keypoints.dtype, device=keypoints.device) + 0.5) / height - 0.5
    xs = (torch.arange(width, dtype=keypoints.dtype, device=keypoints.device) + 0.5) / width - 0.5
    dx = (xs.view(1, 1, 1, width) - keypoints[..., 0, None, None]) * width
    dy = (ys.view(1, 1, height, 1) - keypoints[..., 1, None, None]) * height
    return torch.exp(-(dx**2 + dy**2) / (2.0 * sigma**2))


def heatmap_mse(pred: torch.Tensor, target_2d: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    """Keypoint heatmap loss: MSE against Gaussians at the annotated 2D joints, weighted by confidence.

    Args:
        pred: ``(B, J, H, W)`` predicted heatmaps.
        target_2d: ``(B, J, 3)`` annotated joints, normalised crop coordinates, last column confidence.
        sigma: Gaussian width in heatmap cells.

    Returns:
        Scalar: mean squared error per cell over confident joints.
    """
    _, _, height, width = pred.shape
    target = gaussian_heatmaps(target_2d[..., :2], height, width, sigma)
    err = (pred - target) ** 2
    return _weighted_mean(err, target_2d[..., 2, None, None])


__all__ = [
    "betas_l1",
    "confidence_bce",
    "gaussian_heatmaps",
    "heatmap_mse",
    "joints_3d_l1",
    "keypoint_2d_l1",
    "rotation_l2",
]
