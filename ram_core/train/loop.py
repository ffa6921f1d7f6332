"""The training loop shared by the three stages: optimizer, schedule, DDP, logging, checkpoints, resume.

A stage supplies a :class:`StageTask`: a ``step_module`` whose forward takes one collated batch and
returns ``(loss, metrics)`` (the whole step, unrolling included, runs in that one forward so DDP
sees one forward per backward), the data set, and how to save/load the model in the project's
model format. The loop trains only the parameters that have ``requires_grad``.
"""

from __future__ import annotations

import json
import logging
import math
import random
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset

from ram_core.train.distributed import DistInfo, any_rank, barrier, mean_across_ranks
from ram_core.train.sampling import StepBatches, step_generator
from ram_core.train.state import TrainState, checkpoint_dir, latest_checkpoint, load_checkpoint, save_checkpoint

log = logging.getLogger(__name__)

Batch = dict[str, torch.Tensor]


@dataclass(frozen=True)
class LoopConfig:
    """Optimisation and bookkeeping settings (all stages).

    Attributes:
        max_steps: optimizer steps to reach (a resumed run continues up to this).
        batch_size: samples per step per process (the global batch is this times the world size).
        lr: peak learning rate of AdamW.
        weight_decay: AdamW decoupled weight decay.
        warmup_steps: linear warm-up from 0 to ``lr``.
        schedule: ``"constant"`` or ``"cosine"`` (to 0 at ``max_steps``) after warm-up.
        grad_clip: max global gradient norm (0 disables clipping).
        seed: seeds data order, per-step randomness and initial weights.
        log_every: steps between metric lines.
        checkpoint_every: steps between checkpoints (0: only at the end).
        num_workers: DataLoader worker processes.
        find_unused_parameters: passed to DDP; needed when a trainable parameter can go unused in a step.
    """

    max_steps: int = 1000
    batch_size: int = 32
    lr: float = 1e-5
    weight_decay: float = 1e-4
    warmup_steps: int = 0
    schedule: str = "constant"
    grad_clip: float = 1.0
    seed: int = 0
    log_every: int = 10
    checkpoint_every: int = 1000
    num_workers: int = 0
    find_unused_parameters: bool = False


@dataclass
class StageTask:
    """What a stage hands the loop.

    Attributes:
        step_module: holds ``model`` (and ``aux``); ``forward(batch, generator, step) -> (loss, metrics)``.
        model: the network saved in the model format.
        aux: training-only heads saved in the training state, or None.
        dataset: map-style data set of samples (dicts of arrays).
        collate: list of samples -> batch of tensors.
        save_model: writes ``model`` into a directory in the model format.
        load_model: reads that format back into ``model`` (strict keys).
    """

    step_module: nn.Module
    model: nn.Module
    aux: nn.Module | None
    dataset: Dataset
    collate: Callable[[list[Any]], Batch]
    save_model: Callable[[nn.Module, Path], None]
    load_model: Callable[[nn.Module, Path], None]


def lr_factor(cfg: LoopConfig) -> Callable[[int], float]:
    """The multiplier of ``cfg.lr`` at a step (for :class:`torch.optim.lr_scheduler.LambdaLR`)."""
    if cfg.schedule not in ("constant", "cosine"):
        raise ValueError(f"schedule must be 'constant' or 'cosine', not {cfg.schedule!r}")

    def factor(step: int) -> float:
        if step < cfg.warmup_steps:
            return (step + 1) / cfg.warmup_steps
        if cfg.schedule == "constant":
            return 1.0
        span = max(1, cfg.max_steps - cfg.warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - cfg.warmup_steps) / span)))

    return factor


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's and torch's global generators."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def _ignore_stop_signals(worker_id: int) -> None:
    """A DataLoader worker leaves Ctrl-C and SIGTERM to the main process, which checkpoints and then shuts the
    workers down; a worker that died of the signal would fail the step that saves the checkpoint."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)


def _to_device(batch: Mapping[str, torch.Tensor], device: torch.device) -> Batch:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


class MetricsWriter:
    """JSON lines on disk (main rank) plus a ``logging`` line per record."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, record: dict[str, Any]) -> None:
        if self._path is None:
            return
        with self._path.open("a") as fh:
            fh.write(json.dumps(record) + "\n")
        terms = " ".join(f"{k}={v:.5g}" for k, v in record.items() if isinstance(v, float))
        log.info("step %d %s", record["step"], terms)


