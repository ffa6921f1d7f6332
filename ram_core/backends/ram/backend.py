"""The ``ram`` backend: SegFollow on SAM2.1, then T-HMR with Memory Cache, Predictor and Combiner.

Settings come from ``$RAM_BACKEND_CONFIG`` (:mod:`ram_core.backends.ram.config`), weight files from
``$RAM_WEIGHTS_DIR`` through the weights table; :meth:`RamBackend.open` loads every model and raises
one clear error for a missing file (the worker reports it and the capture exits with code 1).

The body model. The regressor gives SMPL rotations, shape (``betas``) and a translation ``transl`` of
SMPL's origin, so the posed joints are forward kinematics about the rest joints plus ``transl``:

- with the user's SMPL model (``--smpl``), each record's joints use that person's shaped rest joints
  (the model's joint regressor on its shape blend shapes with the regressed ``betas``), the meta's
  rest joints are the model's mean shape, and ``betas_fitted`` is True: Blender can build real meshes;
- without one, rotations are the same, the joints use the default rest skeleton
  (:func:`~ram_core.contract.smpl_model.default_rest_joints`, root at its origin), ``betas`` are
  written as zeros and ``betas_fitted`` is False. ``transl`` still refers to SMPL's origin, so the
  skeleton's root sits where SMPL's origin would be: SMPL's mean-shape pelvis is about 0.2 m from
  that origin, so absolute positions are that much off. Give the SMPL model for exact placement.

A record is ``predicted`` where the Predictor and Combiner filled the frame: the tracker did not see
the person (coasting; such frames are reconstructed only when the Regressor fuses), or the Combiner's
gate leaned to the prediction. Its ``confidence`` is then 0, else the tracker's mask confidence.
"""

from __future__ import annotations

import logging

import numpy as np

from ram_core.backends.ram.config import RamBackendConfig
from ram_core.backends.ram.pipeline import Architectures, RamPipeline, build_pipeline
from ram_core.backends.records import pose_records, rest_skeleton
from ram_core.contract.options import CaptureOptions
from ram_core.contract.ring import empty_records
from ram_core.contract.smpl_model import smpl_rest_joints
from ram_core.models import FrameOutput
from ram_core.video import VideoInfo

log = logging.getLogger(__name__)


class RamBackend:
    """The full RAM method (GPU advised). ``cfg`` None: read from ``$RAM_BACKEND_CONFIG``; ``architectures``
    None: the released networks (see :class:`~ram_core.backends.ram.pipeline.Architectures`)."""

    name = "ram"

    def __init__(
        self,
        options: CaptureOptions | None = None,
        cfg: RamBackendConfig | None = None,
        architectures: Architectures | None = None,
    ) -> None:
        self.options = options or CaptureOptions()
        self.cfg = cfg or RamBackendConfig.from_options(self.options)
        self.architectures = architectures
        self._skeleton = rest_skeleton(self.options.smpl_model)
        self._pipeline: RamPipeline | None = None

    @property
    def rest_joints(self) -> np.ndarray:
        return self._skeleton.joints

    @property
    def rest_source(self) -> str:
        return self._skeleton.source

    @property
    def betas_fitted(self) -> bool:
        return self._skeleton.model is not None

    @property
    def pipeline(self) -> RamPipeline | None:
        """The models, once :meth:`open` has loaded them."""
        return self._pipeline

    def open(self, info: VideoInfo, intrinsics: np.ndarray, intrinsics_assumed: bool) -> None:
        self._pipeline = build_pipeline(
            self.cfg,
            np.asarray(intrinsics, dtype=np.float64),
            self.options.max_people,
            architectures=self.architectures,
        )

    def process(self, frame_index: int, image_bgr: np.ndarray) -> np.ndarray:
        if self._pipeline is None:
            raise RuntimeError("RamBackend.process before open")
        return self.records(self._pipeline.step(frame_index, image_bgr).outputs)

    def finish(self) -> np.ndarray:
        if self._pipeline is None:
            return empty_records()
        return self.records(self._pipeline.finish())

    def records(self, outputs: list[FrameOutput]) -> np.ndarray:
        """The regressor's people as records (:data:`~ram_core.contract.ring.RECORD_DTYPE`), camera frame."""
        people = [p for frame in outputs for p in frame.people]
        if not people:
            return empty_records()
        model = self._skeleton.model
        betas = np.stack([p.betas for p in people]).astype(np.float64) if model is not None else None
        rest = self._skeleton.joints if betas is None else np.stack([smpl_rest_joints(model, b) for b in betas])
        predicted = np.array([p.predicted or p.visibility <= 0.0 for p in people])
        return pose_records(
            frame=[p.frame for p in people],
            track_id=[p.track_id for p in people],
            global_orient=np.stack([p.global_orient for p in people]),
            body_pose=np.stack([p.body_pose for p in people]),
            transl=np.stack([p.transl for p in people]),
            rest_joints=rest,
            box=np.stack([p.box for p in people]),
            confidence=np.where(predicted, 0.0, [p.visibility for p in people]),
            predicted=predicted,
            betas=betas,
        )

    def close(self) -> None:
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None and pipeline.device.type == "cuda":
            import torch

            del pipeline
            torch.cuda.empty_cache()
