"""SegFollow's selector kernels: motion score, gate, gated sum, confidence-gated update, EMA memory."""

import numpy as np
import pytest

from ram_core.tracking.selector import (
    GateConfig,
    MemoryConfig,
    UpdateConfig,
    ema_rate,
    ema_update,
    gate,
    gated_scores,
    reliability_step,
    select,
)

PREDICTED = np.array([100.0, 100.0, 150.0, 220.0])
CANDIDATES = np.array(
    [
        [300.0, 100.0, 350.0, 220.0],  # far from the prediction
        [102.0, 101.0, 152.0, 222.0],  # where the filter expects the person
        [120.0, 100.0, 170.0, 220.0],  # overlapping, shifted
    ]
)


def test_prediction_breaks_ties_between_equal_affinities():
    s = select(CANDIDATES, np.full(3, 0.8), PREDICTED, g=0.5)
    assert s.index == 1
    assert s.motion[1] > s.motion[2] > s.motion[0] == 0.0


def test_gate_weights_motion_against_affinity():
    affinity = np.array([0.95, 0.3, 0.3])
    assert select(CANDIDATES, affinity, PREDICTED, g=1.0).index == 1
    assert select(CANDIDATES, affinity, PREDICTED, g=0.0).index == 0
    s = select(CANDIDATES, affinity, PREDICTED, g=0.25)
    np.testing.assert_allclose(s.score, 0.25 * s.motion + 0.75 * affinity)


def test_select_refuses_below_min_score_and_handles_no_candidates():
    assert select(CANDIDATES, np.zeros(3), PREDICTED, g=1.0, min_score=0.99).index == -1
    assert select(np.zeros((0, 4)), np.zeros(0), PREDICTED, g=0.5).index == -1


def test_kalman_gate_trusts_motion_when_the_filter_is_confident():
    cfg = GateConfig(mode="kalman", low=0.2, high=0.9, scale=0.2)
    g = gate(np.array([0.0, 0.05, 0.2, 1.0, 10.0]), cfg)
    assert g[0] == pytest.approx(0.9)
    assert np.all(np.diff(g) < 0)
    assert g[-1] == pytest.approx(0.2, abs=1e-6)
    np.testing.assert_allclose(gate(np.array([0.0, 3.0]), GateConfig(mode="fixed", fixed=0.4)), [0.4, 0.4])


def test_gated_scores_broadcast_one_gate_per_track():
    m = np.array([[1.0, 0.0], [0.5, 0.5]])
    a = np.array([[0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_allclose(gated_scores(m, a, np.array([1.0, 0.5])), [[1.0, 0.0], [0.75, 0.25]])


def test_gated_update_refuses_low_confidence_and_needs_a_streak():
    cfg = UpdateConfig(tau=0.5, n_min=2)
    r = reliability_step(0, 0.9, cfg)
    assert (r.streak, r.reliable, r.accept) == (1, True, False)
    r = reliability_step(r.streak, 0.9, cfg)
    assert (r.streak, r.accept) == (2, True)
    r = reliability_step(r.streak, 0.3, cfg)
    assert (r.streak, r.reliable, r.accept) == (0, False, False)
    assert reliability_step(5, None, cfg).accept is False
    assert reliability_step(0, 0.5, UpdateConfig(tau=0.5, n_min=1)).accept is False  # c must exceed tau


def test_ema_rate_grows_with_motion_score():
    cfg = MemoryConfig(low=0.05, high=0.5)
    np.testing.assert_allclose(ema_rate(np.array([0.0, 0.5, 1.0, 2.0]), cfg), [0.05, 0.275, 0.5, 0.5])


def test_ema_memory_ignores_unreliable_frames():
    cfg = MemoryConfig(low=0.1, high=0.5)
    memory = np.ones((4, 3, 3))
    intruder = np.full((4, 3, 3), 9.0)
    assert ema_update(memory, intruder, motion=1.0, reliable=False, cfg=cfg) is memory
    updated = ema_update(memory, intruder, motion=1.0, reliable=True, cfg=cfg)
    np.testing.assert_allclose(updated, 0.5 * 1.0 + 0.5 * 9.0)
    slow = ema_update(memory, intruder, motion=0.0, reliable=True, cfg=cfg)
    np.testing.assert_allclose(slow, 0.9 * 1.0 + 0.1 * 9.0)
