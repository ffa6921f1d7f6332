"""The bpy side of the importer: turns plans into armature objects with keyed actions."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import bpy
import numpy as np
from mathutils import Matrix

from ram_core.contract.colors import track_color
from ram_core.contract.coords import SMPL_TO_BLENDER, blender_from_camera
from ram_core.contract.results import Results
from ram_core.contract.skeleton import JOINT_NAMES
from ram_core.contract.smpl_model import SmplModel, shaped_vertices, smpl_rest_joints

from .keys import ensure_action, key_channels
from .plan import (
    CameraPlan,
    ScenePlan,
    SkeletonPlan,
    TrackPlan,
    plan_camera,
    plan_scene,
    plan_skeleton,
    plan_track,
    track_rest_joints,
)
from .proxy import proxy_geometry

log = logging.getLogger(__name__)

TRACK_ID_PROP = "ram_track_id"
PREDICTED_PROP = "ram_predicted"


@dataclass(frozen=True)
class BuildOptions:
    """How to build: ``smpl_model`` adds a skinned body mesh per person; without one, a tube per bone
    (``proxy.py``) shows the person in renders. Pose keys are linear; every person is hidden outside
    their track's frame range."""

    smpl_model: SmplModel | None = None


def apply_scene_plan(scene: bpy.types.Scene, plan: ScenePlan) -> None:
    """Frame rate and range from the video."""
    scene.render.fps = plan.fps
    scene.render.fps_base = plan.fps_base
    scene.frame_start = plan.frame_start
    scene.frame_end = plan.frame_end


def build_camera(
    name: str, plan: CameraPlan, collection: bpy.types.Collection, scene: bpy.types.Scene
) -> bpy.types.Object:
    """The capture camera; it becomes the scene camera (with the video's resolution) if there is none."""
    cam = bpy.data.cameras.new(name)
    cam.sensor_fit = "HORIZONTAL"
    cam.sensor_width = plan.sensor_width_mm
    cam.lens = plan.lens_mm
    cam.shift_x = plan.shift_x
    cam.shift_y = plan.shift_y
    cam.clip_end = 1000.0
    obj = bpy.data.objects.new(name, cam)
    obj.matrix_world = Matrix(plan.matrix_world.tolist())
    collection.objects.link(obj)
    if scene.camera is None:
        scene.camera = obj
        scene.render.resolution_x = plan.width
        scene.render.resolution_y = plan.height
        scene.render.pixel_aspect_x = scene.render.pixel_aspect_y = 1.0
    return obj


def build_armature(name: str, skeleton: SkeletonPlan, collection: bpy.types.Collection) -> bpy.types.Object:
    """An armature object with the planned rest bones (edit bones set from the rest matrices)."""
    arm = bpy.data.armatures.new(name)
    arm.display_type = "OCTAHEDRAL"
    obj = bpy.data.objects.new(name, arm)
    collection.objects.link(obj)
    view_layer = bpy.context.view_layer
    previous = view_layer.objects.active
    view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    try:
        bones = []
        for j, bone_name in enumerate(skeleton.names):
            eb = arm.edit_bones.new(bone_name)
            eb.head = skeleton.heads[j]
            eb.tail = skeleton.tails[j]
            eb.matrix = Matrix(skeleton.rest_matrices[j].tolist())
            eb.use_connect = False
            bones.append(eb)
        for j, p in enumerate(skeleton.parents):
            if p >= 0:
                bones[j].parent = bones[p]
    finally:
        bpy.ops.object.mode_set(mode="OBJECT")
        view_layer.objects.active = previous
    for pb in obj.pose.bones:
        pb.rotation_mode = "QUATERNION"
    return obj


def color_armature(obj: bpy.types.Object, rgb: tuple[float, float, float]) -> None:
    """Show the track's colour on its bones and as the object colour (Workbench's object shading)."""
    obj.color = (*rgb, 1.0)
    for bone in obj.data.bones:
        if hasattr(bone, "color"):
            bone.color.palette = "CUSTOM"
            bone.color.custom.normal = rgb
            bone.color.custom.select = tuple(min(1.0, c * 0.6 + 0.4) for c in rgb)
            bone.color.custom.active = (1.0, 1.0, 1.0)


