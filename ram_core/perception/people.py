"""What a person's BlazePose landmarks say about them in the frame: a steady box, the frame with them painted out.

Also the colour appearance of a box (hue/saturation histograms), which the tracker compares between frames.
All in frame pixels, numpy and OpenCV only.
"""

from __future__ import annotations

import cv2
import numpy as np

from ram_core.body.blazepose import LM

#: Limbs painted by :func:`paint_people` (BlazePose landmark pairs).
LIMBS = tuple(
    (LM[f"{side}_{a}"], LM[f"{side}_{b}"])
    for side in ("left", "right")
    for a, b in (
        ("shoulder", "elbow"),
        ("elbow", "wrist"),
        ("hip", "knee"),
        ("knee", "ankle"),
        ("ankle", "heel"),
        ("heel", "foot_index"),
    )
)
TORSO = tuple(LM[name] for name in ("left_shoulder", "right_shoulder", "right_hip", "left_hip"))
HEAD = tuple(LM[name] for name in ("nose", "left_ear", "right_ear"))
#: Landmarks whose horizontal reach sets a box's width (not the arms, which swing).
CORE = (
    HEAD
    + TORSO
    + tuple(LM[f"{side}_{part}"] for side in ("left", "right") for part in ("knee", "ankle", "heel", "foot_index"))
)


def landmark_boxes(image_points: np.ndarray, pad: tuple[float, float, float], min_aspect: float) -> np.ndarray:
    """Person boxes from landmarks, steady while the arms swing.

    Vertically: the extent of all 33 landmarks, padded. Horizontally: centred on the torso (shoulders and
    hips), as wide as the head, torso and legs reach on either side plus the padding, and at least
    ``min_aspect`` times the height. Hands and elbows are left out: their swing would move the box
    from frame to frame by more than the tracker's motion gate allows.

    Args:
        image_points: ``(N, 33, 2)`` landmark pixels (x, y).
        pad: (top, sides, bottom) padding as fractions of the extent's height.
        min_aspect: smallest width / height of the box.

    Returns:
        ``(N, 4)`` float64 xyxy pixels, not clipped to the frame (a person half out of it keeps their size).
    """
    pts = np.asarray(image_points, dtype=np.float64).reshape(-1, image_points.shape[-2], 2)
    top_y, bottom_y = pts[:, :, 1].min(axis=1), pts[:, :, 1].max(axis=1)
    h = np.maximum(bottom_y - top_y, 1.0)
    top, side, bottom = pad
    centre = pts[:, list(TORSO), 0].mean(axis=1)
    reach = np.abs(pts[:, list(CORE), 0] - centre[:, None]).max(axis=1) + side * h
    half = np.maximum(reach, 0.5 * min_aspect * h)
    return np.stack([centre - half, top_y - top * h, centre + half, bottom_y + bottom * h], axis=1)


def paint_people(image_bgr: np.ndarray, image_points: np.ndarray, width: float) -> np.ndarray:
    """A copy of the frame with each person painted mid-grey (the models' zero input) along their skeleton.

    Torso (shoulders and hips), limbs as lines ``width`` times the person's height thick, and the head as
    a disc; a person beside or behind stays mostly visible, unlike with a painted box.

    Args:
        image_bgr: ``(H, W, 3)`` uint8 frame.
        image_points: ``(N, 33, 2)`` landmark pixels of the people to paint out.
    """
    out = image_bgr.copy()
    grey = (128, 128, 128)
    for pts in np.asarray(image_points, dtype=np.float64):
        height = float(np.ptp(pts[:, 1]))
        thick = max(2, round(width * height))
        ipts = np.round(pts).astype(np.int32)
        cv2.fillConvexPoly(out, cv2.convexHull(ipts[list(TORSO)]), grey)
        for a, b in LIMBS:
            cv2.line(out, tuple(int(v) for v in ipts[a]), tuple(int(v) for v in ipts[b]), grey, thick)
        for a, b in zip(TORSO, TORSO[1:] + TORSO[:1]):
            cv2.line(out, tuple(int(v) for v in ipts[a]), tuple(int(v) for v in ipts[b]), grey, thick)
        head = pts[list(HEAD)].mean(axis=0)
        cv2.circle(out, (round(head[0]), round(head[1])), max(2, round(0.08 * height)), grey, -1)
    return out


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
