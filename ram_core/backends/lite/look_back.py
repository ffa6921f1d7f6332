"""Looking back from a new track: the frames before a person was first found, searched for them.

A person entering the picture (at its edge, from behind someone) is found by the detector sweep only once
enough of them shows and a tile covering them comes round (the detector needs a face or an upper body):
in the synthetic enter_leave clip 10-15 frames after they began to show, in run 7. The landmark model on a
crop finds a partly shown person much earlier. So when a track is confirmed, its first box is carried back
frame by frame over the frames kept in memory (at its own velocity), and the landmark model is run there;
every frame where it finds a person who is not someone another track already saw there, of about the same
size and where the motion puts them, joins the track. The first frame that fails ends the search, and so does
one where the track itself was observed (a person back through the picture's edge keeps their earlier track,
``reentry``, whose frames were sent already).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ram_core.perception.landmarks import LandmarkBatch
from ram_core.tracking.boxes import iou_matrix, scale_boxes


@dataclass(frozen=True)
class LookBackConfig:
    """How far back a new track looks and what counts as finding its person there.

    frames: at most this many frames before the track's first one (the frames kept in memory, also capped
      by ``memory_bytes``). 12: half a second at 25 frames/s; the enter_leave clip's people showed 10-15
      frames before the sweep found them, the run clip's 7.
    memory_bytes: the frames kept for looking back take at most this much memory (at the working size:
      a 640x480 frame is 0.9 MiB, a 1920x1080 one 6.2 MiB).
    min_score: the landmark model's pose flag at least this (the backend's ``min_pose_score``).
    known_iou: a pose whose box overlaps, by more than this IoU, the box of a track observed on that frame is
      that track's person, not this one: the search ends.
    max_size_ratio: the found box's height differs from the track's first box's by at most this factor (a partly
      shown person's landmark box is smaller: 0.5 of it as people entered in enter_leave).
    max_step: the found box's centre lies within this many of the first box's heights of where the motion puts it.
    """

    frames: int = 12
    memory_bytes: int = 128 * 1024 * 1024
    min_score: float = 0.5
    known_iou: float = 0.5
    max_size_ratio: float = 2.0
    max_step: float = 0.3


def look_back(
    recent: Sequence[tuple[int, np.ndarray]],
    first_frame: int,
    boxes: np.ndarray,
    estimate: Callable[[np.ndarray, np.ndarray], LandmarkBatch],
    to_boxes: Callable[[np.ndarray], np.ndarray],
    seen: dict[int, np.ndarray],
    track_id: int,
    roi_scale: float,
    cfg: LookBackConfig,
) -> list[tuple[int, LandmarkBatch, np.ndarray]]:
    """The frames before ``first_frame`` where the track's person was found, latest first.

    Args:
        recent: ``(frame index, image)`` of the frames kept in memory, oldest first.
        first_frame: the track's first frame; ``boxes`` ``(K, 4)`` xyxy px its first K >= 1 observed boxes on
            consecutive frames from there (two or more give its velocity).
        estimate: the landmark model: ``(image, rois (N, 4))`` -> ``LandmarkBatch`` of N.
        to_boxes: landmark pixels ``(N, 33, 2)`` -> the person boxes the tracker uses ``(N, 4)``.
        seen: frame -> ``(M, 5)`` rows of track id and box of that frame's observed records.
        track_id: this track (the search ends at a frame with its own row in ``seen``: it was observed there).
        roi_scale: a person box scaled by this is the landmark model's crop box.

    Returns:
        ``(frame, pose (a batch of one), box (4,))`` for each frame found, from ``first_frame - 1`` back.
    """
    images = dict(recent)
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    centre = (boxes[0, :2] + boxes[0, 2:]) / 2
    half = (boxes[0, 2:] - boxes[0, :2]) / 2  # the crop keeps the first box's size: a partly shown person's
    height = 2 * half[1]  # landmark box shrinks, and crops shrinking with it lost them (enter_leave)
    step = centre - (boxes[1, :2] + boxes[1, 2:]) / 2 if len(boxes) > 1 else np.zeros(2)
    found: list[tuple[int, LandmarkBatch, np.ndarray]] = []
    frame = first_frame - 1
    while len(found) < cfg.frames and frame in images:
        rows = seen.get(frame)
        if rows is not None and np.any(rows[:, 0] == track_id):
            break  # the track was there already (a person back through the picture's edge: ``reentry``)
        guess = centre + step
        pose = estimate(images[frame], scale_boxes(np.concatenate([guess - half, guess + half])[None], roi_scale))
        if not len(pose) or float(pose.score[0]) < cfg.min_score:
            break
        new = np.asarray(to_boxes(pose.image), dtype=np.float64).reshape(4)
        new_height, new_centre = new[3] - new[1], (new[:2] + new[2:]) / 2
        if not (new_height > 0 and max(height, new_height) <= cfg.max_size_ratio * min(height, new_height)):
            break
        if np.linalg.norm(new_centre - guess) > cfg.max_step * height:
            break
        others = rows[rows[:, 0] != track_id, 1:] if rows is not None and len(rows) else np.zeros((0, 4))
        if len(others) and iou_matrix(new[None], others).max() > cfg.known_iou:
            break
        found.append((frame, pose, new))
        step = 0.5 * (step + new_centre - centre)
        centre = new_centre
        frame -= 1
    return found
