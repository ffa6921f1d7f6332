"""The `lite` backend: BlazePose people, SegFollow association, inverse kinematics onto SMPL's skeleton.

Per frame:

1. Every live track's Kalman prediction is cropped (a track lost for long only every other frame: ``long_coast``)
   and run through the landmark model (one batch):
   each crop gives a candidate pose and a pose score, the lite analogue of SAM2 propagating a mask.
   Two crops that found one person (a track's crop slid onto a neighbour) keep the better-scored
   pose; the other crop is run again with the people already found painted out
   (:func:`~ram_core.perception.people.paint_people`), which shows the model the person hidden beside them. A crop that shows
   nobody gives no candidate and its track coasts.
2. The detector looks for people nobody tracks: it runs on the frame with every found person painted
   out, on a few of its tiles per frame, so the whole frame is swept once every ``sweep_frames``
   frames (all tiles at once while nobody is tracked), less the tiles that look as they did when it last ran
   on them (``still_change``). Its boxes go through the landmark model and
   join the candidates; duplicates of tracked people are dropped as in step 1.
3. Each candidate's box is the extent of its 33 landmarks, padded to the head top and the soles
   (:func:`~ram_core.perception.people.landmark_boxes`): tight, so two people side by side overlap little. The shared
   :class:`~ram_core.tracking.tracker.Tracker` associates them to tracks with the gated sum of motion
   (IoU with the Kalman prediction) and appearance (colour histograms of the person's own torso and legs,
   the track's EMA memory), with the confidence-gated update; the next frame's crop is that box scaled by ``roi_scale``, which
   gives MediaPipe's own region of interest. A track born across the picture's edge where a confirmed track left
   it shortly before, in that person's colours, continues that track (``reentry``: a person coming back).
4. Each observed track's landmarks become SMPL rotations (inverse kinematics onto the rest
   skeleton), a root translation that projects that posed skeleton onto the 2D landmarks with the
   focal length (a robust solve, :func:`~ram_core.body.camera.solve_translation`), then a One-Euro
   smoother whose depth gate holds a frame's outlying depth at the track's recent one. A tentative track's frames are held back and sent once it is confirmed (a person is
   captured from the frame they were first found, and from earlier frames where looking back with the
   landmark model finds them: ``look_back``), or dropped if it ends unconfirmed (in a capture shorter than
   confirming takes, one seen on each of its frames is kept: ``finish``). A track that
   coasts (occluded) sends nothing; when it is seen again within the smoother's ``max_gap`` frames,
   the gap is filled by interpolating between the frames on either side (rotations slerped,
   translation and box linear), flagged ``predicted``. A track that never comes back leaves no
   invented frames behind.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from ram_core.backends.lite.look_back import LookBackConfig, look_back
from ram_core.backends.lite.reentry import Reentries, ReentryConfig
from ram_core.backends.lite.sweep import StillTiles, sweep_order
from ram_core.backends.records import pose_records, rest_skeleton
from ram_core.body.blazepose import landmarks_to_rotations, skeleton_landmarks, smpl_pixels
from ram_core.body.camera import solve_translation
from ram_core.body.smoothing import MotionSmoother, SmoothingConfig
from ram_core.contract.options import CaptureOptions
from ram_core.contract.ring import empty_records
from ram_core.contract.skeleton import forward_kinematics
from ram_core.perception.blazepose_detector import DetectorConfig, PersonDetector, person_boxes
from ram_core.perception.landmarks import (
    LandmarkBatch,
    LandmarkConfig,
    PoseLandmarker,
    concat_batches,
    distinct_people,
)
from ram_core.perception.people import appearance_features, landmark_boxes, paint_people
from ram_core.scene.gaps import fill_gaps
from ram_core.tracking.association import with_association
from ram_core.tracking.boxes import inside_fraction, iou_matrix, scale_boxes
from ram_core.tracking.tracker import Tracker, TrackerConfig, TrackView
from ram_core.video import VideoInfo

log = logging.getLogger(__name__)

CROP_REASONS = (
    "track seen",
    "track lost",
    "track lost long",
    "new track seen",
    "new track lost",
    "new track lost long",
    "detector box",
    "look back",
)
"""Why a landmark crop runs, by code (the index): a track's prediction (:func:`crop_reasons`), a detector's box, a
look back. A crop run again with the people already found painted out has its first run's code plus ``AGAIN``."""
DETECTOR_BOX, LOOK_BACK, AGAIN = 6, 7, len(CROP_REASONS)


