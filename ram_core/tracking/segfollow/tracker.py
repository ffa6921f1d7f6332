"""SegFollow: multi-person tracking on SAM2 candidates with the shared selector, Kalman and EMA rules.

Per frame (`SegFollowTracker.step`):
1. the engine encodes the frame once;
2. every live track is predicted (one batched Kalman call) and its gate g set from the filter's uncertainty;
3. the engine proposes K candidate masks per track (one batch); each track picks with the gated sum of
   motion (IoU with its prediction) and SAM2's affinity (`selector.select`);
4. the confidence-gated rule (`selector.reliability_step`) decides whether the Kalman posterior is taken;
   otherwise the track coasts on its prediction;
5. reliable tracks add this frame's memory to their EMA buffer (`memory.blend`); others keep theirs;
6. tracks that coasted longer than ``max_coast_frames`` end; on keyframes a person detector proposes
   boxes and each that overlaps no live track (box IoU and mask coverage below thresholds) starts a new
   track, prompted with its box. Track ids count up and are never reused.

The tracker only sees an engine through the `SegmentationEngine` protocol (`Sam2Engine` in use, a
scripted engine in tests) and a detector through `BirthDetector`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch

from ram_core.tracking import kalman
from ram_core.tracking.association import SEGFOLLOW_ASSOCIATION, AssociationConfig
from ram_core.tracking.boxes import iou_matrix
from ram_core.tracking.segfollow.engine import Prompted, Proposals
from ram_core.tracking.segfollow.memory import MemoryObservation, ObjectMemory, blend
from ram_core.tracking.selector import gate, reliability_step, select

log = logging.getLogger(__name__)


class SegmentationEngine(Protocol):
    """What the tracker needs from SAM2 (see `Sam2Engine` for the shapes)."""

    def encode(self, image_bgr: np.ndarray) -> Any: ...

    def prompt(self, frame: Any, boxes: np.ndarray) -> Prompted: ...

    def propose(self, frame: Any, memories: list[ObjectMemory]) -> Proposals: ...

    def finish(
        self, frame: Any, proposals: Proposals, chosen: np.ndarray, remember: np.ndarray
    ) -> tuple[np.ndarray, list[MemoryObservation | None]]: ...


class BirthDetector(Protocol):
    """A person detector: ``detect(image_bgr (H, W, 3) uint8) -> (boxes (N, 4) xyxy px, scores (N,))``."""

    def detect(self, image_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class SegFollowConfig:
    """Selection, reliability, memory and life-cycle settings.

    association: filter, gate, update rule, memory, match, birth and death settings
      (`SEGFOLLOW_ASSOCIATION`); its min_score is the smallest gated score s that counts as a choice, and a
      chosen candidate whose IoU with the prediction is below its min_motion is treated as unreliable (SAM2
      jumped to someone else): the track coasts instead of following it.
    keyframe_interval: the detector runs on every this-many-th frame (counted from the first frame).
    birth_mask_overlap: a detection starts a track only if the live tracks' masks cover less than this
      fraction of its box (besides association.birth_iou).
    """

    association: AssociationConfig = SEGFOLLOW_ASSOCIATION
    keyframe_interval: int = 10
    birth_mask_overlap: float = 0.5


@dataclass(frozen=True)
class TrackedPerson:
    """One person on one frame.

    track_id: stable id, >= 1, never reused.
    box: (4,) xyxy px; the Kalman posterior when observed, else its prediction.
    mask: (H, W) bool at the video's resolution: the chosen SAM2 mask (may be empty while occluded).
    confidence: the chosen mask's confidence (predicted IoU x presence) in [0, 1].
    observed: the frame updated the track (reliable); False while it coasts on the prediction.
    """

    track_id: int
    box: np.ndarray
    mask: np.ndarray
    confidence: float
    observed: bool


@dataclass(frozen=True)
class FrameTracks:
    """Everyone tracked on one frame; ``born`` lists the ids that started on this frame."""

    frame_index: int
    people: tuple[TrackedPerson, ...]
    born: tuple[int, ...] = ()


@dataclass
class _Track:
    track_id: int
    state: kalman.KalmanState
    memory: ObjectMemory
    streak: int = 1
    coasting: int = 0


class SegFollowTracker:
    """Streaming multi-person tracker: feed frames one at a time with `step`, or iterate `track`."""

    def __init__(
        self, engine: SegmentationEngine, detector: BirthDetector | None, cfg: SegFollowConfig | None = None
    ) -> None:
        self.engine = engine
        self.detector = detector
        self.cfg = cfg or SegFollowConfig()
        self._tracks: list[_Track] = []
        self._next_id = 1
        self._first_frame: int | None = None
        self._last_frame: int | None = None

    @property
    def live_ids(self) -> list[int]:
        return [t.track_id for t in self._tracks]

    @property
    def memories(self) -> dict[int, ObjectMemory]:
        """Each live track's memory, by id (for inspection)."""
        return {t.track_id: t.memory for t in self._tracks}

    def track(self, frames: Iterable[tuple[int, np.ndarray]]) -> Iterator[FrameTracks]:
        """Yield one `FrameTracks` per (frame_index, image_bgr) pair, one frame in memory at a time."""
        for frame_index, image in frames:
            yield self.step(frame_index, image)

    def step(
        self, frame_index: int, image_bgr: np.ndarray, detections: tuple[np.ndarray, np.ndarray] | None = None
    ) -> FrameTracks:
        """Track one frame (H, W, 3) uint8 BGR; frames must come in increasing order.

        detections: (boxes (N, 4) xyxy px, scores (N,)) to use for births on this frame instead of running
        the detector (then births happen on this frame whether or not it is a keyframe).
        """
        if self._last_frame is not None and frame_index <= self._last_frame:
            raise ValueError(f"frame {frame_index} is not after frame {self._last_frame}")
        steps = 1 if self._last_frame is None else frame_index - self._last_frame
        self._last_frame = frame_index
        if self._first_frame is None:
            self._first_frame = frame_index
        with torch.inference_mode():
            frame = self.engine.encode(image_bgr)
            people = self._follow(frame, steps)
            if detections is None and self._is_keyframe(frame_index) and self.detector is not None:
                detections = self.detector.detect(image_bgr)
            born = self._births(frame, detections, people) if detections is not None else []
        return FrameTracks(frame_index=frame_index, people=tuple(people + born), born=tuple(p.track_id for p in born))

    def _is_keyframe(self, frame_index: int) -> bool:
        return (frame_index - self._first_frame) % self.cfg.keyframe_interval == 0

    def _follow(self, frame: Any, steps: int) -> list[TrackedPerson]:
        """Steps 2-6 for every live track; returns the survivors' results."""
        if not self._tracks:
            return []
        cfg = self.cfg
        prior = kalman.stack_states([t.state for t in self._tracks])
        for _ in range(steps):
            prior = kalman.predict(prior, cfg.association.kalman)
        predicted = kalman.predicted_box(prior)
        gates = gate(kalman.uncertainty(prior), cfg.association.gate)
        proposals = self.engine.propose(frame, [t.memory for t in self._tracks])

        t_count = len(self._tracks)
        chosen = np.zeros(t_count, dtype=np.int64)
        motion = np.zeros(t_count)
        confidence = np.zeros(t_count)
        accept = np.zeros(t_count, dtype=bool)
        for i, track in enumerate(self._tracks):
            sel = select(
                proposals.boxes[i], proposals.affinity[i], predicted[i], float(gates[i]), cfg.association.min_score
            )
            k = sel.index if sel.index >= 0 else int(np.argmax(proposals.affinity[i]))
            chosen[i], motion[i], confidence[i] = k, sel.motion[k], proposals.affinity[i, k]
            usable = sel.index >= 0 and motion[i] >= cfg.association.min_motion
            rel = reliability_step(track.streak, float(confidence[i]) if usable else None, cfg.association.update)
            track.streak = rel.streak
            accept[i] = rel.accept
            state = kalman.KalmanState(mean=prior.mean[i], cov=prior.cov[i])
            if rel.accept:
                track.state = kalman.update(state, proposals.boxes[i, k], cfg.association.kalman)
                track.coasting = 0
            else:
                track.state = state
                track.coasting += steps

        masks, observations = self.engine.finish(frame, proposals, chosen, accept)
        boxes = kalman.predicted_box(kalman.stack_states([t.state for t in self._tracks]))
        people: list[TrackedPerson] = []
        survivors: list[_Track] = []
        for i, track in enumerate(self._tracks):
            track.memory = blend(track.memory, observations[i], float(motion[i]), cfg.association.memory)
            if track.coasting > cfg.association.max_coast_frames:
                log.debug("track %d ends after coasting %d frames", track.track_id, track.coasting)
                continue
            survivors.append(track)
            people.append(TrackedPerson(track.track_id, boxes[i], masks[i], float(confidence[i]), bool(accept[i])))
        self._tracks = survivors
        return people

    def _births(
        self, frame: Any, detections: tuple[np.ndarray, np.ndarray], people: list[TrackedPerson]
    ) -> list[TrackedPerson]:
        """Prompt a new track for each detection that overlaps no live track (best score first)."""
        cfg = self.cfg
        boxes = np.asarray(detections[0], dtype=np.float64).reshape(-1, 4)
        scores = np.asarray(detections[1], dtype=np.float64).reshape(-1)
        taken = [p.box for p in people]
        covered = np.zeros(0, dtype=bool)
        if people:
            covered = np.any(np.stack([p.mask for p in people]), axis=0)
        new: list[int] = []
        for d in np.argsort(-scores, kind="stable"):
            if len(self._tracks) + len(new) >= cfg.association.max_tracks or scores[d] < cfg.association.birth_score:
                continue
            if taken and iou_matrix(boxes[d], np.stack(taken)).max() >= cfg.association.birth_iou:
                continue
            if covered.size and _coverage(covered, boxes[d]) >= cfg.birth_mask_overlap:
                continue
            new.append(int(d))
            taken.append(boxes[d])
        if not new:
            return []
        prompted = self.engine.prompt(frame, boxes[new])
        born: list[TrackedPerson] = []
        for j, d in enumerate(new):
            track = _Track(self._next_id, kalman.init_state(boxes[d], cfg.association.kalman), prompted.memories[j])
            self._next_id += 1
            self._tracks.append(track)
            born.append(
                TrackedPerson(track.track_id, boxes[d].copy(), prompted.masks[j], float(prompted.confidence[j]), True)
            )
            log.debug("track %d starts at box %s", track.track_id, np.round(boxes[d], 1))
        return born


def _coverage(mask: np.ndarray, box: np.ndarray) -> float:
    """Fraction of the box (4,) xyxy px covered by the (H, W) bool mask."""
    h, w = mask.shape
    x1, y1 = int(np.clip(np.floor(box[0]), 0, w)), int(np.clip(np.floor(box[1]), 0, h))
    x2, y2 = int(np.clip(np.ceil(box[2]), 0, w)), int(np.clip(np.ceil(box[3]), 0, h))
    area = (x2 - x1) * (y2 - y1)
    return float(mask[y1:y2, x1:x2].sum()) / area if area > 0 else 0.0
