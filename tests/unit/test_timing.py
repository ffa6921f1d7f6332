"""Frame times: when a video's frames are shown, and when that is not a constant rate."""

from __future__ import annotations

import numpy as np

from ram_core.contract.timing import frame_times, off_grid


def test_a_constant_rate_keeps_no_times():
    times = {f: f / 25 + 1e-4 * (f % 3) for f in range(100)}  # container rounding, well within a period
    assert frame_times(times, 0, 100, 25.0) is None


def test_a_video_whose_rate_changes_keeps_every_frames_time():
    times = {f: 0.02 * f if f < 10 else 0.2 + 0.06 * (f - 10) for f in range(20)}
    got = frame_times(times, 0, 20, 25.0)
    assert got is not None and np.allclose(got, [times[f] for f in range(20)])


def test_frames_without_a_time_are_interpolated_and_extrapolated_at_the_rate():
    times = {f: 0.02 * f if f < 10 else 0.2 + 0.06 * (f - 10) for f in range(2, 18) if f != 12}
    got = frame_times(times, 0, 20, 25.0)
    assert got is not None
    assert np.isclose(got[12], 0.32)  # between 0.26 and 0.38
    assert np.isclose(got[0], 0.04 - 2 / 25) and np.isclose(got[19], 0.62 + 2 / 25)


def test_times_that_do_not_increase_are_not_used():
    assert frame_times(dict.fromkeys(range(10), 0.0), 0, 10, 25.0) is None
    assert frame_times({0: 0.0}, 0, 1, 25.0) is None


def test_off_grid_is_half_a_period():
    frames = np.array([1, 2, 3])
    assert off_grid(frames, np.array([0.04, 0.08 + 0.019, 0.12 + 0.021]), 25.0, 0, 0.0).tolist() == [False, False, True]
