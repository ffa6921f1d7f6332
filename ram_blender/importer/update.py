"""Bringing built armatures up to edited results in place, so nothing the artist added to them is lost.

An armature is re-keyed only when the digest of what it is built from changed; then only what RAM made
is touched: its keys (the artist's keys on RAM's channels put back where the edit left them alone, see
``hand_keys``), its rest bones when the person's shape changed, its body mesh, its name and colour when
the edit log changed them. Tracks that are gone lose their armature; the artist's children stay.
"""

from __future__ import annotations

import logging

import bpy
import numpy as np
from mathutils import Matrix

from ram_core.contract.colors import track_color
from ram_core.contract.coords import SMPL_TO_BLENDER
from ram_core.contract.results import Results, Track
from ram_core.contract.skeleton import JOINT_NAMES

from .build import (
    BODY_PROP,
    DIGEST_PROP,
    NAME_PROP,
    OFFSET_PROP,
    ORIGIN_PROP,
    TRACK_ID_PROP,
    BuildOptions,
    add_root_bone,
    body_kind,
    body_vertices,
    build_person,
    color_armature,
    fit_ground,
    key_body,
    key_track,
    make_body,
    person_inputs,
    place,
    planned,
    ram_actions,
    ram_body,
    ram_ground,
    ram_made,
    remove_object,
)
from .foot_lock import lock_feet
from .hand_keys import HandKeys, read_hand_keys, restore_hand_keys
from .keys import ACTION_PROP
from .plan import ROOT, SkeletonPlan, TrackPlan, plan_ground, plan_skeleton, plan_track

log = logging.getLogger(__name__)


def update_person(
    obj: bpy.types.Object,
    track: Track,
    results: Results,
    options: BuildOptions,
    name: str = "",
    color: tuple[float, float, float] | None = None,
    force: bool = False,
    previous: Track | None = None,
) -> bool:
    """Bring ``obj`` (an armature :func:`build_person` made for this track id) up to ``track``, in place.

    Only what RAM made is touched: its keys in RAM's action, its rest bones (when the skeleton changed),
    its body mesh's vertices, its name and colour when the edit log changed them. The object, its
    constraints, children, modifiers, NLA tracks, other curves and custom properties stay; with
    ``previous`` (the track as it was last keyed) the artist's keys on RAM's own channels stay on the
    frames the edit did not change (see ``hand_keys``). Returns whether the motion was re-keyed
    (unchanged tracks are skipped unless ``force``).
    """
    plan_name = name or f"RAM person {track.track_id}"
    if obj.get(NAME_PROP) != plan_name:  # a name from the edit log; one set in the outliner stays otherwise
        obj.name = plan_name
        obj[NAME_PROP] = plan_name
    rgb = color or track_color(track.track_id)
    if tuple(round(c, 6) for c in obj.color[:3]) != tuple(round(c, 6) for c in rgb):
        color_armature(obj, rgb)
        body = ram_body(obj)
        if body is not None:
            _recolor_body(body, rgb)
    _, world, digest = person_inputs(track, results, options)
    if not force and obj.get(DIGEST_PROP) == digest:
        return False
    skeleton, plan, digest = planned(track, results, options, plan_name)
    old, hand = _hand_keys_before(obj, previous, world, options, plan.timeline)
    set_rest_bones(obj, skeleton)
    place(obj, skeleton, plan)
    key_track(obj, plan)
    if old is not None and hand is not None:
        kept = restore_hand_keys(obj[ACTION_PROP], hand, old, plan)
        if kept < hand.count:
            log.info("%s: %d of %d hand keys were on frames the edit changed", obj.name, hand.count - kept, hand.count)
    body = ram_body(obj)
    want = body_kind(options)
    if body is not None and body.get(BODY_PROP) == want:
        _reshape_body(body, body_vertices(want, skeleton, plan, options))
    else:
        new_body = make_body(obj, skeleton, plan, options, obj.users_collection[0])
        if body is not None:
            replace_body(body, new_body)
        body = new_body
    key_body(obj, body, plan, options)
    obj[DIGEST_PROP] = digest
    log.info("re-keyed %s: %d frames", obj.name, len(plan.frames))
    return True


def _hand_keys_before(
    obj: bpy.types.Object,
    previous: Track | None,
    world: np.ndarray,
    options: BuildOptions,
    timeline: np.ndarray | None,
) -> tuple[TrackPlan | None, HandKeys | None]:
    """RAM's last plan for ``obj`` (rebuilt from ``previous`` on the armature's current rest bones, the
    skeleton it was keyed on, in the capture's ``world``, at the place it was put) and the artist's keys
    that differ from it."""
    action = obj.get(ACTION_PROP)
    bones = obj.data.bones
    if previous is None or not len(previous) or not isinstance(action, bpy.types.Action):
        return None, None
    if any(n not in bones for n in JOINT_NAMES):
        return None, None
    offset = np.asarray(obj.get(OFFSET_PROP, (0.0, 0.0, 0.0)), dtype=np.float64)
    origin = np.asarray(obj.get(ORIGIN_PROP, (0.0, 0.0, 0.0)), dtype=np.float64)
    heads = np.array([bones[n].head_local for n in JOINT_NAMES], dtype=np.float64)
    rest = (heads + offset) @ SMPL_TO_BLENDER
    if options.foot_lock:
        previous = lock_feet(previous, rest)
    old = plan_track(plan_skeleton(rest, ROOT in bones), rest, previous, world=world, origin=origin, timeline=timeline)
    return old, read_hand_keys(action, old)


