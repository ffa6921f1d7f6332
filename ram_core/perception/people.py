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


def part_masks(image_points: np.ndarray, shape: tuple[int, int], width: float) -> np.ndarray:
    """``(N, 2, H, W)`` bool: each person's torso polygon and legs (lines ``width`` times their height thick).

    A pixel that lies on another person's part too is left out of both: whose it is cannot be told.
    """
    pts = np.asarray(image_points, dtype=np.float64).reshape(-1, image_points.shape[-2], 2)
    out = np.zeros((len(pts), 2, *shape), dtype=np.uint8)
    for i, p in enumerate(pts):
        ipts = np.round(p).astype(np.int32)
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


def appearance_features(
    image_bgr: np.ndarray, image_points: np.ndarray, bins: tuple[int, int], width: float, min_pixels: int = 20
) -> np.ndarray:
    """L2-normalised hue/saturation histograms of each person's own torso and legs (``part_masks``).

    Only the person's pixels count (not the background beside them, not a neighbour inside their box), so two
    people in one box keep their own colours. A part with fewer than ``min_pixels`` pixels of its own gives zeros.

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
    hsv = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2HSV)
    masks = part_masks(image_points, (h, w), width)
    for i in range(len(image_points)):
        for k in range(2):
            m = masks[i, k]
            if m.sum() < min_pixels:
                continue
            hist = cv2.calcHist([hsv], [0, 1], m.astype(np.uint8), list(bins), [0, 180, 0, 256]).reshape(-1)
            out[i, k * dim : (k + 1) * dim] = hist / np.linalg.norm(hist)
    norm = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norm > 0, norm, 1.0)
