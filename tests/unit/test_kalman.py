"""Kalman kernels of SegFollow's box filter: shapes, batching, constant velocity, coasting, gating."""

import numpy as np

from ram_core.tracking import kalman
from ram_core.tracking.boxes import cxcywh_to_xyxy, iou_matrix, xyxy_to_cxcywh

CFG = kalman.KalmanConfig()


def walk(n: int, start=(100.0, 200.0), velocity=(6.0, -2.0), size=(50.0, 120.0)) -> np.ndarray:
    """(n, 4) xyxy boxes of a box moving at constant velocity (px/frame)."""
    t = np.arange(n)[:, None]
    centres = np.asarray(start) + t * np.asarray(velocity)
    return cxcywh_to_xyxy(np.concatenate([centres, np.broadcast_to(size, (n, 2))], axis=1))


def track(boxes: np.ndarray) -> kalman.KalmanState:
    state = kalman.init_state(boxes[0], CFG)
    for b in boxes[1:]:
        state = kalman.update(kalman.predict(state, CFG), b, CFG)
    return state


def test_box_formats_round_trip_and_iou():
    b = np.array([[10.0, 20.0, 50.0, 100.0], [0.0, 0.0, 10.0, 10.0]])
    np.testing.assert_allclose(cxcywh_to_xyxy(xyxy_to_cxcywh(b)), b)
    iou = iou_matrix(b, np.array([[10.0, 20.0, 50.0, 60.0], [100.0, 100.0, 110.0, 110.0]]))
    np.testing.assert_allclose(iou, [[0.5, 0.0], [0.0, 0.0]])


def test_init_is_at_the_box_with_zero_velocity():
    box = np.array([10.0, 20.0, 60.0, 140.0])
    state = kalman.init_state(box, CFG)
    np.testing.assert_allclose(kalman.predicted_box(state), box)
    np.testing.assert_allclose(state.mean[4:], 0.0)
    assert state.cov.shape == (8, 8)


def test_learns_constant_velocity_and_predicts_ahead():
    boxes = walk(25)
    state = track(boxes[:20])
    np.testing.assert_allclose(state.mean[4:6], [6.0, -2.0], atol=0.3)
    for _ in range(5):
        state = kalman.predict(state, CFG)
    assert iou_matrix(kalman.predicted_box(state), boxes[24])[0, 0] > 0.9


def test_uncertainty_grows_while_coasting_and_shrinks_on_update():
    state = track(walk(10))
    u = [float(kalman.uncertainty(state))]
    for _ in range(5):
        state = kalman.predict(state, CFG)
        u.append(float(kalman.uncertainty(state)))
    assert all(np.diff(u) > 0)
    after = kalman.update(state, kalman.predicted_box(state), CFG)
    assert kalman.uncertainty(after) < u[-1]


def test_batched_kernels_match_single_ones():
    a, b = track(walk(6)), track(walk(9, velocity=(-3.0, 1.0), size=(30.0, 80.0)))
    batch = kalman.predict(kalman.stack_states([a, b]), CFG)
    z = np.stack([walk(7)[6], walk(10, velocity=(-3.0, 1.0), size=(30.0, 80.0))[9]])
    batch = kalman.update(batch, z, CFG)
    for single, state, box in zip((a, b), kalman.unstack_state(batch), z):
        ref = kalman.update(kalman.predict(single, CFG), box, CFG)
        np.testing.assert_allclose(state.mean, ref.mean)
        np.testing.assert_allclose(state.cov, ref.cov)


def test_covariance_stays_symmetric_positive_definite():
    state = track(walk(30))
    np.testing.assert_allclose(state.cov, state.cov.T)
    assert np.linalg.eigvalsh(state.cov).min() > 0


def test_mahalanobis_gates_centres_the_motion_cannot_explain():
    state = kalman.predict(track(walk(10)), CFG)
    expected = walk(11)[10]
    far = expected + np.array([40.0, 0.0, 40.0, 0.0])  # almost a box width to the side
    d = kalman.mahalanobis(state, np.stack([expected, far]), CFG)
    assert d.shape == (2,)
    assert d[0] < 1.0
    assert d[1] > 5.99
    batched = kalman.mahalanobis(kalman.stack_states([state, state]), np.stack([expected, far]), CFG)
    np.testing.assert_allclose(batched, [d, d])


def test_agile_takes_less_of_two_jittered_boxes_for_a_vertical_motion():
    # A new track's first two boxes, 24 px apart across the picture (a walker at a third of the frame rate), the
    # second one's centre 6 px lower and its height 10 % more by the detector's jitter. Coasting 4 frames, the
    # isotropic loose model takes the jitter for a fall down the picture; agile, whose vertical velocity is held
    # tighter, sinks about half as far, and both follow the walk across.
    first = cxcywh_to_xyxy(np.array([100.0, 300.0, 50.0, 120.0]))
    second = cxcywh_to_xyxy(np.array([124.0, 306.0, 50.0, 132.0]))
    isotropic = kalman.KalmanConfig(velocity_weight=1.0 / 40.0, init_velocity_scale=50.0)
    sink = {}
    for name, cfg in (("isotropic", isotropic), ("agile", kalman.KalmanConfig.agile())):
        state = kalman.update(kalman.predict(kalman.init_state(first, cfg), cfg), second, cfg)
        for _ in range(4):
            state = kalman.predict(state, cfg)
        cx, cy, _, _ = xyxy_to_cxcywh(kalman.predicted_box(state))
        assert abs(cx - (124.0 + 4 * 24.0)) < 5  # the walk across is followed
        sink[name] = cy - 300.0
    assert sink["isotropic"] > 25 and 0 < sink["agile"] < 0.65 * sink["isotropic"]
