"""Synthetic training samples: a body posed at random, projected, and drawn as coloured capsules.

Enough for the whole training loop to run (and for tests to overfit) without any data set. Each
sample is a pure function of ``(seed, index)``. Bones are capsules in a per-bone colour (left and
right differ, so the image fixes the body's orientation), drawn far to near over a random
background; a fraction of samples are empty crops (negatives for the confidence loss).

Poses: the root faces the camera (180 degrees about x) turned by a random yaw and a small tilt; each
body joint gets a random axis-angle of a few tenths of a radian. Sequences move the pose, yaw and
camera smoothly over ``T`` frames; ``pan_zoom`` sequences keep the pose still and move only the
crop camera, which is what panning and zooming a single image does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch.utils.data import Dataset

from ram_core.contract.skeleton import (
    NUM_BETAS,
    NUM_BODY_JOINTS,
    NUM_JOINTS,
    PARENTS,
    axis_angle_to_matrix,
    forward_kinematics,
    matrix_to_axis_angle,
)
from ram_core.models.config import CameraConfig
from ram_core.train.body import JointBasis, rest_joints_np
from ram_core.train.data.samples import crop_grid, empty_frame, normalise_image, stack_frames, visible_in_crop

# A colour per bone (the bone ending at joint j), left side warm, right side cool, trunk grey.
_LEFT = (1, 4, 7, 10, 13, 16, 18, 20, 22)
_RIGHT = (2, 5, 8, 11, 14, 17, 19, 21, 23)


def _bone_colours() -> np.ndarray:
    colours = np.full((NUM_JOINTS, 3), 0.6)
    for i, j in enumerate(_LEFT):
        colours[j] = (0.95, 0.25 + 0.07 * i, 0.1)
    for i, j in enumerate(_RIGHT):
        colours[j] = (0.1, 0.25 + 0.07 * i, 0.95)
    colours[15] = (0.95, 0.9, 0.8)  # head
    return colours


BONE_COLOURS = _bone_colours()


@dataclass(frozen=True)
class SyntheticConfig:
    """Ranges of the random bodies and cameras.

    Attributes:
        num_samples: data-set length.
        seq_len: frames per sequence sample (1: image samples).
        empty_fraction: share of image samples with no person (confidence negatives).
        pose_sigma: standard deviation of each body joint's axis-angle components, radians.
        yaw_range: root turn about the vertical axis, +- radians.
        betas_sigma: standard deviation of each beta.
        scale_range: crop camera scale s (the body's size in the crop).
        shift_range: crop camera tx, ty, +- metres.
        motion_sigma: per-frame change of each joint's axis-angle in sequences, radians.
        pan_zoom_fraction: share of sequences made by panning/zooming a still pose.
        bone_radius: capsule radius, metres.
        seed: base seed.
    """

    num_samples: int = 1000
    seq_len: int = 1
    empty_fraction: float = 0.1
    pose_sigma: float = 0.25
    yaw_range: float = 1.2
    betas_sigma: float = 0.8
    scale_range: tuple[float, float] = (0.7, 0.95)
    shift_range: float = 0.05
    motion_sigma: float = 0.04
    pan_zoom_fraction: float = 0.5
    bone_radius: float = 0.045
    seed: int = 0


def _root_rotation(yaw: float, tilt: np.ndarray) -> np.ndarray:
    """Axis-angle ``(3,)`` of: tilt (small, camera frame) after facing the camera and turning by ``yaw``."""
    face = axis_angle_to_matrix(np.array([np.pi, 0.0, 0.0]))
    turn = axis_angle_to_matrix(np.array([0.0, yaw, 0.0]))
    return matrix_to_axis_angle(axis_angle_to_matrix(tilt) @ face @ turn)


def render_capsules(
    joints_2d: np.ndarray, depth: np.ndarray, radius: np.ndarray, height: int, width: int, background: np.ndarray
) -> np.ndarray:
    """Draw each bone as a 2D capsule, far bones first.

    Args:
        joints_2d: ``(24, 2)`` normalised crop-square coordinates.
        depth: ``(24,)`` camera depth of each joint, metres (orders the bones).
        radius: ``(24,)`` capsule radius per bone (bone = joint j and its parent), normalised units.
        height, width: crop size in pixels.
        background: ``(H, W, 3)`` RGB in [0, 1].

    Returns:
        ``(H, W, 3)`` RGB in [0, 1].
    """
    xs, ys = crop_grid(height, width)
    px = np.stack(np.meshgrid(xs, ys), axis=-1)  # (H, W, 2)
    img = background.copy()
    order = sorted(range(1, NUM_JOINTS), key=lambda j: -(depth[j] + depth[PARENTS[j]]))
    for j in order:
        a, b = joints_2d[PARENTS[j]], joints_2d[j]
        ab = b - a
        t = np.clip(((px - a) @ ab) / max(float(ab @ ab), 1e-12), 0.0, 1.0)
        d = np.linalg.norm(px - (a + t[..., None] * ab), axis=-1)
        inside = d <= radius[j]
        shade = 0.75 + 0.25 * (1.0 - d / max(radius[j], 1e-6))
        img[inside] = BONE_COLOURS[j] * shade[inside, None]
    return img


class SyntheticSamples(Dataset):
    """Image samples (``seq_len == 1``) or sequences of synthetic bodies; see the module docstring."""

    def __init__(self, cfg: SyntheticConfig, basis: JointBasis, camera: CameraConfig, image_size: tuple[int, int]):
        self.cfg = cfg
        self.basis = basis
        self.camera = camera
        self.height, self.width = image_size

    def __len__(self) -> int:
        return self.cfg.num_samples

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        cfg = self.cfg
        rng = np.random.default_rng([cfg.seed, index])
        # The same first draws in both modes: sequence i starts with the body of image sample i.
        empty = rng.random() < cfg.empty_fraction
        if cfg.seq_len == 1:
            if empty:
                frame = empty_frame(self.height, self.width)
                frame["img"] = normalise_image(self.background(rng), self.camera)
                return frame
            return self.render_frame(rng, *self._draw_body(rng))
        return self._sequence(rng)

    def _draw_body(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        cfg = self.cfg
        body_pose = rng.normal(0.0, cfg.pose_sigma, (NUM_BODY_JOINTS, 3))
        orient = _root_rotation(rng.uniform(-cfg.yaw_range, cfg.yaw_range), rng.normal(0.0, 0.1, 3))
        betas = rng.normal(0.0, cfg.betas_sigma, NUM_BETAS)
        cam = np.array([rng.uniform(*cfg.scale_range), *rng.uniform(-cfg.shift_range, cfg.shift_range, 2)])
        return orient, body_pose, betas, cam

    def background(self, rng: np.random.Generator) -> np.ndarray:
        base = rng.uniform(0.2, 0.8, 3)
        noise = rng.normal(0.0, 0.04, (self.height // 8 + 1, self.width // 8 + 1, 3))
        noise = np.repeat(np.repeat(noise, 8, axis=0), 8, axis=1)[: self.height, : self.width]
        return np.clip(base + noise, 0.0, 1.0)

    def render_frame(
        self,
        rng: np.random.Generator,
        orient: np.ndarray,
        body_pose: np.ndarray,
        betas: np.ndarray,
        cam: np.ndarray,
        background: np.ndarray | None = None,
    ) -> dict[str, np.ndarray]:
        """One annotated frame of a body.

        Args:
            rng: random source (for the background when none is given).
            orient: ``(3,)`` root axis-angle, body -> camera frame.
            body_pose: ``(23, 3)`` local axis-angles.
            betas: ``(10,)`` shape.
            cam: ``(3,)`` crop camera (s, tx, ty).
            background: ``(H, W, 3)`` RGB in [0, 1], or None for a random one.
        """
        rest = rest_joints_np(self.basis, betas)
        joints, _ = forward_kinematics(orient[None], body_pose[None], rest)
        joints = joints[0]
        tz = 2.0 * self.camera.focal_length / (self.camera.crop_size * cam[0])
        cam_pts = joints + np.array([cam[1], cam[2], tz])
        f = self.camera.focal_length / self.camera.crop_size
        xy = f * cam_pts[:, :2] / cam_pts[:, 2:3]
        radius = np.full(NUM_JOINTS, f * self.cfg.bone_radius / tz)
        radius[15] *= 2.0  # a round head
        bg = self.background(rng) if background is None else background
        img = render_capsules(xy, cam_pts[:, 2], radius, self.height, self.width, bg)
        conf = visible_in_crop(xy, self.height, self.width).astype(np.float32)
        frame = empty_frame(self.height, self.width)
        frame.update(
            img=normalise_image(img, self.camera),
            kp2d=np.concatenate([xy, conf[:, None]], axis=1).astype(np.float32),
            kp3d=np.concatenate([joints, np.ones((NUM_JOINTS, 1))], axis=1).astype(np.float32),
            rotmats=axis_angle_to_matrix(np.concatenate([orient[None], body_pose])).astype(np.float32),
            has_pose=np.float32(1.0),
            betas=betas.astype(np.float32),
            has_betas=np.float32(1.0),
            person=np.float32(1.0),
            body_box=np.concatenate([xy.min(axis=0) - radius.max(), xy.max(axis=0) + radius.max()]).astype(np.float32),
        )
        return frame

    def _sequence(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        cfg = self.cfg
        orient, body_pose, betas, cam = self._draw_body(rng)
        background = self.background(rng)
        pan_zoom = rng.random() < cfg.pan_zoom_fraction
        pose_vel = np.zeros_like(body_pose) if pan_zoom else rng.normal(0.0, cfg.motion_sigma, body_pose.shape)
        yaw_vel = 0.0 if pan_zoom else rng.normal(0.0, 0.05)
        shift, zoom = pan_zoom_path(rng, cfg.seq_len)
        frames = []
        for t in range(cfg.seq_len):
            turn = axis_angle_to_matrix(orient) @ axis_angle_to_matrix(np.array([0.0, yaw_vel * t, 0.0]))
            cam_t = np.array([cam[0] * zoom[t], cam[1] + shift[t, 0], cam[2] + shift[t, 1]])
            frames.append(
                self.render_frame(rng, matrix_to_axis_angle(turn), body_pose + t * pose_vel, betas, cam_t, background)
            )
        return stack_frames(frames)


def pan_zoom_path(
    rng: np.random.Generator, length: int, max_shift: float = 0.02, max_zoom: float = 0.03
) -> tuple[np.ndarray, np.ndarray]:
    """A smooth virtual camera move over ``length`` frames: what panning/zooming a still image does.

    Args:
        rng: random source.
        length: number of frames.
        max_shift: largest per-frame pan, normalised crop units (fraction of the crop square).
        max_zoom: largest per-frame relative zoom.

    Returns:
        Cumulative shifts ``(T, 2)`` (0 at frame 0) and zoom factors ``(T,)`` (1 at frame 0).
    """
    velocity = rng.uniform(-max_shift, max_shift, 2)
    rate = rng.uniform(-max_zoom, max_zoom)
    t = np.arange(length, dtype=np.float64)
    return t[:, None] * velocity[None], (1.0 + rate) ** t


__all__ = ["BONE_COLOURS", "SyntheticConfig", "SyntheticSamples", "pan_zoom_path", "render_capsules"]