def key_track(obj: bpy.types.Object, plan: TrackPlan) -> None:
    """Key every bone's rotation, the pelvis location (linear) and the predicted flag, all in bulk; hide
    the armature outside its frames."""
    action = ensure_action(obj, f"{obj.name} motion")
    frames = plan.frames.astype(np.float64)
    for j, bone_name in enumerate(JOINT_NAMES):
        key_channels(
            action,
            obj,
            f'pose.bones["{bone_name}"].rotation_quaternion',
            frames,
            plan.rotations[:, j],
            bone_name,
        )
    key_channels(
        action,
        obj,
        f'pose.bones["{JOINT_NAMES[0]}"].location',
        frames,
        plan.location,
        JOINT_NAMES[0],
    )
    obj[PREDICTED_PROP] = 0.0
    key_channels(
        action, obj, f'["{PREDICTED_PROP}"]', frames, plan.predicted[:, None].astype(np.float64), "RAM", "CONSTANT"
    )
    if len(frames):
        key_visibility(action, obj, frames)


def key_visibility(action: bpy.types.Action, obj: bpy.types.Object, frames: np.ndarray) -> None:
    """Hide ``obj`` in the viewport and in renders before ``frames[0]`` and after ``frames[-1]``."""
    first, last = frames[0], frames[-1]
    vis_frames = np.array([first - 1, first, last + 1])
    hidden = np.array([[1.0], [0.0], [1.0]])
    for path in ("hide_viewport", "hide_render"):
        key_channels(action, obj, path, vis_frames, hidden, "RAM", "CONSTANT")


def build_skinned_mesh(
    arm_obj: bpy.types.Object, model: SmplModel, betas: np.ndarray, collection: bpy.types.Collection
) -> bpy.types.Object:
    """The person's SMPL body (shaped by ``betas``) bound to ``arm_obj`` with one vertex group per joint."""
    verts = shaped_vertices(model, betas) @ SMPL_TO_BLENDER.T
    return _bound_mesh(arm_obj, f"{arm_obj.name} body", verts, model.faces.tolist(), model.weights, collection)


def build_proxy_mesh(
    arm_obj: bpy.types.Object, skeleton: SkeletonPlan, collection: bpy.types.Collection
) -> bpy.types.Object:
    """A tube per bone (see ``proxy.py``), each rigidly bound to its bone, in the person's colour."""
    geo = proxy_geometry(skeleton)
    weights = (geo.bone[:, None] == np.arange(len(JOINT_NAMES))[None, :]).astype(np.float64)
    return _bound_mesh(arm_obj, f"{arm_obj.name} proxy", geo.vertices, geo.faces, weights, collection)


def _bound_mesh(
    arm_obj: bpy.types.Object,
    name: str,
    verts: np.ndarray,
    faces: list,
    weights: np.ndarray,
    collection: bpy.types.Collection,
) -> bpy.types.Object:
    """A mesh parented and skinned to ``arm_obj``: ``weights`` ``(V, 24)``, one vertex group per joint."""
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata(verts.tolist(), [], faces)
    mesh.update()
    mesh.materials.append(_person_material(arm_obj))
    obj = bpy.data.objects.new(name, mesh)
    collection.objects.link(obj)
    obj.parent = arm_obj
    obj.color = arm_obj.color
    for j, joint in enumerate(JOINT_NAMES):
        group = obj.vertex_groups.new(name=joint)
        w = weights[:, j]
        idx = np.flatnonzero(w > 1e-6)
        # One add() per distinct weight keeps the call count small; SMPL's weights repeat a lot.
        values, inverse = np.unique(np.round(w[idx], 6), return_inverse=True)
        for k, value in enumerate(values):
            group.add(idx[inverse == k].tolist(), float(value), "REPLACE")
    mod = obj.modifiers.new("Armature", "ARMATURE")
    mod.object = arm_obj
    return obj


def _person_material(arm_obj: bpy.types.Object) -> bpy.types.Material:
    """A material in the person's colour for Workbench (diffuse colour) and Cycles/EEVEE (base colour)."""
    mat = bpy.data.materials.new(f"{arm_obj.name} colour")
    mat.diffuse_color = tuple(arm_obj.color)
    if mat.node_tree is None:  # before Blender 5.0 a new material has no node tree until asked
        mat.use_nodes = True
    bsdf = next((n for n in mat.node_tree.nodes if n.type == "BSDF_PRINCIPLED"), None)
    if bsdf is not None:
        bsdf.inputs["Base Color"].default_value = tuple(arm_obj.color)
    return mat


