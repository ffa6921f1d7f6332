"""The reconstruction half of RAM in torch: T-HMR (ViT + Memory Cache + MemFormer), Predictor, Combiner.

Importing this package imports torch; ``ram_core.contract`` never does.
"""

from ram_core.models.checkpoint import (
    load_hmr2_checkpoint,
    load_ram_checkpoint,
    load_ram_weights,
    save_ram_checkpoint,
)
from ram_core.models.config import (
    CameraConfig,
    CombinerConfig,
    HeadConfig,
    MemoryConfig,
    PredictorConfig,
    RamConfig,
    ViTConfig,
)
from ram_core.models.ram import PARTS, RamModel, SmplParams, build_ram
from ram_core.models.regressor import FrameInput, FrameOutput, PersonInput, PersonOutput, Regressor
from ram_core.weights.loading import safe_torch_load

__all__ = [
    "PARTS",
    "CameraConfig",
    "CombinerConfig",
    "FrameInput",
    "FrameOutput",
    "HeadConfig",
    "MemoryConfig",
    "PersonInput",
    "PersonOutput",
    "PredictorConfig",
    "RamConfig",
    "RamModel",
    "Regressor",
    "SmplParams",
    "ViTConfig",
    "build_ram",
    "load_hmr2_checkpoint",
    "load_ram_checkpoint",
    "load_ram_weights",
    "safe_torch_load",
    "save_ram_checkpoint",
]
