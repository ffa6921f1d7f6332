"""Offline: a short tracklet that is only ever seen on top of another track is that track's double, and goes.

When a crop slides half onto a neighbour, or the detector boxes a person's legs apart from their body, the lite
backend may start a second track that lives a second or so, always overlapping a longer track's person (the
synthetic far_three clip: nine records over 33 frames, each overlapping another track's box by IoU 0.41-0.74,
first one man's, then the next's). Its records add nothing, and the gap filling would join its two ends
across the picture, a second track on a person for every frame the line passes over them. A real person seen
briefly is seen apart from the others on some frame; a tracklet none of whose observed records is (IoU below
``min_iou`` with every longer track's observed record on that frame) is dropped before gaps are filled. On the
16 synthetic clips and the full vtest.avi this is the only short tracklet that never shows apart. Numpy only,
like the contract (it runs in ``CaptureClient.results``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ram_core.contract.results import Results, Track
from ram_core.scene.gaps import box_iou


@dataclass(frozen=True)
class DoubleConfig:
    """``max_s``: tracklets with at most this many seconds of observed records are judged; ``min_iou``: an observed
    record overlapping a longer track's observed record on its frame by at least this is on that track's person."""

    max_s: float = 1.0
    min_iou: float = 0.4


def _on_someone(
    frame: int, box: np.ndarray, others: list[Track], observed: dict[int, np.ndarray], min_iou: float
) -> bool:
    """Whether ``box`` on ``frame`` overlaps one of ``others``' observed records there by at least ``min_iou``."""
    for o in others:
        at = (o.frame == frame) & observed[o.track_id]
        if at.any() and box_iou(box.astype(np.float64), o.box[at].astype(np.float64)).max() >= min_iou:
            return True
    return False


def drop_doubles(results: Results, cfg: DoubleConfig | None = None) -> Results:
    """``results`` without the short tracklets that never show apart from a longer track (see the module docstring);
    says which in ``meta.notes``."""
    cfg = cfg or DoubleConfig()
    tracks = [t for t in results.tracks if len(t)]
    observed = {t.track_id: ~t.predicted.astype(bool) for t in tracks}
    count = {t.track_id: int(observed[t.track_id].sum()) for t in tracks}
    limit = cfg.max_s * float(results.meta.fps)
    dropped = []
    for t in tracks:
        seen = observed[t.track_id]
        if count[t.track_id] == 0 or count[t.track_id] > limit:
            continue
        longer = [o for o in tracks if count[o.track_id] > count[t.track_id]]
        if all(_on_someone(int(f), b, longer, observed, cfg.min_iou) for f, b in zip(t.frame[seen], t.box[seen])):
            dropped.append(t.track_id)
    if not dropped:
        return results
    note = (
        f"dropped track{'s' if len(dropped) > 1 else ''} {', '.join(map(str, dropped))}: only ever on another's person"
    )
    notes = "; ".join(n for n in (results.meta.notes, note) if n)
    kept = [t for t in results.tracks if t.track_id not in dropped]
    return Results(dataclasses.replace(results.meta, notes=notes), kept)
