"""The bpy side of the importer: turns plans into armature objects with keyed actions (a fresh build;
``update.py`` brings built ones up to edited results in place)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import bpy
import numpy as np
from mathutils import Matrix, Vector

from ram_core.contract.colors import track_color
from ram_core.contract.coords import SMPL_TO_BLENDER, blender_from_camera
from ram_core.contract.results import Results, Track
from ram_core.contract.skeleton import JOINT_NAMES
from ram_core.contract.smpl_model import SmplModel, shaped_vertices, smpl_rest_joints

from .foot_lock import lock_feet
from .keys import ACTION_PROP, CHANNELS_PROP, channels_action, ensure_action, key_channels, place_channels_strip
from .plan import (
    ROOT,
    ROOT_LENGTH,
    ROOT_REST,
    CameraPlan,
    ScenePlan,
    SkeletonPlan,
    TrackPlan,
    gap_filled_keys,
    hold_before_gaps,
    plan_camera,
    plan_scene,
    plan_skeleton,
    plan_track,
    predicted_keys,
    track_digest,
    track_rest_joints,
    visibility_keys,
)
from .proxy import proxy_geometry

log = logging.getLogger(__name__)

TRACK_ID_PROP = "ram_track_id"
PREDICTED_PROP = "ram_predicted"
# What RAM keeps on the objects it makes: the name it last gave (so a name set in the outliner is only
# replaced by a rename edit), the digest of what the motion was built from, and a mark on its body meshes
# and their materials (so the artist's children and materials are never mistaken for RAM's).
NAME_PROP = "ram_name"
DIGEST_PROP = "ram_digest"
BODY_PROP = "ram_body"
# Each foot's contact (0-1) as custom properties on the armature data, keyed in its own action there: the
# Graph Editor shows and edits them under the object, and they never travel with the bone action.
CONTACT_PROPS = ("ram_contact_left", "ram_contact_right")
# Where a grounded armature was placed (world) and how its rest bones were moved (see plan.py), so a
# re-key reads the artist's keys against the plan they were made on and moves the object by the change.
ORIGIN_PROP = "ram_origin"
OFFSET_PROP = "ram_rest_offset"


@dataclass(frozen=True)
class BuildOptions:
    """How to build: ``smpl_model`` adds a skinned body mesh per person; without one, a tube per bone
    (``proxy.py``) shows the person in renders. ``foot_lock`` holds each planted foot still through its
    contact (``foot_lock.py``). Pose keys are linear (CONSTANT before a gap); every person is hidden
    outside their track's frames and in its gaps."""

    smpl_model: SmplModel | None = None
    foot_lock: bool = False


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
        root = add_root_bone(arm.edit_bones) if skeleton.grounded else None
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
            elif root is not None:
                bones[j].parent = root
    finally:
        bpy.ops.object.mode_set(mode="OBJECT")
        view_layer.objects.active = previous
    for pb in obj.pose.bones:
        pb.rotation_mode = "QUATERNION"
    return obj


def add_root_bone(edit_bones: bpy.types.ArmatureEditBones) -> bpy.types.EditBone:
    """The grounded armature's :data:`ROOT` bone at the origin (edit mode)."""
    root = edit_bones.new(ROOT)
    root.head = (0.0, 0.0, 0.0)
    root.tail = tuple(ROOT_REST[:3, 1] * ROOT_LENGTH)
    root.matrix = Matrix(ROOT_REST.tolist())
    return root


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
    """Key every bone's rotation and the pelvis (and root) location in RAM's action, the predicted flag
    and the visibility in RAM's channel action (an NLA strip) and the feet's contact in the armature
    data's action, all in bulk, replacing RAM's keys there; the artist's curves on other channels stay.

    Before a gap the pose keys are CONSTANT: the armature holds (hidden) instead of gliding across it.
    """
    action = ensure_action(obj, f"{obj.name} motion")
    frames = plan.frames.astype(np.float64)
    hold = hold_before_gaps(plan.frames)
    for j, bone_name in enumerate(JOINT_NAMES):
        key_channels(
            action,
            obj,
            f'pose.bones["{bone_name}"].rotation_quaternion',
            frames,
            plan.rotations[:, j],
            bone_name,
            "LINEAR",
            hold,
        )
    key_channels(
        action,
        obj,
        f'pose.bones["{JOINT_NAMES[0]}"].location',
        frames,
        plan.location,
        JOINT_NAMES[0],
        "LINEAR",
        hold,
    )
    if plan.root_rotation is not None and plan.root_location is not None:
        for attr, values in (("rotation_quaternion", plan.root_rotation), ("location", plan.root_location)):
            key_channels(action, obj, f'pose.bones["{ROOT}"].{attr}', frames, values, ROOT, "LINEAR", hold)
    key_contact(obj, plan)
    if PREDICTED_PROP not in obj:
        obj[PREDICTED_PROP] = 0.0
    channels = channels_action(obj, f"{obj.name} channels")
    pred = predicted_keys(plan.frames, plan.predicted)
    key_channels(channels, obj, f'["{PREDICTED_PROP}"]', pred.frames, pred.values[:, None], "RAM", "CONSTANT")
    if len(frames):
        key_visibility(channels, obj, plan.frames)
    place_channels_strip(obj, channels)


