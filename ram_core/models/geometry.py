"""Rotations and cameras in torch: rot6d -> matrices -> axis-angle; crop camera -> translation.

Frames: the camera frame is OpenCV's (x right, y down, z forward), metres; rotations map SMPL's
canonical body frame into it, as in ``ram_core.contract``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ram_core.models.config import CameraConfig


def rot6d_to_matrix(x: torch.Tensor) -> torch.Tensor:
    """6D rotations ``(..., 6)`` -> rotation matrices ``(..., 3, 3)`` (Zhou et al. 2019).

    The six numbers are two 3-vectors a1 = x[0:3], a2 = x[3:6] (HMR2.0's layout); Gram-Schmidt
    makes them the matrix's first two columns, their cross product the third.
    """
    a1, a2 = x[..., 0:3], x[..., 3:6]
    b1 = F.normalize(a1, dim=-1)
    b2 = F.normalize(a2 - (b1 * a2).sum(-1, keepdim=True) * b1, dim=-1)
    b3 = torch.linalg.cross(b1, b2, dim=-1)
    return torch.stack([b1, b2, b3], dim=-1)


def matrix_to_axis_angle(rot: torch.Tensor) -> torch.Tensor:
    """Rotation matrices ``(..., 3, 3)`` -> axis-angle ``(..., 3)`` (radians, angle in [0, pi]).

    Through a quaternion from the best-conditioned of the four classic formulas, so it is stable
    near 0 and near pi.
    """
    m = rot
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    tr = m00 + m11 + m22
    cand = torch.stack(
        [
            torch.stack(
                [1 + tr, m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]], -1
            ),
            torch.stack(
                [
                    m[..., 2, 1] - m[..., 1, 2],
                    1 + 2 * m00 - tr,
                    m[..., 0, 1] + m[..., 1, 0],
                    m[..., 0, 2] + m[..., 2, 0],
                ],
                -1,
            ),
            torch.stack(
                [
                    m[..., 0, 2] - m[..., 2, 0],
                    m[..., 0, 1] + m[..., 1, 0],
                    1 + 2 * m11 - tr,
                    m[..., 1, 2] + m[..., 2, 1],
                ],
                -1,
            ),
            torch.stack(
                [
                    m[..., 1, 0] - m[..., 0, 1],
                    m[..., 0, 2] + m[..., 2, 0],
                    m[..., 1, 2] + m[..., 2, 1],
                    1 + 2 * m22 - tr,
                ],
                -1,
            ),
        ],
        dim=-2,
    )
    pivot = torch.stack([1 + tr, 1 + 2 * m00 - tr, 1 + 2 * m11 - tr, 1 + 2 * m22 - tr], -1)
    best = pivot.argmax(-1)
    q = torch.gather(cand, -2, best[..., None, None].expand(*best.shape, 1, 4))[..., 0, :]
    q = F.normalize(q, dim=-1)
    q = torch.where(q[..., :1] < 0, -q, q)
    sin_half = q[..., 1:].norm(dim=-1, keepdim=True)
    angle = 2.0 * torch.atan2(sin_half, q[..., :1])
    scale = torch.where(sin_half > 1e-8, angle / sin_half.clamp(min=1e-8), torch.full_like(angle, 2.0))
    return q[..., 1:] * scale


def crop_squares(boxes: torch.Tensor, camera: CameraConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """HMR2.0's crop square for each box.

    Args:
        boxes: ``(B, 4)`` x1, y1, x2, y2 in full-image pixels.
        camera: the crop convention.

    Returns:
        centres ``(B, 2)`` pixels and square sides ``(B,)`` pixels: the box grown to aspect 3:4
        (width:height), times ``camera.box_scale``; its height is the side.
    """
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    wh = (boxes[:, 2:] - boxes[:, :2]).clamp(min=1.0)
    side = torch.maximum(wh[:, 1], wh[:, 0] * 4.0 / 3.0) * camera.box_scale
    return centre, side


def crop_people(
    frame: torch.Tensor, centres: torch.Tensor, sides: torch.Tensor, image_size: tuple[int, int], camera: CameraConfig
) -> torch.Tensor:
    """Cut, resize and normalise every person's crop in one batched ``grid_sample``.

    Args:
        frame: ``(3, H, W)`` RGB in [0, 1], on the model's device.
        centres: ``(B, 2)`` crop square centres, pixels.
        sides: ``(B,)`` crop square sides, pixels.
        image_size: (height, width) the backbone takes; the crop is the square's central
            ``width / height`` part (192 of 256 columns in HMR2.0). Outside the frame is black
            (zero before normalisation), as HMR2.0's constant-border crop.
        camera: normalisation mean and std.

    Returns:
        ``(B, 3, height, width)`` normalised crops.
    """
    _, h_img, w_img = frame.shape
    out_h, out_w = image_size
    b = centres.shape[0]
    half_h = sides / 2
    half_w = sides * (out_w / out_h) / 2
    # affine_grid works in [-1, 1] image coordinates with align_corners=False (pixel edges at +-1).
    theta = frame.new_zeros(b, 2, 3)
    theta[:, 0, 0] = half_w * 2 / w_img
    theta[:, 0, 2] = centres[:, 0] * 2 / w_img - 1
    theta[:, 1, 1] = half_h * 2 / h_img
    theta[:, 1, 2] = centres[:, 1] * 2 / h_img - 1
    grid = F.affine_grid(theta, [b, 3, out_h, out_w], align_corners=False)
    crops = F.grid_sample(
        frame[None].expand(b, -1, -1, -1), grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )
    mean = torch.tensor(camera.mean, device=frame.device, dtype=frame.dtype)[:, None, None]
    std = torch.tensor(camera.std, device=frame.device, dtype=frame.dtype)[:, None, None]
    return (crops - mean) / std


def crop_camera_to_translation(
    cam: torch.Tensor, centres: torch.Tensor, sides: torch.Tensor, intrinsics: torch.Tensor
) -> torch.Tensor:
    """HMR2.0's weak-perspective crop camera -> SMPL ``transl`` in the full image's camera frame.

    HMR2.0 renders the body at t = (tx, ty, 2 f / (S s)) seen by a camera of focal f = 5000 px on the
    S = 256 px crop square. The same apparent size in a full-image camera of focal fx gives
    tz = 2 fx / (b s) with b the square's side in full-image pixels, and the crop centre's offset
    from the principal point shifts x and y: tx' = tx + (cx - u0) tz / fx (likewise y). With
    HMR2.0's own full-image focal (5000 / 256 * max(W, H)) and the principal point at the image
    centre this is 4D-Humans' ``cam_crop_to_full``.

    Args:
        cam: ``(B, 3)`` (s, tx, ty) from the decoder.
        centres: ``(B, 2)`` crop square centres, pixels.
        sides: ``(B,)`` crop square sides, pixels.
        intrinsics: ``(3, 3)`` full-image camera matrix, pixels (f and S cancel out: only b matters).

    Returns:
        ``(B, 3)`` translation in metres, OpenCV camera frame.
    """
    fx, fy = intrinsics[0, 0], intrinsics[1, 1]
    u0, v0 = intrinsics[0, 2], intrinsics[1, 2]
    s = cam[:, 0].abs().clamp(min=1e-6)
    tz = (fx + fy) / (sides * s)  # 2 f / (b s) with f the mean of fx and fy
    tx = cam[:, 1] + (centres[:, 0] - u0) * tz / fx
    ty = cam[:, 2] + (centres[:, 1] - v0) * tz / fy
    return torch.stack([tx, ty, tz], dim=-1)


def default_intrinsics(width: int, height: int, camera: CameraConfig) -> torch.Tensor:
    """HMR2.0's assumed camera for a full image: focal 5000 / 256 * max(W, H), centre principal point."""
    f = camera.focal_length / camera.crop_size * max(width, height)
    return torch.tensor([[f, 0.0, width / 2], [0.0, f, height / 2], [0.0, 0.0, 1.0]])
