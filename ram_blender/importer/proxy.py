"""A stand-in body when no SMPL model is set: one tapered 8-sided tube per bone, numpy only.

Armatures do not show in renders; these tubes do, rigidly bound to their bones, so a capture can be
rendered and judged without the licensed SMPL mesh. Geometry is in armature rest space (metres).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ram_core.contract.skeleton import JOINT_NAMES

from .plan import SkeletonPlan

SIDES = 8

# Radius (metres) at a bone's head and tail; bones not named use _LIMB.
_LIMB = (0.045, 0.035)
_RADII: dict[str, tuple[float, float]] = {
    "pelvis": (0.11, 0.11),
    "spine1": (0.11, 0.11),
    "spine2": (0.12, 0.13),
    "spine3": (0.13, 0.12),
    "neck": (0.05, 0.05),
    "head": (0.09, 0.08),
    "left_hip": (0.07, 0.07),
    "right_hip": (0.07, 0.07),
    "left_collar": (0.05, 0.05),
    "right_collar": (0.05, 0.05),
    "left_knee": (0.055, 0.045),
    "right_knee": (0.055, 0.045),
    "left_shoulder": (0.05, 0.04),
    "right_shoulder": (0.05, 0.04),
    "left_foot": (0.035, 0.03),
    "right_foot": (0.035, 0.03),
    "left_hand": (0.03, 0.02),
    "right_hand": (0.03, 0.02),
}


@dataclass(frozen=True)
class ProxyGeometry:
    """``vertices`` ``(24 * 2 * SIDES, 3)``; ``faces`` lists of vertex indices (quads and caps);
    ``bone`` ``(V,)`` the joint index each vertex is bound to (weight 1)."""

    vertices: np.ndarray
    faces: list[tuple[int, ...]]
    bone: np.ndarray


def proxy_geometry(skeleton: SkeletonPlan) -> ProxyGeometry:
    """Tubes from each bone's head to its tail, oriented by the bone's rest axes."""
    n = len(skeleton.names)
    radii = np.array([_RADII.get(name, _LIMB) for name in JOINT_NAMES[:n]])  # (24, 2)
    angle = np.linspace(0.0, 2.0 * np.pi, SIDES, endpoint=False)
    x_axis = skeleton.rest_rotations[:, :, 0]  # (24, 3)
    z_axis = skeleton.rest_rotations[:, :, 2]
    ring = np.cos(angle)[None, :, None] * x_axis[:, None] + np.sin(angle)[None, :, None] * z_axis[:, None]
    ends = np.stack([skeleton.heads, skeleton.tails], axis=1)  # (24, 2, 3)
    verts = ends[:, :, None, :] + radii[:, :, None, None] * ring[:, None, :, :]  # (24, 2, SIDES, 3)
    faces: list[tuple[int, ...]] = []
    for j in range(n):
        base = j * 2 * SIDES
        for k in range(SIDES):
            k1 = (k + 1) % SIDES
            faces.append((base + k, base + k1, base + SIDES + k1, base + SIDES + k))
        faces.append(tuple(base + k for k in reversed(range(SIDES))))
        faces.append(tuple(base + SIDES + k for k in range(SIDES)))
    bone = np.repeat(np.arange(n), 2 * SIDES)
    return ProxyGeometry(verts.reshape(-1, 3), faces, bone)
