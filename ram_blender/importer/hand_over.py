"""What the artist attached to a capture outlives a new capture or import that replaces it.

A new capture is built beside the scene's old one, which is then removed (``session``). Before that,
:func:`hand_over` moves the artist's things across: their objects and child collections in the old
collection go to the new one, and whatever pointed at an old armature (a constraint's target, a
parent, a driver, a modifier), the old capture camera (the scene camera) or the old ground plane
points at the new one (the armature of the same track; its body for what pointed at the old body, a
child of it say). Objects are RAM's by the capture's record (``build.ram_made``): the artist's copy of
an armature, body or camera is the artist's and moves across like their other objects. An armature whose track is not in the new
capture goes as a deleted track's does (``update.remove_person``: its children stay where they are).
What the artist put on an old armature itself (bone constraints, custom properties, keys) is on its
successor already: a person in both captures is a re-keyed copy of the old armature (``carry``).
"""

from __future__ import annotations

import bpy

from .build import GROUND_PROP, TRACK_ID_PROP, ram_actions, ram_body, ram_ground, ram_made, ram_materials, remove_object
from .update import free_children, is_person, keep_artists_actions, remove_person


def hand_over(old: bpy.types.Collection, new: bpy.types.Collection) -> None:
    """Move the artist's objects and references from the ``old`` capture collection to the ``new`` one;
    what stays in ``old`` is RAM's alone (for ``build.remove_collection``)."""
    for child in list(old.children):
        new.children.link(child)
        old.children.unlink(child)
    for obj in list(old.objects):
        if not ram_made(obj):
            new.objects.link(obj)
            old.objects.unlink(obj)
    people = {int(o[TRACK_ID_PROP]): o for o in new.objects if is_person(o)}
    camera = next((o for o in new.objects if o.type == "CAMERA" and ram_made(o)), None)
    armatures = [o for o in old.objects if o.type == "ARMATURE" and TRACK_ID_PROP in o]
    cameras = [o for o in old.objects if o.type == "CAMERA"]  # RAM's: the artist's moved out above
    grounds = [o for o in old.objects if o.get(GROUND_PROP)]
    for obj, successor in [*((c, camera) for c in cameras), *((g, ram_ground(new)) for g in grounds)]:
        if successor is not None:
            _replace(obj, successor, old)
        else:  # a capture without a solved scene has no ground: the artist's children stay where they are
            free_children(obj)
    for obj in armatures:
        successor = people.get(int(obj[TRACK_ID_PROP]))
        if successor is None:
            remove_person(obj)
            continue
        body, new_body = ram_body(obj), ram_body(successor)
        if body is not None and new_body is not None:
            _replace(body, new_body, old)
        elif body is not None:
            free_children(body)
            remove_object(body)
        keep_artists_actions(obj)
        _replace(obj, successor, old)


def _replace(obj: bpy.types.Object, successor: bpy.types.Object, capture: bpy.types.Collection) -> None:
    """Point every user of ``obj`` and of its data at ``successor`` and its data, then delete ``obj``, its
    data and RAM's actions. ``obj`` leaves the old ``capture`` collection first (which would otherwise get
    ``successor`` and delete it); a collection of the artist's that also held it holds ``successor`` now."""
    data, actions, materials = obj.data, ram_actions(obj), ram_materials(obj.data)
    capture.objects.unlink(obj)
    obj.user_remap(successor)
    bpy.data.objects.remove(obj)
    if data is not None and data.users == 0:
        if successor.data is not None and type(successor.data) is type(data):
            data.user_remap(successor.data)  # a driver reading obj.data["ram_contact_left"], say
        bpy.data.batch_remove([data])
    for block in (*actions, *materials):
        if block.users == 0:
            bpy.data.batch_remove([block])
