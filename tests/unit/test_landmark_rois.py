"""Regions of interest of the landmark model: from boxes, from a pose's auxiliary points, rotated crops, flips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from ram_core.body.blazepose import LM
from ram_core.perception.landmarks import (
    MIRRORED,
    NUM_MODEL_POINTS,
    box_rois,
    crop_regions,
    roi_from_landmarks,
    roi_to_frame,
    rotated_crop,
)
from tests.fixtures.tflite_models import needs_models


def test_box_rois_are_the_integer_crops():
    boxes = np.array([[10.2, 20.7, 60.1, 140.9], [-5.0, 3.0, 15.0, 13.0]])
    rois = box_rois(boxes, 1.25)
    crops = crop_regions(boxes, 1.25)
    np.testing.assert_array_equal(rois[:, :2] - rois[:, 2:3] / 2, crops[:, :2])
    np.testing.assert_array_equal(rois[:, 2], crops[:, 2])
    assert (rois[:, 3] == 0).all()


def test_roi_from_landmarks_upright_and_leaning():
    hips = np.array([100.0, 200.0])
    radius = 40.0
    lean = np.radians(20)
    aux = np.array(
        [
            [hips, hips + [0.0, -radius]],  # upright: the circle point straight above the hips
            [hips, hips + radius * np.array([np.sin(lean), -np.cos(lean)])],  # top leaning to the image's right
            [hips, hips + [0.0, radius]],  # upside down
        ]
    )
    rois = roi_from_landmarks(aux, 1.25)
    np.testing.assert_allclose(rois[:, :2], [hips] * 3)
    np.testing.assert_allclose(rois[:, 2], 2 * 1.25 * radius)
    np.testing.assert_allclose(rois[:2, 3], [0.0, lean], atol=1e-12)
    assert abs(abs(rois[2, 3]) - np.pi) < 1e-12
    # The crop's top centre (u, v) = (0.5, 0) lies on the line from the hips through the circle point.
    top = roi_to_frame(rois) @ np.array([0.5, 0.0, 1.0])
    direction = (aux[:, 1] - aux[:, 0]) / radius
    np.testing.assert_allclose(top, hips + 0.5 * rois[:, 2:3] * direction, atol=1e-9)


def test_roi_to_frame_corners_of_an_axis_aligned_square():
    affine = roi_to_frame(np.array([[50.0, 80.0, 20.0, 0.0]]))[0]
    np.testing.assert_allclose(affine @ [0.0, 0.0, 1.0], [40.0, 70.0])
    np.testing.assert_allclose(affine @ [1.0, 1.0, 1.0], [60.0, 90.0])


def test_rotated_crop_matches_square_crop_and_turns_the_picture():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    image = cv2.GaussianBlur(image, (9, 9), 3)
    # Same pixels as an integer square crop resized (upscaling: both bilinear, half-pixel centres).
    from ram_core.perception.blazepose_detector import square_crop

    expected = square_crop(image, 30, 20, 64, 128).astype(np.float64)
    got = rotated_crop(image, np.array([[62.0, 52.0, 64.0, 0.0]]), 128).astype(np.float64)
    assert np.abs(got - expected)[2:-2, 2:-2].max() <= 1
    # A bright dot above the centre shows at the crop's top for an upright region, on its left when the
    # region is turned by 90 degrees (the body's top leaning to the image's right: crop up = frame right).
    dot = np.zeros((120, 160, 3), np.uint8)
    cv2.circle(dot, (80, 40), 3, (255, 255, 255), -1)
    upright = rotated_crop(dot, np.array([[80.0, 60.0, 60.0, 0.0]]), 60)[..., 0]
    turned = rotated_crop(dot, np.array([[80.0, 60.0, 60.0, np.pi / 2]]), 60)[..., 0]

    def centroid(crop: np.ndarray) -> tuple[float, float]:
        rows, cols = np.indices(crop.shape)
        return float((rows * crop).sum() / crop.sum()), float((cols * crop).sum() / crop.sum())

    assert centroid(upright) == pytest.approx((10, 30), abs=0.1)
    row, col = centroid(turned)
    # Crop left is frame up there: the dot 20 px above the centre is 20 px left of the crop's centre (pixel
    # (80, 40) is the point (80.5, 40.5): half a pixel right of the centre, so half a pixel up in the crop).
    assert (row, col) == pytest.approx((29, 10), abs=0.1)


def test_mirrored_swaps_left_and_right():
    assert len(MIRRORED) == NUM_MODEL_POINTS
    np.testing.assert_array_equal(MIRRORED[MIRRORED], np.arange(NUM_MODEL_POINTS))
    assert MIRRORED[LM["left_wrist"]] == LM["right_wrist"]
    assert MIRRORED[LM["mouth_left"]] == LM["mouth_right"]
    assert MIRRORED[LM["nose"]] == LM["nose"]
    assert (MIRRORED[33:] == np.arange(33, NUM_MODEL_POINTS)).all()


SYNTH = Path(__file__).resolve().parents[1] / "data" / "synth" / "toward_away"


@needs_models
def test_flipped_estimate_is_the_mirror_image_of_the_mirrored_frame():
    """With ``flip`` the pose of a mirrored frame is the mirror image of the frame's pose (left and right swapped
    back exactly once), and close to the pose without ``flip``."""
    from ram_core.perception.landmarks import PoseLandmarker
    from ram_core.video import iter_frames

    with np.load(SYNTH / "gt.npz") as gt:
        box = gt["box_visible"][0, 0].astype(np.float64)
    _, frame = next(iter(iter_frames(SYNTH / "clip.mp4", 0, 1)))
    width = frame.shape[1]
    model = PoseLandmarker()
    roi = box_rois(box[None], 1.25)
    mirrored_roi = roi.copy()
    mirrored_roi[:, 0] = width - roi[:, 0]
    pose = model.estimate_rois(frame, roi, flip=True)
    mirrored = model.estimate_rois(np.ascontiguousarray(frame[:, ::-1]), mirrored_roi, flip=True)
    swap = MIRRORED[:33]
    np.testing.assert_allclose(mirrored.image[0, swap, 0], width - pose.image[0, :, 0], atol=1e-2)
    np.testing.assert_allclose(mirrored.image[0, swap, 1], pose.image[0, :, 1], atol=1e-2)
    np.testing.assert_allclose(mirrored.world[0, swap], pose.world[0] * [-1, 1, 1], atol=1e-4)
    np.testing.assert_allclose(mirrored.score, pose.score, atol=1e-5)
    plain = model.estimate_rois(frame, roi, flip=False)
    height = box[3] - box[1]
    assert np.median(np.linalg.norm(plain.image[0] - pose.image[0], axis=1)) < 0.03 * height


def test_heatmap_power_sharpens_the_refinement():
    from ram_core.perception.landmarks import refine_from_heatmap

    heatmap = np.full((1, 64, 64, 1), -10.0, np.float32)
    heatmap[0, 20, 30, 0] = 6.0  # the peak
    heatmap[0, 20, 31, 0] = 0.0  # a half-confident neighbour on its right
    points = np.array([[[30.5 / 64, 20.5 / 64]]], np.float32)
    plain = refine_from_heatmap(points, heatmap)[0, 0] * 64
    sharp = refine_from_heatmap(points, heatmap, power=4.0)[0, 0] * 64
    assert plain[0] == pytest.approx((30 * 0.9975 + 31 * 0.5) / 1.4975, abs=1e-3)
    assert 30 < sharp[0] < 30.1 and sharp[1] == pytest.approx(20, abs=1e-4)
