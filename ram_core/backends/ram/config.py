"""Settings of the ``ram`` backend: which weights, which device, online or offline. Standard library only.

The worker builds a backend from the user's :class:`~ram_core.contract.options.CaptureOptions`, whose
``device`` and ``weights_dir`` (the add-on's preferences, ``ram-core capture --device/--weights-dir``)
are the defaults; ``$RAM_BACKEND_CONFIG`` may name a JSON file of :class:`RamBackendConfig` fields (any
subset) for the research settings, which win over those defaults. Example::

    {"sam2": "large", "regressor": "ram", "device": "cuda", "dtype": "bfloat16"}
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ram_core.config_dicts import dataclass_from_dict
from ram_core.contract.options import CaptureOptions

CONFIG_ENV = "RAM_BACKEND_CONFIG"

REGRESSORS = ("hmr2", "ram")
MODES = ("online", "offline")
DTYPES = ("float32", "bfloat16", "float16")


class RamConfigError(ValueError):
    """A ``ram`` backend config file that cannot be read or has unknown or bad values."""


@dataclass(frozen=True)
class RamBackendConfig:
    """What the ``ram`` backend runs.

    weights_dir: the folder holding the weight files; None: ``$RAM_WEIGHTS_DIR``, else the store's default.
    sam2: SAM2.1 variant (tiny/small/base_plus/large, or the weights table's ``sam2.1-*`` names).
    regressor: ``hmr2`` (the public HMR2.0 checkpoint: the single-frame model plus the zero-initialised
        temporal parts) or ``ram`` (a RAM safetensors file with its config beside it).
    detector: the torchvision COCO detector for births; when its file is absent, the ``lite`` detector.
    device: ``auto`` (cuda when available), ``cuda``, ``cuda:1``, ``cpu``...
    dtype: compute precision under ``torch.autocast`` (float32: none). Outputs are float32 either way.
    mode: ``online`` (each frame from past and present only) or ``offline`` (a centred memory window;
        frames come out ``window // 2`` frames late, the last ones at the end).
    fuse: use the Predictor and Combiner; None: when the weights say they were trained.
    keyframe_interval: the detector looks for new people every this many frames.
    max_coast_frames: a person unseen for longer than this ends (a new id if they return).
    """

    weights_dir: str | None = None
    sam2: str = "base_plus"
    regressor: str = "hmr2"
    detector: str = "fasterrcnn_mobilenet_v3_large_fpn"
    device: str = "auto"
    dtype: str = "float32"
    mode: str = "online"
    fuse: bool | None = None
    keyframe_interval: int = 10
    max_coast_frames: int = 30

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("regressor", self.regressor, REGRESSORS),
            ("mode", self.mode, MODES),
            ("dtype", self.dtype, DTYPES),
        ):
            if value not in allowed:
                raise RamConfigError(f"ram backend: {name} {value!r} is not one of {', '.join(allowed)}")
        if self.keyframe_interval < 1 or self.max_coast_frames < 0:
            raise RamConfigError("ram backend: keyframe_interval must be >= 1 and max_coast_frames >= 0")

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "config") -> RamBackendConfig:
        """From a JSON object; unknown keys raise :class:`RamConfigError` naming them."""
        return dataclass_from_dict(cls, d, source, RamConfigError)

    @classmethod
    def from_file(cls, path: str | Path, defaults: dict[str, Any] | None = None) -> RamBackendConfig:
        """Read a JSON file of :class:`RamBackendConfig` fields (``defaults`` fill the fields it omits)."""
        path = Path(path)
        try:
            d = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise RamConfigError(f"ram backend config {path}: {e}") from None
        if not isinstance(d, dict):
            raise RamConfigError(f"ram backend config {path}: expected a JSON object")
        return cls.from_dict({**(defaults or {}), **d}, str(path))

    @classmethod
    def from_options(cls, options: CaptureOptions) -> RamBackendConfig:
        """The file ``$RAM_BACKEND_CONFIG`` names (else the defaults), with ``options``' device and weights folder
        for the fields it omits."""
        defaults: dict[str, Any] = {"device": options.device, "weights_dir": options.weights_dir}
        path = os.environ.get(CONFIG_ENV)
        return cls.from_file(path, defaults) if path else cls.from_dict(defaults, "capture options")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
