"""The layout of one training sample and how a list of them becomes a batch.

A sample is a dict of float32 numpy arrays (what a DataLoader worker can hand over cheaply). Image
samples (stage 1) hold one frame; sequence samples (stages 2 and 3) hold ``T`` frames with the
same keys and a leading ``T`` axis (``img (T, 3, H, W)`` and so on).

Keys and shapes for one frame:

- ``img`` ``(3, H, W)``: the backbone's crop, normalised with the camera's mean/std.
- ``kp2d`` ``(24, 3)``: SMPL joints in normalised crop-square coordinates (``[-0.5, 0.5]`` spans the
  square, x right, y down) and a confidence (0: not annotated or outside the crop).
- ``kp3d`` ``(24, 4)``: SMPL joints, camera-frame orientation, metres (any origin: losses are
  pelvis-relative) and a confidence.
- ``rotmats`` ``(24, 3, 3)``: local joint rotations, root first (root: body frame -> camera frame).
- ``has_pose`` ``()``: 1 when ``rotmats`` is annotated.
- ``betas`` ``(10,)`` and ``has_betas`` ``()``.
- ``person`` ``()``: 1 when the crop holds the annotated person, 0 for a negative (the confidence
  target; every other term is masked out).
- ``body_box`` ``(4,)``: x1, y1, x2, y2 of the person in normalised crop-square coordinates (stage 3
  masks within it).
"""

from __future__ import annotations

import numpy as np
import torch

from ram_core.contract.skeleton import NUM_BETAS, NUM_JOINTS
from ram_core.models.config import CameraConfig

FRAME_KEYS: tuple[str, ...] = ("img", "kp2d", "kp3d", "rotmats", "has_pose", "betas", "has_betas", "person", "body_box")


def empty_frame(height: int, width: int) -> dict[str, np.ndarray]:
    """A frame with nothing annotated (zeros; identity rotations)."""
    return {
        "img": np.zeros((3, height, width), np.float32),
        "kp2d": np.zeros((NUM_JOINTS, 3), np.float32),
        "kp3d": np.zeros((NUM_JOINTS, 4), np.float32),
        "rotmats": np.broadcast_to(np.eye(3, dtype=np.float32), (NUM_JOINTS, 3, 3)).copy(),
        "has_pose": np.float32(0.0),
        "betas": np.zeros(NUM_BETAS, np.float32),
        "has_betas": np.float32(0.0),
        "person": np.float32(0.0),
        "body_box": np.array([-0.5, -0.5, 0.5, 0.5], np.float32),
    }


def normalise_image(rgb: np.ndarray, camera: CameraConfig) -> np.ndarray:
    """``(H, W, 3)`` RGB in [0, 1] -> ``(3, H, W)`` float32 normalised with the camera's mean/std."""
    mean = np.asarray(camera.mean, np.float32)
    std = np.asarray(camera.std, np.float32)
    return ((rgb.astype(np.float32) - mean) / std).transpose(2, 0, 1).copy()


def crop_grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Normalised crop-square coordinates of the pixel centres of an ``height x width`` backbone crop.

    The crop is the central ``width`` columns of a ``height``-pixel square (HMR2.0: 192 of 256).

    Returns:
        x ``(W,)`` and y ``(H,)``.
    """
    x = (np.arange(width) + 0.5 + (height - width) / 2.0) / height - 0.5
    y = (np.arange(height) + 0.5) / height - 0.5
    return x, y


def visible_in_crop(xy: np.ndarray, height: int, width: int) -> np.ndarray:
    """``(J,)`` bool: the normalised points ``(J, 2)`` fall inside the backbone crop."""
    half_w = 0.5 * width / height
    return (np.abs(xy[:, 0]) <= half_w) & (np.abs(xy[:, 1]) <= 0.5)


def stack_frames(frames: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Per-frame dicts -> one sequence sample (leading ``T`` axis)."""
    return {k: np.stack([f[k] for f in frames]) for k in FRAME_KEYS}


def collate(samples: list[dict[str, np.ndarray]]) -> dict[str, torch.Tensor]:
    """Stack samples along a new batch axis as float32 tensors."""
    return {k: torch.from_numpy(np.stack([np.asarray(s[k], np.float32) for s in samples])) for k in samples[0]}


__all__ = ["FRAME_KEYS", "collate", "crop_grid", "empty_frame", "normalise_image", "stack_frames", "visible_in_crop"]
