"""When each video frame is shown: variable-frame-rate videos, per-frame times, skipped frames.

Most videos show frame ``i`` at ``i / fps`` seconds. A variable-frame-rate video (a phone's, a screen
recording) does not: its container gives each frame its own time. The worker reads that time for every
frame; :func:`off_grid` is the one rule for when it is too far from a constant rate to ignore, and
:func:`frame_times` turns the times the worker read into what the results file keeps (``frame_times`` in
its metadata: seconds, one per captured frame, or None when the rate is constant). Numpy only.
"""

from __future__ import annotations

import numpy as np

# A frame more than this many frame periods away from where a constant rate puts it makes the video
# variable-rate: half a period is where the frame would be keyed on the wrong frame.
OFF_GRID_PERIODS = 0.5


def off_grid(frames: np.ndarray, times_s: np.ndarray, fps: float, first_frame: int, first_time_s: float) -> np.ndarray:
    """``(N,)`` bool: which of ``frames`` ``(N,)`` (video indices), shown at ``times_s`` ``(N,)`` seconds, are
    more than :data:`OFF_GRID_PERIODS` frame periods away from ``first_time_s + (frame - first_frame) / fps``."""
    expected = first_time_s + (np.asarray(frames, dtype=np.float64) - first_frame) / fps
    return np.abs(np.asarray(times_s, dtype=np.float64) - expected) > OFF_GRID_PERIODS / fps


def frame_times(times: dict[int, float], frame_start: int, frame_end: int, fps: float) -> np.ndarray | None:
    """The time in seconds of every frame ``frame_start <= f < frame_end`` ``(frame_end - frame_start,)``, or
    None when the video runs at a constant ``fps`` (or gives no usable times).

    ``times`` maps the frames read (video index) to their time; frames without one (skipped as damaged)
    get a time interpolated from their neighbours, linearly (at ``fps`` beyond the first or last one read).
    Times that do not increase with the frame index are not usable (a container without real timestamps).
    """
    frames = np.array(sorted(f for f in times if frame_start <= f < frame_end), dtype=np.int64)
    if len(frames) < 2:
        return None
    t = np.array([times[int(f)] for f in frames], dtype=np.float64)
    if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        return None
    if not np.any(off_grid(frames, t, fps, int(frames[0]), float(t[0]))):
        return None
    wanted = np.arange(frame_start, frame_end, dtype=np.float64)
    out = np.interp(wanted, frames, t)
    before, after = wanted < frames[0], wanted > frames[-1]
    out[before] = t[0] + (wanted[before] - frames[0]) / fps
    out[after] = t[-1] + (wanted[after] - frames[-1]) / fps
    return out
