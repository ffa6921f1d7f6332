"""Attention and MLP layers shared by the backbone, the decoder and the Predictor."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    b, n, c = x.shape
    return x.view(b, n, heads, c // heads).transpose(1, 2)


def _merge_heads(x: torch.Tensor) -> torch.Tensor:
    b, h, n, d = x.shape
    return x.transpose(1, 2).reshape(b, n, h * d)


class SelfAttention(nn.Module):
    """Multi-head self-attention with one fused q/k/v projection.

    Args:
        dim: token width.
        heads: number of heads.
        head_dim: width per head (``dim // heads`` when None).
        qkv_bias: whether the fused projection has a bias (ViT: yes, HMR2.0's decoder: no).
    """

    def __init__(self, dim: int, heads: int, head_dim: int | None = None, qkv_bias: bool = True) -> None:
        super().__init__()
        self.heads = heads
        inner = (head_dim or dim // heads) * heads
        self.qkv = nn.Linear(dim, 3 * inner, bias=qkv_bias)
        self.out = nn.Linear(inner, dim)

    def forward(self, x: torch.Tensor, key_padding: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` (B, N, dim); ``key_padding`` (B, N) True where a token is padding. Returns (B, N, dim)."""
        q, k, v = (_split_heads(t, self.heads) for t in self.qkv(x).chunk(3, dim=-1))
        mask = None if key_padding is None else ~key_padding[:, None, None, :]
        return self.out(_merge_heads(F.scaled_dot_product_attention(q, k, v, attn_mask=mask)))


class CrossAttention(nn.Module):
    """Multi-head attention of queries onto a context of another width.

    Args:
        dim: query width.
        context_dim: context width.
        heads, head_dim: heads and width per head.
        zero_out: zero-initialise the output projection, so the layer adds exactly nothing until trained.
    """

    def __init__(self, dim: int, context_dim: int, heads: int, head_dim: int, zero_out: bool = False) -> None:
        super().__init__()
        self.heads = heads
        inner = head_dim * heads
        self.q = nn.Linear(dim, inner, bias=False)
        self.kv = nn.Linear(context_dim, 2 * inner, bias=False)
        self.out = nn.Linear(inner, dim)
        if zero_out:
            nn.init.zeros_(self.out.weight)
            nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, context: torch.Tensor, key_padding: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` (B, Nq, dim), ``context`` (B, Nk, context_dim), ``key_padding`` (B, Nk) True = ignore.

        Every row must keep at least one context token. Returns (B, Nq, dim).
        """
        q = _split_heads(self.q(x), self.heads)
        k, v = (_split_heads(t, self.heads) for t in self.kv(context).chunk(2, dim=-1))
        mask = None if key_padding is None else ~key_padding[:, None, None, :]
        return self.out(_merge_heads(F.scaled_dot_product_attention(q, k, v, attn_mask=mask)))


class Mlp(nn.Module):
    """Two linear layers with a GELU between them."""

    def __init__(self, dim: int, hidden: int, out_dim: int | None = None) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, out_dim or dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class EncoderBlock(nn.Module):
    """Pre-norm transformer block: x + attn(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, dim: int, heads: int, mlp_dim: int, eps: float = 1e-5, qkv_bias: bool = True) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = SelfAttention(dim, heads, qkv_bias=qkv_bias)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, mlp_dim)

    def forward(self, x: torch.Tensor, key_padding: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), key_padding)
        return x + self.mlp(self.norm2(x))
