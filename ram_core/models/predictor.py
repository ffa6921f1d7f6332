"""Predictor: a Transformer over a FIFO of a person's last Q motion states -> the next state."""

from __future__ import annotations

import torch
from torch import nn

from ram_core.models.config import PredictorConfig
from ram_core.models.layers import EncoderBlock


class Predictor(nn.Module):
    """Forecast the next SMPL token from the last ``cfg.queue`` fused SMPL tokens.

    Args:
        cfg: sizes.
        state_dim: width of a motion state (the decoder's SMPL token width).
    """

    def __init__(self, cfg: PredictorConfig, state_dim: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Linear(state_dim, cfg.dim)
        self.pos = nn.Parameter(torch.randn(1, cfg.queue, cfg.dim) * 0.02)
        self.blocks = nn.ModuleList(EncoderBlock(cfg.dim, cfg.num_heads, cfg.mlp_dim) for _ in range(cfg.depth))
        self.norm = nn.LayerNorm(cfg.dim)
        self.out = nn.Linear(cfg.dim, state_dim)

    def forward(self, states: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        """Predict the next state.

        Args:
            states: ``(B, Q, state_dim)`` oldest first, right-aligned: the newest state is ``[:, -1]``.
            padding: ``(B, Q)`` True at empty slots (all on the left); each row needs one real state.

        Returns:
            ``(B, state_dim)`` the predicted latent for the next frame.
        """
        q = states.shape[1]
        x = self.embed(states) + self.pos[:, -q:]
        for block in self.blocks:
            x = block(x, padding)
        return self.out(self.norm(x[:, -1]))
