"""MOTChallenge text files and tracking a whole detection file.

One row per box: ``frame,id,x,y,w,h,conf,-1,-1,-1`` with frames counted from 1, (x, y) the top-left
corner and (w, h) the size in pixels. Detection files carry id -1.
"""

from __future__ import annotations

import configparser
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ram_core.tracking.association import with_association
from ram_core.tracking.boxes import xywh_to_xyxy, xyxy_to_xywh
from ram_core.tracking.relink import TrackletLinkConfig, relinked_ids
from ram_core.tracking.swaps import SwapRepairConfig, unswapped_ids
from ram_core.tracking.tracker import Tracker, TrackerConfig

log = logging.getLogger(__name__)


#: `ram-core track`'s tracker: `TrackerConfig` with the settings chosen on the tuning seeds of
#: benchmarks/track_vs_peers.py at every frame (its grid: confirm_hits 2, the default Kalman noise, 15 frames
#: of coasting) and the nearest-person preference on (front_bonus 0.1: of 0, 0.05, 0.1, 0.2 on those seeds the
#: fewest ID switches, 8 -> 6 at every frame and 17 -> 13 at every third, HOTA within 0.1) and OC-SORT's
#: direction consistency (direction_weight 0.15: of 0, 0.05-0.4 on seeds 0-9 of both sequences, with re-linking,
#: the fewest ID switches at both frame rates, 45 -> 42 at every frame and 68 -> 64 at every third, HOTA +0.5/+0.2)
#: and the height gate (max_height_ratio 1.5: of 1.3-1.8 on seeds 0-9 the best HOTA at both frame rates, 69.3 -> 70.2
#: and 66.6 -> 67.2, ID switches 42 -> 35 and 55 -> 35) with cut boxes let through (cut_edge 0.05: a box cut to
#: the part of a person above an obstacle or a nearer person, whose top still lines up with the prediction, is
#: taken as that person's; the gate alone had cost those detections, `-cut` variants, HOTA and ID switches.
#: Of 0, 0.05, 0.075, 0.1, 0.15 on seeds 0-2 of the four variants the best summed HOTA, 236.7 -> 241.4, ID
#: switches 80 -> 79; 0.075 240.4 with 65; 0.1 and 0.15, the latter measured on three variants, lost 2.8 HOTA at
#: every frame without cuts). A lost track keeps its person's height (lost_height_ratio 1.2 after lost_after 4
#: frames: benchmarks/track_switches.py showed, at every frame of the tuning seeds, a man's track lost for 14
#: frames taking the box of a 1.36x taller man entering in front of him, and swaps of that kind). Of 1.1, 1.15, 1.2, 1.25 after 4 frames and 1.2 after 1,
#: 2, 4, 6 on seeds 0-2 of the four variants, with the re-link's `TrackletLinkConfig`: summed HOTA 241.41 ->
#: 242.36, ID switches 73 -> 58; 1.1-1.2 after 2-6 frames a plateau (242.4-242.7, 57-60), 1.25 keeps almost none
#: of it (241.49, 72), after 1 frame 241.88, 60; the plateau's loosest ratio is kept for real detectors' noisier
#: heights. Checked on seeds 3-9 (neither tuned on nor reported): ID switches 160 -> 155, HOTA -0.36.
MOT_TRACKER = with_association(
    TrackerConfig(
        confirm_hits=2,
        front_bonus=0.1,
        direction_weight=0.15,
        max_height_ratio=1.5,
        cut_edge=0.05,
        lost_height_ratio=1.2,
        lost_after=4,
    ),
    max_coast_frames=15,
)
#: `ram-core track`'s offline re-linking of tracklets (`ram_core.tracking.relink`); None turns it off.
MOT_RELINK: TrackletLinkConfig | None = TrackletLinkConfig()
#: `ram-core track`'s offline repair of tracks that exchanged people where they met (`ram_core.tracking.swaps`);
#: None turns it off. benchmarks/track_vs_peers.py: on seeds 0-2 no figure changes at every frame for any of
#: switch_cost 1-6, margin 0-5, sigma 0.05-0.08, max_tracks 2-4 (sigma 0.03: 6 -> 10 ID switches); checked on seeds
#: 3-9 (neither tuned on nor reported): every frame 29 -> 25 ID switches, every third 20 -> 18, the cut-box
#: variants unchanged; reported seeds 10-19: every frame 45 -> 35, every third 38 -> 36.
MOT_SWAPS: SwapRepairConfig | None = SwapRepairConfig()
#: Frame rate assumed for a detection file without a `sequence_fps` (MOTChallenge's TUD and most of its
#: sequences are 25 frames/s).
MOT_FPS = 25.0


