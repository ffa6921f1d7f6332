"""A BVH writer (numpy only): sampled joint transforms in, a Y-up (or Z-up) motion file out.

Blender's own BVH exporter writes Blender's Z-up axes, so standard tools (and Blender's importer with its
defaults) show the person lying on their back. This writes the convention those tools expect: Y up,
-Z forward (Blender's +Y seen from its front view becomes the file's -Z), metres, ``Zrotation Xrotation
Yrotation`` channels in degrees, six channels on the root and three on every other joint.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Blender's world (Z up) -> the file's (Y up): x stays, Blender's z becomes y, Blender's y becomes -z.
# Blender's BVH importer applies the inverse with its default axes (forward -Z, up Y).
BLENDER_TO_Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


@dataclass(frozen=True)
class BvhMotion:
    """What a BVH file holds, in Blender's world (Z up, metres).

    ``names``/``parents`` the joints (parents before children; -1 for the root); ``rest_heads`` ``(J, 3)``
    joint positions at rest; ``end_sites`` ``(J, 3)`` tail offsets for leaf joints (ignored for others);
    ``rotations`` ``(T, J, 3, 3)`` each joint's world rotation relative to its rest (rest = identity in
    BVH); ``root_positions`` ``(T, 3)`` the root joint's world position; ``frame_time`` seconds per frame.
    """

    names: tuple[str, ...]
    parents: tuple[int, ...]
    rest_heads: np.ndarray
    end_sites: np.ndarray
    rotations: np.ndarray
    root_positions: np.ndarray
    frame_time: float


def zxy_euler_degrees(rot: np.ndarray) -> np.ndarray:
    """``(..., 3, 3)`` rotations as ``(..., 3)`` (z, x, y) degrees with ``R = Rz(z) @ Rx(x) @ Ry(y)``."""
    x = np.arcsin(np.clip(rot[..., 2, 1], -1.0, 1.0))
    z = np.arctan2(-rot[..., 0, 1], rot[..., 1, 1])
    y = np.arctan2(-rot[..., 2, 0], rot[..., 2, 2])
    return np.degrees(np.stack([z, x, y], axis=-1))


def local_rotations(motion: BvhMotion, axes: np.ndarray) -> np.ndarray:
    """``(T, J, 3, 3)`` each joint's rotation relative to its parent, in the file's axes."""
    world = axes @ motion.rotations @ axes.T
    local = world.copy()
    for j, p in enumerate(motion.parents):
        if p >= 0:
            local[:, j] = np.swapaxes(world[:, p], -1, -2) @ world[:, j]
    return local


def write_bvh(path: str | Path, motion: BvhMotion, y_up: bool = True) -> Path:
    """Write ``motion`` to ``path``; Y up unless ``y_up`` is False (then Blender's Z-up axes as they are)."""
    axes = BLENDER_TO_Y_UP if y_up else np.eye(3)
    heads = motion.rest_heads @ axes.T
    ends = motion.end_sites @ axes.T
    kids: dict[int, list[int]] = {j: [] for j in range(-1, len(motion.names))}
    for j, p in enumerate(motion.parents):
        kids[p].append(j)
    lines = ["HIERARCHY"]
    order: list[int] = []

    def joint(j: int, depth: int) -> None:
        pad = "\t" * depth
        p = motion.parents[j]
        offset = heads[j] - (heads[p] if p >= 0 else 0.0)
        lines.append(f"{pad}{'ROOT' if p < 0 else 'JOINT'} {motion.names[j]}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}\tOFFSET {offset[0]:.6f} {offset[1]:.6f} {offset[2]:.6f}")
        position = "Xposition Yposition Zposition " if p < 0 else ""
        lines.append(f"{pad}\tCHANNELS {6 if p < 0 else 3} {position}Zrotation Xrotation Yrotation")
        order.append(j)
        for k in kids[j]:
            joint(k, depth + 1)
        if not kids[j]:
            end = ends[j]
            lines.extend([f"{pad}\tEnd Site", f"{pad}\t{{", f"{pad}\t\tOFFSET {end[0]:.6f} {end[1]:.6f} {end[2]:.6f}"])
            lines.append(f"{pad}\t}}")
        lines.append(f"{pad}}}")

    for root in kids[-1]:
        joint(root, 0)
    euler = zxy_euler_degrees(local_rotations(motion, axes))  # (T, J, 3)
    euler = np.degrees(np.unwrap(np.radians(euler), axis=0))  # no 360-degree jumps between frames
    root = motion.root_positions @ axes.T
    rows = np.concatenate([root, euler[:, order].reshape(len(root), -1)], axis=1)
    lines += ["MOTION", f"Frames: {len(rows)}", f"Frame Time: {motion.frame_time:.6f}"]
    lines += [" ".join(f"{v:.6f}" for v in row) for row in rows]
    path = Path(path)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
