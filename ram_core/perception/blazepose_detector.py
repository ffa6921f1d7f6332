"""Multi-person detection with BlazePose's detector run over overlapping tiles of the frame.

BlazePose's detector (``pose_detection.tflite``) regresses a face box and four keypoints per SSD anchor.
MediaPipe keeps only its best detection; decoding every anchor gives one detection per person. The model
sees a 224x224 image, in which a pedestrian 60-110 px tall in a 768x576 frame would be 20-30 px: too small.
So the frame is cut into overlapping square tiles, in grids of several tile sizes for people at several
distances, each tile resized to 224 and all of them run in one batched call. The detections of all tiles
are mapped back to frame pixels and merged with MediaPipe's weighted NMS on the face boxes. A person's box
comes from the full-body keypoints as in MediaPipe's ``PoseDetectionToRoi``: centred on the mid-hip
keypoint, ``2 r`` tall where ``r`` is the distance from it to the body-circle keypoint. Some detections
are not people (a cloth on the grass, a traffic cone): the landmark model's pose flag rejects them
(``landmarks.find_people``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from ram_core.perception import anchors as ssd
from ram_core.perception.tflite import POSE_DETECTION, BatchedModel
from ram_core.tracking.boxes import iou_matrix

logger = logging.getLogger(__name__)

INPUT_SIZE = 224


@dataclass(frozen=True)
class DetectorConfig:
    """Settings of ``PersonDetector``.

    Attributes:
        tile_sizes: sides of the square tiles in frame pixels, one overlapping grid per size, each tile
            resized to 224x224. A size is best at about twice the height of the people to find; a size at
            least the frame's longer side is one letterboxed whole-frame pass (for people close by).
        tile_overlap: overlap of neighbouring tiles as a fraction of the tile size, in [0, 1).
        min_score: detections scoring below this (after the sigmoid) are dropped (MediaPipe uses 0.5).
        nms_iou: face boxes overlapping more than this IoU are merged (weighted NMS, MediaPipe uses 0.3).
        person_iou: of two person boxes overlapping more than this IoU the lower-scored is dropped (the same
            person seen at two tile sizes can give face boxes too different to merge).
        box_aspect: width / height of the returned person boxes (the detector gives a body height only).
        num_threads: threads of each interpreter.
        interpreters: interpreters running parts of a batch of tiles at once (``tflite.BatchedModel``).
        model_dir: folder holding ``pose_detection.tflite``; None uses the installed mediapipe package.
    """

    tile_sizes: tuple[int, ...] = (200, 400, 768)
    tile_overlap: float = 0.5
    min_score: float = 0.5
    nms_iou: float = 0.3
    person_iou: float = 0.6
    box_aspect: float = 0.5
    num_threads: int = 2
    interpreters: int = 1
    model_dir: str | None = None


@dataclass(frozen=True)
class Detections:
    """People found in one frame, in frame pixels.

    Attributes:
        boxes: (N, 4) float32 person boxes (x0, y0, x1, y1), clipped to the frame.
        scores: (N,) float32 in [0, 1].
        keypoints: (N, 4, 2) float32 (x, y): mid-hip centre, full-body circle point, mid-shoulder centre,
            upper-body circle point (not clipped).
        face_boxes: (N, 4) float32 face boxes (x0, y0, x1, y1) the detector regresses.
    """

    boxes: np.ndarray
    scores: np.ndarray
    keypoints: np.ndarray
    face_boxes: np.ndarray


MAX_BATCH = 32  # tiles per model call


def tile_origins(length: int, tile: int, overlap: float) -> np.ndarray:
    """Start offsets (px) of tiles of side ``tile`` covering ``[0, length)`` with at least ``overlap``.

    A tile at least as long as ``length`` is centred on it (its offset is then <= 0).
    """
    if tile >= length:
        return np.array([(length - tile) // 2], dtype=np.int64)
    step = max(1, int(round(tile * (1.0 - overlap))))
    count = int(np.ceil((length - tile) / step)) + 1
    return np.round(np.linspace(0, length - tile, count)).astype(np.int64)


def weighted_nms(boxes_kp: np.ndarray, scores: np.ndarray, iou_threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """MediaPipe's weighted non-maximum suppression.

    The best remaining detection absorbs every other one whose face box overlaps it by more than
    ``iou_threshold``; the merged box and keypoints are the score-weighted mean of the absorbed ones, the
    merged score is the best one's.

    Args:
        boxes_kp: (M, 12) face box (x0, y0, x1, y1) then 4 keypoints (x, y), any units.
        scores: (M,).

    Returns:
        (K, 12) merged boxes and keypoints, (K,) scores, best first.
    """
    order = np.argsort(-scores, kind="stable")
    boxes_kp, scores = boxes_kp[order], scores[order]
    remaining = np.ones(len(scores), dtype=bool)
    kept_boxes, kept_scores = [], []
    for i in range(len(scores)):
        if not remaining[i]:
            continue
        iou = iou_matrix(boxes_kp[i, :4], boxes_kp[:, :4])[0]
        group = remaining & (iou > iou_threshold)
        group[i] = True
        weights = scores[group]
        kept_boxes.append((boxes_kp[group] * weights[:, None]).sum(axis=0) / weights.sum())
        kept_scores.append(scores[i])
        remaining &= ~group
    if not kept_boxes:
        return np.zeros((0, boxes_kp.shape[1]), np.float32), np.zeros(0, np.float32)
    return np.asarray(kept_boxes, np.float32), np.asarray(kept_scores, np.float32)


def suppress_overlaps(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Hard NMS: indices of the boxes kept, best score first.

    Args:
        boxes: (M, 4) xyxy.
        scores: (M,).
        iou_threshold: a box overlapping a better kept one by more than this is dropped.
    """
    order = np.argsort(-scores, kind="stable")
    kept: list[int] = []
    for i in order:
        if not kept or iou_matrix(boxes[i], boxes[kept]).max() <= iou_threshold:
            kept.append(int(i))
    return np.asarray(kept, dtype=np.int64)


