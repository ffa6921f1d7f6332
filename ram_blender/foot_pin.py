"""Foot pinning for retargeting: while a foot is in contact with the ground its ankle stays put.

Contact comes from the capture when it is there (the ``ram_contact_left``/``ram_contact_right`` curves
the importer keys on the armature data's own action; at least 0.5 is contact), else from the person's
own feet: low (within :data:`CONTACT_HEIGHT` of the lowest the foot goes) and slow (under
:data:`CONTACT_SPEED`). The target's ankle goes where the person's is, scaled about the hips, at the
person's scaled lift above where it stands (whatever the legs' proportions), and during each contact run it keeps the
run's mean horizontal place; the thigh and shin turn to reach it (a two-bone solve in the leg's own bend
plane) and the foot keeps its orientation. Numpy only, besides reading the curves.
"""

from __future__ import annotations

import bpy
import numpy as np

from .action_pose import action_of, sample_fcurve
from .importer.keys import CHANNELS_PROP, action_fcurves

# The importer's contact properties (importer.build.CONTACT_PROPS where the ground work landed).
CONTACT_CURVES = {"left": "ram_contact_left", "right": "ram_contact_right"}
CONTACT_HEIGHT = 0.05  # metres above the lowest the foot goes
CONTACT_SPEED = 0.35  # metres per second


def contact_curves(source: bpy.types.Object, frames: np.ndarray) -> dict[str, np.ndarray] | None:
    """Per side, contact ``(T,)`` bool from the capture's contact curves on ``source``'s armature data (or
    the object's own actions); None without them."""
    curves = {}
    for action in (action_of(source.data), source.get(CHANNELS_PROP), action_of(source)):
        if isinstance(action, bpy.types.Action):
            for fc in action_fcurves(action):
                for side, prop in CONTACT_CURVES.items():
                    if fc.data_path == f'["{prop}"]':
                        curves[side] = fc
    if len(curves) < 2:
        return None
    return {side: sample_fcurve(fc, frames.astype(np.float64)) >= 0.5 for side, fc in curves.items()}


def contact_from_motion(foot: np.ndarray, fps: float) -> np.ndarray:
    """Contact ``(T,)`` of a foot from its world positions ``(T, 3)`` (metres, Z up): low and slow."""
    speed = np.zeros(len(foot))
    if len(foot) > 1:
        step = np.linalg.norm(np.diff(foot[:, :2], axis=0), axis=1) * fps
        speed[1:] = step
        speed[0] = step[0]
    low = foot[:, 2] - np.percentile(foot[:, 2], 2) < CONTACT_HEIGHT
    return low & (speed < CONTACT_SPEED)


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` index ranges where ``flags`` ``(T,)`` is True."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def pinned_ankles(ankle: np.ndarray, contact: np.ndarray) -> np.ndarray:
    """``ankle`` ``(T, 3)`` with each contact run held at the run's mean horizontal place."""
    out = ankle.copy()
    for start, stop in runs(contact):
        out[start:stop, :2] = ankle[start:stop, :2].mean(axis=0)
    return out
