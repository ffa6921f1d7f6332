"""Architecture configs of the reconstruction half of RAM: frozen dataclasses, each with ``tiny()``.

The full-size defaults are HMR2.0's (4D-Humans release): a ViT-H/16 backbone over 256x192 crops and
a 6-layer cross-attention SMPL decoder with one query token. The temporal parts (Memory Cache,
MemFormer cross-attentions, Predictor, Combiner) are RAM's; their sizes are our choice (METHOD.md).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ram_core.config_dicts import dataclass_from_dict
from ram_core.contract.skeleton import NUM_BETAS, NUM_JOINTS


@dataclass(frozen=True)
class ViTConfig:
    """Plain ViT over a person crop. ``image_size`` is (height, width) in pixels."""

    image_size: tuple[int, int] = (256, 192)
    patch_size: int = 16
    patch_padding: int = 2  # HMR2.0's patch conv pads by 2: 256x192 -> 16x12 tokens
    embed_dim: int = 1280
    depth: int = 32
    num_heads: int = 16
    mlp_ratio: float = 4.0
    norm_eps: float = 1e-6

    @property
    def grid(self) -> tuple[int, int]:
        """Token grid (rows, columns) the patch convolution produces."""
        h, w = self.image_size
        p, pad = self.patch_size, self.patch_padding
        return (h + 2 * pad - p) // p + 1, (w + 2 * pad - p) // p + 1

    @property
    def num_tokens(self) -> int:
        rows, cols = self.grid
        return rows * cols

    @classmethod
    def tiny(cls) -> ViTConfig:
        return cls(image_size=(64, 48), embed_dim=32, depth=2, num_heads=2)


@dataclass(frozen=True)
class HeadConfig:
    """The SMPL decoder (HMR2.0's transformer head, stacked MemFormer blocks in RAM).

    ``dim`` is the SMPL token's width; ``context_dim`` the backbone's ``embed_dim``. The outputs are
    rot6d for ``num_joints`` joints (root first), ``num_betas`` shape coefficients and a 3-vector
    weak-perspective camera (scale, tx, ty).
    """

    dim: int = 1024
    depth: int = 6
    num_heads: int = 8
    head_dim: int = 64
    mlp_dim: int = 1024
    context_dim: int = 1280
    num_joints: int = NUM_JOINTS
    num_betas: int = NUM_BETAS
    norm_eps: float = 1e-5

    @property
    def num_params(self) -> int:
        """Length of the regressed vector: rot6d per joint, betas, camera."""
        return 6 * self.num_joints + self.num_betas + 3

    @classmethod
    def tiny(cls) -> HeadConfig:
        return cls(dim=32, depth=2, num_heads=2, head_dim=16, mlp_dim=64, context_dim=32)


@dataclass(frozen=True)
class MemoryConfig:
    """Memory Cache: a window of ``window`` frames of backbone tokens per person, ``top_k`` kept.

    Online use holds the current frame and the ``window - 1`` before it; offline use a window
    centred on the current frame. Frames whose visibility is below ``min_visibility`` never enter
    the memory (an occluder's features are not the person's).
    """

    window: int = 9
    top_k: int = 4
    min_visibility: float = 0.5

    @classmethod
    def tiny(cls) -> MemoryConfig:
        return cls(window=5, top_k=2)


@dataclass(frozen=True)
class PredictorConfig:
    """Transformer over a FIFO of the last ``queue`` motion states (SMPL tokens) of a person."""

    queue: int = 8
    dim: int = 256
    depth: int = 2
    num_heads: int = 4
    mlp_dim: int = 512

    @classmethod
    def tiny(cls) -> PredictorConfig:
        return cls(queue=4, dim=16, depth=1, num_heads=2, mlp_dim=32)


@dataclass(frozen=True)
class CombinerConfig:
    """Gated MLP fusing the reconstructed token with the predicted one."""

    hidden: int = 512

    @classmethod
    def tiny(cls) -> CombinerConfig:
        return cls(hidden=16)


@dataclass(frozen=True)
class CameraConfig:
    """HMR2.0's crop and camera convention.

    The crop is a square of side ``max(h, w * 4/3)`` pixels about the box centre (times
    ``box_scale``), resized to ``crop_size``; the backbone sees its central ``image_size`` columns.
    The weak-perspective camera refers to that square with focal ``focal_length`` pixels at
    ``crop_size`` pixels: depth = 2 * focal / (crop_size * s).
    """

    focal_length: float = 5000.0
    crop_size: int = 256
    box_scale: float = 1.0
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class RamConfig:
    """The whole regressor: backbone, decoder, memory, predictor, combiner, camera convention."""

    backbone: ViTConfig = field(default_factory=ViTConfig)
    head: HeadConfig = field(default_factory=HeadConfig)
    memory: MemoryConfig = field(default_factory=MemoryConfig)
    predictor: PredictorConfig = field(default_factory=PredictorConfig)
    combiner: CombinerConfig = field(default_factory=CombinerConfig)
    camera: CameraConfig = field(default_factory=CameraConfig)

    def __post_init__(self) -> None:
        if self.head.context_dim != self.backbone.embed_dim:
            raise ValueError(
                f"head.context_dim {self.head.context_dim} != backbone.embed_dim {self.backbone.embed_dim}"
            )
        if self.memory.top_k > self.memory.window:
            raise ValueError(f"memory.top_k {self.memory.top_k} > memory.window {self.memory.window}")

    @classmethod
    def tiny(cls) -> RamConfig:
        return cls(
            backbone=ViTConfig.tiny(),
            head=HeadConfig.tiny(),
            memory=MemoryConfig.tiny(),
            predictor=PredictorConfig.tiny(),
            combiner=CombinerConfig.tiny(),
            camera=CameraConfig(crop_size=64),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples become lists)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RamConfig:
        """Inverse of :meth:`to_dict`; unknown or missing keys raise ``ValueError`` naming them."""
        return dataclass_from_dict(cls, d, "config", ValueError, require_all=True)
