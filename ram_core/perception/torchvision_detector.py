"""A COCO person detector from torchvision's detection models, with its official checkpoint file.

The network is torchvision's own builder called without weights (nothing is downloaded); the official
``.pth`` is then read from the weights folder through the shared safe, strict loader
(``ram_core.weights.loading``). torchvision names each file ``<name>-<first 8 hex digits of its
sha256>.pth``; a file under its official name is checked against that prefix, as torchvision's own
loader does. File names, sizes, prefixes and URLs are rows of the weights table (kind ``detector``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torchvision
from torchvision.ops.misc import FrozenBatchNorm2d

from ram_core.weights.loading import WeightsFormatError, load_strict, read_state_dict
from ram_core.weights.store import sha256_file
from ram_core.weights.variants import VARIANTS, Variant

log = logging.getLogger(__name__)

_COCO_PERSON = 1
# Checkpoints trained with frozen batch norm (torchvision builds these detectors with FrozenBatchNorm2d).
_FROZEN_BATCHNORM = frozenset({"fasterrcnn_mobilenet_v3_large_fpn"})


@dataclass(frozen=True)
class DetectorVariant:
    """A torchvision COCO detector: builder name, whether its checkpoint uses frozen batch norm, its file."""

    name: str
    frozen_batchnorm: bool
    weights: Variant

    @property
    def sha256_prefix(self) -> str:
        return self.weights.sha256_prefix or ""


DETECTOR_VARIANTS: dict[str, DetectorVariant] = {
    row.name: DetectorVariant(row.name, row.name in _FROZEN_BATCHNORM, row)
    for row in VARIANTS
    if row.kind == "detector"
}
DEFAULT_DETECTOR = "fasterrcnn_mobilenet_v3_large_fpn"


def _freeze_batchnorm(module: torch.nn.Module) -> None:
    """Swap every BatchNorm2d for FrozenBatchNorm2d, as torchvision builds a detector it loads weights into."""
    for name, child in module.named_children():
        if isinstance(child, torch.nn.BatchNorm2d):
            setattr(module, name, FrozenBatchNorm2d(child.num_features, eps=child.eps))
        else:
            _freeze_batchnorm(child)


def build_detector(variant: DetectorVariant) -> torch.nn.Module:
    """The variant's network with random weights, in eval mode (no download: no weights, no backbone weights)."""
    builder = getattr(torchvision.models.detection, variant.name)
    model = builder(weights=None, weights_backbone=None, num_classes=91)
    if variant.frozen_batchnorm:
        _freeze_batchnorm(model)
    return model.eval()


def _check_prefix(path: Path, variant: DetectorVariant) -> None:
    if path.name != variant.weights.file_name:
        return
    digest = sha256_file(path)
    if not digest.startswith(variant.sha256_prefix):
        raise WeightsFormatError(
            f"{path}: sha256 {digest[:16]}... does not start with {variant.sha256_prefix}; "
            f"the file is damaged or not the official one ({variant.weights.url})"
        )


class TorchvisionPersonDetector:
    """People in a frame from a torchvision COCO detector (class 1, "person")."""

    def __init__(
        self,
        path: str | Path,
        variant: str = DEFAULT_DETECTOR,
        device: str | torch.device = "cpu",
        min_score: float = 0.5,
    ) -> None:
        self.variant = DETECTOR_VARIANTS[variant]
        path = Path(path)
        state = read_state_dict(path, None, self.variant.weights)
        _check_prefix(path, self.variant)
        model = build_detector(self.variant)
        load_strict(model, state, path)
        self.model = model.to(device)
        self.device = torch.device(device)
        self.min_score = min_score

    def detect(self, image_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Person boxes (N, 4) float32 xyxy in frame px and scores (N,) float32, best first."""
        image = torch.from_numpy(np.ascontiguousarray(image_bgr[..., ::-1])).to(self.device)
        image = image.permute(2, 0, 1).float() / 255.0
        with torch.inference_mode():
            out = self.model([image])[0]
        keep = (out["labels"] == _COCO_PERSON) & (out["scores"] >= self.min_score)
        scores = out["scores"][keep]
        order = torch.argsort(scores, descending=True)
        return out["boxes"][keep][order].float().cpu().numpy(), scores[order].float().cpu().numpy()
