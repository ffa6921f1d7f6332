"""The backbone crop equals 4D-Humans' (blur, cv2.warpAffine, central columns, ImageNet normalisation)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
cv2 = pytest.importorskip("cv2")
ndimage = pytest.importorskip("scipy.ndimage")

from ram_core.models.config import CameraConfig
from ram_core.models.geometry import blur_sigma, crop_people

CAMERA = CameraConfig()
SIZE = (256, 192)


def _hmr2_crop(bgr: np.ndarray, centre: tuple[float, float], side: float) -> np.ndarray:
    """4D-Humans' ``ViTDetDataset`` crop, written from its conventions: ``(3, 256, 192)`` normalised RGB.

    Blur with skimage's ``gaussian`` (which is ``scipy.ndimage.gaussian_filter``, mode "nearest",
    truncate 4) when side / 512 > 1.1; the affine map from the three points centre, centre + down,
    centre + right (``cv2.getAffineTransform`` on float32, as ``gen_trans_from_patch_cv``); bilinear
    ``cv2.warpAffine`` to 256 x 256 with a black border; columns 32:-32; BGR -> RGB; mean/std x 255.
    """
    img = bgr
    d = side / 256 / 2
    if d > 1.1:
        s = (d - 1) / 2
        img = ndimage.gaussian_filter(img.astype(np.float64), sigma=(s, s, 0), mode="nearest", truncate=4.0)
    cx, cy = centre
    src = np.float32([[cx, cy], [cx, cy + side / 2], [cx + side / 2, cy]])
    dst = np.float32([[128, 128], [128, 256], [256, 128]])
    warp = cv2.getAffineTransform(src, dst)
    patch = cv2.warpAffine(img, warp, (256, 256), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    rgb = patch[:, 32:-32, ::-1].astype(np.float64)
    return ((rgb - 255 * np.array(CAMERA.mean)) / (255 * np.array(CAMERA.std))).transpose(2, 0, 1)


def _smooth_image(height: int, width: int) -> np.ndarray:
    """``(H, W, 3)`` uint8 BGR: three slanted sinusoids (periods of 60 to 250 px), full range."""
    yy, xx = np.mgrid[0:height, 0:width] / 40.0
    waves = [np.sin(xx * a + yy * b + phase) for a, b, phase in ((1.0, 0.3, 0.0), (0.4, 1.1, 1.0), (0.7, -0.6, 2.0))]
    return np.clip(np.stack(waves, axis=-1) * 110 + 128, 0, 255).astype(np.uint8)


def _ours(bgr: np.ndarray, centre: tuple[float, float], side: float) -> np.ndarray:
    frame = torch.from_numpy(np.ascontiguousarray(bgr[:, :, ::-1])).permute(2, 0, 1).float() / 255
    return crop_people(frame, torch.tensor([centre]), torch.tensor([side]), SIZE, CAMERA)[0].numpy()


@pytest.mark.parametrize(
    ("centre", "side", "tolerance"),
    [
        # No blur: cv2 rounds its uint8 output, half a level is 0.5 / 255 / 0.225 = 0.0087 normalised.
        ((1500.3, 1000.7), 330.0, 0.01),
        ((120.0, 90.0), 330.0, 0.01),  # a square half outside the frame: black border, as cv2's
        # Blur sigma 1.84 px: cv2 warps the float64 blurred image at 1/32-pixel steps; 0.0000x here.
        ((1210.5, 990.25), 2400.0, 0.001),
        ((1900.0, 1500.0), 700.0, 0.01),  # blur sigma 0.18 px, square past the right and bottom edges
    ],
)
def test_crop_equals_4d_humans_cv2_crop(centre, side, tolerance):
    bgr = _smooth_image(1600, 2000)
    ours, theirs = _ours(bgr, centre, side), _hmr2_crop(bgr, centre, side)
    assert (blur_sigma(torch.tensor([side]), 256) > 0).item() == (side / 512 > 1.1)
    assert np.abs(ours - theirs).max() < tolerance
    assert np.abs(ours - theirs).mean() < 0.005


def test_blur_starts_above_563_px_with_4d_humans_sigma():
    sides = torch.tensor([330.0, 563.0, 564.0, 2400.0])
    got = blur_sigma(sides, 256)
    assert got[0] == 0 and got[1] == 0
    np.testing.assert_allclose(got[2:].numpy(), [(564 / 512 - 1) / 2, (2400 / 512 - 1) / 2], rtol=1e-6)


def test_without_the_half_pixel_offset_the_crop_would_differ():
    """The old grid (pixel edges at +-1) sat 0.5 (side / 256 - 1) px off: the reference tells them apart."""
    bgr = _smooth_image(1600, 2000)
    centre, side = (1000.0, 800.0), 2400.0
    shift = 0.5 * (side / 256 - 1)
    theirs = _hmr2_crop(bgr, centre, side)
    shifted = _ours(bgr, (centre[0] + shift, centre[1] + shift), side)
    assert np.abs(shifted - theirs).max() > 0.1 > np.abs(_ours(bgr, centre, side) - theirs).max()


def test_a_uint8_frame_crops_like_its_float_copy():
    bgr = _smooth_image(300, 400)
    rgb = torch.from_numpy(np.ascontiguousarray(bgr[:, :, ::-1])).permute(2, 0, 1)
    centres, sides = torch.tensor([[200.0, 150.0], [390.0, 20.0]]), torch.tensor([120.0, 700.0])
    a = crop_people(rgb, centres, sides, SIZE, CAMERA)
    b = crop_people(rgb.float() / 255, centres, sides, SIZE, CAMERA)
    assert a.dtype == torch.float32 and torch.allclose(a, b, atol=1e-6)
