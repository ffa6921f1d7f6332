"""SegFollow's selection and reliability rules, as kernels that any candidate source can call.

Candidates are boxes with an affinity in [0, 1]: SAM2's multimask outputs (mask -> box, predicted IoU or
object score as affinity) or detector boxes (appearance similarity as affinity). Per tracked object:

1. motion score  m_i = IoU(b_i, b_kf) with the Kalman prediction b_kf (`motion_scores`);
2. gate g in [0, 1], fixed or from the filter's uncertainty (`gate`);
3. gated sum     s_i = g * m_i + (1 - g) * a_i, pick argmax (`gated_scores`, `select`);
4. confidence-gated update: a counter n of consecutive frames whose chosen candidate has confidence
   c > tau; the Kalman posterior is taken only when n >= n_min, else the track keeps its prior (coasts)
   (`reliability_step`);
5. EMA memory    M_t = (1 - lam_t) M_{t-1} + lam_t K_t with lam_t rising with m, skipped on unreliable
   frames (`ema_rate`, `ema_update`). K_t can be an appearance vector or SAM2's memory features.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from ram_core.tracking.boxes import iou_matrix


@dataclass(frozen=True)
class GateConfig:
    """How much the gated sum trusts motion over affinity.

    mode: "fixed" uses ``fixed``; "kalman" maps the filter's uncertainty u (centre std / box height,
      `kalman.uncertainty`) to g = low + (high - low) * exp(-u / scale): a confident filter (u ~ 0.05 right
      after an observation) gives g near ``high``, a track that has coasted for a while (u ~ 0.3) leans on
      the affinity.
    """

    mode: Literal["fixed", "kalman"] = "kalman"
    fixed: float = 0.5
    low: float = 0.2
    high: float = 0.9
    scale: float = 0.2


@dataclass(frozen=True)
class UpdateConfig:
    """The confidence-gated update.

    tau: a chosen candidate is reliable when its confidence c > tau.
    n_min: the Kalman posterior (and the memory) is updated only after n_min consecutive reliable frames.
    """

    tau: float = 0.5
    n_min: int = 1


@dataclass(frozen=True)
class MemoryConfig:
    """EMA memory rate lam = low + (high - low) * m for motion score m in [0, 1]."""

    low: float = 0.02
    high: float = 0.3


def motion_scores(candidate_boxes: np.ndarray, predicted_boxes: np.ndarray) -> np.ndarray:
    """m = IoU between predictions (T, 4) and candidates (K, 4), xyxy px -> (T, K); (4,) inputs give (K,)."""
    single = np.ndim(predicted_boxes) == 1
    m = iou_matrix(predicted_boxes, candidate_boxes)
    return m[0] if single else m


def gate(uncertainty: np.ndarray | float, cfg: GateConfig) -> np.ndarray:
    """The gate g (same shape as ``uncertainty``) in [0, 1]."""
    u = np.asarray(uncertainty, dtype=np.float64)
    if cfg.mode == "fixed":
        return np.full(u.shape, cfg.fixed)
    return cfg.low + (cfg.high - cfg.low) * np.exp(-np.maximum(u, 0.0) / cfg.scale)


def gated_scores(motion: np.ndarray, affinity: np.ndarray, g: np.ndarray | float) -> np.ndarray:
    """s = g * m + (1 - g) * a. motion and affinity (..., K); g broadcast over the last axis ((...) or scalar)."""
    g = np.asarray(g, dtype=np.float64)[..., None]
    return g * motion + (1.0 - g) * affinity


@dataclass(frozen=True)
class Selection:
    """One track's choice among its K candidates: index (-1 if none), and the scores (K,) m, s."""

    index: int
    motion: np.ndarray
    score: np.ndarray


def select(
    candidate_boxes: np.ndarray,
    affinities: np.ndarray,
    predicted_box: np.ndarray,
    g: float,
    min_score: float = 0.0,
) -> Selection:
    """Pick the candidate (K, 4) xyxy with the highest gated score against the prediction (4,) xyxy.

    Ties go to the lower index. Returns index -1 when there are no candidates or the best score is
    below ``min_score``.
    """
    boxes = np.asarray(candidate_boxes, dtype=np.float64).reshape(-1, 4)
    m = motion_scores(boxes, np.asarray(predicted_box, dtype=np.float64))
    s = gated_scores(m, np.asarray(affinities, dtype=np.float64).reshape(-1), g)
    if s.size == 0:
        return Selection(index=-1, motion=m, score=s)
    best = int(np.argmax(s))
    return Selection(index=best if s[best] >= min_score else -1, motion=m, score=s)


@dataclass(frozen=True)
class Reliability:
    """Outcome of the confidence-gated rule for one frame: the new streak n and whether to update."""

    streak: int
    reliable: bool
    accept: bool


def reliability_step(streak: int, confidence: float | None, cfg: UpdateConfig) -> Reliability:
    """Advance the counter n of consecutive reliable frames.

    confidence: the chosen candidate's confidence c, or None when nothing was chosen (counts as unreliable).
    accept: take the Kalman posterior (n >= n_min); otherwise keep the prior, i.e. coast.
    """
    reliable = confidence is not None and confidence > cfg.tau
    n = streak + 1 if reliable else 0
    return Reliability(streak=n, reliable=reliable, accept=reliable and n >= cfg.n_min)


def ema_rate(motion: np.ndarray | float, cfg: MemoryConfig) -> np.ndarray:
    """lam in [low, high], rising linearly with the motion score m in [0, 1]."""
    return cfg.low + (cfg.high - cfg.low) * np.clip(np.asarray(motion, dtype=np.float64), 0.0, 1.0)


def ema_update(
    memory: np.ndarray, observation: np.ndarray, motion: float, reliable: bool, cfg: MemoryConfig
) -> np.ndarray:
    """M_t = (1 - lam) M_{t-1} + lam K_t for arrays of any (same) shape; unreliable frames return M_{t-1}.

    Works for appearance vectors (D,) and for memory feature maps (C, H, W) alike; the result is a new array.
    """
    if not reliable:
        return memory
    lam = float(ema_rate(motion, cfg))
    return (1.0 - lam) * memory + lam * observation
