"""SegFollow on SAM2.1: streaming multi-person tracking with an EMA memory per person.

- `variants`: the SAM2.1 architectures (official hydra configs) and the released variants (files from
  ``ram_core.weights``); `Sam2Architecture.tiny()`. Loading is ``ram_core.weights.loading``'s (safe, strict).
- `memory`: each person's prompt memory + EMA temporal buffer (constant size).
- `engine`: batched SAM2 steps over the official ``SAM2Base`` (encode, prompt, propose, finish).
- `tracker`: `SegFollowTracker`, the per-frame loop (selector, gated Kalman update, births, deaths).
- `model`: `build_sam2`, `load_sam2_checkpoint`, `build_segfollow`.

Importing this package imports torch and sam2; ``ram_core.tracking`` itself stays numpy-only.
"""

from ram_core.tracking.segfollow.model import build_sam2, build_segfollow, load_sam2_checkpoint
from ram_core.tracking.segfollow.tracker import FrameTracks, SegFollowConfig, SegFollowTracker, TrackedPerson
from ram_core.tracking.segfollow.variants import SAM2_VARIANTS, Sam2Architecture, sam2_variant
from ram_core.weights.loading import MissingWeightsError, WeightsFormatError

__all__ = [
    "SAM2_VARIANTS",
    "FrameTracks",
    "MissingWeightsError",
    "Sam2Architecture",
    "SegFollowConfig",
    "SegFollowTracker",
    "TrackedPerson",
    "WeightsFormatError",
    "build_sam2",
    "build_segfollow",
    "load_sam2_checkpoint",
    "sam2_variant",
]