def person_boxes(
    keypoints: np.ndarray, box_aspect: float, width: int | None = None, height: int | None = None
) -> np.ndarray:
    """Upright person boxes from the full-body keypoints.

    Args:
        keypoints: (N, 4, 2) detector keypoints in frame pixels.
        box_aspect: box width / height.
        width, height: frame size in pixels, for clipping; None leaves the boxes whole (a person half out
            of the frame keeps a box centred on their hips, which a landmark crop needs).

    Returns:
        (N, 4) float32 (x0, y0, x1, y1): centred on the mid-hip keypoint, ``2 r`` tall.
    """
    centre = keypoints[:, 0]
    radius = np.linalg.norm(keypoints[:, 1] - keypoints[:, 0], axis=1)
    half = np.stack([radius * box_aspect, radius], axis=1)
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    if width is not None and height is not None:
        boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, width)
        boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, height)
    return boxes.astype(np.float32)


class PersonDetector:
    """Finds every person in a frame with BlazePose's detector over overlapping tiles."""

    def __init__(self, cfg: DetectorConfig = DetectorConfig()) -> None:
        self.cfg = cfg
        self._model = BatchedModel(POSE_DETECTION, cfg.model_dir, cfg.num_threads, cfg.interpreters, MAX_BATCH)
        outputs = {tuple(d["shape"])[-1]: d["index"] for d in self._model.output_details()}
        self._outputs = [outputs[12], outputs[1]]  # raw boxes, score logits
        self._centres, self._groups = ssd.generate_anchors()

    def tiles(self, width: int, height: int) -> list[tuple[int, int, int]]:
        """Square regions (x0, y0, side) in frame pixels that one ``detect`` call runs the model on.

        A region larger than the frame is centred on it (letterbox; x0 or y0 may be negative).
        """
        return [
            (int(x), int(y), side)
            for side in self.cfg.tile_sizes
            for y in tile_origins(height, side, self.cfg.tile_overlap)
            for x in tile_origins(width, side, self.cfg.tile_overlap)
        ]

    def run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Run the model on (B, 224, 224, 3) float32 in [-1, 1]; (B, A, 12) raw boxes, (B, A, 1) logits.

        At most :data:`MAX_BATCH` tiles go into one interpreter call: its working memory grows with the
        batch, and a full sweep of a large frame is hundreds of tiles.
        """
        raw_boxes, raw_scores = self._model.run(
            batch, self._outputs, unbatch=lambda raw, count: ssd.split_batched_output(raw, count, self._groups)
        )
        return raw_boxes, raw_scores

    def detect_all(self, image_bgr: np.ndarray, regions: list[tuple[int, int, int]] | None = None) -> Detections:
        """Detect people in one frame.

        Args:
            image_bgr: (H, W, 3) uint8, BGR as OpenCV decodes it.
            regions: the square regions (x0, y0, side) to run the model on; None runs all of ``tiles``.
                The lite backend passes a few per frame, sweeping the whole frame over several frames.

        Returns:
            ``Detections`` in frame pixels, best score first.
        """
        height, width = image_bgr.shape[:2]
        regions = self.tiles(width, height) if regions is None else list(regions)
        if not regions:
            empty = np.zeros((0, 4), np.float32)
            return Detections(empty, np.zeros(0, np.float32), np.zeros((0, 4, 2), np.float32), empty)
        # Each tile turned to RGB after resizing and scaled in place: the same values as converting the whole
        # frame first and scaling into new arrays, in a third to a half of the time (4 tiles of vtest.avi).
        batch = np.empty((len(regions), INPUT_SIZE, INPUT_SIZE, 3), np.float32)
        for i, (x0, y0, side) in enumerate(regions):
            batch[i] = cv2.cvtColor(square_crop(image_bgr, x0, y0, side, INPUT_SIZE), cv2.COLOR_BGR2RGB)
        batch /= np.float32(127.5)
        batch -= np.float32(1.0)
        raw_boxes, raw_scores = self.run(batch)
        boxes_kp, scores = ssd.decode(raw_boxes, raw_scores, self._centres)
        keep = scores >= self.cfg.min_score
        origin = np.array([[x0, y0] for x0, y0, _ in regions], np.float32)
        scale = np.array([side for _, _, side in regions], np.float32)
        tile_index = np.nonzero(keep)[0]
        found = boxes_kp[keep].reshape(-1, 6, 2) * scale[tile_index, None, None] + origin[tile_index, None, :]
        merged, merged_scores = weighted_nms(found.reshape(-1, 12), scores[keep], self.cfg.nms_iou)
        keypoints = merged[:, 4:].reshape(-1, 4, 2)
        boxes = person_boxes(keypoints, self.cfg.box_aspect, width, height)
        keep = suppress_overlaps(boxes, merged_scores, self.cfg.person_iou)
        logger.debug("%d tiles, %d raw detections, %d people", len(regions), len(found), len(keep))
        return Detections(
            boxes=boxes[keep],
            scores=merged_scores[keep],
            keypoints=keypoints[keep],
            face_boxes=merged[keep, :4],
        )

    def detect(self, image_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Person boxes (N, 4) float32 (x0, y0, x1, y1) in frame pixels and scores (N,) in [0, 1]."""
        found = self.detect_all(image_bgr)
        return found.boxes, found.scores


def square_crop(image: np.ndarray, x0: int, y0: int, side: int, size: int) -> np.ndarray:
    """The square ``[x0, x0+side) x [y0, y0+side)`` of ``image`` resized to (size, size), zeros outside.

    Args:
        image: (H, W, C) uint8.
        x0, y0: top-left corner in pixels (may be negative).
        side: square side in pixels.
        size: output side in pixels.

    Returns:
        (size, size, C) uint8.
    """
    height, width = image.shape[:2]
    ix0, iy0 = max(x0, 0), max(y0, 0)
    ix1, iy1 = min(x0 + side, width), min(y0 + side, height)
    canvas = np.zeros((side, side, image.shape[2]), image.dtype)
    if ix1 > ix0 and iy1 > iy0:
        canvas[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0] = image[iy0:iy1, ix0:ix1]
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    return cv2.resize(canvas, (size, size), interpolation=interpolation)
