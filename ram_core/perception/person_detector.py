"""The person detector for SegFollow's births.

`make_person_detector` returns a torchvision COCO detector when its official checkpoint is in the weights
folder, else BlazePose's tiled detector (no extra weights). Both answer
``detect(image_bgr (H, W, 3) uint8) -> (boxes (N, 4) xyxy px, scores (N,))``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ram_core.perception.torchvision_detector import DEFAULT_DETECTOR, DETECTOR_VARIANTS, TorchvisionPersonDetector

log = logging.getLogger(__name__)


def make_person_detector(weights_dir: str | Path | None, variant: str = DEFAULT_DETECTOR, device: str = "cpu"):
    """The torchvision detector if ``weights_dir`` holds its official file, else BlazePose's detector."""
    from ram_core.weights.store import describe

    weights = DETECTOR_VARIANTS[variant].weights
    if weights_dir is not None and (Path(weights_dir) / weights.file_name).is_file():
        return TorchvisionPersonDetector(Path(weights_dir) / weights.file_name, variant, device)
    log.warning("births use BlazePose's detector: no %s in %s (%s)", weights.file_name, weights_dir, describe(weights))
    from ram_core.perception.blazepose_detector import PersonDetector

    return PersonDetector()
