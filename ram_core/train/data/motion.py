"""AMASS-style motion files as stage 2/3 sequences, drawn as synthetic bodies.

An AMASS ``.npz`` (read with ``allow_pickle=False``) holds ``poses`` ``(N, 3 * J)`` axis-angles
(SMPL: J = 24; SMPL-H/X: J = 52 or 55, of which the first 22 are SMPL's root and body joints and
SMPL's two hand joints are left at rest), ``trans`` ``(N, 3)``, ``betas`` ``(B,)`` and
``mocap_framerate`` (AMASS-X: ``mocap_frame_rate``). The root orientation is in AMASS's Z-up world.

Each window of ``seq_len`` frames (resampled to ``fps``) becomes one sample: the world is turned
by a random yaw and seen by a level camera (world z up -> camera -y), the crop follows the person
(translation is dropped, as a tracking crop does), and the bodies are drawn by
:class:`ram_core.train.data.synthetic.SyntheticSamples`' renderer.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from ram_core.contract.skeleton import NUM_BETAS, NUM_BODY_JOINTS, axis_angle_to_matrix, matrix_to_axis_angle
from ram_core.models.config import CameraConfig
from ram_core.train.body import JointBasis
from ram_core.train.data.samples import stack_frames
from ram_core.train.data.synthetic import SyntheticConfig, SyntheticSamples, pan_zoom_path

# World (AMASS, z up) -> OpenCV camera looking along world +y: x stays, camera y = -world z, z = world y.
WORLD_TO_CAMERA = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
SMPL_BODY_JOINTS_IN_SMPLH = 21  # SMPL-H's body joints after the root; SMPL's 22nd/23rd (hands) are not in it


class MotionFormatError(ValueError):
    """A motion file without the arrays this reader needs."""


@dataclass(frozen=True)
class MotionClip:
    """One resampled motion.

    Attributes:
        global_orient: ``(N, 3)`` root axis-angle, body frame -> Z-up world.
        body_pose: ``(N, 23, 3)`` local axis-angles (SMPL's joints).
        betas: ``(10,)`` shape.
        source: file it came from.
    """

    global_orient: np.ndarray
    body_pose: np.ndarray
    betas: np.ndarray
    source: str


def read_motion(path: str | Path, fps: float) -> MotionClip:
    """Read one AMASS-style ``.npz`` and resample it to about ``fps`` frames per second (by striding)."""
    try:
        with np.load(Path(path), allow_pickle=False) as npz:
            data = {k: np.asarray(npz[k]) for k in npz.files}
    except (OSError, ValueError) as exc:
        raise MotionFormatError(f"{path}: not a readable .npz of plain arrays ({exc})") from exc
    if "poses" not in data:
        raise MotionFormatError(f"{path}: no 'poses' array")
    rate_key = next((k for k in ("mocap_framerate", "mocap_frame_rate") if k in data), None)
    rate = float(data[rate_key]) if rate_key else fps
    poses = data["poses"].astype(np.float64)
    if poses.ndim != 2 or poses.shape[1] % 3 or poses.shape[1] < 66:
        raise MotionFormatError(f"{path}: 'poses' has shape {poses.shape}, expected (N, 3 * joints) with joints >= 22")
    stride = max(1, round(rate / fps))
    poses = poses[::stride].reshape(len(poses[::stride]), -1, 3)
    body = np.zeros((len(poses), NUM_BODY_JOINTS, 3))
    body[:, :SMPL_BODY_JOINTS_IN_SMPLH] = poses[:, 1 : 1 + SMPL_BODY_JOINTS_IN_SMPLH]
    if poses.shape[1] == 24:  # a plain SMPL file has its hand joints
        body[:, SMPL_BODY_JOINTS_IN_SMPLH:] = poses[:, 22:24]
    betas = np.zeros(NUM_BETAS)
    if "betas" in data:
        b = data["betas"].reshape(-1)[:NUM_BETAS]
        betas[: len(b)] = b
    return MotionClip(poses[:, 0], body, betas, str(path))


def load_motion_files(patterns: tuple[str, ...] | list[str], fps: float) -> list[MotionClip]:
    """Every motion file matching the paths/globs, resampled to ``fps``."""
    files = sorted({f for p in patterns for f in (glob.glob(p, recursive=True) or [p])})
    return [read_motion(f, fps) for f in files]


class MotionSequences(Dataset):
    """Non-overlapping ``seq_len``-frame windows of motion clips, rendered as synthetic crops."""

    def __init__(
        self,
        clips: list[MotionClip],
        seq_len: int,
        basis: JointBasis,
        camera: CameraConfig,
        image_size: tuple[int, int],
        seed: int = 0,
    ) -> None:
        self.clips = clips
        self.seq_len = seq_len
        self.seed = seed
        self.renderer = SyntheticSamples(SyntheticConfig(seed=seed), basis, camera, image_size)
        self.windows = [
            (c, s) for c, clip in enumerate(clips) for s in range(0, len(clip.body_pose) - seq_len + 1, seq_len)
        ]
        if not self.windows:
            raise MotionFormatError(f"no motion clip has {seq_len} frames")

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        c, start = self.windows[index]
        clip = self.clips[c]
        rng = np.random.default_rng([self.seed, index])
        view = WORLD_TO_CAMERA @ axis_angle_to_matrix(np.array([0.0, 0.0, rng.uniform(-np.pi, np.pi)]))
        cfg = self.renderer.cfg
        cam0 = np.array([rng.uniform(*cfg.scale_range), *rng.uniform(-cfg.shift_range, cfg.shift_range, 2)])
        shift, zoom = pan_zoom_path(rng, self.seq_len, max_shift=0.005, max_zoom=0.01)
        background = self.renderer.background(rng)
        frames = []
        for t in range(self.seq_len):
            orient = matrix_to_axis_angle(view @ axis_angle_to_matrix(clip.global_orient[start + t]))
            cam = np.array([cam0[0] * zoom[t], cam0[1] + shift[t, 0], cam0[2] + shift[t, 1]])
            frames.append(
                self.renderer.render_frame(rng, orient, clip.body_pose[start + t], clip.betas, cam, background)
            )
        return stack_frames(frames)


__all__ = ["WORLD_TO_CAMERA", "MotionClip", "MotionFormatError", "MotionSequences", "load_motion_files", "read_motion"]
