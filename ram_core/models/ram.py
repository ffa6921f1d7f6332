"""The RAM regressor network: ViT backbone, MemFormer decoder, Predictor, Combiner."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ram_core.models.combiner import Combiner
from ram_core.models.config import RamConfig
from ram_core.models.geometry import matrix_to_axis_angle, rot6d_to_matrix
from ram_core.models.memformer import SmplDecoder
from ram_core.models.memory import MemorySelection
from ram_core.models.predictor import Predictor
from ram_core.models.vit import ViTBackbone

PARTS: tuple[str, ...] = ("backbone", "thmr", "predictor", "combiner")


@dataclass(frozen=True)
class SmplParams:
    """Batched SMPL parameters from the decoder's head, on the model's device.

    ``rotmats`` (B, 24, 3, 3) root first (root: body frame -> camera frame); ``global_orient``
    (B, 3) and ``body_pose`` (B, 23, 3) the same as axis-angle (radians); ``betas`` (B, 10);
    ``cam`` (B, 3) the weak-perspective crop camera (s, tx, ty).
    """

    rotmats: torch.Tensor
    global_orient: torch.Tensor
    body_pose: torch.Tensor
    betas: torch.Tensor
    cam: torch.Tensor


class RamModel(nn.Module):
    """All weights of the regressor. Per-person state lives in :class:`ram_core.models.Regressor`.

    ``trained`` names the parts whose weights were loaded rather than left at their initialisation
    (a subset of ``PARTS``); the Regressor fuses predictions only when the Predictor and Combiner
    are among them.
    """

    def __init__(self, cfg: RamConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.backbone = ViTBackbone(cfg.backbone)
        self.thmr = SmplDecoder(cfg.head)
        self.predictor = Predictor(cfg.predictor, cfg.head.dim)
        self.combiner = Combiner(cfg.combiner, cfg.head.dim)
        self.trained: frozenset[str] = frozenset()

    def encode(self, crops: torch.Tensor) -> torch.Tensor:
        """Crops ``(B, 3, H, W)`` -> backbone tokens ``(B, N, D)``."""
        return self.backbone(crops)

    def decode(self, tokens: torch.Tensor, memory: MemorySelection | None = None) -> torch.Tensor:
        """Tokens ``(B, N, D)`` (+ memory) -> SMPL tokens ``(B, dim)``."""
        return self.thmr(tokens, memory)

    def smpl(self, token: torch.Tensor) -> SmplParams:
        """SMPL tokens ``(B, dim)`` -> SMPL parameters through the one regression head."""
        cfg = self.cfg.head
        params = self.thmr.regress(token)
        n6 = 6 * cfg.num_joints
        rotmats = rot6d_to_matrix(params[:, :n6].reshape(-1, cfg.num_joints, 6))
        aa = matrix_to_axis_angle(rotmats)
        return SmplParams(rotmats, aa[:, 0], aa[:, 1:], params[:, n6 : n6 + cfg.num_betas], params[:, -3:])

    def single_frame(self, crops: torch.Tensor) -> SmplParams:
        """The single-frame model (HMR2.0's path): crops ``(B, 3, H, W)`` -> SMPL parameters."""
        return self.smpl(self.decode(self.encode(crops)))


def build_ram(cfg: RamConfig) -> RamModel:
    """A RAM model with random weights (temporal output projections at zero), on the CPU, eval mode."""
    return RamModel(cfg).eval()
