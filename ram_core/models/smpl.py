"""The SMPL body through ``smplx``, built from the user's model arrays (never from a pickle)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import smplx
import smplx.utils
import torch
from torch import nn


class SmplArrays(Protocol):
    """What a SMPL model file provides (``ram_core.contract.smpl_model.SmplModel`` has these)."""

    v_template: np.ndarray  # (V, 3) metres
    faces: np.ndarray  # (F, 3)
    weights: np.ndarray  # (V, 24)
    J_regressor: np.ndarray  # (24, V)
    shapedirs: np.ndarray  # (V, 3, S)
    posedirs: np.ndarray | None  # (V, 3, 207), None: no pose-corrective shapes
    kintree_table: np.ndarray  # (2, 24)


@dataclass(frozen=True)
class SmplOutput:
    """``joints`` (B, 24, 3) and ``vertices`` (B, V, 3), metres, in the frame ``global_orient`` maps to."""

    joints: torch.Tensor
    vertices: torch.Tensor


class SmplBody(nn.Module):
    """SMPL forward (linear blend skinning) with ``num_betas`` shape coefficients."""

    def __init__(self, arrays: SmplArrays, num_betas: int = 10) -> None:
        super().__init__()
        v = np.asarray(arrays.v_template).shape[0]
        posedirs = np.zeros((v, 3, 207)) if arrays.posedirs is None else arrays.posedirs
        struct = smplx.utils.Struct(
            v_template=np.asarray(arrays.v_template, dtype=np.float64),
            f=np.asarray(arrays.faces, dtype=np.int64),
            weights=np.asarray(arrays.weights, dtype=np.float64),
            J_regressor=np.asarray(arrays.J_regressor, dtype=np.float64),
            shapedirs=np.asarray(arrays.shapedirs, dtype=np.float64),
            posedirs=np.asarray(posedirs, dtype=np.float64),
            kintree_table=np.asarray(arrays.kintree_table, dtype=np.int64),
        )
        self.layer = smplx.SMPL(model_path=None, data_struct=struct, num_betas=num_betas, create_transl=False)

    @classmethod
    def from_file(cls, path: str | Path, num_betas: int = 10) -> SmplBody:
        """Build from a converted SMPL ``.npz`` (``ram-core smpl convert``)."""
        from ram_core.contract.smpl_model import load_smpl_model

        return cls(load_smpl_model(path), num_betas)

    def forward(self, rotmats: torch.Tensor, betas: torch.Tensor, transl: torch.Tensor | None = None) -> SmplOutput:
        """Pose the body.

        Args:
            rotmats: ``(B, 24, 3, 3)`` root first (root maps the body frame into the output frame).
            betas: ``(B, num_betas)``.
            transl: ``(B, 3)`` metres, or None.

        Returns:
            The 24 SMPL joints and the vertices.
        """
        out = self.layer(
            global_orient=rotmats[:, :1],
            body_pose=rotmats[:, 1:],
            betas=betas,
            transl=transl,
            pose2rot=False,
        )
        return SmplOutput(out.joints[:, : rotmats.shape[1]], out.vertices)
