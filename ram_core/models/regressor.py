"""The Regressor: per-frame, per-person SMPL from crops, with memory and prediction per track.

All people of a frame go through the backbone and the decoder as one batch. Per-track memory
(backbone tokens of recent frames) and motion queues (fused SMPL tokens) stay on the model's
device. Online mode is causal: frame t's output uses frames up to t and is returned as soon as
frame t is pushed. Offline mode centres the memory window on t, so frame t comes out once frame
t + window // 2 has been pushed (or at :meth:`Regressor.finish`).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch

from ram_core.models.geometry import crop_camera_to_translation, crop_people, crop_squares
from ram_core.models.memory import MemorySelection, select_memory
from ram_core.models.ram import RamModel

log = logging.getLogger(__name__)

Mode = Literal["online", "offline"]


@dataclass(frozen=True)
class PersonInput:
    """One tracked person in one frame: ``box`` x1, y1, x2, y2 (pixels); ``visibility`` in [0, 1]
    (0: the tracker does not see the person, the box is its prediction)."""

    track_id: int
    box: tuple[float, float, float, float]
    visibility: float = 1.0


@dataclass(frozen=True)
class FrameInput:
    """A frame: ``image`` (3, H, W) RGB in [0, 1] on the model's device, and its tracked people."""

    index: int
    image: torch.Tensor
    people: Sequence[PersonInput]


@dataclass(frozen=True)
class PersonOutput:
    """SMPL for one person in one frame (numpy, float32).

    ``global_orient`` (3,) body frame -> OpenCV camera frame, axis-angle radians; ``body_pose``
    (23, 3); ``betas`` (10,); ``transl`` (3,) metres, camera frame (SMPL's ``transl``: the posed
    joints are forward kinematics about the rest joints plus this); ``cam`` (3,) the crop camera
    (s, tx, ty); ``box`` (4,) pixels; ``gate`` mean Combiner gate (1: all observation);
    ``predicted`` True when the frame came mostly from the Predictor.
    """

    track_id: int
    frame: int
    global_orient: np.ndarray
    body_pose: np.ndarray
    betas: np.ndarray
    transl: np.ndarray
    cam: np.ndarray
    box: np.ndarray
    visibility: float
    gate: float
    predicted: bool


@dataclass(frozen=True)
class FrameOutput:
    index: int
    people: tuple[PersonOutput, ...]


@dataclass
class TrackState:
    """What the Regressor keeps for one track, on the device.

    ``memory``: frame -> (tokens (N, D), pooled (D,)) of frames the person was visible in;
    ``queue``: the last Q fused SMPL tokens (dim,), oldest first; ``last_seen``: last frame pushed.
    """

    memory: dict[int, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)
    queue: deque[torch.Tensor] = field(default_factory=deque)
    last_seen: int = -1


@dataclass
class _Pending:
    index: int
    people: Sequence[PersonInput]
    tokens: torch.Tensor
    centres: torch.Tensor
    sides: torch.Tensor


