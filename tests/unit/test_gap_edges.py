"""The records either side of a hiding are dropped and filled with it (ram_core.scene.gaps.trim_gap_edges): a
partly hidden person's pose is often turned round, and a fill slerped from such an end turns the whole body."""

from __future__ import annotations

import numpy as np

from ram_core.contract.results import Results
from ram_core.contract.skeleton import axis_angle_to_matrix, matrix_to_axis_angle
from ram_core.scene.gaps import GapConfig, fill_track_gaps, trim_gap_edges
from tests.unit.test_gait_fill import HIDDEN, walker
from tests.unit.test_relink import meta


def test_records_within_the_edge_of_a_long_gap_are_dropped_but_never_the_tracks_ends_nor_past_the_longest_gap():
    frames = np.r_[0:10, 20:30, 31:35]
    keep = trim_gap_edges(frames, edge=3, min_gap=5, max_gap=20)
    assert frames[~keep].tolist() == [7, 8, 9, 20, 21, 22]  # the 1-frame gap at 30 is a missed detection
    short = np.r_[0:3, 13:16]
    assert trim_gap_edges(short, edge=3, min_gap=5, max_gap=20).tolist() == [True, False, False, False, False, True]
    assert frames[~trim_gap_edges(frames, edge=3, min_gap=5, max_gap=12)].tolist() == [9, 20]
    assert trim_gap_edges(frames, edge=0, min_gap=5, max_gap=20).all()


def heading_error_deg(track: object, rows: np.ndarray, facing: np.ndarray) -> np.ndarray:
    """Degrees between each of ``rows``' body front (SMPL z) and ``facing`` ``(3,)``, in the camera's x-z plane."""
    front = axis_angle_to_matrix(track.global_orient[rows].astype(np.float64))[:, :, 2]
    front[:, 1] = 0.0
    front /= np.linalg.norm(front, axis=-1, keepdims=True)
    return np.degrees(np.arccos(np.clip(front @ facing, -1.0, 1.0)))


def test_a_fill_between_turned_round_ends_keeps_the_heading_of_the_frames_seen_clearly():
    track, _ = walker(0.4)
    arrays = track.arrays()
    edges = np.isin(track.frame, [HIDDEN[0] - 3, HIDDEN[0] - 2, HIDDEN[0] - 1, HIDDEN[-1] + 1, HIDDEN[-1] + 2])
    turn = axis_angle_to_matrix(np.array([0.0, np.radians(150.0), 0.0]))  # about the camera's vertical
    turned = turn[None] @ axis_angle_to_matrix(arrays["global_orient"][edges].astype(np.float64))
    arrays["global_orient"][edges] = matrix_to_axis_angle(turned)
    track = type(track)(track.track_id, **arrays)
    facing = axis_angle_to_matrix(track.global_orient[:1].astype(np.float64))[0, :, 2] * [1.0, 0.0, 1.0]
    facing /= np.linalg.norm(facing)
    results = Results(meta(120), [track])

    trimmed = fill_track_gaps(results).track(1)
    untrimmed = fill_track_gaps(results, GapConfig(edge_s=0.0)).track(1)
    hidden = np.isin(trimmed.frame, HIDDEN)
    assert hidden.sum() == len(HIDDEN)
    assert heading_error_deg(trimmed, np.flatnonzero(hidden), facing).max() < 1.0
    assert heading_error_deg(untrimmed, np.flatnonzero(np.isin(untrimmed.frame, HIDDEN)), facing).mean() > 100.0
    # The turned records themselves were dropped and filled in line with the rest.
    assert trimmed.predicted[np.isin(trimmed.frame, track.frame[edges])].all()
