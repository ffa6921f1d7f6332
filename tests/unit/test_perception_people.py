"""Person boxes from landmarks and people painted out of the frame (synthetic landmarks, no models)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("cv2")

from ram_core.perception.people import landmark_boxes, paint_people
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
