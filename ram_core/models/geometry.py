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


def blur_sigma(sides: torch.Tensor, square_size: int) -> torch.Tensor:
    """HMR2.0's anti-alias blur for each crop square: sigma in full-image pixels, 0 for none.

    4D-Humans (``ViTDetDataset``) blurs the image before cutting a square of side ``b`` pixels down to
    ``square_size`` (256) pixels when ``d = b / (2 * square_size)`` exceeds 1.1 (a side over about
    563 px), with sigma ``(d - 1) / 2``.

    Args:
        sides: ``(B,)`` crop square sides, pixels.
        square_size: the square's size in the crop, pixels.
    """
    d = sides / (2.0 * square_size)
    return torch.where(d > 1.1, (d - 1.0) / 2.0, torch.zeros_like(d))


def _gaussian_taps(sigma: float, device: torch.device) -> torch.Tensor:
    """The 1-D kernel of ``scipy.ndimage.gaussian_filter`` (skimage's ``gaussian``): radius int(4 sigma + 0.5)."""
    if sigma <= 0:
        return torch.ones(1, device=device, dtype=torch.float64)
    radius = int(4.0 * sigma + 0.5)
    x = torch.arange(-radius, radius + 1, device=device, dtype=torch.float64)
    w = torch.exp(-0.5 * (x / sigma) ** 2)
    return w / w.sum()


def _axis_weights(pos: torch.Tensor, size: int, sigma: float) -> tuple[torch.Tensor, int]:
    """The matrix that blurs one frame axis and then samples it at ``pos``, restricted to the pixels it reads.

    Blur: Gaussian of ``sigma`` pixels, edge pixels repeated past the frame (skimage's ``mode="nearest"``);
    none for sigma 0. Sampling: linear between the two nearest pixels, pixel centres at integers,
    zero outside the frame (``cv2.warpAffine`` with a black constant border).

    Args:
        pos: ``(n,)`` sample positions along the axis, pixels (float64).
        size: the frame's pixels along the axis.
        sigma: blur, pixels.

    Returns:
        ``(n, m)`` float64 weights and the first of the ``m`` consecutive pixels they weigh.
    """
    taps = _gaussian_taps(sigma, pos.device)
    r = (len(taps) - 1) // 2
    left = torch.floor(pos)
    frac = pos - left
    pixel = torch.stack([left, left + 1], dim=-1).long()  # (n, 2) the two pixels a sample mixes
    weight = torch.stack([1 - frac, frac], dim=-1) * ((pixel >= 0) & (pixel < size))
    source = (pixel[..., None] + torch.arange(-r, r + 1, device=pos.device)).clamp(0, size - 1)  # (n, 2, taps)
    lo, hi = int(source.min()), int(source.max()) + 1
    n = pos.shape[0]
    matrix = pos.new_zeros(n, hi - lo)
    matrix.scatter_add_(1, (source - lo).reshape(n, -1), (weight[..., None] * taps).reshape(n, -1))
    return matrix, lo


