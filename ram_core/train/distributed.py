"""Process-group set-up for single- and multi-process training (``torchrun``, PyTorch DDP).

``torchrun`` sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` in each
worker's environment; a plain ``python``/``ram-core`` run has none of them and trains in one
process. The backend is NCCL on CUDA devices and gloo on CPU.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

import torch
import torch.distributed as dist

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistInfo:
    """Where this process sits in the job.

    Attributes:
        rank: global rank in ``[0, world_size)``.
        world_size: number of processes in the job.
        local_rank: rank on this node (selects the GPU).
        device: the device this process trains on.
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def _pick_device(local_rank: int, requested: str) -> torch.device:
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda":
        if not torch.cuda.is_available():  # torch's own words are a traceback about NVIDIA drivers
            raise ValueError("--device cuda: torch sees no CUDA GPU here; give --device cpu (or auto)")
        torch.cuda.set_device(local_rank)
        return torch.device("cuda", local_rank)
    return torch.device(requested)


def init_distributed(device: str = "auto") -> DistInfo:
    """Join the process group that ``torchrun`` describes in the environment, or run alone.

    Args:
        device: ``"auto"`` (CUDA when available), ``"cuda"`` or ``"cpu"``.

    Returns:
        This process's :class:`DistInfo`; the default process group is initialised when
        ``WORLD_SIZE > 1``.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = _pick_device(local_rank, device)
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if dev.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, rank=rank, world_size=world)
        log.info("joined process group: rank %d of %d (%s, %s)", rank, world, backend, dev)
    return DistInfo(rank=rank, world_size=world, local_rank=local_rank, device=dev)


def shutdown_distributed() -> None:
    """Leave the process group if one was joined."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def mean_across_ranks(values: dict[str, float], info: DistInfo) -> dict[str, float]:
    """Average scalar metrics over all ranks (identity in a single process)."""
    if not info.distributed or not values:
        return dict(values)
    keys = sorted(values)
    buf = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64, device=info.device)
    dist.all_reduce(buf, op=dist.ReduceOp.SUM)
    buf /= info.world_size
    return {k: float(v) for k, v in zip(keys, buf.tolist())}


def any_rank(flag: bool, info: DistInfo) -> bool:
    """True on every rank when ``flag`` is true on any (itself in a single process), so all ranks stop together."""
    if not info.distributed:
        return flag
    buf = torch.tensor([1.0 if flag else 0.0], device=info.device)
    dist.all_reduce(buf, op=dist.ReduceOp.MAX)
    return bool(buf.item())


def barrier(info: DistInfo) -> None:
    """Wait for all ranks (no-op alone)."""
    if info.distributed:
        dist.barrier()


__all__ = ["DistInfo", "any_rank", "barrier", "init_distributed", "mean_across_ranks", "shutdown_distributed"]