def build_results(
    results: Results,
    collection: bpy.types.Collection,
    scene: bpy.types.Scene,
    options: BuildOptions = BuildOptions(),
    names: dict[int, str] | None = None,
) -> list[bpy.types.Object]:
    """One keyed armature per track (plus a body mesh), the capture camera, scene fps/range from the video.

    The rest skeleton is ``results.meta.rest_joints`` (what the rotations were fitted to), or the
    model's joints for each person's mean betas when ``options.smpl_model`` is set, so the mesh and
    the bones agree.
    """
    names = names or {}
    apply_scene_plan(scene, plan_scene(results.meta))
    build_camera(f"RAM camera {Path(results.meta.video_path).stem}", plan_camera(results.meta), collection, scene)
    world = blender_from_camera(results.meta.world_from_camera)
    objects = []
    for track in results.tracks:
        if not len(track):
            continue
        rest = results.meta.rest_joints
        if options.smpl_model is not None:
            rest = smpl_rest_joints(options.smpl_model, track.betas.mean(axis=0))
        rest = track_rest_joints(rest, track)
        skeleton = plan_skeleton(rest)
        plan = plan_track(skeleton, rest, track, names.get(track.track_id, ""), world)
        obj = build_armature(plan.name, skeleton, collection)
        obj[TRACK_ID_PROP] = track.track_id
        color_armature(obj, track_color(track.track_id))
        key_track(obj, plan)
        if options.smpl_model is not None:
            body = build_skinned_mesh(obj, options.smpl_model, plan.betas, collection)
        else:
            body = build_proxy_mesh(obj, skeleton, collection)
        if len(plan.frames):
            # A hidden parent does not hide its children: the body keys its own visibility.
            key_visibility(ensure_action(body, f"{body.name} visibility"), body, plan.frames.astype(np.float64))
        objects.append(obj)
        log.info("built %s: %d frames", obj.name, len(plan.frames))
    return objects


def _datablocks(collection: bpy.types.Collection) -> list[bpy.types.ID]:
    """``collection`` and the objects, data, actions and materials in it."""
    ids: list[bpy.types.ID] = [collection]
    for obj in collection.objects:
        ids.append(obj)
        if obj.data is not None:
            ids.append(obj.data)
            ids += [m for m in getattr(obj.data, "materials", ()) if m is not None]
        if obj.animation_data and obj.animation_data.action:
            ids.append(obj.animation_data.action)
    return ids


def set_aside(collection: bpy.types.Collection) -> list[tuple[bpy.types.ID, str]]:
    """Rename ``collection``'s datablocks out of the way (so a rebuild gets the same names); returns
    what :func:`restore_names` needs to undo it."""
    renamed = [(block, block.name) for block in dict.fromkeys(_datablocks(collection))]
    for block, name in renamed:
        block.name = f"{name} (replaced)"
    return renamed


def restore_names(renamed: list[tuple[bpy.types.ID, str]]) -> None:
    for block, name in renamed:
        block.name = name


def remove_collection(collection: bpy.types.Collection) -> None:
    """Delete ``collection``, its objects and their armature/mesh/camera data, materials and actions."""
    for obj in list(collection.objects):
        data = obj.data
        action = obj.animation_data.action if obj.animation_data else None
        bpy.data.objects.remove(obj)
        if action is not None and action.users == 0:
            bpy.data.actions.remove(action)
        if data is not None and data.users == 0:
            if isinstance(data, bpy.types.Armature):
                bpy.data.armatures.remove(data)
            elif isinstance(data, bpy.types.Mesh):
                materials = [m for m in data.materials if m is not None]
                bpy.data.meshes.remove(data)
                for mat in materials:
                    if mat.users == 0:
                        bpy.data.materials.remove(mat)
            elif isinstance(data, bpy.types.Camera):
                bpy.data.cameras.remove(data)
    bpy.data.collections.remove(collection)
