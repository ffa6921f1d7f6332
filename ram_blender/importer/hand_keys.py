"""The artist's keys on RAM's own channels, carried through a re-key on the frames the edit did not change.

RAM keys every bone's ``rotation_quaternion`` and the pelvis (and root) ``location``; an artist who corrects a pose
by hand keys those same channels. A re-key replaces the channels' keys, so before it the keys whose
values differ from what RAM wrote (or that sit between RAM's frames) are read, and after it they are put
back on every frame where RAM's new value equals its old one (on both neighbouring record frames, for a
key between them). A key on a frame the edit changed (another person's motion after a swap, a frame
that left the track) is dropped: it corrected motion that is no longer there.
"""

from __future__ import annotations

from dataclasses import dataclass

import bpy
import numpy as np

from ram_core.contract.skeleton import JOINT_NAMES

from .keys import action_fcurves
from .plan import ROOT, TrackPlan

# Keys are float32: a key within this of RAM's value is RAM's (quaternions are unit, locations metres).
_SAME = 1e-5


@dataclass(frozen=True)
class HandKeys:
    """Per RAM channel ``(data_path, index)``: the artist's keys ``(K, 2)`` (Blender frame, value)."""

    keys: dict[tuple[str, int], np.ndarray]

    @property
    def count(self) -> int:
        return sum(len(k) for k in self.keys.values())


def ram_channels(plan: TrackPlan) -> dict[str, np.ndarray]:
    """RAM's keyed values by data path: ``(T, 4)`` quaternions per bone and the pelvis ``(T, 3)`` location
    (and the root's, grounded)."""
    out = {f'pose.bones["{n}"].rotation_quaternion': plan.rotations[:, j] for j, n in enumerate(JOINT_NAMES)}
    out[f'pose.bones["{JOINT_NAMES[0]}"].location'] = plan.location
    if plan.root_rotation is not None and plan.root_location is not None:
        out[f'pose.bones["{ROOT}"].rotation_quaternion'] = plan.root_rotation
        out[f'pose.bones["{ROOT}"].location'] = plan.root_location
    return out


def _record_index(frames: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each frame in ``f``: the index into ``frames`` (sorted) and whether ``f`` is exactly a record."""
    i = np.clip(np.searchsorted(frames, f), 0, max(len(frames) - 1, 0))
    return i, frames[i] == f if len(frames) else np.zeros(len(f), bool)


def read_hand_keys(action: bpy.types.Action, old: TrackPlan) -> HandKeys:
    """Keys on RAM's channels in ``action`` that RAM's last re-key (``old``) did not write."""
    channels = ram_channels(old)
    frames = old.at(old.frames)
    out: dict[tuple[str, int], np.ndarray] = {}
    for fc in action_fcurves(action):
        values = channels.get(fc.data_path)
        if values is None or fc.array_index >= values.shape[1] or not len(fc.keyframe_points):
            continue
        co = np.empty(2 * len(fc.keyframe_points))
        fc.keyframe_points.foreach_get("co", co)
        f, v = co[0::2], co[1::2]
        i, on_record = _record_index(frames, f)
        changed = ~on_record | (np.abs(v - values[i, fc.array_index]) > _SAME)
        if changed.any():
            out[(fc.data_path, fc.array_index)] = np.column_stack([f[changed], v[changed]])
    return HandKeys(out)


def _unchanged(old: np.ndarray, old_frames: np.ndarray, new: np.ndarray, new_frames: np.ndarray, f: float) -> bool:
    """Whether RAM's value of one channel (all components) at ``f`` is the same before and after the edit;
    for ``f`` between record frames, at the records on both sides."""
    i, on_record = _record_index(old_frames, np.array([f]))
    if on_record[0]:
        check = [int(i[0])]
    else:
        above = int(np.searchsorted(old_frames, f))
        if above == 0 or above >= len(old_frames):
            return False
        check = [above - 1, above]
    for k in check:
        j, there = _record_index(new_frames, np.array([old_frames[k]]))
        if not there[0] or np.abs(new[int(j[0])] - old[k]).max() > _SAME:
            return False
    return True


def restore_hand_keys(action: bpy.types.Action, hand: HandKeys, old: TrackPlan, new: TrackPlan) -> int:
    """Put ``hand``'s keys back into ``action`` (just re-keyed from ``new``) where the edit left RAM's value
    alone; returns how many were kept."""
    if not hand.keys:
        return 0
    old_ch, new_ch = ram_channels(old), ram_channels(new)
    old_frames, new_frames = old.at(old.frames), new.at(new.frames)
    fcurves = {(fc.data_path, fc.array_index): fc for fc in action_fcurves(action)}
    kept = 0
    for (path, index), keys in hand.keys.items():
        fc = fcurves.get((path, index))
        if fc is None:
            continue
        keep = [(f, v) for f, v in keys if _unchanged(old_ch[path], old_frames, new_ch[path], new_frames, f)]
        points = fc.keyframe_points
        between = []
        for f, v in keep:
            i, on_record = _record_index(new_frames, np.array([f]))
            if on_record[0]:
                points[int(i[0])].co = (f, v)  # new keys are exactly at new.frames, in order
            else:
                between.append((f, v))
        for f, v in between:  # inserted last: an insert shifts the indices used above
            point = points.insert(f, v, options={"FAST"})
            point.interpolation = "LINEAR"
        if between:
            fc.update()
        kept += len(keep)
    return kept
