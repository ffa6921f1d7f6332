"""Training checkpoints that resume bit for bit, without pickle.

A checkpoint is a directory ``<out>/checkpoints/step_<NNNNNNNN>/`` holding

- the model in the project's model format (written by the stage's ``save_model`` callable:
  safetensors weights plus their JSON config), which is also what inference loads;
- ``train_state.safetensors``: every tensor of the optimizer state, the auxiliary training heads
  (``aux.*``) and the torch RNG states (``rng.torch``, ``rng.cuda.<i>``);
- ``train_state.json``: the step, the optimizer's non-tensor state and parameter groups, the LR
  scheduler's state, Python's and numpy's global RNG states and the training config.

``<out>/checkpoints/latest`` names the newest complete checkpoint; it is written last, so a run
killed while saving resumes from the previous one.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from ram_core.weights.loading import WeightsFormatError

log = logging.getLogger(__name__)

STATE_JSON = "train_state.json"
STATE_TENSORS = "train_state.safetensors"
LATEST = "latest"
FORMAT_VERSION = 1


@dataclass
class TrainState:
    """What a training step mutates; the loop owns one of these.

    Attributes:
        step: number of optimizer steps taken so far.
        model: the network being trained (its full state is saved, frozen parts included).
        aux: training-only heads (not part of the released model), or None.
        optimizer: the optimizer over the trainable parameters of ``model`` and ``aux``.
        scheduler: the learning-rate scheduler stepped once per optimizer step.
    """

    step: int
    model: nn.Module
    aux: nn.Module | None
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler


def checkpoint_dir(out_dir: Path, step: int) -> Path:
    return Path(out_dir) / "checkpoints" / f"step_{step:08d}"


def checkpoint_step(path: Path) -> int:
    """The step of a checkpoint directory made by :func:`checkpoint_dir`."""
    return int(Path(path).name.removeprefix("step_"))


def latest_checkpoint(out_dir: Path) -> Path | None:
    """The newest complete checkpoint under ``out_dir``, or None."""
    pointer = Path(out_dir) / "checkpoints" / LATEST
    if not pointer.is_file():
        return None
    path = pointer.parent / pointer.read_text().strip()
    if not (path / STATE_JSON).is_file():
        raise WeightsFormatError(f"{pointer} names {path}, which has no {STATE_JSON}")
    return path


def _split_optimizer_state(opt_state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Optimizer ``state_dict`` -> (tensors by flat key, JSON-able rest)."""
    tensors: dict[str, torch.Tensor] = {}
    plain: dict[str, dict[str, Any]] = {}
    for pid, entries in opt_state["state"].items():
        plain[str(pid)] = {}
        for name, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{pid}.{name}"] = value.detach().cpu().contiguous()
            else:
                plain[str(pid)][name] = value
    return tensors, {"state": plain, "param_groups": opt_state["param_groups"]}


def _join_optimizer_state(tensors: dict[str, torch.Tensor], plain: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {int(pid): dict(entries) for pid, entries in plain["state"].items()}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, pid, name = key.split(".", 2)
            state.setdefault(int(pid), {})[name] = value
    return {"state": state, "param_groups": plain["param_groups"]}


def _rng_tensors() -> dict[str, torch.Tensor]:
    out = {"rng.torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            out[f"rng.cuda.{i}"] = s
    return out


def _numpy_rng_json() -> dict[str, Any]:
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {"name": name, "keys": keys.tolist(), "pos": int(pos), "has_gauss": int(has_gauss), "cached": cached}


def save_checkpoint(
    out_dir: Path,
    state: TrainState,
    config: dict[str, Any],
    save_model: Callable[[nn.Module, Path], None],
) -> Path:
    """Write a checkpoint of ``state`` (call on every rank; only the caller's files are written).

    Args:
        out_dir: the run's output directory.
        state: model, auxiliary heads, optimizer, scheduler and step.
        config: the training config as JSON-able data, stored for the record.
        save_model: writes ``model`` in the project's model format into the directory it is given.

    Returns:
        The checkpoint directory.
    """
    path = checkpoint_dir(out_dir, state.step)
    path.mkdir(parents=True, exist_ok=True)
    save_model(state.model, path)
    tensors, opt_plain = _split_optimizer_state(state.optimizer.state_dict())
    tensors.update(_rng_tensors())
    if state.aux is not None:
        tensors.update({f"aux.{k}": v.detach().cpu().contiguous() for k, v in state.aux.state_dict().items()})
    save_file(tensors, str(path / STATE_TENSORS))
    meta = {
        "format_version": FORMAT_VERSION,
        "step": state.step,
        "optimizer": opt_plain,
        "scheduler": state.scheduler.state_dict(),
        "rng_python": [*list(random.getstate()[1]), random.getstate()[0]],
        "rng_python_gauss": random.getstate()[2],
        "rng_numpy": _numpy_rng_json(),
        "config": config,
    }
    (path / STATE_JSON).write_text(json.dumps(meta, indent=1))
    tmp = path.parent / (LATEST + ".tmp")
    tmp.write_text(path.name)
    tmp.replace(path.parent / LATEST)
    log.info("saved checkpoint %s", path)
    return path


def load_checkpoint(
    path: Path,
    state: TrainState,
    load_model: Callable[[nn.Module, Path], None],
) -> None:
    """Restore ``state`` (in place) and the global RNGs from checkpoint directory ``path``.

    Args:
        path: a directory written by :func:`save_checkpoint`.
        state: freshly built model/aux/optimizer/scheduler of the same configuration.
        load_model: loads the model-format files in ``path`` into the model (strict keys).

    Raises:
        WeightsFormatError: missing files or a format this code does not read.
    """
    path = Path(path)
    if not (path / STATE_JSON).is_file() or not (path / STATE_TENSORS).is_file():
        raise WeightsFormatError(f"{path}: not a training checkpoint (needs {STATE_JSON} and {STATE_TENSORS})")
    meta = json.loads((path / STATE_JSON).read_text())
    if meta.get("format_version") != FORMAT_VERSION:
        raise WeightsFormatError(f"{path}: checkpoint format {meta.get('format_version')}, expected {FORMAT_VERSION}")
    load_model(state.model, path)
    tensors = load_file(str(path / STATE_TENSORS))
    if state.aux is not None:
        aux = {k[len("aux.") :]: v for k, v in tensors.items() if k.startswith("aux.")}
        state.aux.load_state_dict(aux, strict=True)
    state.optimizer.load_state_dict(_join_optimizer_state(tensors, meta["optimizer"]))
    state.scheduler.load_state_dict(meta["scheduler"])
    state.step = int(meta["step"])
    torch.set_rng_state(tensors["rng.torch"])
    cuda_states = [tensors[f"rng.cuda.{i}"] for i in range(torch.cuda.device_count()) if f"rng.cuda.{i}" in tensors]
    if cuda_states:
        torch.cuda.set_rng_state_all(cuda_states)
    py = meta["rng_python"]
    random.setstate((py[-1], tuple(py[:-1]), meta["rng_python_gauss"]))
    npr = meta["rng_numpy"]
    np.random.set_state(
        (npr["name"], np.asarray(npr["keys"], dtype=np.uint32), npr["pos"], npr["has_gauss"], npr["cached"])
    )
    log.info("resumed from %s at step %d", path, state.step)


__all__ = [
    "TrainState",
    "checkpoint_dir",
    "checkpoint_step",
    "latest_checkpoint",
    "load_checkpoint",
    "save_checkpoint",
]
