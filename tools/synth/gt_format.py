"""The one definition of ``gt.npz``: synthetic ground truth for a clip, plain arrays (no pickle).

Frames: ``*_cam`` arrays are in OpenCV's camera frame (x right, y down, z forward; metres, see
``ram_core/contract/coords.py``); the world has Z up with the floor at z=0 (metres); ``world_from_camera``
maps camera points to world points (``p_w = R @ p_c + t``). Pixels have their origin at the top-left
corner of the image. Joints follow SMPL's 24 names and order (``ram_core.contract.skeleton``). Boxes are
xyxy pixels; ``box_visible`` is the box of the person's visible ID-pass pixels, NaN where none are.
``P`` people, ``F`` frames.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ram_core.contract.skeleton import JOINT_NAMES

VERSION = 1
J = len(JOINT_NAMES)

# key -> (dtype kind, shape with "P"/"F" placeholders, meaning)
KEYS: dict[str, tuple[str, tuple[object, ...], str]] = {
    "version": ("int", (), "format version, 1"),
    "fps": ("float", (), "frames per second"),
    "image_size": ("int", (2,), "[width, height] pixels"),
    "n_frames": ("int", (), "F"),
    "intrinsics": ("float", (3, 3), "pinhole K, pixels"),
    "world_from_camera": ("float", (4, 4), "camera -> world rigid transform"),
    "floor_cam": ("float", (4,), "floor plane n.x + d = 0 in the camera frame, n unit and pointing up"),
    "person_ids": ("int", ("P",), "person id"),
    "heights": ("float", ("P",), "true standing height, metres"),
    "present": ("bool", ("P", "F"), "any part of the person is inside the image"),
    "joints_cam": ("float", ("P", "F", J, 3), "joints, camera frame, metres"),
    "joints_world": ("float", ("P", "F", J, 3), "joints, world frame, metres"),
    "joints_2d": ("float", ("P", "F", J, 2), "joints projected, pixels"),
    "joint_visible": ("bool", ("P", "F", J), "inside the image and not covered by another person or occluder"),
    "box_amodal": ("float", ("P", "F", 4), "box of the whole projected body, xyxy pixels"),
    "box_visible": ("float", ("P", "F", 4), "box of the visible ID-pass pixels, xyxy; NaN where none"),
    "visible_fraction": ("float", ("P", "F"), "visible ID pixels / pixels the body covers alone"),
    "contact": ("bool", ("P", "F", 2), "left, right foot on the floor (height and speed)"),
    "joint_names": ("str", (J,), "SMPL joint names"),
    "scenario": ("str", (), "the scenario JSON the clip was made from"),
}


class GroundTruthError(ValueError):
    """A ``gt.npz`` that does not follow ``KEYS``."""


def _kind_ok(kind: str, a: np.ndarray) -> bool:
    return {
        "int": np.issubdtype(a.dtype, np.integer),
        "float": np.issubdtype(a.dtype, np.floating),
        "bool": a.dtype == np.bool_,
        "str": a.dtype.kind == "U",
    }[kind]


def check_gt(gt: dict[str, np.ndarray]) -> None:
    """Raise ``GroundTruthError`` unless ``gt`` has every key of ``KEYS`` with its dtype kind and shape."""
    missing = [k for k in KEYS if k not in gt]
    if missing:
        raise GroundTruthError(f"ground truth lacks {missing}")
    p, f = np.shape(gt["person_ids"])[0], int(gt["n_frames"])
    sizes = {"P": p, "F": f}
    for key, (kind, shape, _) in KEYS.items():
        a = np.asarray(gt[key])
        want = tuple(sizes.get(s, s) if isinstance(s, str) else s for s in shape)
        if a.shape != want:
            raise GroundTruthError(f"{key}: shape {a.shape}, expected {want}")
        if not _kind_ok(kind, a):
            raise GroundTruthError(f"{key}: dtype {a.dtype}, expected {kind}")
    if int(gt["version"]) != VERSION:
        raise GroundTruthError(f"version {int(gt['version'])}, expected {VERSION}")
    if tuple(str(s) for s in gt["joint_names"]) != JOINT_NAMES:
        raise GroundTruthError("joint_names differ from ram_core.contract.skeleton.JOINT_NAMES")
    for key in ("joints_cam", "joints_world", "joints_2d", "box_amodal"):
        present = np.asarray(gt["present"])
        if not np.all(np.isfinite(np.asarray(gt[key])[present])):
            raise GroundTruthError(f"{key}: NaN or inf on a present frame")
    n = np.asarray(gt["floor_cam"], np.float64)[:3]
    if abs(np.linalg.norm(n) - 1) > 1e-4:
        raise GroundTruthError("floor_cam: normal is not unit length")


def save_gt(path: str | Path, gt: dict[str, np.ndarray]) -> Path:
    """Check ``gt`` and write it compressed; the dtypes are fixed here (float32 per-frame arrays)."""
    out = {}
    for key, (kind, shape, _) in KEYS.items():
        a = np.asarray(gt[key])
        if kind == "float":
            a = a.astype(np.float32 if "F" in shape else np.float64)
        elif kind == "int":
            a = a.astype(np.int64)
        elif kind == "str":
            a = a.astype(str)
        out[key] = a
    check_gt(out)
    path = Path(path)
    np.savez_compressed(path, **out)
    return path


def load_gt(path: str | Path) -> dict[str, np.ndarray]:
    """The checked arrays of a ``gt.npz`` (``allow_pickle=False``)."""
    with np.load(Path(path), allow_pickle=False) as z:
        gt = {k: np.asarray(z[k]) for k in z.files}
    check_gt(gt)
    return gt