class MotFormatError(ValueError):
    """A MOTChallenge text file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class MotTable:
    """Rows of a MOTChallenge file: frames (R,) int from 1, ids (R,) int, boxes (R, 4) xywh px, conf (R,)."""

    frames: np.ndarray
    ids: np.ndarray
    boxes: np.ndarray
    conf: np.ndarray

    @staticmethod
    def empty() -> MotTable:
        return MotTable(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 4)), np.zeros(0))

    def __len__(self) -> int:
        return int(self.frames.shape[0])

    def sorted(self) -> MotTable:
        """Rows ordered by frame, then id."""
        order = np.lexsort((self.ids, self.frames))
        return MotTable(self.frames[order], self.ids[order], self.boxes[order], self.conf[order])


def read_mot(path: str | Path) -> MotTable:
    """Read a MOTChallenge text file (at least 6 comma-separated columns; conf defaults to 1)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise MotFormatError(f"{path}: not MOTChallenge text (not UTF-8 text)") from None
    rows: list[list[float]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = line.replace(" ", "").split(",")
        if len(parts) < 6:
            raise MotFormatError(f"{path}:{n}: expected at least 6 comma-separated values, got {len(parts)}")
        try:
            values = [float(p) for p in parts[:7]]
        except ValueError as e:
            raise MotFormatError(f"{path}:{n}: not a number ({e})") from None
        if not np.all(np.isfinite(values)):
            raise MotFormatError(f"{path}:{n}: NaN or infinity")
        if len(values) == 6:
            values.append(1.0)
        if values[0] < 1 or values[0] != int(values[0]):
            raise MotFormatError(f"{path}:{n}: frame must be an integer >= 1, got {parts[0]}")
        if values[4] < 0 or values[5] < 0:
            raise MotFormatError(f"{path}:{n}: negative box size")
        rows.append(values)
    if not rows:
        return MotTable.empty()
    a = np.asarray(rows, dtype=np.float64)
    return MotTable(a[:, 0].astype(np.int64), a[:, 1].astype(np.int64), a[:, 2:6], a[:, 6]).sorted()


def sequence_fps(path: str | Path) -> tuple[float, Path] | None:
    """The frame rate of the sequence a MOTChallenge file belongs to, and the file it was read from.

    MOTChallenge keeps it as ``frameRate`` in ``[Sequence]`` of ``seqinfo.ini`` in the sequence's folder,
    beside ``det/`` and ``gt/`` (``SEQ/det/det.txt``, ``SEQ/seqinfo.ini``): looked for beside ``path`` and one
    folder up. None when neither has a positive ``frameRate``.
    """
    folder = Path(path).resolve().parent
    for ini in (folder / "seqinfo.ini", folder.parent / "seqinfo.ini"):
        if not ini.is_file():
            continue
        parser = configparser.ConfigParser()
        try:
            parser.read(ini, encoding="utf-8")
            fps = parser.getfloat("Sequence", "frameRate")
        except (configparser.Error, UnicodeDecodeError, ValueError):
            continue
        if math.isfinite(fps) and fps > 0:
            return fps, ini
    return None


def write_mot(path: str | Path, table: MotTable) -> None:
    """Write rows as ``frame,id,x,y,w,h,conf,-1,-1,-1``, sorted by frame then id."""
    t = table.sorted()
    lines = [
        f"{f},{i},{b[0]:.2f},{b[1]:.2f},{b[2]:.2f},{b[3]:.2f},{c:.4f},-1,-1,-1\n"
        for f, i, b, c in zip(t.frames, t.ids, t.boxes, t.conf)
    ]
    Path(path).write_text("".join(lines), encoding="utf-8")


def track_detections(
    dets: MotTable,
    cfg: TrackerConfig | None = None,
    fill_gaps: int = 0,
    relink: TrackletLinkConfig | None = MOT_RELINK,
    fps: float = MOT_FPS,
    swaps: SwapRepairConfig | None = MOT_SWAPS,
) -> MotTable:
    """Run the tracker (``cfg``, default `MOT_TRACKER`) over frames 1 to the last detection's and return its tracks.

    A track is written only if it was ever confirmed, on every frame it was associated with a detection
    (its tentative frames included, since the file is written after the run). With ``swaps`` (None: off), the
    boxes of tracks that met are relabelled where the tracker exchanged their people (`ram_core.tracking.swaps`).
    With ``relink`` (None: off),
    a track that continues another ended before it (`ram_core.tracking.relink`; ``fps`` frames/s) takes the
    earlier one's id. With ``fill_gaps`` > 0, gaps of at most that many frames between two associated
    frames of one track are filled by `interpolate_gaps` (offline smoothing; 0 writes associated frames only).
    """
    tracker = Tracker(cfg or MOT_TRACKER)
    last = int(dets.frames.max()) if len(dets) else 0
    starts = np.searchsorted(dets.frames, np.arange(1, last + 2))
    history: dict[int, list[tuple[int, np.ndarray, float]]] = {}
    confirmed: set[int] = set()
    for frame in range(1, last + 1):
        sl = slice(starts[frame - 1], starts[frame])
        views = tracker.step(frame, xywh_to_xyxy(dets.boxes[sl]), dets.conf[sl])
        for v in views:
            if v.confirmed:
                confirmed.add(v.track_id)
            if v.detection_index >= 0:
                history.setdefault(v.track_id, []).append((frame, v.box, v.confidence))
    frames, ids, boxes, conf = [], [], [], []
    for track_id in sorted(confirmed):
        rows = history.get(track_id, [])
        frames += [r[0] for r in rows]
        ids += [track_id] * len(rows)
        boxes += [r[1] for r in rows]
        conf += [r[2] for r in rows]
    if not frames:
        return MotTable.empty()
    log.info("%d tracks, %d rows over %d frames", len(confirmed), len(frames), last)
    xyxy = np.stack(boxes)
    track_ids = np.asarray(ids, np.int64)
    if swaps is not None:
        track_ids = unswapped_ids(track_ids, np.asarray(frames, np.int64), xyxy, swaps)
    if relink is not None:
        track_ids = relinked_ids(track_ids, np.asarray(frames, np.int64), xyxy, fps, relink)
    table = MotTable(np.asarray(frames, np.int64), track_ids, xyxy_to_xywh(xyxy), np.asarray(conf))
    return interpolate_gaps(table, fill_gaps)


def interpolate_gaps(table: MotTable, max_gap: int) -> MotTable:
    """Fill gaps of 1..max_gap frames inside each id's rows by linear interpolation of its boxes (conf 0).

    Offline smoothing for any tracker's output; max_gap 0 returns the rows unchanged (sorted).
    """
    table = table.sorted()
    if max_gap <= 0 or len(table) == 0:
        return table
    order = np.lexsort((table.frames, table.ids))
    f, i, b = table.frames[order], table.ids[order], table.boxes[order]
    gap = np.diff(f) - 1
    fill = np.flatnonzero((i[1:] == i[:-1]) & (gap > 0) & (gap <= max_gap))
    new_f, new_i, new_b = [], [], []
    for k in fill:
        w = np.arange(1, gap[k] + 1) / (gap[k] + 1)
        new_f.append(f[k] + np.arange(1, gap[k] + 1))
        new_i.append(np.full(gap[k], i[k]))
        new_b.append((1 - w)[:, None] * b[k] + w[:, None] * b[k + 1])
    if not fill.size:
        return table
    n = sum(len(x) for x in new_f)
    return MotTable(
        np.concatenate([table.frames, *new_f]),
        np.concatenate([table.ids, *new_i]),
        np.concatenate([table.boxes, *new_b]),
        np.concatenate([table.conf, np.zeros(n)]),
    ).sorted()
