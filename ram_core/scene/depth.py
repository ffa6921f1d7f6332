"""Steady depth: each person's distance from the camera, smoothed over the whole clip. Numpy only.

A monocular backend sees a person's position across the image well but their distance poorly: it
comes from the body's apparent size, which jitters by several percent from frame to frame (tens of
centimetres at 10 m, pelvis accelerations along the viewing ray of 20-80 m/s^2 where a walking person
has 1-3). With the whole clip at hand (offline), each track's pelvis distance ``d_t`` is refitted as
the ``x`` that minimises

    sum_t ((x_t - d_t) / (rel * d_t))^2  +  sum_t ((x_{t+1} - 2 x_t + x_{t-1}) * fps^2 / accel)^2

over each run of consecutive frames (a measurement noise of ``rel`` of the distance against an
acceleration scale ``accel``), with Huber weights so a few bad frames do not pull the rest. The body
then moves along its pelvis's viewing ray to the new distance: all joints and ``transl`` shift by the
same vector, so bone lengths stay exact and the pelvis projects to the same pixel.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass

import numpy as np

from ram_core.contract.results import Results, Track

NOTE = "depth smoothed along each pelvis ray (offline)"


@dataclass(frozen=True)
class DepthOptions:
    """``rel``: a frame's distance error as a fraction of the distance; ``accel``: the acceleration
    along the viewing ray (m/s^2) taken as one unit of roughness; ``huber``: residuals beyond this many
    ``rel`` count linearly; ``predicted_weight``: how much a gap-filled frame counts against an observed one."""

    rel: float = 0.04
    accel: float = 2.0
    huber: float = 2.0
    iterations: int = 3
    predicted_weight: float = 0.1


def smooth_distances(
    d: np.ndarray, fps: float, weight: np.ndarray | None = None, options: DepthOptions = DepthOptions()
) -> np.ndarray:
    """The refitted distances ``(T,)`` for one run of consecutive frames ``d`` ``(T,)`` (metres)."""
    d = np.asarray(d, dtype=np.float64)
    n = len(d)
    if n < 3:
        return d.copy()
    base = np.ones(n) if weight is None else np.asarray(weight, dtype=np.float64)
    sigma = options.rel * np.maximum(d, 1e-3)
    rough = (fps * fps / options.accel) ** 2
    x = d.copy()
    robust = np.ones(n)
    for _ in range(max(1, options.iterations)):
        w = base * robust / sigma**2
        x = solve_pentadiagonal(w, rough, w * d)
        r = np.abs(x - d) / sigma
        robust = np.where(r <= options.huber, 1.0, options.huber / np.maximum(r, 1e-12))
    return x


def solve_pentadiagonal(w: np.ndarray, rough: float, rhs: np.ndarray) -> np.ndarray:
    """Solve ``(diag(w) + rough * D2.T @ D2) x = rhs`` (``D2`` the second difference) by banded Cholesky, O(T)."""
    n = len(w)
    # D2.T @ D2, summed over D2's rows (1, -2, 1) at columns (k, k+1, k+2): diagonals (1, 5, 6, ..., 6, 5, 1),
    # (-2, -4, ..., -4, -2), (1, ..., 1) for long runs, (1, 4, 1), (-2, -2), (1) for three frames.
    a0, a1, a2 = np.zeros(n), np.zeros(max(n - 1, 0)), np.ones(max(n - 2, 0))
    a0[: n - 2] += 1.0
    a0[1 : n - 1] += 4.0
    a0[2:] += 1.0
    a1[: n - 2] -= 2.0
    a1[1 : n - 1] -= 2.0
    a0 = w + rough * a0
    a1 = rough * a1
    a2 = rough * a2
    l0, l1, l2 = np.zeros(n), np.zeros(n), np.zeros(n)  # L[i,i], L[i,i-1], L[i,i-2]
    for i in range(n):
        if i >= 2:
            l2[i] = a2[i - 2] / l0[i - 2]
        if i >= 1:
            l1[i] = (a1[i - 1] - l2[i] * l1[i - 1]) / l0[i - 1]
        l0[i] = np.sqrt(a0[i] - l1[i] ** 2 - l2[i] ** 2)
    y = np.zeros(n)
    for i in range(n):
        s = rhs[i]
        if i >= 1:
            s -= l1[i] * y[i - 1]
        if i >= 2:
            s -= l2[i] * y[i - 2]
        y[i] = s / l0[i]
    x = np.zeros(n)
    for i in range(n - 1, -1, -1):
        s = y[i]
        if i + 1 < n:
            s -= l1[i + 1] * x[i + 1]
        if i + 2 < n:
            s -= l2[i + 2] * x[i + 2]
        x[i] = s / l0[i]
    return x


def true_runs(flag: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end)`` of each run of True in ``flag`` ``(T,)``."""
    d = np.diff(np.concatenate([[0], np.asarray(flag).astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(), strict=True))


def frame_runs(frame: np.ndarray) -> list[slice]:
    """Slices of consecutive frames (a gap in ``frame`` ``(T,)`` ends a run)."""
    cuts = np.flatnonzero(np.diff(frame) != 1) + 1
    edges = np.concatenate([[0], cuts, [len(frame)]])
    return [slice(int(a), int(b)) for a, b in itertools.pairwise(edges.tolist()) if b > a]


def smooth_track_depth(track: Track, fps: float, options: DepthOptions = DepthOptions()) -> Track:
    """``track`` with each run of consecutive frames moved along its pelvis rays to the smoothed distances."""
    if len(track) < 3:
        return track
    pelvis = track.joints[:, 0].astype(np.float64)
    d = np.linalg.norm(pelvis, axis=-1)
    target = d.copy()
    weight = np.where(track.predicted, options.predicted_weight, 1.0)
    for run in frame_runs(track.frame):
        target[run] = smooth_distances(d[run], fps, weight[run], options)
    shift = pelvis * (target / np.maximum(d, 1e-9) - 1.0)[:, None]  # (T, 3) along each pelvis ray
    arrays = track.arrays()
    arrays["joints"] = (track.joints + shift[:, None, :]).astype(track.joints.dtype)
    arrays["transl"] = (track.transl + shift).astype(track.transl.dtype)
    return type(track)(track.track_id, **arrays)


def smooth_depth(results: Results, options: DepthOptions = DepthOptions()) -> Results:
    """Every track of a whole capture with steady depth (see the module docstring); says so in ``meta.notes``."""
    fps = float(results.meta.fps)
    tracks = [smooth_track_depth(t, fps, options) for t in results.tracks]
    notes = "; ".join(n for n in (results.meta.notes, NOTE) if n)
    return Results(dataclasses.replace(results.meta, notes=notes), tracks)
