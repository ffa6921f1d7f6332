"""Records whose body faces against the person's walk are taken as turned round and filled from the frames around
them (ram_core.scene.heading): a partly hidden person's pose is often a back taken for a front."""

from __future__ import annotations

import numpy as np

from ram_core.contract.results import Results
from ram_core.contract.skeleton import axis_angle_to_matrix, matrix_to_axis_angle
from ram_core.scene.heading import refill_turned, travel, turned_records
from tests.unit.test_gait_fill import posed_track
from tests.unit.test_gap_edges import heading_error_deg
from tests.unit.test_relink import FPS, meta

TURNED = np.arange(40, 52)  # 0.4 s at 30 fps seen turned round


def walker_toward_camera(speed: float, turned: np.ndarray = TURNED, backwards: bool = False) -> object:
    """A person facing the camera (body z along the camera's -z) and walking toward it at ``speed`` m/s for 3 s
    (away from it when ``backwards``), their records on ``turned`` frames turned 180 degrees about the vertical."""
    rng = np.random.default_rng(0)
    n = 90
    frames = np.arange(n)
    go = np.tile([np.pi, 0.0, 0.0], (n, 1))  # upright in the camera frame (y down), facing the camera
    step = -speed / FPS if not backwards else speed / FPS
    transl = np.stack([np.zeros(n), np.zeros(n), 8.0 + step * frames], axis=1) + rng.normal(0.0, 0.02, (n, 3))
    turn = axis_angle_to_matrix(np.array([0.0, np.pi, 0.0]))
    rows = np.isin(frames, turned)
    go[rows] = matrix_to_axis_angle(turn[None] @ axis_angle_to_matrix(go[rows]))
    return posed_track(go, rng.normal(0.0, 0.05, (n, 23, 3)), transl)


def test_records_facing_against_the_walk_are_found_and_nothing_else():
    track = walker_toward_camera(1.2)
    assert track.frame[turned_records(track, FPS)].tolist() == TURNED.tolist()
    # Someone standing still shows no walk to read a facing from; someone walking backwards all along keeps theirs.
    assert not turned_records(walker_toward_camera(0.1), FPS).any()
    backwards = walker_toward_camera(1.2, turned=np.arange(0), backwards=True)
    assert not turned_records(backwards, FPS).any()
    assert not turned_records(walker_toward_camera(1.2, turned=np.arange(0)), FPS).any()


def test_turned_records_are_filled_facing_the_walk_and_flagged_predicted():
    track = walker_toward_camera(1.2)
    out = refill_turned(Results(meta(90), [track])).track(1)
    assert out.frame.tolist() == track.frame.tolist()
    rows = np.isin(out.frame, TURNED)
    assert out.predicted[rows].all() and not out.predicted[~rows].any()
    assert heading_error_deg(out, np.flatnonzero(rows), np.array([0.0, 0.0, -1.0])).max() < 1.0
    # Unchanged where nothing is turned.
    clean = walker_toward_camera(1.2, turned=np.arange(0))
    results = Results(meta(90), [clean])
    assert refill_turned(results) is results


def test_the_travel_is_the_slope_of_a_line_through_the_records_near_each_and_zero_where_too_few():
    frames = np.r_[0:20, 40:41, 60:80]
    pelvis = np.stack([0.04 * frames, np.zeros(len(frames)), 5.0 - 0.02 * frames], axis=1).astype(np.float64)
    v = travel(frames, pelvis + np.random.default_rng(1).normal(0.0, 0.001, pelvis.shape), half=5)
    lone = frames == 40
    assert np.allclose(v[~lone], [0.04, 0.0, -0.02], atol=2e-3)
    assert np.all(v[lone] == 0.0)


def turning_walker(turns: bool) -> object:
    """Toward the camera for 2 s, a third of a second on the spot, then away from it for 1 s; the body turns round
    on the spot when ``turns`` (else it walks away backwards)."""
    n = 100
    frames = np.arange(n)
    z = np.where(frames < 60, 8.0 - 1.2 * frames / FPS, 8.0 - 1.2 * 60 / FPS)
    z = np.where(frames >= 70, z + 1.2 * (frames - 69) / FPS, z)
    turn = np.clip((frames - 60) / 10.0, 0.0, 1.0) * (np.pi if turns else 0.0)
    rot = axis_angle_to_matrix(np.stack([np.zeros(n), turn, np.zeros(n)], axis=1))
    go = matrix_to_axis_angle(rot @ axis_angle_to_matrix(np.tile([np.pi, 0.0, 0.0], (n, 1))))
    transl = np.stack([np.zeros(n), np.zeros(n), z], axis=1)
    return posed_track(go, np.zeros((n, 23, 3)), transl)


def test_a_person_who_turns_round_and_walks_back_is_not_taken_as_turned():
    assert not turned_records(turning_walker(turns=True), FPS).any()
    # The same walk with the body never turning: its walk away faces against it.
    backwards = turning_walker(turns=False)
    assert set(backwards.frame[turned_records(backwards, FPS)].tolist()) >= set(range(80, 95))
