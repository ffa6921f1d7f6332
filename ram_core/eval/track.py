"""Tracking metrics (HOTA, DetA, AssA, MOTA, IDF1, IDSW) for MOTChallenge files, computed by `trackeval`.

This module only arranges the data the way trackeval's metrics expect (its in-memory per-sequence dict,
box IoU from trackeval itself); every number comes from trackeval 1.3.0 (MIT). Ground-truth rows whose
conf column is 0 are "not to be considered" in MOTChallenge and are dropped; ids are relabelled densely.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ram_core.tracking.mot import MotTable


@dataclass(frozen=True)
class TrackScores:
    """Metrics of one sequence (or several combined); HOTA, DetA, AssA averaged over trackeval's IoU thresholds.

    Percentages are in [0, 100]; idsw, num_frames and the counts are integers.
    """

    hota: float
    deta: float
    assa: float
    mota: float
    idf1: float
    idsw: int
    num_frames: int
    num_gt_dets: int
    num_pred_dets: int

    def format(self) -> str:
        """One line for a terminal."""
        return (
            f"HOTA {self.hota:6.2f}  DetA {self.deta:6.2f}  AssA {self.assa:6.2f}  MOTA {self.mota:6.2f}  "
            f"IDF1 {self.idf1:6.2f}  IDSW {self.idsw:4d}"
        )


def _trackeval() -> Any:
    try:
        import trackeval
    except ImportError as e:
        raise ImportError("tracking metrics need the 'trackeval' package (pip install trackeval==1.3.0)") from e
    return trackeval


def sequence_data(gt: MotTable, pred: MotTable, num_frames: int | None = None) -> dict[str, Any]:
    """trackeval's per-sequence dict: ids per timestep (dense, from 0) and IoU matrices (gt x pred)."""
    trackeval = _trackeval()
    keep = gt.conf != 0
    gt = MotTable(gt.frames[keep], gt.ids[keep], gt.boxes[keep], gt.conf[keep])
    last = max([int(t.frames.max()) for t in (gt, pred) if len(t)] + [0])
    n = last if num_frames is None else num_frames
    if n < last:
        raise ValueError(f"num_frames {n} is less than the last frame {last} in the files")
    gt_uid, gt_dense = np.unique(gt.ids, return_inverse=True)
    pr_uid, pr_dense = np.unique(pred.ids, return_inverse=True)
    data: dict[str, Any] = {
        "num_timesteps": n,
        "num_gt_ids": len(gt_uid),
        "num_tracker_ids": len(pr_uid),
        "num_gt_dets": len(gt),
        "num_tracker_dets": len(pred),
        "gt_ids": [],
        "tracker_ids": [],
        "similarity_scores": [],
    }
    iou = trackeval.datasets._base_dataset._BaseDataset._calculate_box_ious
    for frame in range(1, n + 1):
        g = gt.frames == frame
        p = pred.frames == frame
        data["gt_ids"].append(gt_dense[g].astype(int))
        data["tracker_ids"].append(pr_dense[p].astype(int))
        data["similarity_scores"].append(iou(gt.boxes[g], pred.boxes[p], box_format="xywh"))
    return data


def _metrics() -> tuple[Any, Any, Any]:
    m = _trackeval().metrics
    return m.HOTA(), m.CLEAR({"PRINT_CONFIG": False}), m.Identity({"PRINT_CONFIG": False})


def _scores(hota: dict, clear: dict, ident: dict, num_frames: int) -> TrackScores:
    return TrackScores(
        hota=100 * float(np.mean(hota["HOTA"])),
        deta=100 * float(np.mean(hota["DetA"])),
        assa=100 * float(np.mean(hota["AssA"])),
        mota=100 * float(clear["MOTA"]),
        idf1=100 * float(ident["IDF1"]),
        idsw=int(clear["IDSW"]),
        num_frames=num_frames,
        num_gt_dets=int(ident["IDTP"] + ident["IDFN"]),
        num_pred_dets=int(ident["IDTP"] + ident["IDFP"]),
    )


def evaluate_tracks(gt: MotTable, pred: MotTable, num_frames: int | None = None) -> TrackScores:
    """Score predicted tracks against ground truth of one sequence (frames 1..num_frames, default the last seen)."""
    return evaluate_sequences([(gt, pred, num_frames)])


def evaluate_sequences(sequences: list[tuple[MotTable, MotTable, int | None]]) -> TrackScores:
    """Score several sequences together (trackeval's combine_sequences), e.g. a benchmark's whole set."""
    hota_m, clear_m, ident_m = _metrics()
    per_seq: list[tuple[dict, dict, dict]] = []
    frames = 0
    for gt, pred, n in sequences:
        data = sequence_data(gt, pred, n)
        frames += data["num_timesteps"]
        per_seq.append((hota_m.eval_sequence(data), clear_m.eval_sequence(data), ident_m.eval_sequence(data)))
    if len(per_seq) == 1:
        return _scores(*per_seq[0], num_frames=frames)
    combined = [
        metric.combine_sequences({str(k): res[j] for k, res in enumerate(per_seq)})
        for j, metric in enumerate((hota_m, clear_m, ident_m))
    ]
    return _scores(*combined, num_frames=frames)
