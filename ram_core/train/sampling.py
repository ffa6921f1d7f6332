"""Batches of sample indices that depend only on (seed, step, rank), so a resumed run sees the same data.

Each epoch's order comes from :class:`torch.utils.data.DistributedSampler` (shuffled with
``seed + epoch``, split across ranks); a run resumed at step ``s`` starts at the batch that step ``s``
would have drawn, without reading the skipped samples.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import DistributedSampler


class _Sized:
    """Stand-in dataset for DistributedSampler, which only needs ``len``."""

    def __init__(self, n: int) -> None:
        self._n = n

    def __len__(self) -> int:
        return self._n


class StepBatches(torch.utils.data.Sampler[list[int]]):
    """An endless batch sampler: batch ``k`` of this rank is the same in every run with the same seed.

    Args:
        num_samples: size of the data set.
        batch_size: samples per batch on this rank.
        rank, world_size: this process and the job size.
        seed: shuffling seed shared by all ranks.
        start_step: index of the first batch to yield (the step a resumed run starts at).
        shuffle: shuffle each epoch (else the data set's order).
    """

    def __init__(
        self,
        num_samples: int,
        batch_size: int,
        rank: int = 0,
        world_size: int = 1,
        seed: int = 0,
        start_step: int = 0,
        shuffle: bool = True,
    ) -> None:
        self._sampler = DistributedSampler(
            _Sized(num_samples), num_replicas=world_size, rank=rank, shuffle=shuffle, seed=seed, drop_last=True
        )
        per_rank = len(self._sampler)
        if per_rank < batch_size:
            raise ValueError(
                f"{num_samples} samples give {per_rank} per rank over {world_size} ranks, fewer than one batch of {batch_size}"
            )
        self.batch_size = batch_size
        self.batches_per_epoch = per_rank // batch_size
        self.start_step = start_step

    def __iter__(self) -> Iterator[list[int]]:
        epoch, skip = divmod(self.start_step, self.batches_per_epoch)
        while True:
            self._sampler.set_epoch(epoch)
            order = list(self._sampler)
            for b in range(skip, self.batches_per_epoch):
                yield order[b * self.batch_size : (b + 1) * self.batch_size]
            skip = 0
            epoch += 1


def step_generator(seed: int, step: int, rank: int) -> torch.Generator:
    """A CPU generator for the random choices of one step on one rank (masks, sampling coins).

    Seeded from ``(seed, step, rank)`` alone, so these draws do not depend on how the run got here.
    """
    mixed = (seed * 1_000_003 + step) * 65_537 + rank
    return torch.Generator().manual_seed(mixed % (2**63))


__all__ = ["StepBatches", "step_generator"]
