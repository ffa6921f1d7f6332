"""Each tracked person's SAM2 memory: the prompt frame's memory plus one EMA temporal buffer.

SAM2 keeps a FIFO of the last ``num_maskmem - 1`` frames' memories (and every frame's output forever in
``propagate_in_video``). SegFollow keeps, per person, exactly two memories: the one encoded on the frame
the person was prompted (SAM2's conditioning frame) and an exponential moving average of the memories of
the frames whose association was reliable, ``M_t = (1 - lam_t) M_{t-1} + lam_t K_t`` with ``lam_t`` from the
motion score (``ram_core.tracking.selector.ema_update``). Memory therefore does not grow with the video.

The arrays are torch tensors for the SAM2 engine and may be numpy arrays for a scripted engine; the blend
only uses arithmetic both support.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ram_core.tracking.selector import MemoryConfig, ema_update


@dataclass(frozen=True)
class MemoryObservation:
    """K_t, what one frame would add to a person's memory.

    features: (1, Cm, h, w) SAM2 memory-encoder output (``maskmem_features``), Cm = 64, h = w = image_size / 16.
    pointer: (1, C) SAM2 object pointer, C = 256.
    """

    features: Any
    pointer: Any


@dataclass(frozen=True)
class ObjectMemory:
    """One person's memory: the prompt frame's (fixed) and the EMA buffer (shapes as in MemoryObservation)."""

    prompt_features: Any
    prompt_pointer: Any
    features: Any
    pointer: Any

    @classmethod
    def from_prompt(cls, observation: MemoryObservation) -> ObjectMemory:
        """A new person: the EMA buffer starts as the prompt frame's memory."""
        return cls(observation.features, observation.pointer, observation.features, observation.pointer)


def blend(
    memory: ObjectMemory, observation: MemoryObservation | None, motion: float, cfg: MemoryConfig
) -> ObjectMemory:
    """The EMA step for one person; ``observation`` None (an unreliable frame) leaves the memory as it was."""
    if observation is None:
        return memory
    return ObjectMemory(
        prompt_features=memory.prompt_features,
        prompt_pointer=memory.prompt_pointer,
        features=ema_update(memory.features, observation.features, motion, True, cfg),
        pointer=ema_update(memory.pointer, observation.pointer, motion, True, cfg),
    )
