"""The association settings both trackers share: filter, gate, update rule, memory, match, birth and death.

`Tracker` (boxes from a detector) and `SegFollowTracker` (SAM2's candidate masks) embed one
`AssociationConfig` each, with their own defaults (`TRACKER_ASSOCIATION`, `SEGFOLLOW_ASSOCIATION`);
`with_association` changes some of its fields in either tracker's config.
"""

from __future__ import annotations

from dataclasses import Field, dataclass, field, replace
from typing import Any, ClassVar, Protocol, TypeVar

from ram_core.tracking import kalman
from ram_core.tracking.selector import GateConfig, MemoryConfig, UpdateConfig


@dataclass(frozen=True)
class AssociationConfig:
    """How a tracker matches candidates to tracks and when tracks start and end.

    kalman, gate, update, memory: the constant-velocity filter, the gate g from its uncertainty, the
      confidence-gated update rule and the appearance memory (see `kalman` and `selector`).
    min_score: smallest gated score s accepted as a match.
    min_motion: smallest motion score m (IoU with the prediction) accepted as a reliable match, so appearance
      alone never pulls a track across the frame (for SegFollow: SAM2 jumped to someone else).
    birth_score: smallest detection score that may start a track.
    birth_iou: a detection starts a track only if its IoU with every live track's box is below this.
    max_coast_frames: a track that has coasted (no accepted update) for more frames than this ends.
    max_tracks: at most this many live tracks; births beyond it are dropped (highest scores first).
    """

    kalman: kalman.KalmanConfig = field(default_factory=kalman.KalmanConfig)
    gate: GateConfig = field(default_factory=GateConfig)
    update: UpdateConfig = field(default_factory=UpdateConfig)
    memory: MemoryConfig = field(default_factory=MemoryConfig)
    min_score: float = 0.2
    min_motion: float = 0.1
    birth_score: float = 0.6
    birth_iou: float = 0.5
    max_coast_frames: int = 30
    max_tracks: int = 64


#: `Tracker`'s defaults (boxes from a detector): see `TrackerConfig`.
TRACKER_ASSOCIATION = AssociationConfig()
#: `SegFollowTracker`'s defaults: every gated choice counts (SAM2's candidates are already the track's
#: own), a stricter birth overlap (masks cover people a box IoU misses) and fewer tracks (a SAM2 memory each).
SEGFOLLOW_ASSOCIATION = AssociationConfig(min_score=0.0, birth_iou=0.3, max_tracks=32)


class _TrackerConfig(Protocol):
    """A frozen dataclass with an ``association`` field (``TrackerConfig``, ``SegFollowConfig``)."""

    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    @property
    def association(self) -> AssociationConfig: ...


_Config = TypeVar("_Config", bound=_TrackerConfig)


def with_association(cfg: _Config, **changes: Any) -> _Config:
    """A copy of a tracker config (any frozen dataclass with an ``association`` field) with some fields changed.

    ``with_association(SegFollowConfig(), max_tracks=4)`` keeps SegFollow's other association defaults, which
    ``SegFollowConfig(association=AssociationConfig(max_tracks=4))`` would not.
    """
    return replace(cfg, association=replace(cfg.association, **changes))
