"""Planted feet without a floor: a foot that stays on one spot of the image keeps one distance. Numpy only.

Where the scene solve found no floor (one person crouching or turning on one spot: every stance foot at one
place leaves the floor's tilt undecided), ``ram_core.scene.contact`` cannot hold feet on it, and the backend's
distance follows the body's apparent size: a person crouching for two seconds on the suite's ``crouch`` clip
drifted 1.3 m away from the camera and back, feet and all (the ground truth's feet stayed put).

Here, per track and foot, a foot whose image speed (``solve.image_speed`` of ``solve.seen_feet``: the pixel the
backend saw it at, across the image at its depth, so depth jitter does not count) stays under ``max_speed`` for
at least ``min_s`` is planted. Its distance over the
run is the median of its distances on the run's upright frames (``solve.upright_records``: a bent body's distance
is what drifts), or over the whole run when none is upright; on each planted frame the body moves along its
pelvis's viewing ray by the difference (the mean over the feet planted there), between runs the move is
interpolated linearly and before the first and after the last it eases to zero over ``ease_s``. All joints
and ``transl`` move by one vector, so bone lengths stay exact and the pelvis keeps its pixel.

Not applied to a camera the solve suspected of moving: planted feet keep their distance from a static or
panning camera only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ram_core.contract.results import SCENE_MOVING, Results, Track
from ram_core.scene.depth import frame_runs, true_runs
from ram_core.scene.solve import image_speed, seen_feet, upright_records

NOTE = "planted feet held at one distance (no floor found; offline)"


@dataclass(frozen=True)
class PlantedOptions:
    """``max_speed``: a foot slower than this across the image (m/s) may be planted; ``speed_window_s``: the speed
    is measured over this long either side of a frame; ``min_s``: the shortest planted run; ``min_upright``: see
    ``SceneOptions.min_upright``; ``ease_s``: the move fades in and out over this long outside the runs."""

    max_speed: float = 0.3
    speed_window_s: float = 0.08
    min_s: float = 0.5
    min_upright: float = 0.9
    ease_s: float = 0.5


def planted_moves(
    feet: np.ndarray, frame: np.ndarray, upright: np.ndarray, fps: float, options: PlantedOptions = PlantedOptions()
) -> np.ndarray:
    """``(T,)`` the move along the pelvis ray (metres, + away from the camera) of each record of one run of
    consecutive frames, from its feet ``(T, 2, 3)`` (camera frame) and whether it stands upright ``(T,)``."""
    n = len(frame)
    window = max(1, int(round(options.speed_window_s * fps)))
    speed = image_speed(feet, frame, fps, window)
    dist = np.linalg.norm(feet, axis=-1)
    total, count = np.zeros(n), np.zeros(n)
    for foot in range(2):
        shortest = max(2, int(round(options.min_s * fps)))
        for a, b in (r for r in true_runs(speed[:, foot] < options.max_speed) if r[1] - r[0] >= shortest):
            straight = upright[a:b]
            anchor = float(np.median(dist[a:b, foot][straight] if straight.any() else dist[a:b, foot]))
            total[a:b] += anchor - dist[a:b, foot]
            count[a:b] += 1
    held = count > 0
    if not held.any():
        return np.zeros(n)
    at = np.flatnonzero(held)
    move = np.interp(np.arange(n), at, total[at] / count[at])
    ease = max(1.0, options.ease_s * fps)
    outside = np.minimum(np.abs(np.arange(n) - at[0]), np.abs(np.arange(n) - at[-1]))
    fade = np.where((np.arange(n) < at[0]) | (np.arange(n) > at[-1]), np.clip(1.0 - outside / ease, 0.0, 1.0), 1.0)
    return move * fade


def hold_track(track: Track, fps: float, intrinsics: np.ndarray, options: PlantedOptions = PlantedOptions()) -> Track:
    """``track`` with each run of consecutive frames moved along its pelvis rays so that planted feet keep their
    distance (see the module docstring)."""
    if len(track) < 3:
        return track
    joints = track.joints.astype(np.float64)
    feet = seen_feet(track, intrinsics)
    upright = upright_records(joints, options.min_upright)
    shift = np.zeros((len(track), 3))
    for run in frame_runs(track.frame):
        move = planted_moves(feet[run], track.frame[run], upright[run], fps, options)
        pelvis = joints[run][:, 0]
        shift[run] = move[:, None] * pelvis / np.maximum(np.linalg.norm(pelvis, axis=-1, keepdims=True), 1e-9)
    if not np.any(shift):
        return track
    arrays = track.arrays()
    arrays["joints"] = (joints + shift[:, None]).astype(np.float32)
    arrays["transl"] = (track.transl.astype(np.float64) + shift).astype(np.float32)
    return type(track)(track.track_id, **arrays)


def hold_planted(results: Results, options: PlantedOptions = PlantedOptions()) -> Results:
    """Every track of ``results`` (a capture whose scene has no floor) with its planted feet kept at one distance;
    unchanged for a camera suspected of moving."""
    meta = results.meta
    if meta.scene_status.startswith(SCENE_MOVING):
        return results
    intrinsics = np.asarray(meta.intrinsics, dtype=np.float64)
    tracks = [hold_track(t, float(meta.fps), intrinsics, options) for t in results.tracks]
    notes = "; ".join(n for n in (meta.notes, NOTE) if n)
    return Results(dataclasses.replace(meta, notes=notes), tracks)


__all__ = ["NOTE", "PlantedOptions", "hold_planted", "hold_track", "planted_moves"]
