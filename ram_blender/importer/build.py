"""The bpy side of the importer: turns plans into armature objects with keyed actions."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import bpy
import numpy as np
from mathutils import Matrix

from ram_core.contract.colors import track_color
from ram_core.contract.coords import SMPL_TO_BLENDER
from ram_core.contract.results import Results
from ram_core.contract.skeleton import JOINT_NAMES
from ram_core.contract.smpl_model import SmplModel, shaped_vertices, smpl_rest_joints

from .keys import ensure_action, key_channels
from .plan import ScenePlan, SkeletonPlan, TrackPlan, plan_scene, plan_skeleton, plan_track

log = logging.getLogger(__name__)

TRACK_ID_PROP = "ram_track_id"
PREDICTED_PROP = "ram_predicted"


@dataclass(frozen=True)
class BuildOptions:
    """How to build: ``interpolation`` of the pose keys; ``hide_outside`` keys visibility off
    outside a track's frame range; ``smpl_model`` adds a skinned body mesh per person."""

    interpolation: str = "LINEAR"
    hide_outside: bool = True
    smpl_model: SmplModel | None = None


def apply_scene_plan(scene: bpy.types.Scene, plan: ScenePlan) -> None:
    """Frame rate and range from the video."""
    scene.render.fps = plan.fps
    scene.render.fps_base = plan.fps_base
    scene.frame_start = plan.frame_start
    scene.frame_end = plan.frame_end


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


def key_track(obj: bpy.types.Object, plan: TrackPlan, options: BuildOptions) -> None:
    """Key every bone's rotation, the pelvis location and the predicted flag, all in bulk."""
    action = ensure_action(obj, f"{obj.name} motion")
    frames = plan.frames.astype(np.float64)
    for j, bone_name in enumerate(JOINT_NAMES):
        key_channels(
            action, obj, f'pose.bones["{bone_name}"].rotation_quaternion', frames, plan.rotations[:, j],
            bone_name, options.interpolation,
        )  # fmt: skip
    key_channels(action, obj, f'pose.bones["{JOINT_NAMES[0]}"].location', frames, plan.location, JOINT_NAMES[0],
                 options.interpolation)  # fmt: skip
    obj[PREDICTED_PROP] = 0.0
    key_channels(action, obj, f'["{PREDICTED_PROP}"]', frames, plan.predicted[:, None].astype(np.float64), "RAM",
                 "CONSTANT")  # fmt: skip
    if options.hide_outside and len(frames):
        first, last = frames[0], frames[-1]
        vis_frames = np.array([first - 1, first, last + 1])
        hidden = np.array([[1.0], [0.0], [1.0]])
        for path in ("hide_viewport", "hide_render"):
            key_channels(action, obj, path, vis_frames, hidden, "RAM", "CONSTANT")


def build_skinned_mesh(arm_obj: bpy.types.Object, model: SmplModel, betas: np.ndarray,
                       collection: bpy.types.Collection) -> bpy.types.Object:  # fmt: skip
    """The person's SMPL body (shaped by ``betas``) bound to ``arm_obj`` with one vertex group per joint."""
    verts = shaped_vertices(model, betas) @ SMPL_TO_BLENDER.T
    mesh = bpy.data.meshes.new(f"{arm_obj.name} body")
    mesh.from_pydata(verts.tolist(), [], model.faces.tolist())
    mesh.update()
    obj = bpy.data.objects.new(f"{arm_obj.name} body", mesh)
    collection.objects.link(obj)
    obj.parent = arm_obj
    obj.color = arm_obj.color
    for j, name in enumerate(JOINT_NAMES):
        group = obj.vertex_groups.new(name=name)
        w = model.weights[:, j]
        idx = np.flatnonzero(w > 1e-6)
        # One add() per distinct weight keeps the call count small; SMPL's weights repeat a lot.
        values, inverse = np.unique(np.round(w[idx], 6), return_inverse=True)
        for k, value in enumerate(values):
            group.add(idx[inverse == k].tolist(), float(value), "REPLACE")
    mod = obj.modifiers.new("Armature", "ARMATURE")
    mod.object = arm_obj
    return obj


def build_results(
    results: Results,
    collection: bpy.types.Collection,
    scene: bpy.types.Scene,
    options: BuildOptions = BuildOptions(),
    names: dict[int, str] | None = None,
) -> list[bpy.types.Object]:
    """One keyed armature per track (plus a body mesh with a model), scene fps/range from the video.

    The rest skeleton is ``results.meta.rest_joints`` (what the rotations were fitted to), or the
    model's joints for each person's mean betas when ``options.smpl_model`` is set, so the mesh and
    the bones agree.
    """
    names = names or {}
    apply_scene_plan(scene, plan_scene(results.meta))
    shared = plan_skeleton(results.meta.rest_joints)
    objects = []
    for track in results.tracks:
        if not len(track):
            continue
        rest = results.meta.rest_joints
        skeleton = shared
        if options.smpl_model is not None:
            rest = smpl_rest_joints(options.smpl_model, track.betas.mean(axis=0))
            skeleton = plan_skeleton(rest)
        plan = plan_track(skeleton, rest, track, names.get(track.track_id, ""))
        obj = build_armature(plan.name, skeleton, collection)
        obj[TRACK_ID_PROP] = track.track_id
        color_armature(obj, track_color(track.track_id))
        key_track(obj, plan, options)
        if options.smpl_model is not None:
            build_skinned_mesh(obj, options.smpl_model, plan.betas, collection)
        objects.append(obj)
        log.info("built %s: %d frames", obj.name, len(plan.frames))
    return objects


def remove_collection(collection: bpy.types.Collection) -> None:
    """Delete ``collection``, its objects and their armature/mesh data and actions."""
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
                bpy.data.meshes.remove(data)
    bpy.data.collections.remove(collection)