def key_contact(obj: bpy.types.Object, plan: TrackPlan) -> None:
    """Each foot's contact (0 in gaps) on the armature data's :data:`CONTACT_PROPS`, CONSTANT per frame."""
    data = obj.data
    for prop in CONTACT_PROPS:
        if prop not in data:
            data[prop] = 0.0
    action = ensure_action(data, f"{obj.name} contact")
    keys = gap_filled_keys(plan.frames, plan.contact, 0.0)
    for k, prop in enumerate(CONTACT_PROPS):
        key_channels(action, data, f'["{prop}"]', keys.frames, keys.values[:, k : k + 1], "RAM", "CONSTANT")


def key_visibility(action: bpy.types.Action, obj: bpy.types.Object, frames: np.ndarray) -> None:
    """Hide ``obj`` in the viewport and in renders outside ``frames`` (before, after and in every gap)."""
    keys = visibility_keys(frames)
    for path in ("hide_viewport", "hide_render"):
        key_channels(action, obj, path, keys.frames, keys.values[:, None], "RAM", "CONSTANT")


def smpl_vertices(model: SmplModel, skeleton: SkeletonPlan, plan: TrackPlan) -> np.ndarray:
    """The person's SMPL mesh at rest in armature space ``(V, 3)``: shaped by their betas, sized and moved
    like their bones (the track's scale about SMPL's origin, then the skeleton's ``offset``)."""
    return plan.scale * shaped_vertices(model, plan.betas) @ SMPL_TO_BLENDER.T - skeleton.offset


def build_skinned_mesh(
    arm_obj: bpy.types.Object, model: SmplModel, verts: np.ndarray, collection: bpy.types.Collection
) -> bpy.types.Object:
    """The person's SMPL body (rest vertices ``verts`` ``(V, 3)``, :func:`smpl_vertices`) bound to
    ``arm_obj`` with one vertex group per joint."""
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
    mat[BODY_PROP] = True
    mat.diffuse_color = tuple(arm_obj.color)
    if mat.node_tree is None:  # before Blender 5.0 a new material has no node tree until asked
        mat.use_nodes = True
    bsdf = next((n for n in mat.node_tree.nodes if n.type == "BSDF_PRINCIPLED"), None)
    if bsdf is not None:
        bsdf.inputs["Base Color"].default_value = tuple(arm_obj.color)
    return mat


def body_kind(options: BuildOptions) -> str:
    return "smpl" if options.smpl_model is not None else "proxy"


def person_inputs(track: Track, results: Results, options: BuildOptions) -> tuple[np.ndarray, np.ndarray, str]:
    """What a track's armature is built on: its rest joints ``(24, 3)`` (the capture's or the SMPL model's,
    times the track's solved size), the ``(4, 4)`` camera-to-Blender transform, and the digest of all that."""
    rest = results.meta.rest_joints
    if options.smpl_model is not None:
        rest = smpl_rest_joints(options.smpl_model, track.betas.mean(axis=0))
    rest = track_rest_joints(rest, track)
    world = blender_from_camera(results.meta.world_from_camera)
    return rest, world, track_digest(track, rest, world.round(9).tolist(), body_kind(options), options.foot_lock)


def planned(
    track: Track, results: Results, options: BuildOptions, name: str = "", origin: np.ndarray | None = None
) -> tuple[SkeletonPlan, TrackPlan, str]:
    """The rest skeleton and keys of ``track``'s armature and the digest of what they were made from."""
    rest, world, digest = person_inputs(track, results, options)
    skeleton = plan_skeleton(rest, grounded(results))
    if options.foot_lock:
        track = lock_feet(track, rest)
    return skeleton, plan_track(skeleton, rest, track, name, world, origin), digest


def grounded(results: Results) -> bool:
    """Whether ``results`` has a solved floor: then armatures stand on a root bone at z = 0."""
    return results.meta.world_from_camera is not None


def ram_body(obj: bpy.types.Object) -> bpy.types.Object | None:
    """The body mesh RAM made for ``obj`` (the artist's own children are never it)."""
    return next((c for c in obj.children if c.get(BODY_PROP)), None)


def key_body(obj: bpy.types.Object, body: bpy.types.Object | None, plan: TrackPlan, options: BuildOptions) -> None:
    if body is not None and len(plan.frames):
        # A hidden parent does not hide its children: the body keys its own visibility.
        key_visibility(ensure_action(body, f"{body.name} visibility"), body, plan.frames)