def train(
    task: StageTask,
    cfg: LoopConfig,
    out_dir: Path,
    info: DistInfo,
    config_record: dict[str, Any] | None = None,
    resume: Path | str | None = "auto",
    until_step: int | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Path:
    """Train ``task`` up to ``cfg.max_steps``; checkpoint and log under ``out_dir``.

    Args:
        task: the stage's modules, data and model I/O.
        cfg: loop settings.
        out_dir: run directory (``metrics.jsonl``, ``checkpoints/``); the same on all ranks.
        info: this process's place in the job (:func:`ram_core.train.distributed.init_distributed`).
        config_record: the full training config, stored in each checkpoint.
        resume: ``"auto"`` (latest checkpoint under ``out_dir`` if any), a checkpoint directory, or None.
        until_step: stop (and checkpoint) at this step though the schedule runs to ``cfg.max_steps``,
            e.g. to fit a cluster's time limit; a later call resumes.
        should_stop: asked after each step; when it says True (on any rank), the loop checkpoints
            that step and returns, as at ``until_step`` (the CLI's answer to Ctrl-C and SIGTERM).

    Returns:
        The final checkpoint directory.
    """
    out_dir = Path(out_dir)
    stop = cfg.max_steps if until_step is None else min(until_step, cfg.max_steps)
    module = task.step_module.to(info.device)
    params = [p for p in module.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the stage has no trainable parameters")
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor(cfg))
    state = TrainState(step=0, model=task.model, aux=task.aux, optimizer=optimizer, scheduler=scheduler)
    ckpt = latest_checkpoint(out_dir) if resume == "auto" else (Path(resume) if resume else None)
    if ckpt is not None:
        load_checkpoint(ckpt, state, task.load_model)
        if state.step >= stop:
            return ckpt
    wrapped: nn.Module = module
    if info.distributed:
        wrapped = DistributedDataParallel(
            module,
            device_ids=[info.local_rank] if info.device.type == "cuda" else None,
            find_unused_parameters=cfg.find_unused_parameters,
        )
    batches = StepBatches(
        len(task.dataset), cfg.batch_size, info.rank, info.world_size, cfg.seed, start_step=state.step
    )
    # A private generator keeps the DataLoader from drawing on the global RNG (saved for resume).
    loader = DataLoader(
        task.dataset,
        batch_sampler=batches,
        collate_fn=task.collate,
        num_workers=cfg.num_workers,
        generator=torch.Generator().manual_seed(cfg.seed),
        persistent_workers=cfg.num_workers > 0,
        worker_init_fn=_ignore_stop_signals,
    )
    writer = MetricsWriter(out_dir / "metrics.jsonl" if info.is_main else None)
    record = config_record or {"loop": asdict(cfg)}
    module.train()
    t_last, samples = time.perf_counter(), 0
    last_saved = None
    for batch in loader:
        if state.step >= stop:
            break
        gen = step_generator(cfg.seed, state.step, info.rank)
        loss, metrics = wrapped(_to_device(batch, info.device), gen, state.step)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip if cfg.grad_clip > 0 else math.inf)
        optimizer.step()
        scheduler.step()
        state.step += 1
        samples += cfg.batch_size * info.world_size
        if state.step % cfg.log_every == 0 or state.step == cfg.max_steps:
            values = {"loss": float(loss.detach()), "grad_norm": float(grad_norm)}
            values.update({k: float(v) for k, v in metrics.items()})
            values = mean_across_ranks(values, info)
            now = time.perf_counter()
            values["samples_per_s"] = samples / max(now - t_last, 1e-9)
            t_last, samples = now, 0
            writer.write({"step": state.step, "lr": scheduler.get_last_lr()[0], **values})
        if cfg.checkpoint_every and state.step % cfg.checkpoint_every == 0 and state.step < stop:
            last_saved = _save(out_dir, state, record, task, info)
        if should_stop is not None and any_rank(should_stop(), info):
            break
    if last_saved is None or last_saved.name != f"step_{state.step:08d}":
        last_saved = _save(out_dir, state, record, task, info)
    return last_saved


def _save(out_dir: Path, state: TrainState, record: dict[str, Any], task: StageTask, info: DistInfo) -> Path:
    """Checkpoint on the main rank (replicas hold identical weights); all ranks wait for it."""
    if info.is_main:
        save_checkpoint(out_dir, state, record, task.save_model)
    barrier(info)
    return checkpoint_dir(out_dir, state.step)


__all__ = ["Batch", "LoopConfig", "MetricsWriter", "StageTask", "lr_factor", "seed_everything", "train"]