def set_rest_bones(obj: bpy.types.Object, skeleton: SkeletonPlan) -> None:
    """Move ``obj``'s bones named in ``skeleton`` to its rest matrices and add its root bone if it has none,
    if anything differs (bones the artist added stay where they are)."""
    bones = obj.data.bones
    heads = np.array([bones[n].head_local if n in bones else skeleton.heads[j] for j, n in enumerate(skeleton.names)])
    tails = np.array([bones[n].tail_local if n in bones else skeleton.tails[j] for j, n in enumerate(skeleton.names)])
    same = np.allclose(heads, skeleton.heads, atol=1e-6) and np.allclose(tails, skeleton.tails, atol=1e-6)
    if same and (ROOT in bones or not skeleton.grounded):
        return
    view_layer = bpy.context.view_layer
    previous, hidden = view_layer.objects.active, obj.hide_viewport
    obj.hide_viewport = False  # edit mode needs a visible object
    view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    try:
        edit_bones = obj.data.edit_bones
        if skeleton.grounded and ROOT not in edit_bones:
            root = add_root_bone(edit_bones)
            pelvis = edit_bones.get(skeleton.names[0])
            if pelvis is not None:
                pelvis.parent = root
        for j, bone_name in enumerate(skeleton.names):
            eb = edit_bones.get(bone_name)
            if eb is not None:
                eb.head = skeleton.heads[j]
                eb.tail = skeleton.tails[j]
                eb.matrix = Matrix(skeleton.rest_matrices[j].tolist())
    finally:
        bpy.ops.object.mode_set(mode="OBJECT")
        view_layer.objects.active = previous
        obj.hide_viewport = hidden


def replace_body(body: bpy.types.Object, new_body: bpy.types.Object) -> None:
    """Point every user of RAM's old ``body`` (the artist's children, a modifier or constraint aimed at it)
    at ``new_body``, then delete ``body``. It leaves the collections ``new_body`` is in first (which would
    otherwise hold ``new_body`` twice)."""
    for collection in body.users_collection:
        if new_body.name in collection.objects:
            collection.objects.unlink(body)
    body.user_remap(new_body)
    remove_object(body)


def _reshape_body(body: bpy.types.Object, verts: np.ndarray) -> None:
    """New rest vertices ``(V, 3)`` for RAM's body mesh (same topology and weights)."""
    mesh = body.data
    if len(mesh.vertices) == len(verts):
        mesh.vertices.foreach_set("co", np.asarray(verts, dtype=np.float32).ravel())
        mesh.update()


def _recolor_body(body: bpy.types.Object, rgb: tuple[float, ...]) -> None:
    body.color = (*rgb, 1.0)
    for mat in body.data.materials:
        if mat is None or not mat.get(BODY_PROP):
            continue
        mat.diffuse_color = (*rgb, 1.0)
        bsdf = next((n for n in mat.node_tree.nodes if n.type == "BSDF_PRINCIPLED"), None) if mat.node_tree else None
        if bsdf is not None:
            bsdf.inputs["Base Color"].default_value = (*rgb, 1.0)


def is_person(obj: bpy.types.Object) -> bool:
    """Whether ``obj`` is a person's armature RAM made (the artist's copy of one is not)."""
    return obj.type == "ARMATURE" and TRACK_ID_PROP in obj and ram_made(obj)


def keep_artists_actions(obj: bpy.types.Object) -> None:
    """A fake user on the artist's actions ``obj`` plays (not RAM's), so they outlive it in the saved file."""
    anim = obj.animation_data
    ram = set(ram_actions(obj))
    if anim is not None:
        theirs = [anim.action, *(s.action for t in anim.nla_tracks for s in t.strips)]
        for action in theirs:
            if action is not None and action not in ram:
                action.use_fake_user = True


def remove_person(obj: bpy.types.Object) -> None:
    """Delete the armature of a track that is gone, with RAM's body mesh and RAM's action.

    The artist's children (of it and of its body) are kept where they are now (unparented, world transform
    unchanged), and the
    artist's actions it played get a fake user, so saving the file does not drop them with their last user.
    """
    keep_artists_actions(obj)
    for child in list(obj.children):
        if ram_made(child):
            free_children(child)
            remove_object(child)
    free_children(obj)
    remove_object(obj)


def free_children(obj: bpy.types.Object) -> None:
    """Unparent ``obj``'s children (RAM's are gone first) where they are now (world transform unchanged)."""
    for child in list(obj.children):
        world = child.matrix_world.copy()
        child.parent = None
        child.matrix_world = world


def update_results(
    results: Results,
    collection: bpy.types.Collection,
    options: BuildOptions | None = None,
    names: dict[int, str] | None = None,
    colors: dict[int, tuple[float, float, float]] | None = None,
    force: bool = False,
    previous: Results | None = None,
) -> list[bpy.types.Object]:
    """Bring ``collection``'s armatures up to ``results`` in place: re-key the changed ones, build new
    tracks' armatures, remove those of tracks that are gone; the scene's settings and camera stay, and
    RAM's ground plane (if the collection still has it) is refitted under the paths. ``previous``: the results the armatures were keyed from (keeps the artist's keys where it can)."""
    options = options or BuildOptions()
    names, colors = names or {}, colors or {}
    before = {t.track_id: t for t in previous.tracks} if previous is not None else {}
    existing = {int(o[TRACK_ID_PROP]): o for o in collection.objects if is_person(o)}
    objects = []
    for t in results.tracks:
        if not len(t):
            continue
        name, color = names.get(t.track_id, ""), colors.get(t.track_id)
        obj = existing.pop(t.track_id, None)
        if obj is None:
            obj = build_person(t, results, collection, options, name, color)
        else:
            update_person(obj, t, results, options, name, color, force, before.get(t.track_id))
        objects.append(obj)
    for obj in existing.values():
        remove_person(obj)
    ground, plan = ram_ground(collection), plan_ground(results)
    if ground is not None and plan is not None:
        fit_ground(ground, plan)
    return objects
