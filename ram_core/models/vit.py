"""The ViT backbone over person crops (HMR2.0's ViT-H/16 at full size)."""

from __future__ import annotations

import torch
from torch import nn

from ram_core.models.config import ViTConfig
from ram_core.models.layers import EncoderBlock


class ViTBackbone(nn.Module):
    """Patch embedding, learned absolute positions, pre-norm blocks, a final norm.

    The position table has one extra leading row (a class-token slot from ViTPose pre-training);
    as in HMR2.0 it is added to every patch position rather than used for a class token.
    """

    def __init__(self, cfg: ViTConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.embed_dim
        self.patch_embed = nn.Conv2d(3, d, cfg.patch_size, stride=cfg.patch_size, padding=cfg.patch_padding)
        self.pos_embed = nn.Parameter(torch.randn(1, cfg.num_tokens + 1, d) * 0.02)
        hidden = int(d * cfg.mlp_ratio)
        self.blocks = nn.ModuleList(EncoderBlock(d, cfg.num_heads, hidden, eps=cfg.norm_eps) for _ in range(cfg.depth))
        self.last_norm = nn.LayerNorm(d, eps=cfg.norm_eps)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Images ``(B, 3, H, W)`` (normalised RGB, H x W = ``cfg.image_size``) -> tokens ``(B, N, D)``.

        Tokens are in row-major order over the ``cfg.grid`` patch grid.
        """
        x = self.patch_embed(images).flatten(2).transpose(1, 2)
        x = x + self.pos_embed[:, 1:] + self.pos_embed[:, :1]
        for block in self.blocks:
            x = block(x)
        return self.last_norm(x)
