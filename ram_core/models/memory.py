"""Memory Cache: rank a window of memory frames and keep the top K (METHOD.md, T-HMR).

Pure kernels on batched, padded tensors; the per-track storage lives in the Regressor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class MemorySelection:
    """What the MemFormer attends to for a batch of B people.

    ``frames`` (B, K, D): the selected frames pooled over space (temporal cues).
    ``frames_padding`` (B, K): True where a slot holds no frame (fewer than K available).
    ``time_pooled`` (B, N, D): the selected frames' tokens averaged over time (spatially aligned cues).
    ``indices`` (B, K): which window slot each selected frame came from (-1 for padding).
    """

    frames: torch.Tensor
    frames_padding: torch.Tensor
    time_pooled: torch.Tensor
    indices: torch.Tensor


def importance_scores(query: torch.Tensor, keys: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Cross-relevance plus self-consistency of every memory frame.

    r_j = softmax_j(q . k_j / sqrt(D)); c_j = mean_i softmax_j(k_i . k_j / sqrt(D)), both over the
    valid frames only (i and j valid).

    Args:
        query: ``(B, D)`` the current frame pooled over space.
        keys: ``(B, W, D)`` the window's frames pooled over space.
        valid: ``(B, W)`` bool, True where the slot holds a frame; every row needs at least one.

    Returns:
        ``(B, W)`` importance r + c, ``-inf`` at invalid slots.
    """
    scale = 1.0 / math.sqrt(query.shape[-1])
    cross = torch.einsum("bd,bwd->bw", query, keys) * scale
    # each fill value in its own tensor's dtype: under autocast the products may be bf16/fp16
    r = torch.softmax(cross.masked_fill(~valid, torch.finfo(cross.dtype).min), dim=-1)
    pair = torch.einsum("bid,bjd->bij", keys, keys) * scale
    pair = pair.masked_fill(~valid[:, None, :], torch.finfo(pair.dtype).min)
    per_row = torch.softmax(pair, dim=-1) * valid[:, :, None]
    c = per_row.sum(dim=1) / valid.sum(dim=1, keepdim=True).clamp(min=1)
    return (r + c).masked_fill(~valid, float("-inf"))


def select_memory(
    tokens: torch.Tensor, pooled: torch.Tensor, valid: torch.Tensor, query: torch.Tensor, top_k: int
) -> MemorySelection:
    """Keep the ``top_k`` most important frames of each person's window.

    Args:
        tokens: ``(B, W, N, D)`` backbone tokens of the window's frames.
        pooled: ``(B, W, D)`` the same pooled over space.
        valid: ``(B, W)`` True where the slot holds a frame.
        query: ``(B, D)`` the current frame pooled over space.
        top_k: how many frames to keep (at most W).

    Returns:
        The selection; slots past a person's number of valid frames are padding.
    """
    scores = importance_scores(query, pooled, valid)
    k = min(top_k, scores.shape[1])
    top, idx = scores.topk(k, dim=-1)
    padding = torch.isinf(top)
    frames = torch.gather(pooled, 1, idx[:, :, None].expand(-1, -1, pooled.shape[-1]))
    chosen = torch.gather(tokens, 1, idx[:, :, None, None].expand(-1, -1, *tokens.shape[2:]))
    weight = (~padding).to(tokens.dtype)[:, :, None, None]
    time_pooled = (chosen * weight).sum(dim=1) / weight.sum(dim=1).clamp(min=1)
    return MemorySelection(frames, padding, time_pooled, idx.masked_fill(padding, -1))
