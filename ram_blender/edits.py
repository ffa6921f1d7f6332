"""The track edit log: ID swaps, merges, splits, deletes and renames applied to results (numpy only).

Edits never change the raw results: :func:`apply_edits` returns new tracks, and the log itself is a
short JSON list stored in the .blend. Frames in edits are video frame indices (Blender frame minus
``plan.FRAME_OFFSET``); messages name Blender frames, as the artist sees them. Names and colours set in
the track list are edits too, so they survive every rebuild and travel with the .blend.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

import numpy as np

from ram_core.contract.results import Results, Track

from .importer.plan import FRAME_OFFSET

OPS = ("swap", "merge", "split", "delete", "rename", "color")
# Edits that only change how a track looks: a run of them on one track collapses into the last.
LOOKS = ("rename", "color")


class EditError(ValueError):
    """An edit that does not apply (a missing track, a track with itself, a frame outside a track)."""


@dataclass(frozen=True)
class Edit:
    """One edit. ``swap``: tracks ``a`` and ``b`` exchange records from ``frame`` on; ``merge``: ``b``'s
    records join ``a``; ``split``: ``a``'s records from ``frame`` on become a new track; ``delete``: ``a``
    goes; ``rename``: ``a`` is shown as ``name``; ``color``: ``a`` is drawn in ``color`` (linear RGB, 0-1)."""

    op: str
    a: int
    b: int | None = None
    frame: int | None = None
    name: str | None = None
    color: tuple[float, float, float] | None = None

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise EditError(f"unknown edit {self.op!r}; edits are {', '.join(OPS)}")
        needs_b = self.op in ("swap", "merge")
        if needs_b and (self.b is None or self.b == self.a):
            raise EditError(f"{self.op} needs two different tracks")
        if self.op in ("swap", "split") and self.frame is None:
            raise EditError(f"{self.op} needs a frame")
        if self.op == "rename" and not self.name:
            raise EditError("rename needs a name")
        if self.op == "color":
            if self.color is None or len(self.color) != 3:
                raise EditError("color needs three values (red, green, blue)")
            # JSON gives a list: store a tuple so a reloaded log equals the one saved.
            object.__setattr__(self, "color", tuple(min(1.0, max(0.0, float(c))) for c in self.color))


@dataclass(frozen=True)
class EditedResults:
    """Results after the log: the edited ``results``, display ``names`` and ``colors`` by track id."""

    results: Results
    names: dict[int, str]
    colors: dict[int, tuple[float, float, float]] = dataclasses.field(default_factory=dict)


def log_to_json(edits: list[Edit]) -> str:
    return json.dumps([{k: v for k, v in dataclasses.asdict(e).items() if v is not None} for e in edits])


def log_from_json(text: str) -> list[Edit]:
    """Parse a stored log; an empty string is an empty log."""
    if not text.strip():
        return []
    try:
        items = json.loads(text)
        return [Edit(**item) for item in items]
    except (json.JSONDecodeError, TypeError) as e:
        raise EditError(f"the stored edit log is not readable: {e}") from None


def _concat(tracks: list[Track], track_id: int) -> Track:
    arrays = {k: np.concatenate([t.arrays()[k] for t in tracks]) for k in tracks[0].arrays()}
    return Track(track_id, **arrays)


def _merge(a: Track, b: Track) -> Track:
    """Union by frame; where both have a frame, ``a``'s record wins unless only ``b``'s was observed."""
    both = _concat([a, b], a.track_id)
    from_b = np.r_[np.zeros(len(a), bool), np.ones(len(b), bool)]
    # Sort by frame, then by preference (kept record first), then keep the first of each frame.
    prefer_b = from_b & ~both.predicted & np.isin(both.frame, a.frame[a.predicted])
    rank = np.where(prefer_b, 0, np.where(from_b, 2, 1))
    order = np.lexsort((rank, both.frame))
    sorted_frames = both.frame[order]
    first = np.r_[True, sorted_frames[1:] != sorted_frames[:-1]]
    return both.select(order[first])


def _check_swap_frame(a: Track, b: Track, frame: int) -> None:
    """A swap must move something and keep something: one of the tracks has frames on both sides."""
    if not any((t.frame < frame).any() and (t.frame >= frame).any() for t in (a, b)):
        spans = "; ".join(f"{t.track_id}: {_span(t)}" for t in (a, b))
        raise EditError(f"frame {frame + FRAME_OFFSET} is not inside track {a.track_id} or {b.track_id} ({spans})")


def _span(t: Track) -> str:
    return f"frames {int(t.frame[0]) + FRAME_OFFSET}-{int(t.frame[-1]) + FRAME_OFFSET}" if len(t) else "empty"


def _get(tracks: dict[int, Track], tid: int | None) -> Track:
    if tid not in tracks:
        raise EditError(f"no track {tid}; tracks are {sorted(tracks)}")
    return tracks[tid]


def apply_edits(results: Results, edits: list[Edit]) -> EditedResults:
    """Apply ``edits`` in order to a copy of ``results``' track list; raises :class:`EditError`."""
    tracks = {t.track_id: t for t in results.tracks}
    names: dict[int, str] = {}
    colors: dict[int, tuple[float, float, float]] = {}
    next_id = max(tracks, default=0) + 1
    for e in edits:
        a = _get(tracks, e.a)
        if e.op == "swap":
            b = _get(tracks, e.b)
            _check_swap_frame(a, b, int(e.frame))  # type: ignore[arg-type]
            a_keep, b_keep = a.frame < e.frame, b.frame < e.frame
            tracks[a.track_id] = _concat([a.select(a_keep), b.select(~b_keep)], a.track_id)
            tracks[b.track_id] = _concat([b.select(b_keep), a.select(~a_keep)], b.track_id)
            for tid in (a.track_id, b.track_id):
                t = tracks[tid]
                tracks[tid] = t.select(np.argsort(t.frame, kind="stable"))
        elif e.op == "merge":
            b = _get(tracks, e.b)
            tracks[a.track_id] = _merge(a, b)
            del tracks[b.track_id]
            names.pop(b.track_id, None)
            colors.pop(b.track_id, None)
        elif e.op == "split":
            frame = int(e.frame)  # type: ignore[arg-type]  # checked in Edit
            late = a.frame >= frame
            if not late.any() or late.all():
                raise EditError(
                    f"track {a.track_id} has no frames on both sides of frame {frame + FRAME_OFFSET} ({_span(a)})"
                )
            tracks[a.track_id] = a.select(~late)
            tracks[next_id] = Track(next_id, **a.select(late).arrays())
            next_id += 1
        elif e.op == "delete":
            del tracks[a.track_id]
            names.pop(a.track_id, None)
            colors.pop(a.track_id, None)
        elif e.op == "rename":
            names[a.track_id] = str(e.name)
        else:
            colors[a.track_id] = e.color  # type: ignore[assignment]
        next_id = max(next_id, max(tracks, default=0) + 1)
    out = Results(results.meta, [tracks[k] for k in sorted(tracks) if len(tracks[k])])
    return EditedResults(out, names, colors)


def append(log: list[Edit], edit: Edit) -> list[Edit]:
    """``log`` plus ``edit``; a rename or colour right after the same change to the same track replaces it,
    so typing a name or dragging a colour is one step to undo, not one per keystroke."""
    last = log[-1] if log else None
    if last is not None and edit.op in LOOKS and (last.op, last.a) == (edit.op, edit.a):
        return [*log[:-1], edit]
    return [*log, edit]
