"""Scenario files (JSON): who walks where, the camera, the clip's size and rate. Blender-free.

Example (every key; defaults in ``CameraSpec``/``load_scenario``)::

    {"name": "crossing", "fps": 25, "width": 640, "height": 480, "n_frames": 100,
     "camera": {"height": 3.0, "pitch_deg": 15, "yaw_deg": 0, "xy": [0, 0], "focal_px": 600},
     "floor": {"tile": 1.0, "colour1": [0.55, 0.52, 0.47], "colour2": [0.32, 0.3, 0.28]},
     "background": [0.6, 0.63, 0.66],
     "people": [{"body": "female_avg", "height": 1.78, "start": [-3, 8], "heading_deg": -90,
                 "colours": {"shirt": [0.6, 0.1, 0.1], "trousers": [0.1, 0.1, 0.3]},
                 "segments": [{"action": "walk", "to": [3, 8]}]}],
     "occluders": [{"centre": [0, 6], "size": [0.6, 0.6, 2.6], "colour": [0.5, 0.5, 0.55]}]}

World: Z up, floor z=0, metres; yaw 0 looks along +Y, heading 0 faces +Y, 90 faces -X.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFAULT_COLOURS = {
    "skin": (0.72, 0.52, 0.42), "hair": (0.12, 0.08, 0.05), "shirt": (0.5, 0.5, 0.5),
    "trousers": (0.15, 0.15, 0.2), "shoes": (0.08, 0.08, 0.08),
}  # fmt: skip


@dataclass(frozen=True)
class CameraSpec:
    """A pinhole camera ``height`` metres above the floor at ``xy``, pitched down, principal point centred."""

    height: float = 3.0
    pitch_deg: float = 15.0
    yaw_deg: float = 0.0
    xy: tuple[float, float] = (0.0, 0.0)
    focal_px: float = 600.0

    def world_from_camera(self) -> np.ndarray:
        """``(4, 4)``: OpenCV camera frame (x right, y down, z forward) -> world (Z up)."""
        y, p = np.radians(self.yaw_deg), np.radians(self.pitch_deg)
        f = np.array([-np.sin(y) * np.cos(p), np.cos(y) * np.cos(p), -np.sin(p)])
        r = np.cross(f, [0.0, 0.0, 1.0])
        r /= np.linalg.norm(r)
        d = np.cross(f, r)
        m = np.eye(4)
        m[:3, :3] = np.column_stack([r, d, f])
        m[:3, 3] = [self.xy[0], self.xy[1], self.height]
        return m

    def intrinsics(self, width: int, height: int) -> np.ndarray:
        return np.array([[self.focal_px, 0, width / 2], [0, self.focal_px, height / 2], [0, 0, 1.0]])


def load_scenario(path_or_dict: str | Path | dict) -> dict:
    """A scenario dict with defaults filled in (a file path or a dict)."""
    sc = json.loads(Path(path_or_dict).read_text()) if not isinstance(path_or_dict, dict) else dict(path_or_dict)
    sc.setdefault("fps", 25)
    sc.setdefault("width", 640)
    sc.setdefault("height", 480)
    sc.setdefault("n_frames", 100)
    sc.setdefault("camera", {})
    sc.setdefault("floor", {})
    sc.setdefault("background", [0.62, 0.64, 0.67])
    sc.setdefault("occluders", [])
    for p in sc["people"]:
        p.setdefault("body", "female_avg")
        p.setdefault("heading_deg", 0.0)
        p["colours"] = {**DEFAULT_COLOURS, **p.get("colours", {})}
    return sc


def camera_of(sc: dict) -> CameraSpec:
    c = sc["camera"]
    return CameraSpec(**{k: (tuple(v) if k == "xy" else float(v)) for k, v in c.items()})