def crop_reason(code: int) -> str:
    """The name of a crop reason ``code``: ``CROP_REASONS``'s, after "again: " for each time it was run again."""
    return "again: " * (int(code) // AGAIN) + CROP_REASONS[int(code) % AGAIN]


@dataclass(frozen=True)
class LiteConfig:
    """Settings of the `lite` backend.

    tracker: the shared tracker's settings, confirming a track after 5 observed frames (not 3): every crop
      gives a candidate every frame, and on vtest.avi the 3-frame tracks were a second person's skeleton
      sliding onto a pair walking side by side; a confirmed track's first frames are sent anyway. The motion
      gate is the chi-square 99.9% quantile (13.8, not 5.99): boxes built from landmarks jitter more than a
      detector's (a far person's box changed width by half between frames), and 5.99 ended young tracks.
      coast_iou 0.5 (coast_frames 8): a coasting track lying on an observed one ends (in the synthetic toward_away clip a
      skeleton found on one man's legs coasted on him and later took him over). part_inside 0.9: that
      skeleton on his legs, inside his box, is him. duplicate_gap 15: two tracks seen together on one man now
      and then are one person (`TrackerConfig`).

    sweep_frames: the detector covers the whole frame once every this many frames, a few tiles per frame
      (all tiles on a frame where no track lives). At 10 frames/s the default looks at every place once a
      second. On vtest.avi frames 0-199, 10 instead of 5 found the same people (16 tracks, 1036 vs 1041
      observed person-frames) at 8.8 instead of 6.3 frames/s (benchmarks/lite_capture.py). Each frame takes
      ``ceil(tiles / sweep_frames)`` tiles (5 of 42 on vtest.avi, a sweep every 8.4 frames): an exact
      10-frame sweep (4.2 tiles a frame) lost a track there (16 tracks, 1006 person-frames instead of 17 and
      1024), and tiles touching the frame's edge every 10 frames with the others every 20 or 30 lost four
      (13 tracks, 983-988): people come out from behind others inside the frame too. People entering are not
      late because of the sweep (benchmarks/entry_delays.py): on the synthetic suite's walk-ins the detector
      first finds them 5-14 frames after they show, once 0.90-1.00 of their box is inside the picture (0.40
      for one far man); every tile on every frame (31 instead of 4.4 a frame) finds them one frame sooner
      (0.87-0.94 inside; the far man 5 sooner) and the records, looking back, start 0-3 frames sooner than
      the default's 3-11; a man who comes back for the last 4 frames
      of fast_10fps is found 2 frames in either way and is not confirmed before the clip ends. Edge tiles
      added every 2nd frame (2.2x the tiles run) left the entries as late and cost three_crossing 2 tracks;
      only the empty edge tiles (+0.1-0.5 tiles run) changed nothing on the suite (HOTA 69.9, IDSW 7);
      the tiles over lost tracks' predictions cost it 0.018 identity consistency (vtest.avi: 15 tracks).
    min_pose_score: a crop whose pose flag is below this is "nobody there" (the track coasts).
    duplicate_tolerance: two candidate skeletons closer than this fraction of body height are one person.
    hist_bins: (hue, saturation) bins of the torso and the legs colour histograms used as appearance
      (`appearance_features`: each person's own pixels, found from their landmarks).
    box_pad: (top, sides, bottom) padding of the landmark extent, as fractions of its height: the top
      landmarks are the eyes and ears, so the head top is about 0.1 above them.
    box_aspect: smallest width / height of a person's box (``landmark_boxes``).
    roi_scale: a padded landmark box scaled about its centre by this is MediaPipe's region of interest
      (the box the landmark model's crop is built from): on vtest.avi that box measured 1.12-1.24 times
      the landmark extent's height, centred on it.
    paint_width: limb thickness of a painted-out person, as a fraction of their height.
    min_inside: a track whose predicted box has less than this fraction of its area inside the frame is not
      cropped (it is leaving; it coasts and ends).
    long_coast, long_coast_every: a track not seen for more than ``long_coast`` frames is cropped on every
      ``long_coast_every``-th frame only (tracks taking turns, :func:`crop_now`). On vtest.avi frames 0-199
      crops of tracks lost for 10 frames or more were 0.8 of the 8.2 crops a frame and found their person on
      3 of 161 frames. After 15 frames, every 2nd frame: the same 17 tracks frame for frame (1024 person-frames),
      7.72 crops a frame (8.04 without, both with the still tiles skipped). After 10: 1023 person-frames, 7.57
      crops, but the synthetic three_crossing clip lost 0.6% of its coverage (0.953 -> 0.947); every 3rd frame
      after 10 lost 6 person-frames on vtest.avi, after 5 a track. With the still tiles skipped as now (7.86
      crops a frame, 0.27 of them lost long, which found their person once in 54 crops), every 3rd or 4th frame
      after 15 ran 7.71 or 7.65 crops a frame but lost 3 person-frames (1041, the same 17 tracks).
    still_change, still_level, still_skips: a tile of the sweep whose view (people painted out) has not
      changed since the detector last ran on it is skipped (``sweep.StillTiles``): changed means at least
      ``still_change`` of its 64 x 64 grey thumbnail moved by more than ``still_level`` grey levels (a person
      60 px tall in a 200 px tile moves about 3%); at most ``still_skips`` skips in a row (None: no limit). On
      vtest.avi frames 0-199 41% of the 200 px tiles were still when due (none of the larger ones); skipping them
      (at most 2 in a row) gave the same 17 tracks frame for frame (1024 person-frames) with 4.08 instead of 5.19
      tiles a frame, at most 4 in a row 3.83 tiles (the same tracks again); the synthetic suite's captures did
      not change. With no limit 3.61 tiles a frame and the same records, bit for bit (1044 person-frames): the
      tiles no longer run found nobody the landmark model confirmed. Measured and not kept: changes inside the people
      found on the frame (where they are now or were at the tile's last run: painted out, people walking still
      change the tiles they cross) not counted. Within their landmark extent padded by 0.1 of their height on
      vtest.avi 2.90 instead of 3.41 tiles a frame with the same records, bit for bit, but the synthetic
      cross_hidden clip lost the man coming out from behind the other at its end (coverage 1.0 -> 0.81;
      three_crossing 1.0 -> 0.90, 3 ID switches); padded by 0.03 cross_hidden still lost him; unpadded it kept
      every record and ran 0.6-3% fewer tiles (3.39 on vtest.avi).
    known_iou: a detector box overlapping a found person's crop box by more than this IoU is that person
      again and gets no landmark pass.
    fill_iou: a gap-filled frame whose box overlaps another track's observed box on that frame with IoU
      above this is not filled: that person was seen there by the other track, and the fill would be a
      second track on them. 0.5, the issue's test for two tracks on one person (0.7 left a fill of one man
      on his neighbour at IoU 0.5-0.7 on two frames of vtest_clip.avi) and the client's (``scene.gaps``).
    look_back: when a track is confirmed, the frames before its first one are searched for its person
      (``look_back``): people entering the picture are found before the detector can see them.
    reentry: a track born across the picture's edge continues a confirmed one that left by that edge there
      shortly before, when their colours match (``reentry``): a person coming back keeps their track and is
      sent at once.
    """

    detector: DetectorConfig = field(default_factory=DetectorConfig)
    landmarks: LandmarkConfig = field(default_factory=LandmarkConfig)
    tracker: TrackerConfig = field(
        default_factory=lambda: TrackerConfig(
            confirm_hits=5, max_mahalanobis=13.8, coast_iou=0.5, part_inside=0.9, duplicate_gap=15
        )
    )
    smoothing: SmoothingConfig = field(default_factory=SmoothingConfig)
    sweep_frames: int = 10
    min_pose_score: float = 0.5
    duplicate_tolerance: float = 0.2
    hist_bins: tuple[int, int] = (12, 4)
    box_pad: tuple[float, float, float] = (0.1, 0.05, 0.03)
    box_aspect: float = 0.35
    roi_scale: float = 1.07
    paint_width: float = 0.12
    min_inside: float = 0.3
    long_coast: int = 15
    long_coast_every: int = 2
    still_change: float = 0.002
    still_level: int = 12
    still_skips: int | None = None
    known_iou: float = 0.5
    fill_iou: float = 0.5
    look_back: LookBackConfig = field(default_factory=LookBackConfig)
    reentry: ReentryConfig = field(default_factory=ReentryConfig)


def crop_now(frame_index: int, track_ids: np.ndarray, coasting: np.ndarray, long_coast: int, every: int) -> np.ndarray:
    """``(N,)`` True for the tracks whose prediction is cropped on this frame: each one that was seen within
    ``long_coast`` frames (``coasting`` ``(N,)``: frames since it was last observed, 1 if on the frame before),
    the others on every ``every``-th frame, tracks taking turns (``track_ids`` ``(N,)``)."""
    return (coasting <= long_coast) | ((frame_index + track_ids) % max(1, every) == 0)


def crop_reasons(confirmed: list[bool], coasting: np.ndarray, long_coast: int) -> np.ndarray:
    """``(N,)`` int16 codes (``CROP_REASONS``) of why each track's prediction is cropped: the track confirmed or
    not (``confirmed`` (N,)), seen on the frame before, lost for up to ``long_coast`` frames or for longer
    (``coasting`` (N,), as in ``crop_now``)."""
    coasting = np.asarray(coasting).reshape(-1)
    fresh = ~np.asarray(confirmed, dtype=bool).reshape(-1)
    return (3 * fresh + (coasting > 1) + (coasting > long_coast)).astype(np.int16)


def seen_by_another(
    frames: np.ndarray, boxes: np.ndarray, track_id: int, seen: dict[int, np.ndarray], max_iou: float
) -> np.ndarray:
    """(F,) True where box ``boxes[i]`` (xyxy px) overlaps, with IoU above ``max_iou``, the box of a track
    other than ``track_id`` observed on frame ``frames[i]``; ``seen`` maps a frame to (K, 5) rows of track id
    and box (xyxy px) of that frame's observed records."""
    out = np.zeros(len(frames), dtype=bool)
    for i, f in enumerate(frames):
        rows = seen.get(int(f))
        if rows is None or not len(rows):
            continue
        others = rows[rows[:, 0] != track_id, 1:]
        out[i] = len(others) > 0 and bool(iou_matrix(boxes[i][None], others).max() > max_iou)
    return out


class LiteBackend:
    """The embedded default backend: needs only what MediaPipe 0.10.14's wheel ships."""

    name = "lite"

    def __init__(self, options: CaptureOptions | None = None, cfg: LiteConfig | None = None) -> None:
        options = options or CaptureOptions()
        cfg = cfg or LiteConfig()
        if options.max_people is not None:
            cfg = replace(cfg, tracker=with_association(cfg.tracker, max_tracks=options.max_people))
        self.cfg = cfg
        self._skeleton = rest_skeleton(options.smpl_model)
        self._rest = self._skeleton.joints
        self._detector: PersonDetector | None = None
        self._landmarker: PoseLandmarker | None = None
        self._tracker = Tracker(cfg.tracker)
        self._smoothers: dict[int, MotionSmoother] = {}
        self._pending: dict[int, list[np.ndarray]] = {}
        self._last: dict[int, np.ndarray] = {}
        self._seen: dict[int, np.ndarray] = {}  # frame -> (K, 5) track id and box of its observed records
        self._intrinsics = np.eye(3)
        self._fps = 30.0
        self._tiles: list[tuple[int, int, int]] = []
        self._sweep_at = 0
        self._recent: deque[tuple[int, np.ndarray]] = deque()  # the last frames, for looking back
        self._sent: set[int] = set()  # tracks whose records are being sent (confirmed)
        self._frames = 0  # frames processed since ``open``
        self._still = StillTiles(cfg.still_change, cfg.still_level, cfg.still_skips)
        self._reentries = Reentries(cfg.reentry, (0.0, 0.0), 30.0)
        # Called, when set, after each landmark model run with why each crop ran (``(N,)`` codes,
        # ``CROP_REASONS``), the crops' boxes ``(N, 4)`` and what the model found in them (``LandmarkBatch``):
        # ``benchmarks/lite_capture.py --why`` counts the model work by reason with it.
        self.on_crops: Callable[[np.ndarray, np.ndarray, LandmarkBatch], None] | None = None

    @property
    def rest_joints(self) -> np.ndarray:
        return self._rest

    @property
    def rest_source(self) -> str:
        return self._skeleton.source

    @property
    def betas_fitted(self) -> bool:
        return False

    def open(self, info: VideoInfo, intrinsics: np.ndarray, intrinsics_assumed: bool) -> None:
        self._tracker = Tracker(self.cfg.tracker)  # a backend opened again starts a new video with no tracks
        self._intrinsics = np.asarray(intrinsics, dtype=np.float64)
        self._fps = float(info.fps) if info.fps > 0 else 30.0
        self._detector = PersonDetector(self.cfg.detector)
        self._landmarker = PoseLandmarker(self.cfg.landmarks)
        tiles = self._detector.tiles(info.width, info.height)
        self._tiles = [tiles[i] for i in sweep_order(len(tiles))]
        self._sweep_at = 0
        self._frames = 0
        self._still = StillTiles(self.cfg.still_change, self.cfg.still_level, self.cfg.still_skips)
        self._reentries = Reentries(self.cfg.reentry, (float(info.width), float(info.height)), self._fps)

    def process(self, frame_index: int, image_bgr: np.ndarray) -> np.ndarray:
        if self._detector is None or self._landmarker is None:
            raise RuntimeError("LiteBackend.process before open")
        cfg = self.cfg
        self._frames += 1
        height, width = image_bgr.shape[:2]
        views = self._tracker.peek_predictions(frame_index)
        predicted = np.array([p.box for p in views]).reshape(-1, 4)
        inside = inside_fraction(predicted, width, height) >= cfg.min_inside
        regions = self._sweep_regions(everything=not np.any(inside))
        coasting = np.array([p.coasting_frames for p in views], dtype=np.int64)
        cropped = inside & crop_now(
            frame_index,
            np.array([p.track_id for p in views], dtype=np.int64),
            coasting,
            cfg.long_coast,
            cfg.long_coast_every,
        )
        rois = scale_boxes(predicted[cropped], cfg.roi_scale)
        why = crop_reasons([p.confirmed for p in views], coasting, cfg.long_coast)[cropped]
        people, rois, why = self._distinct(image_bgr, self._estimate(image_bgr, rois, why), rois, why)
        if regions:
            masked = paint_people(image_bgr, people.image, cfg.paint_width)
            regions = self._still.to_run(masked, regions)
            # Unclipped boxes: a clipped one moves the landmark crop off a person entering at the frame's edge
            # (in the synthetic enter_leave clip pose scores 0.02-0.16 instead of 1.0 while half of them showed).
            dets = self._detector.detect_all(masked, regions)
            found = person_boxes(dets.keypoints, cfg.detector.box_aspect).astype(np.float64)
            if len(found) and len(rois):
                found = found[iou_matrix(found, rois).max(axis=1) <= cfg.known_iou]
            if len(found):
                boxed = np.full(len(found), DETECTOR_BOX, dtype=np.int16)
                fresh = self._estimate(image_bgr, found, boxed)
                people, rois, why = self._distinct(
                    image_bgr,
                    concat_batches(people, fresh),
                    np.concatenate([rois, found]),
                    np.concatenate([why, boxed]),
                )
        boxes = landmark_boxes(people.image, cfg.box_pad, cfg.box_aspect)
        features = appearance_features(image_bgr, people.image, cfg.hist_bins, cfg.paint_width)
        views = self._returned(
            frame_index, self._tracker.step(frame_index, boxes, people.score, features), boxes, features
        )
        live = {v.track_id for v in views}
        for table in (self._smoothers, self._pending, self._last):
            for tid in [t for t in table if t not in live]:
                del table[tid]
        self._sent &= live

        observed = [v for v in views if v.observed and v.detection_index >= 0]
        out = [empty_records()]
        made = self._observed_records(frame_index, observed, people, boxes)
        seen = [np.concatenate([[float(r["track_id"][0])], r["box"][0]]) for r in made if len(r)]
        self._seen[frame_index] = np.array(seen, dtype=np.float64).reshape(-1, 5)
        keep = max(cfg.smoothing.max_gap + 1, self._recent_frames(image_bgr))
        for f in [f for f in self._seen if f < frame_index - keep]:
            del self._seen[f]
        for view, records in zip(observed, made):
            if not len(records):
                continue
            held = self._pending.setdefault(view.track_id, [])
            previous = self._last.get(view.track_id)
            if previous is not None and previous["frame"] < frame_index - 1:
                held.append(self._gap_records(previous, records[0]))
            held.append(records)
            self._last[view.track_id] = records[0].copy()
            if view.confirmed:
                if view.track_id not in self._sent:  # confirmed now: its person may show in earlier frames
                    self._sent.add(view.track_id)
                    held[:0] = self._looked_back(view.track_id, held)
                out += held
                del self._pending[view.track_id]
        self._recent.append((frame_index, image_bgr))
        while len(self._recent) > self._recent_frames(image_bgr):
            self._recent.popleft()
        return np.concatenate(out)

    def _returned(
        self, frame_index: int, views: list[TrackView], boxes: np.ndarray, features: np.ndarray
    ) -> list[TrackView]:
        """The tracker's ``views`` with each track that continues an earlier one (a person back through the
        picture's edge: ``reentry``) under that one's id and confirmed, the earlier one's own view dropped; the
        tracks born on this frame looked at for it, every observed track's colours and exits noted."""
        known = self._reentries
        raw = {v.track_id for v in views}
        for tid in [t for t in known.alias if t not in raw]:
            del known.alias[tid]
        present = {known.alias.get(v.track_id, v.track_id) for v in views if v.observed and v.detection_index >= 0}
        for v in views:
            if v.observed and v.detection_index >= 0 and v.age == 0 and not v.confirmed:
                d = v.detection_index
                earlier = known.returning(frame_index, boxes[d], features[d], present)
                if earlier is not None:
                    known.alias[v.track_id] = earlier
                    known.exits.pop(earlier, None)
                    self._sent.discard(earlier)  # sent from now on, looking back first
                    log.debug("track %d on frame %d continues track %d", v.track_id, frame_index, earlier)
        continued = set(known.alias.values())
        out = []
        for v in views:
            if v.track_id in known.alias:
                out.append(replace(v, track_id=known.alias[v.track_id], confirmed=True))
            elif v.track_id not in continued:
                out.append(v)
        for v in out:
            if v.observed and v.detection_index >= 0:
                d = v.detection_index
                known.observe(frame_index, v.track_id, v.confirmed, boxes[d], features[d])
        known.forget(frame_index)
        return out

    def _recent_frames(self, image_bgr: np.ndarray) -> int:
        """How many past frames are kept for looking back: the search's reach plus the frames a track takes to
        be confirmed (twice its hits: unreliable frames do not count), within the memory allowed."""
        want = self.cfg.look_back.frames + 2 * self.cfg.tracker.confirm_hits
        return min(want, self.cfg.look_back.memory_bytes // max(image_bgr.nbytes, 1))

    def _looked_back(self, track_id: int, held: list[np.ndarray]) -> list[np.ndarray]:
        """Records of the frames before a newly confirmed track's first one where its person was found
        (``look_back``), oldest first; ``held``: the track's records so far (its first frames)."""
        cfg = self.cfg
        first = [r for r in held[:2] if len(r) == 1 and not r["predicted"][0]]
        if not first or not self._recent or cfg.look_back.frames <= 0:
            return []
        frames = [int(r["frame"][0]) for r in first]
        boxes = np.stack([r["box"][0] for r in first]).astype(np.float64)
        if len(frames) > 1 and frames[1] != frames[0] + 1:
            boxes = boxes[:1]
        found = look_back(
            self._recent,
            frames[0],
            boxes,
            lambda image, boxes: self._estimate(image, boxes, np.full(len(boxes), LOOK_BACK, dtype=np.int16)),
            lambda points: landmark_boxes(points, cfg.box_pad, cfg.box_aspect),
            self._seen,
            track_id,
            cfg.roi_scale,
            replace(cfg.look_back, min_score=cfg.min_pose_score, known_iou=cfg.known_iou),
        )
        smoothers: dict[int, MotionSmoother] = {}
        out = []
        for frame, pose, box in reversed(found):
            view = TrackView(track_id, box, True, float(pose.score[0]), 0, 0, 0, True)
            out += self._observed_records(frame, [view], pose, box[None], smoothers)
        if found:
            log.debug("track %d found on %d frames before its first", track_id, len(found))
        return out

    def _sweep_regions(self, everything: bool) -> list[tuple[int, int, int]]:
        """This frame's share of the detector's tiles (all of them when ``everything``)."""
        if everything:
            return list(self._tiles)
        count = len(self._tiles)
        share = -(-count // max(1, self.cfg.sweep_frames))
        picked = [self._tiles[(self._sweep_at + k) % count] for k in range(min(share, count))]
        self._sweep_at = (self._sweep_at + share) % max(count, 1)
        return picked

    def _distinct(
        self, image_bgr: np.ndarray, people: LandmarkBatch, rois: np.ndarray, why: np.ndarray
    ) -> tuple[LandmarkBatch, np.ndarray, np.ndarray]:
        """The distinct present poses among ``people`` (estimated in boxes ``rois`` (N, 4), for the reasons
        ``why`` (N,) codes, ``CROP_REASONS``), their boxes and reasons.

        A pose dropped as the duplicate of a better one is estimated again in its box with the kept people
        painted out; what that finds joins the others (then the same selection again).
        """
        cfg = self.cfg
        keep = distinct_people(people, min_score=cfg.min_pose_score, tolerance=cfg.duplicate_tolerance)
        retry = np.setdiff1d(np.flatnonzero(people.score >= cfg.min_pose_score), keep)
        if len(retry):
            masked = paint_people(image_bgr, people.image[keep], cfg.paint_width)
            again = why[retry] + AGAIN
            people = concat_batches(people.select(keep), self._estimate(masked, rois[retry], again))
            rois = np.concatenate([rois[keep], rois[retry]])
            why = np.concatenate([why[keep], again])
            keep = distinct_people(people, min_score=cfg.min_pose_score, tolerance=cfg.duplicate_tolerance)
        return people.select(keep), rois[keep], why[keep]

    def _observed_records(
        self,
        frame_index: int,
        views: list,
        people: LandmarkBatch,
        boxes: np.ndarray,
        smoothers: dict[int, MotionSmoother] | None = None,
    ) -> list[np.ndarray]:
        """One record array (length 0 or 1) per view, from the candidate each view was updated with.

        ``boxes`` ``(N, 4)`` are the candidates' landmark boxes (the record's box); ``smoothers``: each track's
        smoother (the backend's own when None).
        """
        if not views:
            return []
        rows = np.array([v.detection_index for v in views])
        chosen = people.select(rows)
        go, bp, targets = landmarks_to_rotations(chosen.world, chosen.visibility, self._rest)
        posed, rotations = forward_kinematics(go, bp, self._rest)
        # The translation that projects the skeleton as it is drawn (the rest skeleton's bone lengths in
        # this pose) onto the landmarks' pixels. Not the world landmarks: their scale is the landmark
        # model's guess, which shrinks for a partly hidden person and placed them too close, drawn too large.
        # Landmarks unseen or outside the model's crop count little.
        found = solve_translation(
            skeleton_landmarks(posed, rotations, self._rest),
            chosen.image,
            chosen.visibility * chosen.presence,
            self._intrinsics,
        )
        # What was seen, before smoothing, for the offline temporal fit (``ram_core.scene.fit``).
        pixels = smpl_pixels(chosen.image, chosen.visibility * chosen.presence)
        relative = targets.joints - targets.joints[:, :1]
        seen_3d = np.concatenate([relative, targets.weights[..., None]], axis=-1)
        seen_3d = np.where(np.isfinite(seen_3d), seen_3d, 0.0)
        table = self._smoothers if smoothers is None else smoothers
        kept, rots, transl = [], [], []
        for i, v in enumerate(views):
            if not np.all(np.isfinite(found[i])):
                continue
            smoother = table.setdefault(v.track_id, MotionSmoother(self._fps, self.cfg.smoothing))
            rot, moved = smoother.update(frame_index, np.concatenate([go[i : i + 1], bp[i]]), found[i])
            kept.append(i)
            rots.append(rot)
            transl.append(moved)
        if not kept:
            return [empty_records() for _ in views]
        rot = np.stack(rots)
        # One forward kinematics for the frame's people; each view gets its own row.
        made = pose_records(
            frame_index,
            np.array([views[i].track_id for i in kept]),
            rot[:, 0],
            rot[:, 1:],
            np.stack(transl),
            self._rest,
            boxes[rows[kept]],
            np.array([views[i].confidence for i in kept]),
        )
        made["keypoints_2d"] = pixels[kept]
        made["keypoints_3d"] = seen_3d[kept]
        row = {i: k for k, i in enumerate(kept)}
        return [made[row[i] : row[i] + 1] if i in row else empty_records() for i in range(len(views))]

    def _estimate(self, image_bgr: np.ndarray, boxes: np.ndarray, why: np.ndarray) -> LandmarkBatch:
        """The landmark model on the crops ``boxes`` (N, 4), run for the reasons ``why`` (N,) (codes,
        ``CROP_REASONS``); the reasons, boxes and what was found go to ``on_crops`` when it is set."""
        if self._landmarker is None:
            raise RuntimeError("LiteBackend used before open")
        found = self._landmarker.estimate(image_bgr, boxes)
        if self.on_crops is not None:
            self.on_crops(why, boxes, found)
        return found

    def _gap_records(self, before: np.ndarray, after: np.ndarray) -> np.ndarray:
        """Records filling the frames strictly between two records of one track (none beyond ``max_gap``).

        Rotations are slerped and translation and box interpolated linearly (``fill_gaps``); joints follow
        from them by forward kinematics; flagged ``predicted``, confidence 0.
        """
        ends = np.stack([before, after])
        frames, go, bp, transl, filled = fill_gaps(
            ends["frame"], ends["global_orient"], ends["body_pose"], ends["transl"], self.cfg.smoothing.max_gap
        )
        frames, go, bp, transl = frames[filled], go[filled], bp[filled], transl[filled]
        t = ((frames - before["frame"]) / (after["frame"] - before["frame"]))[:, None]
        box = (1 - t) * before["box"] + t * after["box"]
        free = ~seen_by_another(frames, box, int(before["track_id"]), self._seen, self.cfg.fill_iou)
        frames, go, bp, transl, box = frames[free], go[free], bp[free], transl[free], box[free]
        return pose_records(frames, before["track_id"], go, bp, transl, self._rest, box, 0.0, predicted=True)

    def finish(self) -> np.ndarray:
        """The held records of every tentative track seen on each frame of a capture shorter than confirming
        takes (``tracker.confirm_hits`` frames): a clip of 1 to 4 frames confirms nobody, and the people in
        it are not false finds for that. A longer capture sends nothing more (its unconfirmed tracks are dropped).
        """
        if self._frames >= self.cfg.tracker.confirm_hits:
            return empty_records()
        out = [empty_records()]
        for held in self._pending.values():
            seen = {int(r["frame"][0]) for r in held if len(r) and not r["predicted"][0]}
            if len(seen) == self._frames:
                out += held
        return np.concatenate(out)

    def close(self) -> None:
        self._detector = None
        self._landmarker = None
        self._smoothers.clear()
        self._pending.clear()
        self._last.clear()
        self._seen.clear()
        self._recent.clear()
        self._sent.clear()
        self._reentries = Reentries(self.cfg.reentry, (0.0, 0.0), self._fps)
