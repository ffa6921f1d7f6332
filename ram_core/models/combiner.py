"""Combiner: a learned gate between the reconstructed and the predicted SMPL token."""

from __future__ import annotations

import torch
from torch import nn

from ram_core.models.config import CombinerConfig
from ram_core.models.layers import Mlp


class Combiner(nn.Module):
    """fused = g * f + (1 - g) * p, with g = visibility * sigmoid(MLP([f; p])) per channel.

    ``visibility`` in [0, 1] is what the tracker knows: 0 for a person it does not see (occluded,
    no reliable mask), so the gate closes and the prediction carries the frame; in between it
    scales the learned gate down.
    """

    def __init__(self, cfg: CombinerConfig, state_dim: int) -> None:
        super().__init__()
        self.gate = Mlp(2 * state_dim, cfg.hidden, state_dim)

    def forward(
        self, observed: torch.Tensor, predicted: torch.Tensor, visibility: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Fuse tokens.

        Args:
            observed: ``(B, D)`` T-HMR's token f_t.
            predicted: ``(B, D)`` the Predictor's token p_t.
            visibility: ``(B,)`` in [0, 1].

        Returns:
            fused ``(B, D)`` and the gate g ``(B, D)`` (1 = all observation, 0 = all prediction).
        """
        g = torch.sigmoid(self.gate(torch.cat([observed, predicted], dim=-1))) * visibility[:, None]
        return g * observed + (1 - g) * predicted, g
