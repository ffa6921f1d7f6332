"""SSD anchors and box decoding for BlazePose's person detector (``pose_detection.tflite``).

The constants below are the options of the ``SsdAnchorsCalculator`` and ``TensorsToDetectionsCalculator``
nodes of the ``PoseDetectionCpu`` subgraph. MediaPipe 0.10.14's wheel ships no ``.pbtxt`` for that subgraph:
it is compiled into ``mediapipe/python/_framework_bindings*.so`` as a serialized ``CalculatorGraphConfig``,
from which these values were read (they match ``mediapipe/modules/pose_detection/pose_detection_cpu.pbtxt``
in the MediaPipe sources, except ``min_score_thresh``, 0.5 in the wheel). ``generate_anchors`` reproduces
``SsdAnchorsCalculator`` for these options; a unit test checks the count against the model's output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SsdAnchorOptions:
    """``SsdAnchorsCalculatorOptions`` of the pose detection graph."""

    input_size: int = 224
    min_scale: float = 0.1484375
    max_scale: float = 0.75
    anchor_offset: float = 0.5
    strides: tuple[int, ...] = (8, 16, 32, 32, 32)
    aspect_ratios: tuple[float, ...] = (1.0,)
    interpolated_scale_aspect_ratio: float = 1.0


#: ``TensorsToDetectionsCalculatorOptions``: raw outputs are divided by this to get units of the input size.
COORD_SCALE = 224.0
#: Scores are clipped to +-this before the sigmoid, as MediaPipe does.
SCORE_CLIP = 100.0
#: Number of keypoints the detector regresses: 0 mid-hip centre, 1 a point whose distance to the hip centre is
#: the radius of a circle enclosing the full body, 2 mid-shoulder centre, 3 the same for the upper body.
NUM_KEYPOINTS = 4


def _anchors_per_cell(options: SsdAnchorOptions) -> int:
    return len(options.aspect_ratios) + (1 if options.interpolated_scale_aspect_ratio > 0 else 0)


def generate_anchors(options: SsdAnchorOptions = SsdAnchorOptions()) -> tuple[np.ndarray, tuple[int, ...]]:
    """Anchor centres in the order of the model's outputs.

    With ``fixed_anchor_size`` (true for this model) every anchor is 1x1 in normalised units, so only the
    centres matter.

    Returns:
        centres: (A, 2) float32, (x, y) in [0, 1] of the input image (A = 2254 for the default options).
        group_sizes: number of anchors per run of layers sharing a stride ((1568, 392, 294) by default).
            The model emits one output block per such group; with a batch of B images each block holds
            B consecutive copies, which ``split_batched_output`` undoes.
    """
    centres: list[np.ndarray] = []
    group_sizes: list[int] = []
    strides = options.strides
    layer = 0
    while layer < len(strides):
        last = layer
        while last < len(strides) and strides[last] == strides[layer]:
            last += 1
        per_cell = (last - layer) * _anchors_per_cell(options)
        cells = math.ceil(options.input_size / strides[layer])
        grid = (np.arange(cells, dtype=np.float32) + options.anchor_offset) / cells
        yy, xx = np.meshgrid(grid, grid, indexing="ij")
        xy = np.stack([xx.ravel(), yy.ravel()], axis=1)
        centres.append(np.repeat(xy, per_cell, axis=0))
        group_sizes.append(cells * cells * per_cell)
        layer = last
    return np.concatenate(centres).astype(np.float32), tuple(group_sizes)


def split_batched_output(raw: np.ndarray, batch: int, group_sizes: tuple[int, ...]) -> np.ndarray:
    """Undo the layout of a batched detector output.

    Args:
        raw: (1, B * A, C) as the interpreter returns it for an input of batch B: per anchor group,
            B consecutive blocks (one per image) of that group's anchors.
        batch: B.
        group_sizes: from ``generate_anchors``; they sum to A.

    Returns:
        (B, A, C), anchors of each image in the order of ``generate_anchors``.
    """
    flat = raw.reshape(-1, raw.shape[-1])
    parts = []
    offset = 0
    for size in group_sizes:
        parts.append(flat[offset : offset + batch * size].reshape(batch, size, -1))
        offset += batch * size
    return np.concatenate(parts, axis=1)


def decode(raw_boxes: np.ndarray, raw_scores: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Decode regressions relative to fixed-size anchors into normalised boxes and keypoints.

    Args:
        raw_boxes: (..., A, 12): box centre offset (x, y), box size (w, h), then 4 keypoints (x, y),
            in pixels of the 224 input relative to the anchor centre.
        raw_scores: (..., A, 1) logits.
        centres: (A, 2) anchor centres from ``generate_anchors``.

    Returns:
        boxes_kp: (..., A, 12) float32: face box as (xmin, ymin, xmax, ymax) then keypoints (x, y), all
            normalised to [0, 1] of the input (values may fall outside when the regression extrapolates).
        scores: (..., A) float32 in [0, 1].
    """
    reg = raw_boxes / COORD_SCALE
    cx = reg[..., 0] + centres[:, 0]
    cy = reg[..., 1] + centres[:, 1]
    half_w = reg[..., 2] / 2
    half_h = reg[..., 3] / 2
    kp = reg[..., 4:].reshape(*reg.shape[:-1], NUM_KEYPOINTS, 2) + centres[:, None, :]
    out = np.concatenate(
        [np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=-1), kp.reshape(*reg.shape[:-1], -1)],
        axis=-1,
    )
    logits = np.clip(raw_scores[..., 0], -SCORE_CLIP, SCORE_CLIP)
    return out.astype(np.float32), (0.5 + 0.5 * np.tanh(0.5 * logits)).astype(np.float32)
