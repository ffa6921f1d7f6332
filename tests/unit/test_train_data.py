"""Data readers: our shard layout, 4D-Humans' tars (safe unpickling), AMASS motion, synthetic samples, masking."""

from __future__ import annotations

import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
cv2 = pytest.importorskip("cv2")

from ram_core.contract.skeleton import JOINT_INDEX
from ram_core.models.config import CameraConfig
from ram_core.train.body import synthetic_joint_basis
from ram_core.train.data.motion import MotionSequences, read_motion
from ram_core.train.data.shards import ImageShards, PanZoomSequences, ShardFormatError, read_pyd
from ram_core.train.data.synthetic import SyntheticConfig, SyntheticSamples
from ram_core.train.masking import mask_body_regions

SIZE = (64, 48)
CAMERA = CameraConfig(crop_size=64)


def _jpeg() -> bytes:
    img = np.zeros((200, 300, 3), np.uint8)
    img[50:150, 100:200] = (0, 0, 255)  # a red square (BGR) where the person is
    ok, buf = cv2.imencode(".png", img)
    assert ok
    return buf.tobytes()


def _add(tar: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    tar.addfile(info, io.BytesIO(payload))


def _our_npz() -> bytes:
    kp2d = np.zeros((1, 24, 3), np.float32)
    kp2d[0, JOINT_INDEX["pelvis"]] = (150.0, 100.0, 1.0)
    kp2d[0, JOINT_INDEX["head"]] = (150.0, 60.0, 1.0)
    buf = io.BytesIO()
    np.savez(
        buf,
        box=np.array([[100.0, 50.0, 200.0, 150.0]]),
        kp2d=kp2d,
        global_orient=np.array([[np.pi, 0.0, 0.0]]),
        body_pose=np.zeros((1, 23, 3)),
        has_pose=np.ones(1),
        betas=np.full((1, 10), 0.5),
        has_betas=np.ones(1),
    )
    return buf.getvalue()


def test_our_shard_layout(tmp_path: Path) -> None:
    path = tmp_path / "000000.tar"
    with tarfile.open(path, "w") as tar:
        _add(tar, "a/img001.png", _jpeg())
        _add(tar, "a/img001.npz", _our_npz())
    ds = ImageShards([str(path)], CAMERA, SIZE)
    assert len(ds) == 1
    s = ds[0]
    assert s["img"].shape == (3, 64, 48)
    # box 100x100 -> square side max(100, 133.3) = 133.3 px centred on (150, 100)
    np.testing.assert_allclose(s["kp2d"][JOINT_INDEX["pelvis"]], [0.0, 0.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(s["kp2d"][JOINT_INDEX["head"]], [0.0, -40 / 133.333, 1.0], atol=1e-4)
    assert s["kp2d"][JOINT_INDEX["left_knee"], 2] == 0.0
    np.testing.assert_allclose(s["rotmats"][0], np.diag([1.0, -1.0, -1.0]), atol=1e-6)
    assert s["has_pose"] == 1.0 and s["has_betas"] == 1.0 and s["person"] == 1.0
    # The crop's centre pixel is the red square (R high after un-normalising).
    centre = s["img"][:, 32, 24] * np.array(CAMERA.std) + np.array(CAMERA.mean)
    assert centre[0] > 0.9 and centre[2] < 0.1
    seq = PanZoomSequences(ds, 4)[0]
    assert seq["img"].shape == (4, 3, 64, 48)
    assert not np.allclose(seq["kp2d"][0, :, :2], seq["kp2d"][3, :, :2])


def test_training_crops_are_the_inference_crops(tmp_path: Path) -> None:
    """ImageShards cuts with crop_people itself: same pixels as the Regressor's crop of the same square."""
    from ram_core.models.geometry import crop_people

    yy, xx = np.mgrid[0:200, 0:300]
    img = np.stack([xx * 0.8, yy * 1.2, (xx + yy) * 0.5], axis=-1).clip(0, 255).astype(np.uint8)  # BGR ramps
    ok, buf = cv2.imencode(".png", img)
    assert ok
    path = tmp_path / "000000.tar"
    with tarfile.open(path, "w") as tar:
        _add(tar, "a/img001.png", buf.tobytes())
        _add(tar, "a/img001.npz", _our_npz())
    ds = ImageShards([str(path)], CAMERA, SIZE)
    frame = torch.from_numpy(np.ascontiguousarray(img[:, :, ::-1])).permute(2, 0, 1).float() / 255
    side = 100.0 * 4 / 3
    for shift, zoom in ((None, 1.0), (np.array([0.1, -0.05]), 1.25)):
        got = ds.sample(0, shift=shift, zoom=zoom)["img"]
        centre = np.array([150.0, 100.0]) + (0 if shift is None else shift * side)
        want = crop_people(frame, torch.tensor(centre[None]), torch.tensor([side / zoom]), SIZE, CAMERA)[0].numpy()
        np.testing.assert_allclose(got, want, atol=1e-6)
    # The square's centre is crop pixel (height / 2, width / 2) (cv2's pixel-centre convention): its
    # normalised keypoint coordinate 0 and the image there agree.
    s = ds.sample(0)
    raw = s["img"][:, 32, 24] * np.array(CAMERA.std) + np.array(CAMERA.mean)
    np.testing.assert_allclose(raw * 255, img[100, 150, ::-1], atol=0.05)
    np.testing.assert_allclose(s["kp2d"][JOINT_INDEX["pelvis"], :2], [0.0, 0.0], atol=1e-6)


def _hmr2_person() -> dict:
    kp = np.zeros((44, 3), np.float32)
    kp[25 + 14] = (150.0, 100.0, 1.0)  # extra pelvis -> SMPL pelvis
    kp[12] = (170.0, 100.0, 1.0)  # OpenPose LHip, used because the extra left hip has no confidence
    return {
        "keypoints_2d": kp,
        "keypoints_3d": np.zeros((44, 4), np.float32),
        "center": np.array([150.0, 100.0]),
        "scale": np.array([0.5, 0.5]),
        "body_pose": np.zeros(72, np.float32),
        "betas": np.zeros(10, np.float32),
        "has_body_pose": np.array(1.0),
        "has_betas": np.array(0.0),
        "extra_info": {"source": "test"},
    }


def test_4d_humans_tar_layout(tmp_path: Path) -> None:
    path = tmp_path / "hmr2.tar"
    with tarfile.open(path, "w") as tar:
        _add(tar, "0001.jpg", _jpeg())
        _add(tar, "0001.data.pyd", pickle.dumps([_hmr2_person(), _hmr2_person()]))
    ds = ImageShards([str(path)], CAMERA, SIZE)
    assert len(ds) == 2
    s = ds[1]
    side = 100.0 * 4 / 3  # 200 * 0.5 = 100 px box, grown to 3:4
    np.testing.assert_allclose(s["kp2d"][JOINT_INDEX["pelvis"]], [0.0, 0.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(s["kp2d"][JOINT_INDEX["left_hip"]], [20 / side, 0.0, 1.0], atol=1e-5)
    assert s["has_pose"] == 1.0 and s["has_betas"] == 0.0


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_malicious_pyd_is_refused() -> None:
    with pytest.raises(ShardFormatError, match="refusing"):
        read_pyd(pickle.dumps([{"x": _Evil()}]))


def test_amass_motion(tmp_path: Path) -> None:
    n = 40
    poses = np.zeros((n, 156))
    poses[:, 3 * 4] = np.linspace(0.0, 1.0, n)  # left knee bends over time (SMPL-H joint 4)
    np.savez(tmp_path / "walk.npz", poses=poses, trans=np.zeros((n, 3)), betas=np.zeros(16), mocap_framerate=120.0)
    clip = read_motion(tmp_path / "walk.npz", fps=30.0)
    assert clip.body_pose.shape == (10, 23, 3)
    assert clip.body_pose[1, 3, 0] == pytest.approx(4 / 39)
    seqs = MotionSequences([clip], 4, synthetic_joint_basis(), CAMERA, SIZE)
    assert len(seqs) == 2
    s = seqs[0]
    assert s["img"].shape == (4, 3, 64, 48) and s["kp3d"].shape == (4, 24, 4)
    # The camera is level: a standing body's head is above (smaller y than) its pelvis.
    assert s["kp2d"][0, JOINT_INDEX["head"], 1] < s["kp2d"][0, JOINT_INDEX["pelvis"], 1]


def test_synthetic_samples_are_deterministic_and_consistent() -> None:
    ds = SyntheticSamples(SyntheticConfig(num_samples=4, empty_fraction=0.0), synthetic_joint_basis(), CAMERA, SIZE)
    a, b = ds[2], ds[2]
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert a["person"] == 1.0 and a["has_pose"] == 1.0
    seq = SyntheticSamples(
        SyntheticConfig(num_samples=4, seq_len=3, empty_fraction=0.0), synthetic_joint_basis(), CAMERA, SIZE
    )[2]
    np.testing.assert_array_equal(seq["kp2d"][0], a["kp2d"])  # sequence i starts from image sample i


def test_mask_body_regions_covers_the_ratio() -> None:
    img = torch.ones(1, 3, 64, 64)
    box = torch.tensor([[-0.25, -0.25, 0.25, 0.25]])  # the central 32x32 pixels
    out = mask_body_regions(img, box, 0.6, 4, torch.Generator().manual_seed(0))
    blank = (out[0, 0] == 0).float()
    assert blank.sum().item() == pytest.approx(10 * 64)  # round(0.6 * 16) = 10 cells of 8x8 pixels
    assert blank[:16].sum().item() == 0 and blank[:, 48:].sum().item() == 0