class Regressor:
    """Streams frames through a :class:`RamModel`, keeping per-track state.

    Args:
        model: the network (its device is where crops, memory and queues live).
        intrinsics: ``(3, 3)`` full-image camera matrix, pixels.
        mode: ``"online"`` (past and present only) or ``"offline"`` (centred window).
        fuse: use the Predictor and Combiner; default: when the model's Predictor and Combiner
            weights are trained (``model.trained``). Without fusion the output is T-HMR's alone.
        forget_after: drop a track's state once it has been absent this many frames.
    """

    def __init__(
        self,
        model: RamModel,
        intrinsics: np.ndarray | torch.Tensor,
        mode: Mode = "online",
        fuse: bool | None = None,
        forget_after: int = 30,
    ) -> None:
        if mode not in ("online", "offline"):
            raise ValueError(f"mode must be 'online' or 'offline', not {mode!r}")
        if forget_after < model.cfg.memory.window:
            raise ValueError(
                f"forget_after {forget_after} must be at least the memory window {model.cfg.memory.window}"
            )
        self.model = model.eval()
        self.cfg = model.cfg
        self.device = next(model.parameters()).device
        self.intrinsics = torch.as_tensor(np.asarray(intrinsics, dtype=np.float32), device=self.device)
        self.mode = mode
        self.fuse = {"predictor", "combiner"} <= model.trained if fuse is None else fuse
        self.forget_after = forget_after
        w = self.cfg.memory.window
        self.past, self.future = (w - 1, 0) if mode == "online" else (w // 2, w - 1 - w // 2)
        self.tracks: dict[int, TrackState] = {}
        self._pending: deque[_Pending] = deque()

    @torch.inference_mode()
    def run(self, frames: Iterable[FrameInput]) -> Iterator[FrameOutput]:
        """Yield one :class:`FrameOutput` per input frame, in order (offline: with a delay)."""
        for frame in frames:
            yield from self.push(frame)
        yield from self.finish()

    @torch.inference_mode()
    def push(self, frame: FrameInput) -> list[FrameOutput]:
        """Encode a frame's people; return the frames whose output is now complete."""
        people = list(frame.people)
        boxes = torch.tensor([p.box for p in people], dtype=torch.float32, device=self.device).reshape(-1, 4)
        centres, sides = crop_squares(boxes, self.cfg.camera)
        if people:
            crops = crop_people(frame.image, centres, sides, self.cfg.backbone.image_size, self.cfg.camera)
            tokens = self.model.encode(crops)
        else:
            tokens = boxes.new_zeros(0, self.cfg.backbone.num_tokens, self.cfg.backbone.embed_dim)
        pooled = tokens.mean(dim=1)
        for i, p in enumerate(people):
            track = self.tracks.setdefault(p.track_id, TrackState())
            track.last_seen = frame.index
            if p.visibility >= self.cfg.memory.min_visibility:
                track.memory[frame.index] = (tokens[i], pooled[i])
        self._pending.append(_Pending(frame.index, people, tokens, centres, sides))
        done = []
        while self._pending and self._pending[0].index + self.future <= frame.index:
            done.append(self._decode(self._pending.popleft()))
        self._forget(frame.index)
        return done

    @torch.inference_mode()
    def finish(self) -> list[FrameOutput]:
        """Decode the frames still waiting for their future (offline mode); empty online."""
        done = [self._decode(p) for p in self._pending]
        self._pending.clear()
        return done

    def _forget(self, now: int) -> None:
        for tid in [t for t, s in self.tracks.items() if now - s.last_seen > self.forget_after]:
            del self.tracks[tid]

    def _memory(self, item: _Pending) -> MemorySelection:
        """Batch every person's window: the current frame first, then the frames in range."""
        n = len(item.people)
        windows = []
        for i, p in enumerate(item.people):
            track = self.tracks[p.track_id]
            lo, hi = item.index - self.past, item.index + self.future
            frames = [f for f in sorted(track.memory) if lo <= f <= hi and f != item.index]
            windows.append([(item.tokens[i], item.tokens[i].mean(dim=0))] + [track.memory[f] for f in frames])
        width = max(len(w) for w in windows)
        tok_shape = item.tokens.shape[1:]
        tokens = item.tokens.new_zeros(n, width, *tok_shape)
        pooled = item.tokens.new_zeros(n, width, tok_shape[-1])
        valid = torch.zeros(n, width, dtype=torch.bool, device=self.device)
        for i, w in enumerate(windows):
            tokens[i, : len(w)] = torch.stack([t for t, _ in w])
            pooled[i, : len(w)] = torch.stack([q for _, q in w])
            valid[i, : len(w)] = True
        return select_memory(tokens, pooled, valid, pooled[:, 0], self.cfg.memory.top_k)

    def _decode(self, item: _Pending) -> FrameOutput:
        people = item.people
        if not people:
            return FrameOutput(item.index, ())
        observed = self.model.decode(item.tokens, self._memory(item))
        visibility = torch.tensor([p.visibility for p in people], dtype=observed.dtype, device=self.device)
        fused, gate = observed, torch.ones_like(observed)
        if self.fuse:
            fused, gate = self._fuse(people, observed, visibility)
        for i, p in enumerate(people):
            queue = self.tracks[p.track_id].queue
            queue.append(fused[i])
            while len(queue) > self.cfg.predictor.queue:
                queue.popleft()
            memory = self.tracks[p.track_id].memory
            for f in [f for f in memory if f < item.index + 1 - self.past]:
                del memory[f]
        smpl = self.model.smpl(fused)
        transl = crop_camera_to_translation(smpl.cam, item.centres, item.sides, self.intrinsics)
        gate_mean = gate.mean(dim=-1)
        host = [
            t.float().cpu().numpy()
            for t in (smpl.global_orient, smpl.body_pose, smpl.betas, transl, smpl.cam, gate_mean)
        ]
        out = []
        for i, p in enumerate(people):
            out.append(
                PersonOutput(
                    track_id=p.track_id,
                    frame=item.index,
                    global_orient=host[0][i],
                    body_pose=host[1][i],
                    betas=host[2][i],
                    transl=host[3][i],
                    cam=host[4][i],
                    box=np.asarray(p.box, dtype=np.float32),
                    visibility=float(p.visibility),
                    gate=float(host[5][i]),
                    predicted=bool(host[5][i] < 0.5),
                )
            )
        log.debug("frame %d: %d people", item.index, len(out))
        return FrameOutput(item.index, tuple(out))

    def _fuse(
        self, people: Sequence[PersonInput], observed: torch.Tensor, visibility: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Predict from each track's queue and gate; people without history keep their observation."""
        q = self.cfg.predictor.queue
        queues = [self.tracks[p.track_id].queue for p in people]
        has = [i for i, qu in enumerate(queues) if qu]
        fused, gate = observed.clone(), torch.ones_like(observed)
        if not has:
            return fused, gate
        states = observed.new_zeros(len(has), q, observed.shape[-1])
        padding = torch.ones(len(has), q, dtype=torch.bool, device=self.device)
        for row, i in enumerate(has):
            k = len(queues[i])
            states[row, q - k :] = torch.stack(list(queues[i]))
            padding[row, q - k :] = False
        predicted = self.model.predictor(states, padding)
        idx = torch.tensor(has, device=self.device)
        f, g = self.model.combiner(observed[idx], predicted, visibility[idx])
        fused[idx], gate[idx] = f, g
        return fused, gate
