"""Differentiable SMPL joints and HMR2.0's crop projection, in torch, for the training losses.

SMPL's 24 joints depend on the shape only through the rest joints (``J_regressor`` applied to the
shaped template: linear in betas) and on the pose through forward kinematics; pose blend shapes
move vertices, not these joints. So the losses need two small arrays, not the mesh:
``rest (24, 3)`` and ``shape_dirs (24, 3, B)``.

Frames: SMPL's canonical body frame for rest joints; the root rotation maps it to the OpenCV
camera frame (x right, y down, z forward); metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ram_core.contract.skeleton import NUM_BETAS, NUM_JOINTS, PARENTS
from ram_core.contract.smpl_model import SmplModel, default_rest_joints
from ram_core.models.config import CameraConfig


@dataclass(frozen=True)
class JointBasis:
    """The joint part of a body model.

    Attributes:
        rest: ``(24, 3)`` mean-shape rest joints, canonical body frame, metres.
        shape_dirs: ``(24, 3, B)`` joint displacement per unit of each beta, metres.
        source: where it came from (a file path, or ``"synthetic"``).
    """

    rest: np.ndarray
    shape_dirs: np.ndarray
    source: str


def joint_basis_from_smpl(model: SmplModel, source: str, num_betas: int = NUM_BETAS) -> JointBasis:
    """The joint basis of an SMPL model (``J_regressor`` applied to template and shape blend shapes)."""
    rest = model.J_regressor @ model.v_template
    dirs = np.einsum("jv,vcb->jcb", model.J_regressor, model.shapedirs)
    out = np.zeros((NUM_JOINTS, 3, num_betas))
    n = min(num_betas, dirs.shape[2])
    out[:, :, :n] = dirs[:, :, :n]
    return JointBasis(rest=rest, shape_dirs=out, source=source)


def synthetic_joint_basis(num_betas: int = NUM_BETAS) -> JointBasis:
    """A stand-in body for runs without an SMPL file: the default rest skeleton with two shape modes.

    beta 0 scales the whole skeleton by 10% per unit (taller/shorter), beta 1 widens it sideways by
    10% per unit; the other betas do nothing. Enough for betas to be observable in synthetic data.
    """
    rest = default_rest_joints()
    dirs = np.zeros((NUM_JOINTS, 3, num_betas))
    dirs[:, :, 0] = 0.1 * (rest - rest[0])
    dirs[:, 0, 1] = 0.1 * (rest[:, 0] - rest[0, 0])
    return JointBasis(rest=rest, shape_dirs=dirs, source="synthetic")


def rest_joints_np(basis: JointBasis, betas: np.ndarray) -> np.ndarray:
    """``(24, 3)`` rest joints for ``betas`` ``(B,)`` (numpy, for data generation)."""
    return basis.rest + basis.shape_dirs @ np.asarray(betas, dtype=np.float64)


class SkeletonJoints(nn.Module):
    """Posed SMPL joints from rotation matrices and betas (differentiable)."""

    def __init__(self, basis: JointBasis) -> None:
        super().__init__()
        self.register_buffer("rest", torch.as_tensor(basis.rest, dtype=torch.float32), persistent=False)
        self.register_buffer("shape_dirs", torch.as_tensor(basis.shape_dirs, dtype=torch.float32), persistent=False)

    def forward(self, rotmats: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
        """Pose the skeleton.

        Args:
            rotmats: ``(B, 24, 3, 3)`` local joint rotations, root first (root: body -> camera frame).
            betas: ``(B, K)`` shape coefficients (K at least the basis's; extra ones are ignored).

        Returns:
            ``(B, 24, 3)`` joints, camera-frame orientation, the pelvis at its rest position
            rotated by the root (no translation), metres.
        """
        k = self.shape_dirs.shape[2]
        rest = self.rest + torch.einsum("jck,bk->bjc", self.shape_dirs, betas[:, :k])
        rots = [rotmats[:, 0]]
        pos = [rest[:, 0]]
        for j in range(1, NUM_JOINTS):
            p = PARENTS[j]
            rots.append(rots[p] @ rotmats[:, j])
            pos.append(pos[p] + (rots[p] @ (rest[:, j] - rest[:, p])[..., None])[..., 0])
        return torch.stack(pos, dim=1)


def crop_translation(cam: torch.Tensor, camera: CameraConfig) -> torch.Tensor:
    """HMR2.0's weak-perspective crop camera (s, tx, ty) ``(B, 3)`` -> translation ``(B, 3)`` (metres).

    tz = 2 f / (S s) for focal ``f`` pixels on the ``S``-pixel crop square.
    """
    s = cam[:, 0].abs().clamp_min(1e-6)
    tz = 2.0 * camera.focal_length / (camera.crop_size * s)
    return torch.stack([cam[:, 1], cam[:, 2], tz], dim=-1)


def project_to_crop(joints: torch.Tensor, cam: torch.Tensor, camera: CameraConfig) -> torch.Tensor:
    """Perspective projection into normalised crop-square coordinates, as HMR2.0's 2D loss uses.

    Args:
        joints: ``(B, J, 3)`` joints without translation (from :class:`SkeletonJoints`), metres.
        cam: ``(B, 3)`` crop camera (s, tx, ty).
        camera: focal length and crop-square size.

    Returns:
        ``(B, J, 2)`` positions where ``[-0.5, 0.5]`` spans the crop square (x right, y down).
    """
    p = joints + crop_translation(cam, camera)[:, None]
    f = camera.focal_length / camera.crop_size
    return f * p[..., :2] / p[..., 2:3].clamp_min(1e-3)


__all__ = [
    "JointBasis",
    "SkeletonJoints",
    "crop_translation",
    "joint_basis_from_smpl",
    "project_to_crop",
    "rest_joints_np",
    "synthetic_joint_basis",
]
