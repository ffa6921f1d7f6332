"""The `lite` backend: BlazePose people, SegFollow association, inverse kinematics onto SMPL's skeleton.

Per frame:

1. Every live track's Kalman prediction is cropped and run through the landmark model (one batch):
   each crop gives a candidate box (from the landmarks) and a pose score, the lite analogue of SAM2
   propagating a mask. Candidates that are the same person as a better one are dropped, so two tracks
   cannot feed on one person; a track whose crop shows nobody gets no candidate and coasts.
2. On keyframes (every ``keyframe_interval`` frames, and whenever no track is live) the detector runs
   over the whole frame and its people join the candidates, which is where new tracks are born.
3. The shared :class:`~ram_core.tracking.tracker.Tracker` associates candidates to tracks with the
   gated sum of motion (IoU with the Kalman prediction) and appearance (colour histograms, the track's
   EMA memory), with the confidence-gated update.
4. Each confirmed, observed track's landmarks become SMPL rotations (inverse kinematics onto the rest
   skeleton), a root translation from the 2D landmarks and the focal length, then a One-Euro smoother.
   While a track coasts (occluded) the smoother's prediction fills up to ``max_gap`` frames, flagged
   ``predicted``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import cv2
import numpy as np

from ram_core.backends.base import BackendOptions
from ram_core.backends.lite.detector import DetectorConfig, PersonDetector
from ram_core.backends.lite.landmarks import (
    LandmarkBatch,
    LandmarkConfig,
    PoseLandmarker,
    distinct_people,
    find_people,
)
from ram_core.body.blazepose import landmarks_to_rotations
from ram_core.body.camera import solve_translation
from ram_core.body.smoothing import MotionSmoother, SmoothingConfig
from ram_core.contract.ring import empty_records
from ram_core.contract.skeleton import forward_kinematics
from ram_core.contract.smpl_model import DEFAULT_REST_SOURCE, default_rest_joints
from ram_core.tracking.tracker import Tracker, TrackerConfig
from ram_core.video import VideoInfo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiteConfig:
    """Settings of the `lite` backend.

    keyframe_interval: run the whole-frame detector every this many frames (and whenever no track lives).
    detector_passes: detector passes per keyframe (later passes see the people found so far masked out).
    min_pose_score: a crop whose pose flag is below this is "nobody there" (the track coasts).
    duplicate_tolerance: two candidate skeletons closer than this fraction of body height are one person.
    hist_bins: (hue, saturation) bins of each half-body colour histogram used as appearance.
    """

    detector: DetectorConfig = field(default_factory=DetectorConfig)
    landmarks: LandmarkConfig = field(default_factory=LandmarkConfig)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    smoothing: SmoothingConfig = field(default_factory=SmoothingConfig)
    keyframe_interval: int = 10
    detector_passes: int = 2
    min_pose_score: float = 0.5
    duplicate_tolerance: float = 0.2
    hist_bins: tuple[int, int] = (12, 4)


def appearance_features(image_bgr: np.ndarray, boxes: np.ndarray, bins: tuple[int, int]) -> np.ndarray:
    """L2-normalised hue/saturation histograms of the upper and lower half of each box.

    Args:
        image_bgr: ``(H, W, 3)`` uint8 frame.
        boxes: ``(N, 4)`` xyxy pixels.

    Returns:
        ``(N, 2 * bins[0] * bins[1])`` float64; rows of zeros for boxes outside the frame.
    """
    h, w = image_bgr.shape[:2]
    dim = bins[0] * bins[1]
    out = np.zeros((len(boxes), 2 * dim))
    for i, (x0, y0, x1, y1) in enumerate(np.asarray(boxes, dtype=np.float64)):
        # The inner 60% of the width keeps the background at the box's sides out.
        cx, half = (x0 + x1) / 2, 0.3 * (x1 - x0)
        xa, xb = int(max(0, cx - half)), int(min(w, cx + half))
        ya, yb = int(max(0, y0)), int(min(h, y1))
        if xb - xa < 2 or yb - ya < 4:
            continue
        hsv = cv2.cvtColor(image_bgr[ya:yb, xa:xb], cv2.COLOR_BGR2HSV)
        mid = hsv.shape[0] // 2
        for k, part in enumerate((hsv[:mid], hsv[mid:])):
            hist = cv2.calcHist([part], [0, 1], None, list(bins), [0, 180, 0, 256]).reshape(-1)
            out[i, k * dim : (k + 1) * dim] = hist
    norm = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norm > 0, norm, 1.0)


class LiteBackend:
    """The embedded default backend: needs only what MediaPipe 0.10.14's wheel ships."""

    name = "lite"

    def __init__(self, options: BackendOptions | None = None, cfg: LiteConfig | None = None) -> None:
        options = options or BackendOptions()
        cfg = cfg or LiteConfig()
        if options.max_people is not None:
            cfg = _with_max_tracks(cfg, options.max_people)
        self.cfg = cfg
        if options.smpl_model:
            from ram_core.body.smpl_convert import load_smpl_file
            from ram_core.contract.smpl_model import smpl_rest_joints

            self._rest = smpl_rest_joints(load_smpl_file(options.smpl_model))
            self._rest_source = f"smpl:{options.smpl_model}"
        else:
            self._rest = default_rest_joints()
            self._rest_source = DEFAULT_REST_SOURCE
        self._detector: PersonDetector | None = None
        self._landmarker: PoseLandmarker | None = None
        self._tracker = Tracker(cfg.tracker)
        self._smoothers: dict[int, MotionSmoother] = {}
        self._intrinsics = np.eye(3)
        self._fps = 30.0
        self._processed = 0

    @property
    def rest_joints(self) -> np.ndarray:
        return self._rest

    @property
    def rest_source(self) -> str:
        return self._rest_source

    @property
    def betas_fitted(self) -> bool:
        return False

    def open(self, info: VideoInfo, intrinsics: np.ndarray, intrinsics_assumed: bool) -> None:
        self._intrinsics = np.asarray(intrinsics, dtype=np.float64)
        self._fps = float(info.fps) if info.fps > 0 else 30.0
        self._detector = PersonDetector(self.cfg.detector)
        self._landmarker = PoseLandmarker(self.cfg.landmarks)

    def process(self, frame_index: int, image_bgr: np.ndarray) -> np.ndarray:
        if self._detector is None or self._landmarker is None:
            raise RuntimeError("LiteBackend.process before open")
        cfg = self.cfg
        predictions = self._tracker.peek_predictions(frame_index)
        candidates = self._landmarker.estimate(image_bgr, np.array([p.box for p in predictions]).reshape(-1, 4))
        keyframe = not predictions or self._processed % cfg.keyframe_interval == 0
        if keyframe:
            people = find_people(image_bgr, self._detector, self._landmarker, passes=cfg.detector_passes)
            candidates = _concat(candidates, people)
        self._processed += 1
        candidates = candidates.select(
            distinct_people(candidates, min_score=cfg.min_pose_score, tolerance=cfg.duplicate_tolerance)
        )
        boxes = candidates.boxes_from_landmarks.astype(np.float64)
        features = appearance_features(image_bgr, boxes, cfg.hist_bins)
        views = self._tracker.step(frame_index, boxes, candidates.score, features)
        live = {v.track_id for v in views}
        for tid in [t for t in self._smoothers if t not in live]:
            del self._smoothers[tid]

        observed = [v for v in views if v.confirmed and v.observed and v.detection_index >= 0]
        coasting = [v for v in views if v.confirmed and not (v.observed and v.detection_index >= 0)]
        records = [self._observed_records(frame_index, observed, candidates), self._coasting_records(frame_index, coasting)]
        return np.concatenate(records)

    def _observed_records(self, frame_index: int, views: list, candidates: LandmarkBatch) -> np.ndarray:
        if not views:
            return empty_records()
        people = candidates.select(np.array([v.detection_index for v in views]))
        go, bp, _targets = landmarks_to_rotations(people.world, people.visibility, self._rest)
        rel, _ = forward_kinematics(go, bp, self._rest)
        # The world landmarks are hip-centred in the camera's orientation: the translation that projects
        # them onto their pixels puts the hip centre (the SMPL pelvis) in the camera frame.
        hip = solve_translation(people.world, people.image, people.visibility, self._intrinsics)
        rows = []
        for i, v in enumerate(views):
            if not np.all(np.isfinite(hip[i])):
                continue
            smoother = self._smoothers.setdefault(v.track_id, MotionSmoother(self._fps, self.cfg.smoothing))
            rot, transl = smoother.update(frame_index, np.concatenate([go[i : i + 1], bp[i]]), hip[i] - rel[i, 0])
            rows.append((v, rot, transl, False))
        return self._records(frame_index, rows)

    def _coasting_records(self, frame_index: int, views: list) -> np.ndarray:
        rows = []
        for v in views:
            smoother = self._smoothers.get(v.track_id)
            guess = smoother.coast(frame_index) if smoother is not None else None
            if guess is not None:
                rows.append((v, guess[0], guess[1], True))
        return self._records(frame_index, rows)

    def _records(self, frame_index: int, rows: list) -> np.ndarray:
        out = empty_records(len(rows))
        if not rows:
            return out
        rot = np.stack([r[1] for r in rows])
        transl = np.stack([r[2] for r in rows])
        joints, _ = forward_kinematics(rot[:, 0], rot[:, 1:], self._rest, transl)
        out["frame"] = frame_index
        out["track_id"] = [r[0].track_id for r in rows]
        out["global_orient"] = rot[:, 0]
        out["body_pose"] = rot[:, 1:]
        out["transl"] = transl
        out["joints"] = joints
        out["box"] = np.stack([r[0].box for r in rows])
        out["confidence"] = [0.0 if r[3] else r[0].confidence for r in rows]
        out["predicted"] = [r[3] for r in rows]
        return out

    def finish(self) -> np.ndarray:
        return empty_records()

    def close(self) -> None:
        self._detector = None
        self._landmarker = None
        self._smoothers.clear()


def _concat(first: LandmarkBatch, second: LandmarkBatch) -> LandmarkBatch:
    return LandmarkBatch(
        **{name: np.concatenate([getattr(first, name), getattr(second, name)]) for name in first.__dataclass_fields__}
    )


def _with_max_tracks(cfg: LiteConfig, max_people: int) -> LiteConfig:
    from dataclasses import replace

    return replace(cfg, tracker=replace(cfg.tracker, max_tracks=max_people))
