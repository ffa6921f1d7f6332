"""Per-person exports: FBX and BVH through Blender's own exporters, and an AMASS-style .npz."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import bpy
import numpy as np

from ram_core.contract.coords import blender_from_camera
from ram_core.contract.results import Results, Track
from ram_core.contract.skeleton import axis_angle_to_matrix, matrix_to_axis_angle

from .importer.build import TRACK_ID_PROP

log = logging.getLogger(__name__)

FORMATS = ("fbx", "bvh", "npz")
_EXPORTER_ADDONS = {"fbx": "io_scene_fbx", "bvh": "io_anim_bvh"}


def amass_arrays(track: Track, results: Results) -> dict[str, np.ndarray]:
    """AMASS-style arrays for one person, in Blender's Z-up world (the solved scene's, else the camera at the origin).

    ``poses`` ``(T, 72)`` axis-angle (root first, then SMPL's 23 body joints; radians); ``trans``
    ``(T, 3)`` metres, such that SMPL's forward pass with these gives the joints in Blender's world:
    root ``R' = C @ R`` and ``trans' = C @ (rest_0 + transl) + c - rest_0`` with ``x -> C @ x + c`` the
    camera-to-Blender transform (:func:`~ram_core.contract.coords.blender_from_camera`: the solved
    scene's, floor at z = 0, or the camera at the origin), so the pelvis lands where the armature's does
    (the body's size comes from ``betas``; a solved per-track scale is not expressible in AMASS).
    ``betas`` ``(10,)`` is the track's mean; ``frames`` ``(T,)`` the video frame of each row.
    """
    world = blender_from_camera(results.meta.world_from_camera)
    rotation, offset = world[:3, :3], world[:3, 3]
    root = matrix_to_axis_angle(rotation @ axis_angle_to_matrix(track.global_orient.astype(np.float64)))
    scale = float(np.median(track.scale)) if len(track) else 1.0
    rest0 = np.asarray(results.meta.rest_joints[0], dtype=np.float64)
    trans = (scale * rest0 + track.transl.astype(np.float64)) @ rotation.T + offset - rest0
    poses = np.concatenate([root, track.body_pose.reshape(len(track), -1).astype(np.float64)], axis=1)
    return {
        "poses": poses,
        "trans": trans,
        "betas": track.betas.mean(axis=0).astype(np.float64),
        "mocap_frame_rate": np.array(results.meta.fps, dtype=np.float64),
        "gender": np.array("neutral"),
        "frames": track.frame.astype(np.int32),
    }


def export_amass_npz(track: Track, results: Results, path: str | Path) -> Path:
    path = Path(path)
    np.savez(path, **amass_arrays(track, results))  # type: ignore[arg-type]
    return path


def _ensure_exporter(fmt: str) -> None:
    module = _EXPORTER_ADDONS[fmt]
    if module not in bpy.context.preferences.addons:
        bpy.ops.preferences.addon_enable(module=module)


def _only_selected(obj: bpy.types.Object) -> dict:
    for other in bpy.context.view_layer.objects:
        other.select_set(other == obj)
    bpy.context.view_layer.objects.active = obj
    return {"selected_objects": [obj], "active_object": obj, "object": obj}


def export_armature(obj: bpy.types.Object, fmt: str, path: str | Path) -> Path:
    """Write ``obj``'s animation as FBX or BVH with Blender's exporter, over the scene's frame range."""
    path = Path(path)
    scene = bpy.context.scene
    _ensure_exporter(fmt)
    override = _only_selected(obj)
    with bpy.context.temp_override(**override):
        if fmt == "fbx":
            bpy.ops.export_scene.fbx(
                filepath=str(path),
                use_selection=True,
                object_types={"ARMATURE", "MESH"},
                bake_anim=True,
                add_leaf_bones=False,
                bake_anim_use_nla_strips=False,
                bake_anim_use_all_actions=False,
            )
        else:
            bpy.ops.export_anim.bvh(
                filepath=str(path),
                frame_start=scene.frame_start,
                frame_end=scene.frame_end,
                rotate_mode="NATIVE",
                root_transform_only=False,
            )
    return path


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "person"


def check_formats(formats: tuple[str, ...]) -> None:
    """ValueError naming the formats in ``formats`` that are not in :data:`FORMATS`."""
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ValueError(f"unknown export format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")


def export_people(
    objects: list[bpy.types.Object], results: Results, out_dir: str | Path, stem: str, formats: tuple[str, ...]
) -> list[Path]:
    """Every format in ``formats`` for every armature in ``objects``: ``OUT/STEM_person<ID>.<ext>``."""
    check_formats(formats)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for obj in objects:
        tid = int(obj[TRACK_ID_PROP])
        base = out_dir / f"{safe_name(stem)}_person{tid}"
        for fmt in formats:
            path = base.with_suffix(f".{fmt}")
            if fmt == "npz":
                export_amass_npz(results.track(tid), results, path)
            else:
                export_armature(obj, fmt, path)
            written.append(path)
            log.info("wrote %s", path)
    return written
