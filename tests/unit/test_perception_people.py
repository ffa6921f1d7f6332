"""Person boxes from landmarks and people painted out of the frame (synthetic landmarks, no models)."""

from __future__ import annotations

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from ram_core.perception.people import appearance_features, landmark_boxes, paint_people, part_masks
from ram_core.tracking.boxes import inside_fraction, scale_boxes


def test_landmark_boxes_pad_the_extent() -> None:
    points = np.zeros((1, 33, 2))
    points[0, :, 0] = 110.0
    points[0, :, 1] = np.linspace(200, 300, 33)
    points[0, 15, 0] = 190.0  # a wrist far out: arms do not widen the box
    box = landmark_boxes(points, (0.1, 0.05, 0.03), 0.35)[0]
    np.testing.assert_allclose(box, [92.5, 190.0, 127.5, 303.0])  # 0.35 of the height wide, on the torso
    points[0, 27, 0] = 150.0  # an ankle 40 px out: the box reaches it plus the padding, on both sides
    box = landmark_boxes(points, (0.1, 0.05, 0.03), 0.35)[0]
    np.testing.assert_allclose(box, [65.0, 190.0, 155.0, 303.0])
    np.testing.assert_allclose(scale_boxes(box[None], 2.0)[0], [20.0, 133.5, 200.0, 359.5])


def test_paint_people_paints_the_skeleton_not_the_box() -> None:
    image = np.zeros((200, 200, 3), np.uint8)
    points = np.tile([[100.0, 100.0]], (33, 1))
    points[[11, 12, 23, 24, 13, 14, 15, 16, 25, 26, 27, 28, 29, 30, 31, 32]] = [
        [110, 60],
        [90, 60],
        [108, 110],
        [92, 110],  # shoulders, hips
        [115, 85],
        [85, 85],
        [118, 105],
        [82, 105],  # elbows, wrists
        [115, 140],
        [85, 140],
        [118, 170],
        [82, 170],  # knees, ankles
        [118, 175],
        [82, 175],
        [122, 176],
        [78, 176],  # heels, toes
    ]
    points[[0, 7, 8]] = [[100, 45], [105, 45], [95, 45]]  # nose, ears
    painted = paint_people(image, points[None], 0.12)
    assert np.all(painted[100, 100] == 128)  # torso
    assert np.all(painted[155, 116] == 128)  # left shin
    assert np.all(painted[40, 100] == 128)  # head
    assert np.all(painted[150, 100] == 0)  # between the legs stays
    assert np.all(image == 0)  # a copy


def test_inside_fraction_counts_the_area_in_the_frame() -> None:
    boxes = np.array([[0.0, 0.0, 10.0, 10.0], [-10.0, 0.0, 10.0, 10.0], [100.0, 100.0, 110.0, 110.0]])
    np.testing.assert_allclose(inside_fraction(boxes, 50, 50), [1.0, 0.5, 0.0])


def _standing(cx: float, top: float, height: float) -> np.ndarray:
    """(33, 2) landmarks of an upright person centred at x ``cx``: head at ``top``, feet ``height`` below."""
    from ram_core.body.blazepose import LM

    pts = np.tile([[cx, top + 0.05 * height]], (33, 1)).astype(np.float64)
    for side, dx in (("left", 0.1), ("right", -0.1)):
        pts[LM[f"{side}_shoulder"]] = [cx + dx * height, top + 0.2 * height]
        pts[LM[f"{side}_hip"]] = [cx + 0.7 * dx * height, top + 0.5 * height]
        pts[LM[f"{side}_knee"]] = [cx + 0.7 * dx * height, top + 0.75 * height]
        pts[LM[f"{side}_ankle"]] = [cx + 0.7 * dx * height, top + 0.98 * height]
    return pts


def test_appearance_is_each_persons_own_torso_and_legs_not_their_box() -> None:
    """Two people half overlapping (one's box holds half of the other): each keeps their own colours, a box
    histogram would mix them. Red shirt / blue trousers against green shirt / blue trousers."""
    image = np.full((240, 320, 3), 200, np.uint8)
    a, b = _standing(120.0, 20.0, 200.0), _standing(170.0, 20.0, 200.0)
    for pts, shirt in ((a, (0, 0, 220)), (b, (0, 200, 0))):
        torso = np.round(pts[[11, 12, 24, 23]]).astype(np.int32)
        cv2.fillConvexPoly(image, torso, shirt)
        for hip, knee, ankle in ((23, 25, 27), (24, 26, 28)):
            for p, q in ((hip, knee), (knee, ankle)):
                cv2.line(image, tuple(int(v) for v in pts[p]), tuple(int(v) for v in pts[q]), (200, 0, 0), 24)
    # The same red person alone, elsewhere in another frame.
    alone = np.full((240, 320, 3), 200, np.uint8)
    c = _standing(160.0, 20.0, 200.0)
    cv2.fillConvexPoly(alone, np.round(c[[11, 12, 24, 23]]).astype(np.int32), (0, 0, 220))
    for hip, knee, ankle in ((23, 25, 27), (24, 26, 28)):
        for p, q in ((hip, knee), (knee, ankle)):
            cv2.line(alone, tuple(int(v) for v in c[p]), tuple(int(v) for v in c[q]), (200, 0, 0), 24)
    pair = appearance_features(image, np.stack([a, b]), (12, 4), 0.12)
    single = appearance_features(alone, c[None], (12, 4), 0.12)[0]
    assert pair[0] @ single > 0.95 and pair[1] @ single < 0.6
    assert np.allclose(np.linalg.norm(pair, axis=1), 1.0)


def test_appearance_of_a_person_with_no_pixels_of_their_own_is_zero() -> None:
    image = np.zeros((100, 100, 3), np.uint8)
    tiny = _standing(50.0, 40.0, 4.0)  # a few pixels tall
    assert not appearance_features(image, tiny[None], (12, 4), 0.12).any()


def test_appearance_read_in_each_persons_window_equals_masks_over_the_whole_frame() -> None:
    """The windowed histograms are those of the whole frame's masks, to the bit: people overlapping, at the
    frame's edges, half out of it and outside it, at fractional pixels."""
    bins, width = (12, 4), 0.12
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    for _ in range(10):
        count = 8
        people = [_standing(x, y, h) for x, y, h in rng.uniform([-40, -60, 30], [360, 200, 160], (count, 3))]
        points = np.stack(people) + rng.normal(0.0, 3.0, (count, 33, 2))
        masks = part_masks(points, image.shape[:2], width)
        expected = np.zeros((count, 2 * 48))
        for i in range(count):
            for k in range(2):
                if masks[i, k].sum() >= 20:
                    hist = cv2.calcHist([hsv], [0, 1], masks[i, k].astype(np.uint8), list(bins), [0, 180, 0, 256])
                    expected[i, 48 * k : 48 * (k + 1)] = hist.reshape(-1) / np.linalg.norm(hist)
        expected /= np.maximum(np.linalg.norm(expected, axis=1, keepdims=True), 1e-300)
        np.testing.assert_array_equal(appearance_features(image, points, bins, width), expected)
