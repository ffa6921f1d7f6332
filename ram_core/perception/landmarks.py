"""BlazePose 33-landmark 2D + 3D pose for every person of a frame, in one batched model call.

Each person box becomes a square crop (``crop_scale`` times its longer side, centred, zeros outside the
frame) resized to 256x256 and fed to ``pose_landmark_full.tflite``; the outputs are decoded as MediaPipe's
``PoseLandmarkByRoiCpu`` does (sigmoid on visibility and presence, heatmap refinement of x and y with a
7x7 kernel, the first 33 of 39 landmarks kept) and mapped back to frame pixels. ``estimate`` crops are axis-aligned
(MediaPipe rotates them so the body is upright; pedestrians already are); ``estimate_rois`` also takes turned
squares (``roi_from_landmarks``, MediaPipe's region of interest from the previous pose), whose world landmarks
are turned back. ``benchmarks/landmark_rois.py`` measured neither turning nor MediaPipe's ROI to beat the
ground-truth box's axis-aligned crop (docs/evaluation.md).

Typical use: ``batch = landmarker.estimate(frame, boxes)`` then ``batch.select(distinct_people(batch))``
drops the detector's false positives (their pose flag is low) and duplicate boxes on one person.
``find_people`` does this on a keyframe, with a second detector pass over the frame with the people
already found painted out: BlazePose's detector was trained on one person per image and often fires once
for two people side by side.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from ram_core.body.blazepose import LANDMARK_NAMES, LM, NUM_LANDMARKS
from ram_core.perception.blazepose_detector import PersonDetector, person_boxes, square_crop
from ram_core.perception.tflite import POSE_LANDMARK_FULL, BatchedModel

logger = logging.getLogger(__name__)

INPUT_SIZE = 256
#: The model regresses 39 points: 33 landmarks, then auxiliary ones; 33 is the mid-hip centre and 34 a point
#: whose distance to it is the radius of the body circle (the same as the detector's keypoints 0 and 1).
NUM_MODEL_POINTS = 39
AUX_HIP_CENTRE, AUX_BODY_CIRCLE = 33, 34
HEATMAP_KERNEL = 7
HEATMAP_MIN_CONFIDENCE = 0.5


@dataclass(frozen=True)
class LandmarkConfig:
    """Settings of ``PoseLandmarker``.

    Attributes:
        crop_scale: crop side / the box's longer side. With the detector's boxes (``2 r`` tall) the default
            gives MediaPipe's region of interest (``1.25 * 2 r``).
        box_aspect: width / height of ``boxes_from_landmarks`` (as ``DetectorConfig.box_aspect``).
        max_batch: most crops per interpreter call. Each crop's output is the same in any batch, but the
            time per crop is not: on 2 cores (2 threads) 7.7 ms alone, 7.0-7.3 ms in batches of 2-6, 7.6-8.0 ms
            in batches of 8-12. With 4, the landmark model took 6% less time on vtest.avi frames 0-199 than with
            16 (whole batches), 5 saved 5%. Changing the batch size from call to call (the interpreter
            resized) costs nothing measurable: batches of 4, 3, 1, 2 crops took 22.7 ms a crop on one
            interpreter resized each time, 22.2 on one interpreter per size (interleaved, a loaded machine).
        num_threads: threads of each interpreter.
        interpreters: interpreters running parts of a batch of crops at once (``tflite.BatchedModel``). On
            2 cores (shared with other jobs) neither won consistently: on vtest.avi frames 0-199, 1 x 2 threads
            ran 8.0, 10.4 and 7.4 frames/s, 2 x 1 ran 7.4, 9.7 and 9.2, 1 x 1 6.2 (benchmarks/lite_scaling.py),
            records identical in every case.
        model_dir: folder holding ``pose_landmark_full.tflite``; None uses the installed mediapipe package.
        flip: also run the model on every crop mirrored left to right and average the two poses
            (``PoseLandmarker.estimate_rois``): twice the model's work. On the synthetic suite's tuning clips
            (ground-truth boxes, ``benchmarks/landmark_rois.py``) it took the world landmarks' PA-MPJPE from
            77.7 to 75.0 mm and the 2D keypoints' mean error from 4.62 to 4.52 px (median 2.78 and 2.82: the
            two passes' 2D errors are mostly one error). A full suite run with it: PA-MPJPE 69.4 instead of
            70.5 mm (0.83 of the raw landmarks instead of 0.84), but consistency 0.917 instead of 0.944 and
            coverage 0.940 instead of 0.953 (three_crossing), so it is off.
        heatmap_power: the heatmap refinement weighs each cell of the 7x7 window around a point by its
            confidence to this power (``refine_from_heatmap``; MediaPipe's 1). The confidences are sigmoids,
            flat near 1 over the peak and not near 0 around it, so a power sharpens the mean. On the synthetic
            suite's ground-truth boxes (``benchmarks/landmark_rois.py``) 4 took the median 2D error from 2.78
            to 2.61 px on the tuning clips and from 3.18 to 2.93 px on the five others (means 1.5% lower), but
            in a full suite run the tuning clips' PA-MPJPE rose (couple 76.9 -> 77.4, crouch 49.2 -> 50.4,
            toward_away 70.7 -> 70.9 mm on the same frames) and the tracks changed (cross_hidden's coverage
            1.0 -> 0.84, three_crossing's consistency 0.92 -> 0.75): so 1.
    """

    crop_scale: float = 1.25
    box_aspect: float = 0.5
    max_batch: int = 4
    num_threads: int = 2
    interpreters: int = 1
    model_dir: str | None = None
    flip: bool = False
    heatmap_power: float = 1.0


@dataclass(frozen=True)
class LandmarkBatch:
    """Pose of N people in one frame.

    Attributes:
        image: (N, 33, 2) float32 landmark (x, y) in frame pixels.
        world: (N, 33, 3) float32 metric landmarks in metres, origin at the hip centre, MediaPipe's axes
            (x right, y down, z away from the camera, as seen in the image).
        visibility: (N, 33) float32 in [0, 1], likelihood the landmark is visible (not occluded).
        presence: (N, 33) float32 in [0, 1], likelihood the landmark lies inside the crop.
        score: (N,) float32 in [0, 1], the model's pose-present flag (MediaPipe drops poses below 0.5).
        boxes_from_landmarks: (N, 4) float32 (x0, y0, x1, y1) frame pixels: the next frame's box for this
            person, built from the auxiliary hip-centre and body-circle landmarks exactly as the detector
            builds its boxes (MediaPipe's landmarks-to-ROI step), clipped to the frame.
        crops: (N, 3) float32 (x0, y0, side) of the square crops used, frame pixels (before any rotation).
        aux: (N, 2, 2) float32 the auxiliary hip-centre and body-circle points (x, y), frame pixels: the next
            frame's region of interest (``roi_from_landmarks``).
    """

    image: np.ndarray
    world: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    score: np.ndarray
    boxes_from_landmarks: np.ndarray
    crops: np.ndarray
    aux: np.ndarray

    def __len__(self) -> int:
        return len(self.score)

    def select(self, indices: np.ndarray) -> LandmarkBatch:
        """The people at ``indices`` (int array or boolean mask over N), in that order."""
        return LandmarkBatch(**{name: getattr(self, name)[indices] for name in self.__dataclass_fields__})


#: Landmarks compared by ``distinct_people``: shoulders, elbows, wrists, hips, knees, ankles.
BODY_PARTS = ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
BODY_LANDMARKS = tuple(LM[f"{side}_{part}"] for part in BODY_PARTS for side in ("left", "right"))


def distinct_people(batch: LandmarkBatch, min_score: float = 0.5, tolerance: float = 0.2) -> np.ndarray:
    """Indices of the poses to keep: present (score >= min_score) and not a duplicate of a better one.

    Two boxes on one person (the detector sees some people at two tile sizes) give two nearly equal
    skeletons; their boxes can differ too much for box overlap to tell, and a person behind another has a
    box overlapping theirs. A pose is a duplicate when the median distance of its body landmarks to those of
    a better-scored kept pose is below ``tolerance`` times the taller pose's height (extent of its landmarks
    in y). On vtest.avi duplicates measured 0.14-0.25 (the larger when the two crops differ in scale), two
    people walking side by side 0.29-0.5, so some duplicates pass: the tracker must absorb them.

    Returns:
        (K,) int64 indices into ``batch``, best score first.
    """
    order = [int(i) for i in np.argsort(-batch.score, kind="stable") if batch.score[i] >= min_score]
    body = batch.image[:, BODY_LANDMARKS]
    heights = np.ptp(batch.image[:, :, 1], axis=1)
    kept: list[int] = []
    for i in order:
        if not any(
            np.median(np.linalg.norm(body[i] - body[j], axis=1)) < tolerance * max(heights[i], heights[j]) for j in kept
        ):
            kept.append(i)
    return np.asarray(kept, dtype=np.int64)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (0.5 + 0.5 * np.tanh(0.5 * x)).astype(np.float32)


def crop_regions(boxes: np.ndarray, crop_scale: float) -> np.ndarray:
    """Integer square crops (x0, y0, side) centred on boxes (N, 4) xyxy, side = crop_scale * longer side."""
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    side = np.maximum(np.round(np.max(boxes[:, 2:] - boxes[:, :2], axis=1) * crop_scale), 8)
    origin = np.round(centre - side[:, None] / 2)
    return np.concatenate([origin, side[:, None]], axis=1).astype(np.int64)


def box_rois(boxes: np.ndarray, crop_scale: float) -> np.ndarray:
    """Axis-aligned regions of interest ``(N, 4)`` (centre x, centre y, side, angle 0) of the integer square
    crops ``crop_regions`` makes of boxes ``(N, 4)`` xyxy."""
    crops = crop_regions(np.asarray(boxes, np.float64).reshape(-1, 4), crop_scale).astype(np.float64)
    return np.stack([crops[:, 0] + crops[:, 2] / 2, crops[:, 1] + crops[:, 2] / 2, crops[:, 2], 0 * crops[:, 2]], 1)


def roi_from_landmarks(aux: np.ndarray, crop_scale: float = 1.25) -> np.ndarray:
    """MediaPipe's region of interest from a pose's auxiliary points (``PoseLandmarksToRoi``).

    Centred on the hip centre, a square ``2 r crop_scale`` wide (``r`` the distance from the hip centre to
    the body-circle point), turned so that the body-circle point is straight above the hip centre in the
    crop (MediaPipe's ``AlignmentPointsRectsCalculator``, target angle 90 degrees).

    Args:
        aux: ``(N, 2, 2)`` hip centre and body-circle point (x, y), frame pixels.
        crop_scale: side / ``2 r`` (MediaPipe 1.25).

    Returns:
        ``(N, 4)`` float64 (centre x, centre y, side, angle): angle in radians, positive when the body's top
        leans to the image's right; in [-pi, pi).
    """
    aux = np.asarray(aux, np.float64).reshape(-1, 2, 2)
    delta = aux[:, 1] - aux[:, 0]
    side = 2 * crop_scale * np.maximum(np.linalg.norm(delta, axis=1), 4.0)
    angle = np.pi / 2 - np.arctan2(-delta[:, 1], delta[:, 0])
    angle = (angle + np.pi) % (2 * np.pi) - np.pi
    return np.stack([aux[:, 0, 0], aux[:, 0, 1], side, angle], axis=1)


def roi_to_frame(roi: np.ndarray) -> np.ndarray:
    """``(N, 2, 3)`` affine maps from crop-normalised (u, v) in [0, 1] to frame pixels of regions ``(N, 4)``
    (centre x, centre y, side, angle): ``p = centre + side R(angle) ((u, v) - 0.5)``."""
    roi = np.asarray(roi, np.float64).reshape(-1, 4)
    cos, sin = np.cos(roi[:, 3]), np.sin(roi[:, 3])
    linear = roi[:, 2, None, None] * np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], 1)
    offset = roi[:, :2] - 0.5 * linear.sum(axis=2)
    return np.concatenate([linear, offset[:, :, None]], axis=2)


def rotated_crop(image: np.ndarray, roi: np.ndarray, size: int) -> np.ndarray:
    """The region ``roi`` (centre x, centre y, side, angle) of ``image`` resampled to ``(size, size)``
    (bilinear, zeros outside the frame); pixel centres at half-integers in both, as ``roi_to_frame`` maps."""
    affine = roi_to_frame(roi)[0]
    linear = affine[:, :2] / size
    # Output pixel (i, j) has crop coordinates ((i + 0.5) / size, ...); the frame pixel index is p - 0.5.
    offset = affine[:, 2] + linear @ np.array([0.5, 0.5]) - 0.5
    matrix = np.concatenate([linear, offset[:, None]], axis=1)
    return cv2.warpAffine(
        image, matrix, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT
    )


def _mirrored(name: str) -> str:
    for side, other in (("left", "right"), ("right", "left")):
        if side in name:
            return name.replace(side, other)
    return name


#: The model's 39 points with left and right swapped (the nose and the auxiliary points map to themselves).
MIRRORED = np.array([LM[_mirrored(n)] for n in LANDMARK_NAMES] + list(range(NUM_LANDMARKS, NUM_MODEL_POINTS)))


def refine_from_heatmap(points: np.ndarray, heatmap: np.ndarray, power: float = 1.0) -> np.ndarray:
    """MediaPipe's ``RefineLandmarksFromHeatmapCalculator`` (kernel 7, refine when max confidence >= 0.5).

    Args:
        points: (N, K, 2) landmark (x, y) normalised to [0, 1] of the crop.
        heatmap: (N, h, w, >=K) logits.
        power: the weights are the confidences to this power (MediaPipe's: 1; ``LandmarkConfig.heatmap_power``).

    Returns:
        (N, K, 2) refined points: each point within the heatmap whose 7x7 neighbourhood (cut at the heatmap's
        edges) holds a sigmoid confidence >= 0.5 moves to the confidence-weighted mean of that neighbourhood.
    """
    count, keys = points.shape[:2]
    height, width = heatmap.shape[1:3]
    half = (HEATMAP_KERNEL - 1) // 2
    col = np.floor(points[..., 0] * width).astype(np.int64)
    row = np.floor(points[..., 1] * height).astype(np.int64)
    inside = (col >= 0) & (col < width) & (row >= 0) & (row < height)
    offsets = np.arange(-half, half + 1)
    cols = col[..., None] + offsets
    rows = row[..., None] + offsets
    col_ok = (cols >= 0) & (cols < width)
    row_ok = (rows >= 0) & (rows < height)
    conf = _sigmoid(
        heatmap[
            np.arange(count)[:, None, None, None],
            np.clip(rows, 0, height - 1)[..., :, None],
            np.clip(cols, 0, width - 1)[..., None, :],
            np.arange(keys)[None, :, None, None],
        ]
    )
    conf = conf * (row_ok[..., :, None] & col_ok[..., None, :])
    peak = conf.max(axis=(-1, -2))
    if power != 1.0:
        conf = conf**power
    total = conf.sum(axis=(-1, -2))
    refine = inside & (peak >= HEATMAP_MIN_CONFIDENCE) & (total > 0)
    safe = np.where(total > 0, total, 1.0)
    mean_col = (conf * cols[..., None, :]).sum(axis=(-1, -2)) / safe
    mean_row = (conf * rows[..., :, None]).sum(axis=(-1, -2)) / safe
    refined = np.stack([mean_col / width, mean_row / height], axis=-1)
    return np.where(refine[..., None], refined, points).astype(np.float32)


class PoseLandmarker:
    """33 BlazePose landmarks (image and metric world) for each person box of a frame."""

    def __init__(self, cfg: LandmarkConfig = LandmarkConfig()) -> None:
        self.cfg = cfg
        self._model = BatchedModel(POSE_LANDMARK_FULL, cfg.model_dir, cfg.num_threads, cfg.interpreters, cfg.max_batch)
        self._outputs = self._output_indices()

    def _output_indices(self) -> dict[str, int]:
        """Output tensor index by role, recognised from the shapes (names are only Identity_k)."""
        roles = {}
        for detail in self._model.output_details():
            shape = tuple(detail["shape"][1:])
            role = {
                (NUM_MODEL_POINTS * 5,): "landmarks",
                (NUM_MODEL_POINTS * 3,): "world",
                (1,): "flag",
                (64, 64, NUM_MODEL_POINTS): "heatmap",
            }.get(shape)
            if role is not None:
                roles[role] = detail["index"]
        missing = {"landmarks", "world", "flag", "heatmap"} - roles.keys()
        if missing:
            raise ValueError(f"pose landmark model lacks outputs {sorted(missing)}: not pose_landmark_full?")
        return roles

    def run(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        """Run the model on (B, 256, 256, 3) float32 RGB in [0, 1]; raw outputs by role, batch first."""
        return dict(zip(self._outputs, self._model.run(batch, list(self._outputs.values())), strict=True))

    def estimate(self, image_bgr: np.ndarray, boxes: np.ndarray) -> LandmarkBatch:
        """Landmarks of the person in each box.

        Args:
            image_bgr: (H, W, 3) uint8 frame, BGR as OpenCV decodes it.
            boxes: (N, 4) person boxes (x0, y0, x1, y1) in frame pixels (N may be 0).

        Returns:
            ``LandmarkBatch`` of N people, in the order of ``boxes``.
        """
        return self.estimate_rois(image_bgr, box_rois(boxes, self.cfg.crop_scale))

    def estimate_rois(self, image_bgr: np.ndarray, rois: np.ndarray, flip: bool | None = None) -> LandmarkBatch:
        """Landmarks of the person in each region of interest.

        Args:
            image_bgr: (H, W, 3) uint8 frame, BGR.
            rois: (N, 4) squares (centre x, centre y, side, angle) in frame pixels and radians (``box_rois``,
                ``roi_from_landmarks``). One with angle 0 and an integer corner and side is cropped as is
                (``square_crop``), any other one resampled (``rotated_crop``).
            flip: also run the model on each crop mirrored left to right and average the two poses (left and
                right swapped back): twice the model's work. None: ``LandmarkConfig.flip``.

        Returns:
            ``LandmarkBatch`` of N people, in the order of ``rois``.
        """
        height, width = image_bgr.shape[:2]
        rois = np.asarray(rois, np.float64).reshape(-1, 4)
        if not len(rois):
            return _empty()
        corner = rois[:, :2] - rois[:, 2:3] / 2
        whole = (rois[:, 3] == 0) & np.all(corner == np.round(corner), axis=1) & (rois[:, 2] == np.round(rois[:, 2]))
        # Cropped from the BGR frame and each crop turned to RGB: half the time of cropping a channel-reversed
        # view of the frame, with the same pixels.
        batch = np.stack(
            [
                cv2.cvtColor(
                    square_crop(image_bgr, int(x0), int(y0), int(roi[2]), INPUT_SIZE)
                    if ok
                    else rotated_crop(image_bgr, roi[None], INPUT_SIZE),
                    cv2.COLOR_BGR2RGB,
                )
                for (x0, y0), roi, ok in zip(corner, rois, whole, strict=True)
            ]
        ).astype(np.float32)
        batch /= np.float32(255.0)
        count = len(rois)
        flip = self.cfg.flip if flip is None else flip
        if flip:
            batch = np.concatenate([batch, batch[:, :, ::-1]])
        out = self.run(batch)
        points = out["landmarks"].reshape(len(batch), NUM_MODEL_POINTS, 5)
        normalised = points[..., :2] / INPUT_SIZE
        # Each pass refined in its own crop's coordinates: the heatmap's cell c stands for c / 64 (MediaPipe's
        # convention, which the model's training matches), so a mirrored heatmap read in the original crop's
        # coordinates would be one cell off.
        refined = refine_from_heatmap(normalised[:, :NUM_LANDMARKS], out["heatmap"], self.cfg.heatmap_power)
        visibility = _sigmoid(points[:, :NUM_LANDMARKS, 3])
        presence = _sigmoid(points[:, :NUM_LANDMARKS, 4])
        aux_uv = normalised[:, [AUX_HIP_CENTRE, AUX_BODY_CIRCLE]]
        world = out["world"].reshape(len(batch), NUM_MODEL_POINTS, 3)[:, :NUM_LANDMARKS]
        flag = out["flag"].reshape(len(batch))
        if flip:
            swap = MIRRORED[:NUM_LANDMARKS]
            refined, visibility, presence, world = (
                np.concatenate([x[:count], x[count:][:, swap]]) for x in (refined, visibility, presence, world)
            )
            for x in (refined, aux_uv):
                x[count:, :, 0] = 1 - x[count:, :, 0]
            world[count:, :, 0] *= -1
            refined, visibility, presence, aux_uv, world, flag = (
                0.5 * (x[:count] + x[count:]) for x in (refined, visibility, presence, aux_uv, world, flag)
            )
        affine = roi_to_frame(rois)
        image = np.einsum("nij,nkj->nki", affine[:, :, :2], refined) + affine[:, None, :, 2]
        aux = np.einsum("nij,nkj->nki", affine[:, :, :2], aux_uv) + affine[:, None, :, 2]
        # World landmarks come in the crop's axes: turned back by the crop's angle about the camera's axis.
        cos, sin = np.cos(rois[:, 3])[:, None], np.sin(rois[:, 3])[:, None]
        world = world.astype(np.float64)
        world = np.stack(
            [cos * world[..., 0] - sin * world[..., 1], sin * world[..., 0] + cos * world[..., 1], world[..., 2]], -1
        )
        return LandmarkBatch(
            image=image.astype(np.float32),
            world=world.astype(np.float32),
            visibility=visibility,
            presence=presence,
            score=np.clip(flag, 0.0, 1.0).astype(np.float32),
            boxes_from_landmarks=person_boxes(np.concatenate([aux, aux], axis=1), self.cfg.box_aspect, width, height),
            crops=np.concatenate([corner, rois[:, 2:3]], axis=1).astype(np.float32),
            aux=aux.astype(np.float32),
        )


def _empty() -> LandmarkBatch:
    return LandmarkBatch(
        image=np.zeros((0, NUM_LANDMARKS, 2), np.float32),
        world=np.zeros((0, NUM_LANDMARKS, 3), np.float32),
        visibility=np.zeros((0, NUM_LANDMARKS), np.float32),
        presence=np.zeros((0, NUM_LANDMARKS), np.float32),
        score=np.zeros(0, np.float32),
        boxes_from_landmarks=np.zeros((0, 4), np.float32),
        crops=np.zeros((0, 3), np.float32),
        aux=np.zeros((0, 2, 2), np.float32),
    )


def mask_people(image_bgr: np.ndarray, batch: LandmarkBatch, pad: float = 0.05) -> np.ndarray:
    """A copy of the frame with each person's landmark box painted mid-grey (the detector's zero input).

    Args:
        image_bgr: (H, W, 3) uint8.
        batch: poses whose people to paint out.
        pad: padding as a fraction of the landmark extent's height (three times that above, for the head).
    """
    masked = image_bgr.copy()
    height, width = image_bgr.shape[:2]
    for points in batch.image:
        (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
        margin = pad * (y1 - y0)
        left, right = int(max(x0 - margin, 0)), int(min(x1 + margin, width))
        top, bottom = int(max(y0 - 3 * margin, 0)), int(min(y1 + margin, height))
        masked[top:bottom, left:right] = 128
    return masked


def find_people(
    image_bgr: np.ndarray, detector: PersonDetector, landmarker: PoseLandmarker, passes: int = 2
) -> LandmarkBatch:
    """Everyone in a frame: detect, estimate landmarks, keep distinct present poses, repeat on the masked frame.

    Args:
        image_bgr: (H, W, 3) uint8 frame, BGR.
        detector, landmarker: the models.
        passes: detector passes; each after the first runs on the frame with the people found so far
            painted out (``mask_people``), which finds people hidden beside another one.

    Returns:
        ``LandmarkBatch`` of distinct people (landmarks always estimated on the unmasked frame).
    """
    found = _empty()
    view = image_bgr
    for _ in range(passes):
        boxes, _scores = detector.detect(view)
        batch = landmarker.estimate(image_bgr, boxes)
        merged = concat_batches(found, batch)
        previous = len(found)
        found = merged.select(distinct_people(merged))
        logger.debug("detector pass: %d boxes, %d people so far", len(boxes), len(found))
        if len(found) == previous:
            break
        view = mask_people(image_bgr, found)
    return found


def concat_batches(first: LandmarkBatch, second: LandmarkBatch) -> LandmarkBatch:
    """The people of ``first`` then those of ``second``."""
    return LandmarkBatch(
        **{name: np.concatenate([getattr(first, name), getattr(second, name)]) for name in first.__dataclass_fields__}
    )