def make_body(
    obj: bpy.types.Object, skeleton: SkeletonPlan, plan: TrackPlan, options: BuildOptions, collection
) -> bpy.types.Object | None:
    body = None
    if options.smpl_model is not None:
        body = build_skinned_mesh(
            obj, options.smpl_model, smpl_vertices(options.smpl_model, skeleton, plan), collection
        )
        body[BODY_PROP] = "smpl"
    else:
        body = build_proxy_mesh(obj, skeleton, collection)
        body[BODY_PROP] = "proxy"
    return body


def build_person(
    track: Track,
    results: Results,
    collection: bpy.types.Collection,
    options: BuildOptions,
    name: str = "",
    color: tuple[float, float, float] | None = None,
) -> bpy.types.Object:
    """One keyed armature (plus its body mesh) for ``track``, linked into ``collection``."""
    skeleton, plan, digest = planned(track, results, options, name)
    obj = build_armature(plan.name, skeleton, collection)
    obj[TRACK_ID_PROP] = track.track_id
    obj[NAME_PROP] = plan.name
    obj[DIGEST_PROP] = digest
    place(obj, skeleton, plan)
    rgb = color or track_color(track.track_id)
    color_armature(obj, rgb)
    key_track(obj, plan)
    key_body(obj, make_body(obj, skeleton, plan, options, collection), plan, options)
    log.info("built %s: %d frames", obj.name, len(plan.frames))
    return obj


def place(obj: bpy.types.Object, skeleton: SkeletonPlan, plan: TrackPlan) -> None:
    """Stand a grounded armature at its person's start on the floor (moving it by the change of that
    place, so where the artist moved it stays relative), and remember what the keys are relative to."""
    if not skeleton.grounded:
        return
    before = np.asarray(obj.get(ORIGIN_PROP, (0.0, 0.0, 0.0)), dtype=np.float64)
    matrix = obj.matrix_world.copy()
    matrix.translation += Vector((plan.origin - before).tolist())
    obj.matrix_world = matrix
    obj[ORIGIN_PROP] = plan.origin.tolist()
    obj[OFFSET_PROP] = skeleton.offset.tolist()


def ram_actions(obj: bpy.types.Object) -> list[bpy.types.Action]:
    """The actions RAM keys for ``obj``: its motion, its object channels and its data's contact."""
    owners = (obj, obj, obj.data)
    found = [o.get(k) for o, k in zip(owners, (ACTION_PROP, CHANNELS_PROP, ACTION_PROP)) if o is not None]
    return [a for a in found if isinstance(a, bpy.types.Action)]


def remove_object(obj: bpy.types.Object) -> None:
    """Remove ``obj`` and what RAM made for it only (its data, RAM's action, RAM's material) once unused."""
    data = obj.data
    actions = ram_actions(obj)
    materials = [m for m in getattr(data, "materials", ()) if m is not None and m.get(BODY_PROP)]
    bpy.data.objects.remove(obj)
    if data is not None and data.users == 0:
        if isinstance(data, bpy.types.Armature):
            bpy.data.armatures.remove(data)
        elif isinstance(data, bpy.types.Mesh):
            bpy.data.meshes.remove(data)
    for action in actions:
        if action.users == 0:
            bpy.data.actions.remove(action)
    for mat in materials:
        if mat.users == 0:
            bpy.data.materials.remove(mat)


def build_results(
    results: Results,
    collection: bpy.types.Collection,
    scene: bpy.types.Scene,
    options: BuildOptions = BuildOptions(),
    names: dict[int, str] | None = None,
    colors: dict[int, tuple[float, float, float]] | None = None,
) -> list[bpy.types.Object]:
    """One keyed armature per track (plus a body mesh), the capture camera, scene fps/range from the video.

    The rest skeleton is ``results.meta.rest_joints`` (what the rotations were fitted to), or the
    model's joints for each person's mean betas when ``options.smpl_model`` is set, so the mesh and
    the bones agree.
    """
    names, colors = names or {}, colors or {}
    apply_scene_plan(scene, plan_scene(results.meta))
    build_camera(f"RAM camera {Path(results.meta.video_path).stem}", plan_camera(results.meta), collection, scene)
    return [
        build_person(t, results, collection, options, names.get(t.track_id, ""), colors.get(t.track_id))
        for t in results.tracks
        if len(t)
    ]


def _datablocks(collection: bpy.types.Collection) -> list[bpy.types.ID]:
    """``collection`` and the objects, data, actions and materials in it."""
    ids: list[bpy.types.ID] = [collection]
    for obj in collection.objects:
        ids.append(obj)
        if obj.data is not None:
            ids.append(obj.data)
            ids += [m for m in getattr(obj.data, "materials", ()) if m is not None]
        ids += ram_actions(obj)
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
    """Delete ``collection``, its objects and what RAM made for them (data, RAM's actions and materials)."""
    for obj in list(collection.objects):
        if isinstance(obj.data, bpy.types.Camera):
            camera = obj.data
            bpy.data.objects.remove(obj)
            if camera.users == 0:
                bpy.data.cameras.remove(camera)
        else:
            remove_object(obj)
    bpy.data.collections.remove(collection)
