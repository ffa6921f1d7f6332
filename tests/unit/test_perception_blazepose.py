"""BlazePose perception: the detector over tiles and batched landmarks, real models on real footage."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ai_edge_litert")
cv2 = pytest.importorskip("cv2")

from ram_core.perception import anchors, tflite
from ram_core.perception.blazepose_detector import (
    DetectorConfig,
    PersonDetector,
    person_boxes,
    suppress_overlaps,
    tile_origins,
    weighted_nms,
)
from ram_core.perception.landmarks import (
    LandmarkBatch,
    PoseLandmarker,
    distinct_people,
    find_people,
    refine_from_heatmap,
)
from tests.fixtures.tflite_models import needs_models

CLIP = Path(__file__).resolve().parents[1] / "data" / "vtest_clip.avi"
#: People counted by eye on frames of the clip (fully or mostly visible pedestrians).
EYE_COUNTS = {0: 4, 40: 6, 80: 6}


@pytest.fixture(scope="module")
def frames() -> dict[int, np.ndarray]:
    cap = cv2.VideoCapture(str(CLIP))
    out = {}
    for index in range(max(EYE_COUNTS) + 1):
        ok, frame = cap.read()
        assert ok, f"could not read frame {index} of {CLIP}"
        if index in EYE_COUNTS:
            out[index] = frame
    cap.release()
    return out


@pytest.fixture(scope="module")
def detector() -> PersonDetector:
    return PersonDetector()


@pytest.fixture(scope="module")
def landmarker() -> PoseLandmarker:
    return PoseLandmarker()


@pytest.fixture(scope="module")
def people(frames, detector, landmarker) -> dict[int, LandmarkBatch]:
    return {index: find_people(frame, detector, landmarker) for index, frame in frames.items()}


def test_anchors_match_model_layout():
    centres, groups = anchors.generate_anchors()
    assert centres.shape == (2254, 2)
    assert groups == (1568, 392, 294)
    assert (centres > 0).all() and (centres < 1).all()
    # the first anchors are the 28x28 stride-8 grid, two per cell
    np.testing.assert_allclose(centres[0], [0.5 / 28, 0.5 / 28], rtol=1e-6)
    np.testing.assert_allclose(centres[1], centres[0])
    np.testing.assert_allclose(centres[2], [1.5 / 28, 0.5 / 28], rtol=1e-6)


def test_split_batched_output_interleaving():
    groups = (3, 2)
    per_image = [np.arange(5)[:, None] + 10 * b for b in range(2)]
    raw = np.concatenate([per_image[0][:3], per_image[1][:3], per_image[0][3:], per_image[1][3:]])[None]
    out = anchors.split_batched_output(raw, 2, groups)
    np.testing.assert_array_equal(out[0], per_image[0])
    np.testing.assert_array_equal(out[1], per_image[1])


def test_tile_origins_cover_with_overlap():
    origins = tile_origins(768, 200, 0.5)
    assert origins[0] == 0 and origins[-1] == 568
    assert np.diff(origins).max() <= 100
    assert tile_origins(576, 768, 0.5).tolist() == [-96]


def test_weighted_nms_merges_overlaps_and_keeps_others():
    box = np.array([0, 0, 10, 10, 5, 5, 5, 9, 5, 2, 5, 4], np.float32)
    shifted = box + np.array([1, 0, 1, 0] + [1, 0] * 4, np.float32)
    far = box + 100
    merged, scores = weighted_nms(np.stack([box, shifted, far]), np.array([0.9, 0.3, 0.8], np.float32), 0.3)
    assert len(merged) == 2
    np.testing.assert_allclose(scores, [0.9, 0.8])
    np.testing.assert_allclose(merged[0, 0], 0.25, atol=1e-6)  # (0 * 0.9 + 1 * 0.3) / 1.2
    np.testing.assert_allclose(merged[1], far)


def test_suppress_overlaps_keeps_best():
    boxes = np.array([[0, 0, 10, 20], [1, 0, 11, 20], [30, 0, 40, 20]], np.float32)
    keep = suppress_overlaps(boxes, np.array([0.5, 0.9, 0.7]), 0.6)
    assert keep.tolist() == [1, 2]


def test_person_boxes_stay_whole_unless_a_frame_size_is_given():
    """A person half out of the frame (hips at x = 10, body circle radius 100) keeps a box centred on the hips
    for the landmark crop; clipped, its centre moves 20 px into the frame."""
    keypoints = np.array([[[10.0, 200.0], [10.0, 100.0], [10.0, 150.0], [10.0, 120.0]]], np.float32)
    whole = person_boxes(keypoints, 0.5)
    np.testing.assert_allclose(whole, [[-40.0, 100.0, 60.0, 300.0]])
    clipped = person_boxes(keypoints, 0.5, 640, 480)
    np.testing.assert_allclose(clipped, [[0.0, 100.0, 60.0, 300.0]])


def test_refine_from_heatmap_moves_to_peak():
    heatmap = np.full((1, 64, 64, 2), -10.0, np.float32)
    heatmap[0, 20, 30, 0] = 10.0  # landmark 0: confident peak at (col 30, row 20)
    points = np.array([[[31.5 / 64, 21.5 / 64], [0.5, 0.5]]], np.float32)
    refined = refine_from_heatmap(points, heatmap)
    np.testing.assert_allclose(refined[0, 0], [30 / 64, 20 / 64], atol=1e-4)
    np.testing.assert_allclose(refined[0, 1], points[0, 1])  # no confident cell: unchanged


def test_missing_model_error_names_file_and_install(tmp_path, monkeypatch):
    with pytest.raises(tflite.ModelNotFoundError, match="pose_detection.tflite"):
        tflite.model_path(tflite.POSE_DETECTION, tmp_path)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    expected = r"pose_landmark_full\.tflite.*pip install mediapipe==0\.10\.14"
    with pytest.raises(tflite.ModelNotFoundError, match=expected):
        tflite.model_path(tflite.POSE_LANDMARK_FULL)


@needs_models
def test_detector_batched_equals_looped(frames, detector):
    rgb = cv2.cvtColor(frames[0], cv2.COLOR_BGR2RGB)
    tiles = np.stack([cv2.resize(rgb[y : y + 200, x : x + 200], (224, 224)) for x, y in [(250, 150), (500, 200)]])
    batch = tiles.astype(np.float32) / 127.5 - 1.0
    boxes, scores = detector.run(batch)
    for i in range(len(batch)):
        one_boxes, one_scores = detector.run(batch[i : i + 1])
        np.testing.assert_allclose(boxes[i], one_boxes[0], atol=1e-3)
        np.testing.assert_allclose(scores[i], one_scores[0], atol=1e-3)


@needs_models
def test_detector_boxes_inside_frame(frames, detector):
    boxes, scores = detector.detect(frames[40])
    assert len(boxes) >= EYE_COUNTS[40] - 1
    assert boxes.dtype == np.float32 and boxes.shape[1] == 4
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= 768).all() and (boxes[:, 3] <= 576).all()
    assert (boxes[:, 2:] > boxes[:, :2]).all()
    assert ((scores >= DetectorConfig().min_score) & (scores <= 1)).all()


@needs_models
@pytest.mark.parametrize("index", sorted(EYE_COUNTS))
def test_find_people_counts(people, index):
    found = people[index]
    # at most one miss, and at most one duplicate that distinct_people lets through
    assert EYE_COUNTS[index] - 1 <= len(found) <= EYE_COUNTS[index] + 1
    assert (found.score >= 0.5).all()


@needs_models
def test_skeletons_plausible(people):
    batch = people[80]
    nose_y, hip_y = batch.image[:, 0, 1], batch.image[:, [23, 24], 1].mean(axis=1)
    assert (nose_y < hip_y).all()
    assert (batch.image[:, [27, 28], 1] > batch.image[:, [25, 26], 1]).all()

    def length(a: int, b: int) -> np.ndarray:
        return np.linalg.norm(batch.world[:, a] - batch.world[:, b], axis=1)

    for (a, b), (low, high) in {
        (23, 25): (0.25, 0.55),  # thigh
        (24, 26): (0.25, 0.55),
        (25, 27): (0.25, 0.55),  # shin
        (26, 28): (0.25, 0.55),
        (11, 12): (0.2, 0.45),  # shoulder width
        (11, 23): (0.35, 0.65),  # torso side
    }.items():
        assert ((length(a, b) > low) & (length(a, b) < high)).all(), (a, b, length(a, b))
    np.testing.assert_allclose(batch.world[:, [23, 24]].mean(axis=1), 0, atol=0.05)  # hip-centred
    assert ((batch.visibility >= 0) & (batch.visibility <= 1)).all()
    assert ((batch.presence >= 0) & (batch.presence <= 1)).all()


@needs_models
def test_landmarks_batched_equals_looped(frames, people, landmarker):
    frame = frames[80]
    boxes = people[80].boxes_from_landmarks
    together = landmarker.estimate(frame, boxes)
    for i, box in enumerate(boxes):
        alone = landmarker.estimate(frame, box[None])
        np.testing.assert_allclose(together.image[i], alone.image[0], atol=0.05)
        np.testing.assert_allclose(together.world[i], alone.world[0], atol=1e-4)
        np.testing.assert_allclose(together.score[i], alone.score[0], atol=1e-4)
    # tracking: the landmark box gives back the same person's pose (median, as legs may swap left/right)
    drift = np.median(np.linalg.norm(together.image - people[80].image, axis=2), axis=1)
    heights = np.ptp(people[80].image[:, :, 1], axis=1)
    assert (drift < 0.05 * heights).all(), drift / heights


@needs_models
def test_estimate_no_boxes(frames, landmarker):
    empty = landmarker.estimate(frames[0], np.zeros((0, 4)))
    assert len(empty) == 0 and empty.image.shape == (0, 33, 2) and empty.world.shape == (0, 33, 3)


def test_distinct_people_drops_absent_and_duplicates():
    rng = np.random.default_rng(0)
    base = rng.uniform(0, 100, (33, 2)).astype(np.float32)
    image = np.stack([base, base + 2, base + 60, base + 200])
    batch = LandmarkBatch(
        image=image,
        world=np.zeros((4, 33, 3), np.float32),
        visibility=np.ones((4, 33), np.float32),
        presence=np.ones((4, 33), np.float32),
        score=np.array([0.9, 0.95, 0.8, 0.1], np.float32),
        boxes_from_landmarks=np.zeros((4, 4), np.float32),
        crops=np.zeros((4, 3), np.float32),
        aux=np.zeros((4, 2, 2), np.float32),
    )
    assert distinct_people(batch).tolist() == [1, 2]


@needs_models
def test_a_batch_split_over_interpreters_gives_the_outputs_of_one_call():
    rng = np.random.default_rng(3)
    crops = rng.random((5, 256, 256, 3), dtype=np.float32)
    whole = tflite.BatchedModel(tflite.POSE_LANDMARK_FULL, None, 2, interpreters=1, max_batch=8)
    split = tflite.BatchedModel(tflite.POSE_LANDMARK_FULL, None, 1, interpreters=2, max_batch=2)
    outputs = [d["index"] for d in whole.output_details()]
    for a, b in zip(whole.run(crops, outputs), split.run(crops, outputs), strict=True):
        assert a.shape[0] == 5 and np.array_equal(a, b)
