"""Building SAM2.1 from the official configs and checkpoints, and building a SegFollow tracker on it."""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from ram_core.tracking.segfollow.engine import Sam2Engine
from ram_core.tracking.segfollow.tracker import BirthDetector, SegFollowConfig, SegFollowTracker
from ram_core.tracking.segfollow.variants import Sam2Architecture, Sam2Variant, sam2_variant
from ram_core.weights.loading import load_strict, read_state_dict

log = logging.getLogger(__name__)


def build_sam2(arch: Sam2Architecture, device: str | torch.device = "cpu"):
    """The official ``SAM2Base`` for ``arch`` with random weights, in eval mode on ``device``.

    Built the way ``sam2.build_sam.build_sam2`` builds it (hydra compose + instantiate of the packaged
    config), without its checkpoint step, so that loading is `load_sam2_checkpoint`'s job.
    """
    import sam2  # noqa: F401  (registers the package's hydra config module)
    from hydra import compose
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    cfg = compose(config_name=arch.config_file, overrides=arch.hydra_overrides())
    OmegaConf.resolve(cfg)
    model = instantiate(cfg.model, _recursive_=True)
    return model.to(device).eval()


def load_sam2_checkpoint(model: torch.nn.Module, path: str | Path, variant: Sam2Variant | None = None) -> None:
    """Load an official SAM2 checkpoint ({"model": state dict}) into ``model``: safe, strict keys and shapes.

    Raises ``MissingWeightsError`` (naming the file, size, checksum and URL when ``variant`` is given) or
    ``WeightsFormatError`` (naming missing/unexpected keys or wrong shapes, or refusing an unsafe pickle).
    """
    state = read_state_dict(path, "model", variant.weights if variant is not None else None)
    load_strict(model, state, path)


def build_segfollow(
    variant: str | Sam2Variant | Sam2Architecture,
    checkpoint: str | Path | None = None,
    device: str | torch.device = "cpu",
    detector: BirthDetector | None = None,
    config: SegFollowConfig | None = None,
    prompt_distance: int = 15,
) -> SegFollowTracker:
    """A SegFollow tracker on SAM2.1.

    variant: a variant name (tiny/small/base_plus/large), a `Sam2Variant`, or a bare `Sam2Architecture`
      (e.g. ``Sam2Architecture.tiny()`` for tests).
    checkpoint: the official checkpoint file (or a folder holding it under its official name). None keeps
      random weights, which is only meaningful for tests and benchmarks.
    detector: proposes people on keyframes (see ``ram_core.perception.person_detector.make_person_detector``); None: no births
      except from detections passed to ``step``.
    """
    if isinstance(variant, str):
        variant = sam2_variant(variant)
    arch = variant.architecture if isinstance(variant, Sam2Variant) else variant
    model = build_sam2(arch, "cpu")
    if checkpoint is not None:
        path = Path(checkpoint)
        if path.is_dir() and isinstance(variant, Sam2Variant):
            path = path / variant.weights.file_name
        load_sam2_checkpoint(model, path, variant if isinstance(variant, Sam2Variant) else None)
    else:
        log.warning("SAM2 built without a checkpoint: random weights")
    model = model.to(device)
    return SegFollowTracker(Sam2Engine(model, prompt_distance), detector, config)
