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


#: Body parts whose colours make a person's appearance: the torso (shoulders and hips) and the legs.
LEGS = tuple(
    (LM[f"{side}_{a}"], LM[f"{side}_{b}"])
    for side in ("left", "right")
    for a, b in (("hip", "knee"), ("knee", "ankle"))
)


def part_masks(
    image_points: np.ndarray, shape: tuple[int, int], width: float, origin: tuple[int, int] = (0, 0)
) -> np.ndarray:
    """``(N, 2, H, W)`` bool: each person's torso polygon and legs (lines ``width`` times their height thick).

    A pixel that lies on another person's part too is left out of both: whose it is cannot be told.
    ``shape`` (H, W) and ``origin`` (x, y) give the window of the frame drawn (pixels): the landmarks are rounded
    first and then moved by ``origin``, so a window shows exactly the pixels the whole frame's masks have there.
    """
    pts = np.asarray(image_points, dtype=np.float64).reshape(-1, image_points.shape[-2], 2)
    out = np.zeros((len(pts), 2, *shape), dtype=np.uint8)
    shift = np.asarray(origin, dtype=np.int32)
    for i, p in enumerate(pts):
        ipts = np.round(p).astype(np.int32) - shift
        cv2.fillConvexPoly(out[i, 0], cv2.convexHull(ipts[list(TORSO)]), 1)
        thick = max(2, round(width * float(np.ptp(p[:, 1]))))
        for a, b in LEGS:
            cv2.line(out[i, 1], tuple(int(v) for v in ipts[a]), tuple(int(v) for v in ipts[b]), 1, thick)
    masks = out.astype(bool)
    if len(pts) > 1:
        anyone = masks.any(axis=1)
        shared = anyone.sum(axis=0) > 1
        masks &= ~shared[None, None]
    return masks


#: Landmarks :func:`part_masks` draws: the torso's corners and the legs' ends.
PARTS = sorted(set(TORSO) | {k for leg in LEGS for k in leg})


def part_bounds(image_points: np.ndarray, width: float) -> np.ndarray:
    """``(N, 4)`` int64 ``(x0, y0, x1, y1)`` (end exclusive, pixels, not clipped): a window holding every pixel of
    each person's :func:`part_masks` (the rounded points' extent, padded by the legs' thickness)."""
    pts = np.asarray(image_points, dtype=np.float64).reshape(-1, image_points.shape[-2], 2)
    ipts = np.round(pts[:, PARTS]).astype(np.int64)
    thick = np.maximum(2, np.round(width * np.ptp(pts[:, :, 1], axis=1))).astype(np.int64)[:, None]
    return np.concatenate([ipts.min(axis=1) - thick - 1, ipts.max(axis=1) + thick + 2], axis=1)


def appearance_features(
    image_bgr: np.ndarray, image_points: np.ndarray, bins: tuple[int, int], width: float, min_pixels: int = 20
) -> np.ndarray:
    """L2-normalised hue/saturation histograms of each person's own torso and legs (``part_masks``).

    Only the person's pixels count (not the background beside them, not a neighbour inside their box), so two
    people in one box keep their own colours. A part with fewer than ``min_pixels`` pixels of its own gives zeros.
    Each person's pixels are read in their own window (:func:`part_bounds`) with the people overlapping it: the
    same histograms as masks over the whole frame, without drawing and converting the whole frame per person.

    Args:
        image_bgr: ``(H, W, 3)`` uint8 frame.
        image_points: ``(N, 33, 2)`` landmark pixels.
        width: leg thickness as a fraction of the person's height.

    Returns:
        ``(N, 2 * bins[0] * bins[1])`` float64 (torso, then legs).
    """
    h, w = image_bgr.shape[:2]
    dim = bins[0] * bins[1]
    out = np.zeros((len(image_points), 2 * dim))
    if not len(image_points):
        return out
    bounds = part_bounds(image_points, width)
    window = np.clip(bounds, 0, [w, h, w, h])
    for i in range(len(image_points)):
        x0, y0, x1, y1 = (int(v) for v in window[i])
        if x1 <= x0 or y1 <= y0:
            continue
        near = np.flatnonzero((bounds[:, 0] < x1) & (bounds[:, 2] > x0) & (bounds[:, 1] < y1) & (bounds[:, 3] > y0))
        near = np.concatenate([[i], near[near != i]])
        # Drawn on a canvas holding every one of them whole: a polygon cut by the canvas's edge fills
        # slightly different pixels than the same polygon whole.
        cx0, cy0 = (int(v) for v in window[near, :2].min(axis=0))
        cx1, cy1 = (int(v) for v in window[near, 2:].max(axis=0))
        canvas = part_masks(image_points[near], (cy1 - cy0, cx1 - cx0), width, (cx0, cy0))[0]
        masks = canvas[:, y0 - cy0 : y1 - cy0, x0 - cx0 : x1 - cx0]
        hsv = cv2.cvtColor(image_bgr[y0:y1, x0:x1], cv2.COLOR_BGR2HSV)
        for k in range(2):
            m = masks[k]
            if m.sum() < min_pixels:
                continue
            hist = cv2.calcHist([hsv], [0, 1], m.astype(np.uint8), list(bins), [0, 180, 0, 256]).reshape(-1)
            out[i, k * dim : (k + 1) * dim] = hist / np.linalg.norm(hist)
    norm = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norm > 0, norm, 1.0)
