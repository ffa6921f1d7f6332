"""Per-person exports: FBX and BVH through Blender's own exporters, and an AMASS-style .npz."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path

import bpy
import numpy as np

from ram_core.contract.batch_files import EXPORT_FORMATS, export_stem, make_output_folder
from ram_core.contract.client import check_output_path
from ram_core.contract.coords import blender_from_camera
from ram_core.contract.results import CaptureMeta, Results, Track
from ram_core.contract.skeleton import (
    JOINT_NAMES,
    PARENTS,
    axis_angle_to_matrix,
    matrix_to_axis_angle,
    matrix_to_quaternion,
)

from .bvh import BvhMotion, write_bvh
from .importer.build import BODY_PROP, TRACK_ID_PROP, ram_made
from .importer.keys import ensure_action, key_channels
from .importer.plan import FRAME_OFFSET, continuous_quaternions, frame_timeline, retime

log = logging.getLogger(__name__)

FORMATS = EXPORT_FORMATS
_EXPORTER_ADDONS = {"fbx": "io_scene_fbx"}
# Keys of the baked FBX stand-in sit this many frames from the scene's (see _baked_copy).
FBX_SHIFT = -1


def amass_arrays(track: Track, results: Results) -> dict[str, np.ndarray]:
    """AMASS-style arrays for one person, in Blender's Z-up world (the solved scene's, else the camera at the origin).

    ``poses`` ``(T, 72)`` axis-angle (root first, then SMPL's 23 body joints; radians); ``trans``
    ``(T, 3)`` metres, such that SMPL's forward pass with these gives the joints in Blender's world:
    root ``R' = C @ R`` and ``trans' = C @ (rest_0 + transl) + c - rest_0`` with ``x -> C @ x + c`` the
    camera-to-Blender transform (:func:`~ram_core.contract.coords.blender_from_camera`: the solved
    scene's, floor at z = 0, or the camera at the origin), so the pelvis lands where the armature's does
    (the body's size comes from ``betas``; a solved per-track scale is not expressible in AMASS).
    ``betas`` ``(10,)`` is the track's mean; ``frames`` ``(T,)`` the video frame of each row; ``times`` ``(T,)``
    when the video shows it, seconds (``frame / fps``, or the frame's own time in a variable-frame-rate video);
    ``rest_joints`` ``(24, 3)`` the rest skeleton the rotations were fitted to (SMPL's canonical frame,
    metres), so a reader without the SMPL model still gets the joints back.
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
        "times": frame_seconds(track.frame, results.meta),
        "rest_joints": np.asarray(results.meta.rest_joints, dtype=np.float64),
    }


def frame_seconds(frames: np.ndarray, meta: CaptureMeta) -> np.ndarray:
    """``(T,)`` seconds at which the video shows ``frames`` ``(T,)``: its own times when it kept them, else ``frame / fps``."""
    if meta.frame_times is None:
        return np.asarray(frames, dtype=np.float64) / meta.fps
    return np.asarray(meta.frame_times, dtype=np.float64)[np.asarray(frames) - meta.frame_start]


def export_amass_npz(track: Track, results: Results, path: str | Path) -> Path:
    path = Path(path)
    np.savez(path, **amass_arrays(track, results))  # type: ignore[arg-type]
    return path


def _ensure_exporter(fmt: str) -> None:
    module = _EXPORTER_ADDONS[fmt]
    if module not in bpy.context.preferences.addons:
        bpy.ops.preferences.addon_enable(module=module)


@contextmanager
def _kept_selection() -> Iterator[None]:
    """Whatever an exporter selects, the artist's selection, active object and frame come back."""
    view_layer = bpy.context.view_layer
    selected = [o for o in view_layer.objects if o.select_get()]
    active = view_layer.objects.active
    scene = bpy.context.scene
    frame = (scene.frame_current, scene.frame_start, scene.frame_end)
    try:
        yield
    finally:
        for o in view_layer.objects:
            o.select_set(o in selected)
        view_layer.objects.active = active
        scene.frame_start, scene.frame_end = frame[1], frame[2]
        scene.frame_set(frame[0])


def sample_pose(obj: bpy.types.Object, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``obj``'s evaluated pose at each Blender frame in ``frames`` ``(T,)``: bone pose matrices ``(T, B, 4, 4)``
    in armature space (``obj.data.bones`` order; constraints, NLA and drivers included) and the object's
    world matrix ``(T, 4, 4)``."""
    scene = bpy.context.scene
    bones = list(obj.pose.bones)
    pose = np.empty((len(frames), len(bones), 4, 4))
    world = np.empty((len(frames), 4, 4))
    for i, frame in enumerate(frames):
        scene.frame_set(int(frame))
        world[i] = np.array(obj.matrix_world)
        for j, pb in enumerate(bones):
            pose[i, j] = np.array(pb.matrix)
    return pose, world


def pose_to_basis(obj: bpy.types.Object, pose: np.ndarray) -> np.ndarray:
    """Local (basis) matrices ``(T, B, 4, 4)`` that give the armature-space ``pose`` ``(T, B, 4, 4)``:
    ``P_j = P_p @ inv(L_p) @ L_j @ B_j`` (``L`` rest ``matrix_local``), so ``B_j = inv(L_j) @ L_p @ inv(P_p) @ P_j``."""
    bones = list(obj.data.bones)
    index = {b.name: j for j, b in enumerate(bones)}
    rest = np.array([np.array(b.matrix_local) for b in bones])
    basis = np.empty_like(pose)
    for j, bone in enumerate(bones):
        inv_rest = np.linalg.inv(rest[j])
        if bone.parent is None:
            basis[:, j] = inv_rest @ pose[:, j]
        else:
            p = index[bone.parent.name]
            basis[:, j] = inv_rest @ rest[p] @ np.linalg.inv(pose[:, p]) @ pose[:, j]
    return basis


def _split_transform(m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(T, 4, 4)`` -> location ``(T, 3)``, sign-continuous quaternions ``(T, 4)``, scale ``(T, 3)``."""
    scale = np.linalg.norm(m[:, :3, :3], axis=1)
    quat = continuous_quaternions(matrix_to_quaternion(m[:, :3, :3] / scale[:, None, :]))
    return m[:, :3, 3], quat, scale


@contextmanager
def _baked_copy(obj: bpy.types.Object, frames: np.ndarray, shift: int) -> Iterator[list[bpy.types.Object]]:
    """A stand-in for ``obj`` (same armature data and name, RAM's body mesh along) whose pose is ``obj``'s
    evaluated one baked into plain keys at ``frames + shift``; removed afterwards, ``obj`` untouched.

    The FBX exporter writes frame ``f`` at time ``f / fps`` and Blender's importer adds a frame back
    (``anim_offset`` 1): keys one frame early make the round trip land on the same frames.
    """
    pose, world = sample_pose(obj, frames)
    basis = pose_to_basis(obj, pose)
    rig = obj.copy()
    for key in list(rig.keys()):  # RAM's marks (its action above all) must not point the copy at obj's data
        if key.startswith("ram_"):
            del rig[key]
    rig.animation_data_clear()
    rig.parent = None
    rig.constraints.clear()
    bpy.context.scene.collection.objects.link(rig)
    made: list[bpy.types.Object] = [rig]
    name = obj.name
    action = None
    try:
        obj.name, rig.name = f"{name} (exporting)", name
        rig.rotation_mode = "QUATERNION"
        action = ensure_action(rig, f"{name} export")
        keyed = (frames + shift).astype(np.float64)
        loc, quat, scale = _split_transform(world)
        for path, values in (("location", loc), ("rotation_quaternion", quat), ("scale", scale)):
            key_channels(action, rig, path, keyed, values, "Object")
        for j, pb in enumerate(rig.pose.bones):
            for c in list(pb.constraints):
                pb.constraints.remove(c)
            pb.rotation_mode = "QUATERNION"
            loc, quat, scale = _split_transform(basis[:, j])
            for attr, values in (("location", loc), ("rotation_quaternion", quat), ("scale", scale)):
                key_channels(action, rig, f'pose.bones["{pb.name}"].{attr}', keyed, values, pb.name)
        for child in obj.children:
            if child.get(BODY_PROP) and child.type == "MESH" and ram_made(child):  # not the artist's copy
                body = child.copy()
                body.animation_data_clear()
                bpy.context.scene.collection.objects.link(body)
                made.append(body)
                body.parent = rig
                for mod in body.modifiers:
                    if mod.type == "ARMATURE":
                        mod.object = rig
        yield made
    finally:
        for o in reversed(made):
            bpy.data.objects.remove(o)
        if action is not None and action.users == 0:
            bpy.data.actions.remove(action)
        obj.name = name


def export_armature(
    obj: bpy.types.Object, fmt: str, path: str | Path, frames: tuple[int, int] | None = None, y_up: bool = True
) -> Path:
    """Write ``obj``'s animation over Blender frames ``frames`` (first, last; default the scene's range).

    FBX through Blender's exporter, unsimplified, with RAM's body mesh, re-importing with Blender's default
    options on the same frames. BVH by :mod:`.bvh`, Y up (``y_up`` False: Blender's Z up); a BVH has no
    start time, so its first frame is ``first``. The artist's selection is kept.
    """
    path = Path(path)
    scene = bpy.context.scene
    first, last = frames or (scene.frame_start, scene.frame_end)
    span = np.arange(first, last + 1)
    with _kept_selection():
        if fmt == "fbx":
            _ensure_exporter(fmt)
            with _baked_copy(obj, span, FBX_SHIFT) as made:
                for other in bpy.context.view_layer.objects:
                    other.select_set(other in made)
                bpy.context.view_layer.objects.active = made[0]
                scene.frame_start, scene.frame_end = first + FBX_SHIFT, last + FBX_SHIFT
                # Blender's FBX exporter prints three lines per file ("FBX export starting...", a debug tuple,
                # "export finished"): in a batch of people and videos they bury the progress lines.
                chatter = io.StringIO()
                with (
                    bpy.context.temp_override(selected_objects=made, active_object=made[0], object=made[0]),
                    redirect_stdout(chatter),
                ):
                    bpy.ops.export_scene.fbx(
                        filepath=str(path),
                        use_selection=True,
                        object_types={"ARMATURE", "MESH"},
                        bake_anim=True,
                        bake_anim_simplify_factor=0.0,
                        bake_anim_force_startend_keying=True,
                        add_leaf_bones=False,
                        bake_anim_use_nla_strips=False,
                        bake_anim_use_all_actions=False,
                    )
                log.debug("FBX exporter: %s", chatter.getvalue().strip())
        else:
            write_bvh(path, bvh_motion(obj, span), y_up=y_up)
    return path


def bvh_motion(obj: bpy.types.Object, frames: np.ndarray) -> BvhMotion:
    """``obj``'s RAM bones (SMPL's 24, by name) sampled at ``frames`` as a :class:`BvhMotion` in the world."""
    pose, world = sample_pose(obj, frames)
    bones = [b.name for b in obj.data.bones]
    keep = [bones.index(n) for n in JOINT_NAMES]
    rest = np.array([np.array(obj.data.bones[n].matrix_local) for n in JOINT_NAMES])
    tails = np.array([np.array(obj.data.bones[n].tail_local) for n in JOINT_NAMES])
    posed = world[:, None] @ pose[:, keep]  # (T, 24, 4, 4) world bone matrices
    rotations = posed[..., :3, :3] @ np.swapaxes(rest[None, :, :3, :3], -1, -2)
    fps = scene_fps(bpy.context.scene)
    return BvhMotion(
        names=JOINT_NAMES,
        parents=PARENTS,
        rest_heads=rest[:, :3, 3],
        end_sites=tails - rest[:, :3, 3],
        rotations=rotations,
        root_positions=posed[:, 0, :3, 3],
        frame_time=1.0 / fps,
    )


def scene_fps(scene: bpy.types.Scene) -> float:
    return scene.render.fps / scene.render.fps_base


def check_formats(formats: tuple[str, ...]) -> None:
    """ValueError naming the formats in ``formats`` that are not in :data:`FORMATS`."""
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ValueError(f"unknown export format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")


def keyed_span(obj: bpy.types.Object) -> tuple[int, int]:
    """The Blender frames (first, last) ``obj``'s motion action is keyed on: the person's frames, read from the
    .blend alone (a file moved without its results file)."""
    action = obj.animation_data.action if obj.animation_data is not None else None
    if action is None:
        raise ValueError(f"{obj.name}: has no motion action to export; Rebuild Armatures in Sidebar > RAM > Capture")
    first, last = action.curve_frame_range
    return int(np.floor(first)), int(np.ceil(last))


def export_people(
    objects: list[bpy.types.Object],
    results: Results | None,
    out_dir: str | Path,
    stem: str,
    formats: tuple[str, ...],
    bvh_y_up: bool = True,
) -> list[Path]:
    """Every format in ``formats`` for every armature in ``objects``: ``OUT/STEM_person<ID>.<ext>``, each
    over its person's frames (BVH Y up unless ``bvh_y_up`` is False). FBX and BVH need only the armatures:
    without ``results`` (the results file is gone) each covers its motion action's keys (:func:`keyed_span`);
    the AMASS .npz is made from the results' SMPL parameters, so it needs them."""
    check_formats(formats)
    if results is None and "npz" in formats:
        raise ValueError("the AMASS .npz is made from the capture's results file, which is missing")
    out_dir = make_output_folder(Path(out_dir))
    check_output_path(out_dir / f"{export_stem(stem)}.export")  # a read-only folder: one line now, not a traceback
    written = []
    for obj in objects:
        tid = int(obj[TRACK_ID_PROP])
        base = out_dir / f"{export_stem(stem)}_person{tid}"
        for fmt in formats:
            path = base.with_suffix(f".{fmt}")
            if results is None:
                export_armature(obj, fmt, path, keyed_span(obj), y_up=bvh_y_up)
            elif fmt == "npz":
                export_amass_npz(results.track(tid), results, path)
            else:
                # The person's keys span these Blender frames (at the frames' times for a variable-rate video).
                track = results.track(tid)
                keyed = retime(track.frame[[0, -1]] + FRAME_OFFSET, frame_timeline(results.meta))
                span = (int(np.floor(keyed[0])), int(np.ceil(keyed[1])))
                export_armature(obj, fmt, path, span, y_up=bvh_y_up)
            written.append(path)
            log.info("wrote %s", path)
    return written
