"""The training config file (JSON): one frozen dataclass per section, unknown keys refused.

Example (``ram-core train stage1 --config stage1.json --out runs/s1``)::

    {
      "model": "tiny",
      "init": null,
      "smpl_model": null,
      "data": {"kind": "synthetic", "num_samples": 64},
      "loop": {"max_steps": 200, "batch_size": 8, "lr": 1e-4},
      "loss": {"kp2d": 1.0},
      "stage2": {"teacher_forcing_end": 0.0},
      "stage3": {"mask_ratio": 0.6}
    }

Every section and key is optional; missing ones take the defaults below.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ram_core.config_dicts import dataclass_from_dict
from ram_core.models.config import RamConfig
from ram_core.train.loop import LoopConfig

STAGES: tuple[str, ...] = ("stage1", "stage2", "stage3")


class TrainConfigError(ValueError):
    """A training config with unknown keys, wrong types or impossible values."""


@dataclass(frozen=True)
class DataConfig:
    """Where samples come from.

    Attributes:
        kind: ``"synthetic"`` (no files), ``"shards"`` (image tars: ours or 4D-Humans'; stage 1, and
            pan/zoom sequences for stages 2-3) or ``"motion"`` (AMASS-style .npz, rendered as
            synthetic bodies; stages 2-3).
        paths: shard or motion files (globs allowed).
        num_samples: data-set length for synthetic data.
        seq_len: frames per sequence in stages 2 and 3 (the paper's 8).
        motion_fps: frame rate motion files are resampled to.
        empty_fraction: share of synthetic images with no person (confidence negatives).
        pan_zoom_fraction: share of synthetic sequences made by panning/zooming a still pose.
        seed: data seed (synthetic bodies, pan/zoom paths).
    """

    kind: str = "synthetic"
    paths: tuple[str, ...] = ()
    num_samples: int = 1000
    seq_len: int = 8
    motion_fps: float = 30.0
    empty_fraction: float = 0.1
    pan_zoom_fraction: float = 0.5
    seed: int = 0


@dataclass(frozen=True)
class LossWeights:
    """Weights of the summed loss terms (each term is already a per-element mean)."""

    kp2d: float = 1.0
    kp3d: float = 1.0
    rotation: float = 0.1
    betas: float = 0.05
    confidence: float = 0.05
    heatmap: float = 1.0
    heatmap_sigma: float = 1.0


@dataclass(frozen=True)
class Stage2Config:
    """Scheduled sampling: the chance of feeding the observed token (not the prediction) to the queue.

    It falls linearly from ``teacher_forcing_start`` to ``teacher_forcing_end`` over ``decay_steps``
    (default: the whole run).
    """

    teacher_forcing_start: float = 1.0
    teacher_forcing_end: float = 0.0
    decay_steps: int = 0


@dataclass(frozen=True)
class Stage3Config:
    """Occlusion by masking: each frame after the first is masked with probability ``mask_prob``;
    a masked frame loses ``mask_ratio`` of its body box (random cells of a ``grid x grid`` split)."""

    mask_ratio: float = 0.6
    mask_prob: float = 0.5
    grid: int = 4


@dataclass(frozen=True)
class TrainConfig:
    """Everything one training run needs besides the output directory.

    Attributes:
        model: ``"tiny"``, ``"full"`` or a :class:`RamConfig` dict.
        init: weights to start from: an HMR2.0 ``.ckpt`` or a RAM ``.safetensors`` (the previous
            stage's output), or None for random weights.
        smpl_model: an SMPL ``.npz`` (``ram-core smpl convert``) for the joints; None uses the
            synthetic stand-in body (:func:`ram_core.train.body.synthetic_joint_basis`).
    """

    model: Any = "tiny"
    init: str | None = None
    smpl_model: str | None = None
    data: DataConfig = field(default_factory=DataConfig)
    loop: LoopConfig = field(default_factory=LoopConfig)
    loss: LossWeights = field(default_factory=LossWeights)
    stage2: Stage2Config = field(default_factory=Stage2Config)
    stage3: Stage3Config = field(default_factory=Stage3Config)

    def ram_config(self) -> RamConfig:
        if self.model == "tiny":
            return RamConfig.tiny()
        if self.model == "full":
            return RamConfig()
        if isinstance(self.model, dict):
            return RamConfig.from_dict(self.model)
        raise TrainConfigError(f"model must be 'tiny', 'full' or a config dict, not {self.model!r}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def config_from_dict(data: dict[str, Any]) -> TrainConfig:
    """Build a :class:`TrainConfig`; unknown sections or keys raise :class:`TrainConfigError`."""
    cfg = dataclass_from_dict(TrainConfig, data, "config", TrainConfigError)
    if cfg.data.kind not in ("synthetic", "shards", "motion"):
        raise TrainConfigError(f"data.kind must be synthetic, shards or motion, not {cfg.data.kind!r}")
    if not 0.0 <= cfg.stage3.mask_ratio <= 1.0:
        raise TrainConfigError("stage3.mask_ratio must be in [0, 1]")
    _check_counts(cfg)
    return cfg


def _check_counts(cfg: TrainConfig) -> None:
    """TrainConfigError for a count that cannot be (``"batch_size": -1`` had trained silently for minutes, every
    step empty; ``"log_every": 0`` divided by zero after the first step)."""
    at_least = {
        "loop.max_steps": (cfg.loop.max_steps, 1),
        "loop.batch_size": (cfg.loop.batch_size, 1),
        "loop.log_every": (cfg.loop.log_every, 1),
        "loop.checkpoint_every": (cfg.loop.checkpoint_every, 0),
        "loop.warmup_steps": (cfg.loop.warmup_steps, 0),
        "loop.num_workers": (cfg.loop.num_workers, 0),
        "data.num_samples": (cfg.data.num_samples, 1),
        "data.seq_len": (cfg.data.seq_len, 2),
        "stage3.grid": (cfg.stage3.grid, 1),
    }
    for name, (value, low) in at_least.items():
        if value < low:
            raise TrainConfigError(f"config: {name} is {value}; it must be at least {low}")
    if not cfg.loop.lr > 0:
        raise TrainConfigError(f"config: loop.lr is {cfg.loop.lr}; it must be above 0")


def load_config(path: str | Path) -> TrainConfig:
    """Read a JSON training config."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise TrainConfigError(f"{path}: no such file (the training config; see docs/training.md)") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise TrainConfigError(f"{path}: cannot read the config ({exc})") from exc
    return config_from_dict(data)


__all__ = [
    "STAGES",
    "DataConfig",
    "LossWeights",
    "Stage2Config",
    "Stage3Config",
    "TrainConfig",
    "TrainConfigError",
    "config_from_dict",
    "load_config",
]
