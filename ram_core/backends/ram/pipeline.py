"""The ``ram`` pipeline: SegFollow on SAM2.1 finds and follows people, the Regressor gives their SMPL.

Per frame: the tracker encodes the frame once and decodes every tracked person in one batch; then
every person to reconstruct goes through the Regressor as one batch (crops cut on the device from
one upload of the frame, memory and motion queues kept on the device). A person the tracker does not
see this frame (coasting on its Kalman prediction) is reconstructed only when the Regressor fuses its
Predictor and Combiner: then the Combiner, told the frame is unseen (visibility 0), fills it in.

:func:`build_pipeline` reads every file through the weights table (:mod:`ram_core.weights`), so a
missing one raises one :class:`~ram_core.weights.MissingWeightsError` naming its file, size,
checksum and where to get it, before anything heavy is built.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ram_core.backends.ram.config import RamBackendConfig
from ram_core.models import (
    FrameInput,
    FrameOutput,
    PersonInput,
    RamConfig,
    Regressor,
    build_ram,
    load_hmr2_checkpoint,
    load_ram_checkpoint,
)
from ram_core.tracking.association import with_association
from ram_core.tracking.segfollow import (
    FrameTracks,
    Sam2Architecture,
    SegFollowConfig,
    SegFollowTracker,
    build_segfollow,
    sam2_variant,
)
from ram_core.weights import MissingWeightsError, require, variant, weights_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Architectures:
    """The networks to load the weight files into, when not the released ones (build first, load second).

    sam2: SAM2.1's architecture; None: the released one of the config's ``sam2`` variant.
    hmr2: the network an HMR2.0 checkpoint is loaded into; None: ``RamConfig()`` (HMR2.0's ViT-H). A RAM
      file always carries its own config.
    Tests pass tiny ones (``Sam2Architecture.tiny()``, ``RamConfig.tiny()``) and write files of that size
    under the official names.
    """

    sam2: Sam2Architecture | None = None
    hmr2: RamConfig | None = None


def resolve_device(name: str) -> torch.device:
    """``auto`` -> cuda when available, else cpu; anything else as torch reads it."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


@dataclass(frozen=True)
class WeightPaths:
    """The files a capture needs, found in the weights folder."""

    directory: Path
    sam2: Path
    regressor: Path


def locate_weights(cfg: RamBackendConfig) -> WeightPaths:
    """Find SAM2.1's and the regressor's files, or raise one error naming every missing one.

    Raises:
        MissingWeightsError: one line per missing file (name, size, checksum, source, fetch command).
    """
    directory = Path(cfg.weights_dir) if cfg.weights_dir else weights_dir()
    rows = {"sam2": sam2_variant(cfg.sam2).weights, "regressor": variant(cfg.regressor)}
    found, problems = {}, []
    for role, row in rows.items():
        try:
            found[role] = require(row, directory)
        except MissingWeightsError as e:
            problems.append(str(e))
    if problems:
        raise MissingWeightsError("; also ".join(problems))
    return WeightPaths(directory, found["sam2"], found["regressor"])


@dataclass(frozen=True)
class PipelineStep:
    """One frame through the pipeline: who was tracked, and the regressor's frames now complete
    (online: this frame; offline: an earlier one, or none yet)."""

    tracks: FrameTracks
    outputs: list[FrameOutput]


class RamPipeline:
    """SegFollow then the Regressor, one frame at a time (frames in increasing order).

    Args:
        tracker: the SegFollow tracker (its SAM2 on the device).
        regressor: the Regressor (its model on the same device).
        dtype: compute precision under ``torch.autocast``; float32: no autocast.
    """

    def __init__(self, tracker: SegFollowTracker, regressor: Regressor, dtype: torch.dtype = torch.float32) -> None:
        self.tracker = tracker
        self.regressor = regressor
        self.device = regressor.device
        self.dtype = dtype

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.dtype == torch.float32:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)

    def step(
        self, frame_index: int, image_bgr: np.ndarray, detections: tuple[np.ndarray, np.ndarray] | None = None
    ) -> PipelineStep:
        """Track and reconstruct one frame ``image_bgr`` (H, W, 3) uint8.

        detections: (boxes (N, 4) xyxy px, scores (N,)) for births on this frame instead of the detector's.
        """
        with torch.inference_mode(), self._autocast():
            tracks = self.tracker.step(frame_index, image_bgr, detections)
            people = [
                PersonInput(
                    p.track_id, tuple(map(float, p.box)), float(np.clip(p.confidence, 0, 1)) if p.observed else 0.0
                )
                for p in tracks.people
                if p.observed or self.regressor.fuse
            ]
            image = torch.from_numpy(np.ascontiguousarray(image_bgr)).to(self.device, non_blocking=True)
            image = image.permute(2, 0, 1).flip(0).float().div_(255.0)  # BGR uint8 -> RGB [0, 1], on the device
            outputs = self.regressor.push(FrameInput(frame_index, image, people))
        return PipelineStep(tracks, outputs)

    def finish(self) -> list[FrameOutput]:
        """The frames still waiting for their future frames (offline mode)."""
        with torch.inference_mode(), self._autocast():
            return self.regressor.finish()


def build_regressor_model(cfg: RamBackendConfig, path: Path, hmr2: RamConfig | None = None):
    """The regressor network with its weights: an HMR2.0 checkpoint (into ``hmr2``, default ``RamConfig()``)
    or a RAM safetensors file."""
    if cfg.regressor == "ram":
        return load_ram_checkpoint(path)
    return load_hmr2_checkpoint(build_ram(hmr2 or RamConfig()), path)


def build_pipeline(
    cfg: RamBackendConfig,
    intrinsics: np.ndarray,
    max_people: int | None = None,
    detector: object | None = None,
    architectures: Architectures | None = None,
) -> RamPipeline:
    """Load every model onto the device and wire them.

    Args:
        cfg: the backend settings.
        intrinsics: ``(3, 3)`` pixel camera matrix of the video.
        max_people: at most this many tracks at once (None: SegFollow's default).
        detector: the birth detector; None: the configured torchvision one when its file is in the
            weights folder, else BlazePose's.
        architectures: the networks to load the files into; None: the released ones.

    Raises:
        MissingWeightsError: a file is absent (before anything is built).
        ram_core.weights.loading.WeightsFormatError: a file does not fit its network.
    """
    arch = architectures or Architectures()
    paths = locate_weights(cfg)
    device = resolve_device(cfg.device)
    if detector is None:
        from ram_core.perception.person_detector import make_person_detector

        detector = make_person_detector(paths.directory, cfg.detector, device=str(device))
    track_cfg = with_association(
        SegFollowConfig(keyframe_interval=cfg.keyframe_interval), max_coast_frames=cfg.max_coast_frames
    )
    if max_people is not None:
        track_cfg = with_association(track_cfg, max_tracks=max_people)
    sam2 = arch.sam2 or sam2_variant(cfg.sam2)
    tracker = build_segfollow(sam2, checkpoint=paths.sam2, device=device, detector=detector, config=track_cfg)
    model = build_regressor_model(cfg, paths.regressor, arch.hmr2).to(device)
    regressor = Regressor(model, intrinsics, cfg.mode, cfg.fuse, forget_after=max(30, cfg.max_coast_frames))
    log.info(
        "ram pipeline on %s (%s): SAM2.1 %s, regressor %s (fuse %s), %s",
        device,
        cfg.dtype,
        paths.sam2.name,
        paths.regressor.name,
        regressor.fuse,
        cfg.mode,
    )
    return RamPipeline(tracker, regressor, getattr(torch, cfg.dtype))
