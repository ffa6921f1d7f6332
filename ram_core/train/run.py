"""Build a stage from a :class:`TrainConfig` and train it: model, initial weights, body, data, loop.

The model in each checkpoint directory is ``ram.safetensors`` with ``ram.json`` beside it (the
format of :mod:`ram_core.models.checkpoint`), so the output of any stage loads with
``load_ram_checkpoint`` and in ``ram-core capture --backend ram``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from torch import nn
from torch.utils.data import Dataset

from ram_core.contract.smpl_model import load_smpl_model
from ram_core.models.checkpoint import load_hmr2_checkpoint, load_ram_weights, save_ram_checkpoint
from ram_core.models.config import RamConfig
from ram_core.models.ram import RamModel, build_ram
from ram_core.train.body import JointBasis, SkeletonJoints, joint_basis_from_smpl, synthetic_joint_basis
from ram_core.train.config import STAGES, TrainConfig, TrainConfigError
from ram_core.train.data.motion import MotionSequences, load_motion_files
from ram_core.train.data.samples import collate
from ram_core.train.data.shards import ImageShards, PanZoomSequences
from ram_core.train.data.synthetic import SyntheticConfig, SyntheticSamples
from ram_core.train.distributed import DistInfo
from ram_core.train.loop import StageTask, seed_everything, train
from ram_core.train.stages import STAGE_PARTS, AuxHeads, SmplLoss, Stage1Step, Stage2Step, Stage3Step

log = logging.getLogger(__name__)

MODEL_FILE = "ram.safetensors"


def save_model(model: nn.Module, directory: Path) -> None:
    """Write ``ram.safetensors`` + ``ram.json`` into ``directory``."""
    save_ram_checkpoint(model, Path(directory) / MODEL_FILE)  # type: ignore[arg-type]


def load_model(model: nn.Module, directory: Path) -> None:
    """Strictly load ``directory/ram.safetensors`` into ``model`` (its config must match)."""
    load_ram_weights(model, Path(directory) / MODEL_FILE)  # type: ignore[arg-type]


def initial_model(cfg: TrainConfig) -> RamModel:
    """The model with ``cfg.init`` loaded: HMR2.0 ``.ckpt``, RAM ``.safetensors``, or random (None)."""
    model = build_ram(cfg.ram_config())
    if cfg.init is None:
        return model
    path = Path(cfg.init)
    if path.suffix == ".safetensors":
        return load_ram_weights(model, path)
    return load_hmr2_checkpoint(model, path)


def joint_basis(cfg: TrainConfig) -> JointBasis:
    if cfg.smpl_model is None:
        return synthetic_joint_basis()
    return joint_basis_from_smpl(load_smpl_model(cfg.smpl_model), cfg.smpl_model)


def build_dataset(stage: str, cfg: TrainConfig, ram_cfg: RamConfig, basis: JointBasis) -> Dataset:
    """The stage's data set (image samples for stage 1, ``seq_len``-frame sequences for 2 and 3)."""
    data = cfg.data
    seq_len = 1 if stage == "stage1" else data.seq_len
    size = ram_cfg.backbone.image_size
    if data.kind == "synthetic":
        syn = SyntheticConfig(
            num_samples=data.num_samples,
            seq_len=seq_len,
            empty_fraction=data.empty_fraction,
            pan_zoom_fraction=data.pan_zoom_fraction,
            seed=data.seed,
        )
        return SyntheticSamples(syn, basis, ram_cfg.camera, size)
    if not data.paths:
        raise TrainConfigError(f"data.kind {data.kind!r} needs data.paths")
    if data.kind == "shards":
        images = ImageShards(data.paths, ram_cfg.camera, size)
        return images if seq_len == 1 else PanZoomSequences(images, seq_len, data.seed)
    if stage == "stage1":
        raise TrainConfigError("stage1 trains on images: use data.kind 'synthetic' or 'shards'")
    clips = load_motion_files(data.paths, data.motion_fps)
    return MotionSequences(clips, seq_len, basis, ram_cfg.camera, size, data.seed)


def build_task(stage: str, cfg: TrainConfig) -> StageTask:
    """Model (with its initial weights), step module and data of ``stage``."""
    if stage not in STAGES:
        raise TrainConfigError(f"stage must be one of {STAGES}, not {stage!r}")
    seed_everything(cfg.loop.seed)
    model = initial_model(cfg)
    model.trained = frozenset(model.trained | set(STAGE_PARTS[stage]))
    basis = joint_basis(cfg)
    smpl_loss = SmplLoss(SkeletonJoints(basis), model.cfg.camera, cfg.loss)
    aux: AuxHeads | None = None
    step: nn.Module
    if stage == "stage1":
        aux = AuxHeads(model.cfg)
        step = Stage1Step(model, aux, smpl_loss)
    elif stage == "stage2":
        step = Stage2Step(model, smpl_loss, cfg.stage2, cfg.loop.max_steps)
    else:
        step = Stage3Step(model, smpl_loss, cfg.stage3)
    dataset = build_dataset(stage, cfg, model.cfg, basis)
    return StageTask(step, model, aux, dataset, collate, save_model, load_model)


def run_stage(
    stage: str,
    cfg: TrainConfig,
    out_dir: Path,
    info: DistInfo,
    resume: str | Path | None = "auto",
    until_step: int | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Path:
    """Train ``stage``; returns the final checkpoint directory (its ``ram.safetensors`` is the model).
    ``should_stop`` is asked after each step (see :func:`ram_core.train.loop.train`)."""
    task = build_task(stage, cfg)
    record = {"stage": stage, **cfg.to_dict()}
    return train(
        task, cfg.loop, Path(out_dir), info, record, resume=resume, until_step=until_step, should_stop=should_stop
    )


__all__ = ["MODEL_FILE", "build_dataset", "build_task", "initial_model", "load_model", "run_stage", "save_model"]
