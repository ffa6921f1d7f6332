"""The one conversion between the camera frame and Blender's world.

Camera frame: OpenCV's (x right, y down, z forward), metres. Blender world: Z up, metres, with
the camera at the origin looking along +Y, so x stays x, depth becomes +Y and "down" becomes -Z.
"""

from __future__ import annotations

import numpy as np

# Rows: Blender X, Y, Z expressed in OpenCV camera axes. A proper rotation (det = +1).
CAMERA_TO_BLENDER = np.array(
    [
        [1.0, 0.0, 0.0],
        [0.0, 0.0, 1.0],
        [0.0, -1.0, 0.0],
    ]
)

# SMPL's canonical body frame (y up, z front) -> Blender (Z up, the body facing -Y).
SMPL_TO_BLENDER = np.array(
    [
        [1.0, 0.0, 0.0],
        [0.0, 0.0, -1.0],
        [0.0, 1.0, 0.0],
    ]
)


def blender_from_camera(world_from_camera: np.ndarray | None) -> np.ndarray:
    """``(4, 4)`` from the camera frame to Blender's world: a solved scene's ``world_from_camera`` (Z up,
    the floor at z = 0, the camera above it), else the camera at the origin looking along +Y
    (:data:`CAMERA_TO_BLENDER`)."""
    if world_from_camera is not None:
        return np.asarray(world_from_camera, dtype=np.float64)
    m = np.eye(4)
    m[:3, :3] = CAMERA_TO_BLENDER
    return m


def camera_points_to_blender(points: np.ndarray) -> np.ndarray:
    """Map ``(..., 3)`` OpenCV camera-frame points (metres) to Blender world points (metres)."""
    return np.asarray(points, dtype=np.float64) @ CAMERA_TO_BLENDER.T
