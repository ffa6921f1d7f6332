"""What the artist put on RAM's armatures, carried into a new capture or import of the scene.

A new import (or a capture again) replaces the scene's capture: it is built in a new collection beside
the old one, which is removed once the build succeeded (``session``). A person whose track is in both
is not built afresh: a copy of their old armature and body (:func:`carry_people`) goes into the new
collection and is re-keyed in place there, as an edit re-keys (``update.update_person``), so what the
artist put on the armature itself comes with it. The old armature then hands its users to the copy
(``hand_over``: children, bone-parented ones included, constraints and drivers aimed at it).

RAM owns, and a re-import replaces: the rest pose of the bones it made (SMPL's 24 joints and ``root``),
the F-curves it writes in its own four actions (the bones' motion, the object's channels, the data's
contact, the body's visibility: each action lists them, ``keys.KEYED_CURVES_PROP``), its body mesh's
vertices, the name and colour it gave. Everything else is the artist's and is kept as it was: bone
constraints, custom properties (object, data, pose bones), bones they added, other curves in RAM's
actions (a bone's scale, a custom property), their own actions and NLA tracks, object constraints and
modifiers, the body's modifiers and materials, where they moved the object to.

A person whose motion is built from exactly what it was built from before (the same capture imported
again: ``build.person_inputs``' digest) is not re-keyed at all, so the copy plays every key it had, the
artist's edits of RAM's keys included. Otherwise keys the artist edited on RAM's own curves (a pose
corrected by hand) cannot be carried onto motion that changed: the old action holding them is kept whole
(fake user), renamed ``<name> (edited)``, and the import says so in one line (:func:`keep_edited_actions`).
"""

from __future__ import annotations

import bpy

from .build import TRACK_ID_PROP, ram_actions, ram_body, ram_made, ram_materials, remember
from .keys import ACTION_PROP, CHANNELS_PROP, has_record, keys_edited, same_keys
from .update import is_person

EDITED_SUFFIX = " (edited)"


def carry_people(
    old: bpy.types.Collection, new: bpy.types.Collection, track_ids: set[int], names: dict[int, str]
) -> dict[int, bpy.types.ID]:
    """Copies of the ``old`` capture's armatures (with their bodies) of ``track_ids`` in the ``new``
    collection, recorded there as RAM's; ``names``: each old block's name by its pointer (the old ones are
    renamed aside, ``build.set_aside``). The old objects and everything they use stay as they were.
    Returns each copied block (object data, RAM's actions and materials) by the old block's pointer."""
    people = [o for o in old.objects if is_person(o) and int(o[TRACK_ID_PROP]) in track_ids]
    copies: dict[int, bpy.types.ID] = {}
    for obj in people:
        body = ram_body(obj)
        twin = _copy(obj, new, names, copies)
        if body is not None:
            body_twin = _copy(body, new, names, copies)
            body_twin.parent = twin  # the parent inverse matrix comes with the copy
            for mod in body_twin.modifiers:
                if mod.type == "ARMATURE" and mod.object == obj:
                    mod.object = twin
    return copies


def _copy(
    obj: bpy.types.Object, collection: bpy.types.Collection, names: dict[int, str], made: dict[int, bpy.types.ID]
) -> bpy.types.Object:
    """``obj`` copied with its own data, RAM's actions and RAM's materials (so re-keying the copy leaves
    ``obj`` alone; ``made`` gets them by the old block's pointer); the artist's actions, NLA tracks,
    constraints and properties come as they are."""
    copy = obj.copy()

    def own(block):
        if block.as_pointer() not in made:
            made[block.as_pointer()] = block.copy()
            made[block.as_pointer()].name = names.get(block.as_pointer(), block.name)
        return made[block.as_pointer()]

    if obj.data is not None:
        copy.data = own(obj.data)
    for action in ram_actions(obj):
        own(action)
    for owner in (copy, copy.data):
        if owner is None:
            continue
        for prop in (ACTION_PROP, CHANNELS_PROP):
            block = owner.get(prop)
            if isinstance(block, bpy.types.ID) and block.as_pointer() in made:
                owner[prop] = made[block.as_pointer()]
        anim = owner.animation_data
        if anim is None:
            continue
        if anim.action is not None and anim.action.as_pointer() in made:
            anim.action = made[anim.action.as_pointer()]
        for track in anim.nla_tracks:
            for strip in track.strips:
                if strip.action is not None and strip.action.as_pointer() in made:
                    strip.action = made[strip.action.as_pointer()]
    materials = getattr(copy.data, "materials", None)
    if materials is not None:
        for i, mat in enumerate(materials):
            if mat is not None and mat in ram_materials(copy.data):
                materials[i] = own(mat)
    copy.name = names.get(obj.as_pointer(), obj.name)
    collection.objects.link(copy)
    remember(copy, collection)
    return copy


def keep_edited_actions(old: bpy.types.Collection, copies: dict[int, bpy.types.ID]) -> list[bpy.types.Action]:
    """RAM's actions in the ``old`` capture whose keys the artist edited (``keys.keys_edited``, against
    their re-keyed ``copies`` from :func:`carry_people` for an action saved by an older RAM), given a fake
    user so they outlive it (call once the new capture is built; the caller renames them, :func:`edited_name`)."""
    kept: list[bpy.types.Action] = []
    for obj in old.objects:
        if not ram_made(obj):
            continue
        for action in ram_actions(obj):
            copy = _alive(copies.get(action.as_pointer()))
            if action in kept or (copy is not None and same_keys(action, copy)) or not keys_edited(action, copy):
                continue  # the new armature plays these keys (not re-keyed: the same motion), or nothing was edited
            action.use_fake_user = True
            kept.append(action)
    return kept


def _alive(block: bpy.types.ID | None) -> bpy.types.Action | None:
    """``block`` if it is an action still in the file (a body replaced by another kind took its copy along)."""
    try:
        return block if isinstance(block, bpy.types.Action) and block.name is not None else None
    except ReferenceError:
        return None


def edited_name(name: str) -> str:
    return f"{name}{EDITED_SUFFIX}"


def edited_note(actions: list[bpy.types.Action]) -> str:
    """The one line that says where the artist's edited keys went (``actions`` already renamed)."""
    listed = ", ".join(f"'{a.name}'" for a in actions[:3]) + (
        f" and {len(actions) - 3} more" if len(actions) > 3 else ""
    )
    older = sum(not has_record(a) for a in actions)
    why = f"; {older} saved by an earlier RAM may not hold any" if older else ""
    return (
        f"RAM's keys you edited are kept in {len(actions)} old action(s) {listed}, not played: the new capture "
        f"replaced RAM's keys{why}"
    )