def _bilinear(frame: torch.Tensor, xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    """Bilinear samples of ``frame`` ``(3, H, W)`` at ``xs (B, w)`` x ``ys (B, h)`` pixels: ``(B, 3, h, w)``.

    Pixel centres at integers, zero outside the frame, as ``cv2.warpAffine`` with a black border.
    """
    _, h_img, w_img = frame.shape
    gx = (2.0 * xs + 1.0) / w_img - 1.0  # grid_sample (align_corners=False) has pixel i's centre at (2i + 1) / n - 1
    gy = (2.0 * ys + 1.0) / h_img - 1.0
    grid = torch.stack(torch.broadcast_tensors(gx[:, None, :], gy[:, :, None]), dim=-1)
    image = frame[None].expand(len(xs), -1, -1, -1)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def crop_people(
    frame: torch.Tensor, centres: torch.Tensor, sides: torch.Tensor, image_size: tuple[int, int], camera: CameraConfig
) -> torch.Tensor:
    """Cut, anti-alias, resize and normalise every person's crop as HMR2.0 (4D-Humans) does.

    4D-Humans blurs the frame (:func:`blur_sigma`), warps the square to ``height`` x ``height`` pixels
    with ``cv2.warpAffine`` (bilinear, pixel centres at integers, black outside), keeps the central
    ``width`` columns (``[..., 32:-32]`` for 192 of 256) and normalises with ImageNet's mean and std.
    Here crop pixel (i, j) is the (blurred) frame at ``centre + side / height * (j - width / 2, i - height / 2)``,
    the same points. Squares that need no blur go through one batched ``grid_sample``. For a blurred
    one, blur and bilinear sampling are separable and linear, so its crop is ``Y @ frame @ X.T`` with
    one small matrix per axis (:func:`_axis_weights`) over the part of the frame it reads: the same
    result as blurring the whole frame first, without doing so. Inference
    (:class:`~ram_core.models.regressor.Regressor`) and training data (``ram_core.train.data.shards``)
    both crop here.

    Args:
        frame: ``(3, H, W)`` RGB, float in [0, 1] or uint8 (converted to float32 / 255 first).
        centres: ``(B, 2)`` crop square centres, pixels.
        sides: ``(B,)`` crop square sides, pixels.
        image_size: (height, width) the backbone takes; the square is ``height`` pixels.
        camera: normalisation mean and std.

    Returns:
        ``(B, 3, height, width)`` normalised crops (float32 for a uint8 frame, else the frame's dtype).
    """
    if frame.dtype == torch.uint8:
        frame = frame.float() / 255.0
    _, h_img, w_img = frame.shape
    out_h, out_w = image_size
    cols = torch.arange(out_w, dtype=torch.float64) - out_w / 2
    rows = torch.arange(out_h, dtype=torch.float64) - out_h / 2
    sigmas = blur_sigma(sides.detach().double().cpu(), out_h)
    crops = frame.new_zeros(centres.shape[0], 3, out_h, out_w)
    sharp = (sigmas == 0).nonzero().flatten().to(frame.device)
    if len(sharp):
        c = centres.to(frame.device, frame.dtype)[sharp]
        step = sides.to(frame.device, frame.dtype)[sharp, None] / out_h  # frame pixels per crop pixel
        xs = c[:, :1] + step * cols.to(frame.device, frame.dtype)
        ys = c[:, 1:] + step * rows.to(frame.device, frame.dtype)
        crops[sharp] = _bilinear(frame, xs, ys)
    if bool((sigmas > 0).any()):
        # Built on the CPU in float64 (MPS has no float64), then moved to the frame's device.
        centres64, step64 = centres.detach().double().cpu(), sides.detach().double().cpu() / out_h
        for i in (sigmas > 0).nonzero().flatten().tolist():
            wx, x0 = _axis_weights(centres64[i, 0] + step64[i] * cols, w_img, float(sigmas[i]))
            wy, y0 = _axis_weights(centres64[i, 1] + step64[i] * rows, h_img, float(sigmas[i]))
            window = frame[:, y0 : y0 + wy.shape[1], x0 : x0 + wx.shape[1]]
            wx, wy = wx.to(frame.device, frame.dtype), wy.to(frame.device, frame.dtype)
            h, w = window.shape[1:]
            if out_w * h * (w + out_h) <= out_h * w * (h + out_w):  # the cheaper order of the two products
                crops[i] = wy @ (window @ wx.T)
            else:
                crops[i] = (wy @ window) @ wx.T
    mean = torch.tensor(camera.mean, device=frame.device, dtype=frame.dtype)[:, None, None]
    std = torch.tensor(camera.std, device=frame.device, dtype=frame.dtype)[:, None, None]
    return (crops - mean) / std


def crop_camera_to_translation(
    cam: torch.Tensor, centres: torch.Tensor, sides: torch.Tensor, intrinsics: torch.Tensor
) -> torch.Tensor:
    """HMR2.0's weak-perspective crop camera -> SMPL ``transl`` in the full image's camera frame.

    HMR2.0 renders the body at t = (tx, ty, 2 f / (S s)) seen by a camera of focal f = 5000 px on the
    S = 256 px crop square. The same apparent size in a full-image camera of focal fx gives
    tz = 2 fx / (b s + 1e-9) with b the square's side in full-image pixels, and the crop centre's offset
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
    bs = sides * cam[:, 0] + 1e-9  # as 4D-Humans: a negative s puts the body behind the camera, keeping its sign
    tz = (fx + fy) / bs  # 2 f / (b s) with f the mean of fx and fy
    tx = cam[:, 1] + (centres[:, 0] - u0) * tz / fx
    ty = cam[:, 2] + (centres[:, 1] - v0) * tz / fy
    return torch.stack([tx, ty, tz], dim=-1)


def default_intrinsics(width: int, height: int, camera: CameraConfig) -> torch.Tensor:
    """HMR2.0's assumed camera for a full image: focal 5000 / 256 * max(W, H), centre principal point."""
    f = camera.focal_length / camera.crop_size * max(width, height)
    return torch.tensor([[f, 0.0, width / 2], [0.0, f, height / 2], [0.0, 0.0, 1.0]])
