"""Box formats and overlap, in pixels.

xyxy: (x1, y1, x2, y2) corners; cxcywh: (centre x, centre y, width, height); xywh: MOTChallenge's
(left, top, width, height). All functions take arrays of shape (..., 4) and keep the leading shape.
"""

from __future__ import annotations

import numpy as np


def xyxy_to_cxcywh(boxes: np.ndarray) -> np.ndarray:
    """(..., 4) corners -> (..., 4) centre and size."""
    b = np.asarray(boxes, dtype=np.float64)
    return np.stack(
        [(b[..., 0] + b[..., 2]) / 2, (b[..., 1] + b[..., 3]) / 2, b[..., 2] - b[..., 0], b[..., 3] - b[..., 1]],
        axis=-1,
    )


def cxcywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    """(..., 4) centre and size -> (..., 4) corners."""
    b = np.asarray(boxes, dtype=np.float64)
    hw, hh = b[..., 2] / 2, b[..., 3] / 2
    return np.stack([b[..., 0] - hw, b[..., 1] - hh, b[..., 0] + hw, b[..., 1] + hh], axis=-1)


def xywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    """(..., 4) MOTChallenge left, top, width, height -> (..., 4) corners."""
    b = np.asarray(boxes, dtype=np.float64)
    return np.concatenate([b[..., :2], b[..., :2] + b[..., 2:4]], axis=-1)


def xyxy_to_xywh(boxes: np.ndarray) -> np.ndarray:
    """(..., 4) corners -> (..., 4) MOTChallenge left, top, width, height."""
    b = np.asarray(boxes, dtype=np.float64)
    return np.concatenate([b[..., :2], b[..., 2:4] - b[..., :2]], axis=-1)


def box_area(boxes: np.ndarray) -> np.ndarray:
    """(..., 4) xyxy -> (...) area; degenerate boxes have area 0."""
    b = np.asarray(boxes, dtype=np.float64)
    return np.clip(b[..., 2] - b[..., 0], 0, None) * np.clip(b[..., 3] - b[..., 1], 0, None)


def intersection_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise intersection areas of xyxy boxes a (N, 4) and b (M, 4) -> (N, M)."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    return wh[..., 0] * wh[..., 1]


def paired_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of xyxy boxes a (..., 4) and b (..., 4) broadcast against each other -> (...) in
    [0, 1] (``iou_matrix`` is every pair of two lists; this is each box with its counterpart)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    wh = np.clip(np.minimum(a[..., 2:], b[..., 2:]) - np.maximum(a[..., :2], b[..., :2]), 0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = box_area(a) + box_area(b) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise intersection over union of xyxy boxes a (N, 4) and b (M, 4) -> (N, M) in [0, 1]."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    inter = intersection_matrix(a, b)
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def scale_boxes(boxes: np.ndarray, factor: float) -> np.ndarray:
    """``(N, 4)`` xyxy boxes scaled about their centres by ``factor``."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = (boxes[:, 2:] - boxes[:, :2]) * (factor / 2)
    return np.concatenate([centre - half, centre + half], axis=1)


def inside_fraction(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """``(N,)`` fraction of each xyxy box's area that lies inside a ``width`` x ``height`` frame."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    inside = intersection_matrix(boxes, np.array([[0.0, 0.0, width, height]]))[:, 0]
    return inside / np.maximum(box_area(boxes), 1e-9)
