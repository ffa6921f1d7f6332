"""T-HMR's SMPL decoder: stacked MemFormer blocks on one SMPL query token, and the regression head.

Each block is HMR2.0's decoder layer (self-attention of the SMPL token, cross-attention to the
current frame's tokens, MLP) with RAM's two temporal cross-attentions inserted before the MLP:
to the K selected memory frames pooled over space, then to the memory pooled over time. Their
output projections start at zero, so an HMR2.0 checkpoint gives the single-frame model exactly.

Where we differ from METHOD.md's reading: the image tokens are attended to by the SMPL token
(HMR2.0's query-only decoding) rather than updated jointly in a self-attention over [token; F_t].
The SMPL token's own update is the same; keeping HMR2.0's layout is what lets its weights load.
"""

from __future__ import annotations

import torch
from torch import nn

from ram_core.models.config import HeadConfig
from ram_core.models.layers import CrossAttention, Mlp, SelfAttention
from ram_core.models.memory import MemorySelection


class MemFormerBlock(nn.Module):
    """One MemFormer block over the SMPL token ``(B, 1, dim)``."""

    def __init__(self, cfg: HeadConfig) -> None:
        super().__init__()
        d, h, hd, eps = cfg.dim, cfg.num_heads, cfg.head_dim, cfg.norm_eps
        self.self_norm = nn.LayerNorm(d, eps=eps)
        self.self_attn = SelfAttention(d, h, head_dim=hd, qkv_bias=False)
        self.image_norm = nn.LayerNorm(d, eps=eps)
        self.image_attn = CrossAttention(d, cfg.context_dim, h, hd)
        self.frames_norm = nn.LayerNorm(d, eps=eps)
        self.frames_attn = CrossAttention(d, cfg.context_dim, h, hd, zero_out=True)
        self.time_norm = nn.LayerNorm(d, eps=eps)
        self.time_attn = CrossAttention(d, cfg.context_dim, h, hd, zero_out=True)
        self.mlp_norm = nn.LayerNorm(d, eps=eps)
        self.mlp = Mlp(d, cfg.mlp_dim)

    def forward(self, x: torch.Tensor, image: torch.Tensor, memory: MemorySelection | None) -> torch.Tensor:
        x = x + self.self_attn(self.self_norm(x))
        x = x + self.image_attn(self.image_norm(x), image)
        if memory is not None:
            x = x + self.frames_attn(self.frames_norm(x), memory.frames, memory.frames_padding)
            x = x + self.time_attn(self.time_norm(x), memory.time_pooled)
        return x + self.mlp(self.mlp_norm(x))


class SmplDecoder(nn.Module):
    """SMPL token -> MemFormer stack -> token; :meth:`regress` turns a token into SMPL parameters.

    The regression adds linear read-outs to mean parameters (``init_pose`` rot6d per joint,
    ``init_betas``, ``init_cam``), as HMR2.0 does with one refinement iteration.
    """

    def __init__(self, cfg: HeadConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.token_embed = nn.Linear(1, cfg.dim)
        self.token_pos = nn.Parameter(torch.randn(1, 1, cfg.dim))
        self.blocks = nn.ModuleList(MemFormerBlock(cfg) for _ in range(cfg.depth))
        self.pose_out = nn.Linear(cfg.dim, 6 * cfg.num_joints)
        self.betas_out = nn.Linear(cfg.dim, cfg.num_betas)
        self.cam_out = nn.Linear(cfg.dim, 3)
        for layer in (self.pose_out, self.betas_out, self.cam_out):
            nn.init.xavier_uniform_(layer.weight, gain=0.01)
            nn.init.zeros_(layer.bias)
        identity6d = torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]).repeat(cfg.num_joints)
        self.register_buffer("init_pose", identity6d[None].clone())
        self.register_buffer("init_betas", torch.zeros(1, cfg.num_betas))
        self.register_buffer("init_cam", torch.tensor([[0.9, 0.0, 0.0]]))

    def forward(self, image: torch.Tensor, memory: MemorySelection | None = None) -> torch.Tensor:
        """Image tokens ``(B, N, context_dim)`` and an optional memory selection -> SMPL token ``(B, dim)``."""
        b = image.shape[0]
        x = self.token_embed(image.new_zeros(b, 1, 1)) + self.token_pos
        for block in self.blocks:
            x = block(x, image, memory)
        return x[:, 0]

    def regress(self, token: torch.Tensor) -> torch.Tensor:
        """SMPL token ``(B, dim)`` -> parameters ``(B, 6 * joints + betas + 3)``: rot6d, betas, camera."""
        return torch.cat(
            [
                self.pose_out(token) + self.init_pose,
                self.betas_out(token) + self.init_betas,
                self.cam_out(token) + self.init_cam,
            ],
            dim=-1,
        )
