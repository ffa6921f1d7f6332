"""Render docs/images/retarget_rigify.png: a captured person beside a Rigify rig retargeted from them, same frame.

Run with a Python that has ``bpy``: ``PYTHONPATH=. python tools/retarget_picture.py RESULTS.ram.npz [-o PNG]
[--frame N]`` (the demo's ``out/demo/vtest_clip.ram.npz`` made the docs image). The person with the
longest track is retargeted onto a rig Rigify generates from its human metarig, placed a metre to its
side on the person's floor (the other people are left out); orthographic Workbench render from the front,
framed on the two figures, object colours.
"""

from __future__ import annotations

import argparse
import atexit
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

if "BLENDER_USER_RESOURCES" not in os.environ:  # a Blender user folder of its own, removed at exit
    os.environ["BLENDER_USER_RESOURCES"] = tempfile.mkdtemp(prefix="ram-picture-")
    atexit.register(shutil.rmtree, os.environ["BLENDER_USER_RESOURCES"], ignore_errors=True)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bpy
import numpy as np
from mathutils import Matrix, Vector

import ram_blender
from ram_blender import session
from ram_blender.action_pose import armature_pose
from ram_blender.retarget import retarget_preset

BODY = (
    "DEF-spine",
    "DEF-spine.001",
    "DEF-spine.002",
    "DEF-spine.003",
    "DEF-spine.004",
    "DEF-spine.005",
    "DEF-spine.006",
)
LIMBS = (
    "thigh",
    "thigh.{}.001",
    "shin",
    "shin.{}.001",
    "foot",
    "toe",
    "shoulder",
    "upper_arm",
    "upper_arm.{}.001",
    "forearm",
    "forearm.{}.001",
    "hand",
)


def dress(rig: bpy.types.Object, color: tuple[float, float, float, float]) -> None:
    """A tube on each body deform bone (bone-parented), so the rig shows in a render."""
    names = list(BODY)
    for side in ("L", "R"):
        names += [f"DEF-{n.format(side)}" if "{}" in n else f"DEF-{n}.{side}" for n in LIMBS]
    for name in names:
        bone = rig.data.bones[name]
        radius = {"DEF-spine.004": 0.035, "DEF-spine.005": 0.035, "DEF-spine.006": 0.08}.get(
            name, 0.09 if name.startswith("DEF-spine") else 0.035
        )
        bpy.ops.mesh.primitive_cylinder_add(vertices=10, radius=radius, depth=bone.length)
        tube = bpy.context.view_layer.objects.active
        tube.parent = rig
        tube.parent_type = "BONE"
        tube.parent_bone = name
        tube.matrix_parent_inverse = Matrix.Identity(4)
        tube.location = (0.0, -bone.length / 2, 0.0)  # bone parenting starts at the tail
        tube.rotation_euler = (math.radians(90), 0.0, 0.0)
        tube.color = color


def front_bounds(owners: tuple[bpy.types.Object, ...]) -> tuple[tuple[float, float], tuple[float, float]]:
    """The (x, z) corners of the meshes of ``owners`` (their children) at the current frame, seen from the
    front, as deformed."""
    depsgraph = bpy.context.evaluated_depsgraph_get()
    points = []
    for obj in bpy.context.scene.objects:
        if obj.type != "MESH" or obj.parent not in owners:
            continue
        evaluated = obj.evaluated_get(depsgraph)
        mesh = evaluated.to_mesh()
        co = np.empty(len(mesh.vertices) * 3)
        mesh.vertices.foreach_get("co", co)
        evaluated.to_mesh_clear()
        mw = np.array(evaluated.matrix_world)
        points.append(co.reshape(-1, 3) @ mw[:3, :3].T + mw[:3, 3])
    xyz = np.concatenate(points)
    return (float(xyz[:, 0].min()), float(xyz[:, 2].min())), (float(xyz[:, 0].max()), float(xyz[:, 2].max()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results")
    parser.add_argument("-o", "--out", default="docs/images/retarget_rigify.png")
    parser.add_argument("--frame", type=int, default=None)
    args = parser.parse_args()

    import addon_utils

    ram_blender.register()
    bpy.ops.wm.read_homefile(use_empty=True)
    people = [o for o in session.import_results(bpy.context, args.results) if o.type == "ARMATURE"]
    person = max(people, key=lambda o: o["ram_action"].frame_range[1] - o["ram_action"].frame_range[0])
    # Only the one person: the others and their bodies go (a body keys its own visibility, so hiding it
    # would not hold).
    for obj in list(bpy.context.scene.objects):
        if obj.parent in people and obj.parent != person:
            bpy.data.objects.remove(obj)
    for other in people:
        if other != person:
            bpy.data.objects.remove(other)
    first, last = (int(v) for v in person["ram_action"].frame_range)
    frames = np.arange(first, last + 1)
    _rots, heads = armature_pose(person, frames)
    mw = np.array(person.matrix_world)
    feet = np.concatenate([heads[j] for j in ("left_ankle", "right_ankle", "left_foot", "right_foot")])
    floor = float((feet @ mw[:3, :3].T + mw[:3, 3])[:, 2].min())
    pelvis0 = heads["pelvis"][0] @ mw[:3, :3].T + mw[:3, 3]

    addon_utils.enable("rigify", default_set=True)
    bpy.ops.object.armature_human_metarig_add()
    meta = bpy.context.view_layer.objects.active
    bpy.ops.pose.rigify_generate()
    rig = bpy.context.view_layer.objects.active
    bpy.data.objects.remove(meta)
    rig.name = "Rigify character"
    rig.matrix_world = Matrix.Translation((pelvis0[0] + 1.0, pelvis0[1], floor))
    rig.data.display_type = "OCTAHEDRAL"
    rig.show_in_front = True
    for col in rig.data.collections_all if hasattr(rig.data, "collections_all") else []:
        col.is_visible = col.name in (
            "Torso",
            "Torso (Tweak)",
            "Arm.L (FK)",
            "Arm.R (FK)",
            "Leg.L (FK)",
            "Leg.R (FK)",
            "Head",
            "Root",
            "Fingers",
        )
    dress(rig, (0.25, 0.55, 0.85, 1.0))
    result = retarget_preset(bpy.context.scene, person, rig, "rigify", floor_z=floor)

    scene = bpy.context.scene
    frame = args.frame if args.frame is not None else int(frames[len(frames) // 2])
    scene.frame_set(frame)
    (x0, z0), (x1, z1) = front_bounds((person, rig))
    margin = 0.06 * (z1 - z0)  # a little white around the two figures
    width, height = x1 - x0 + 2 * margin, z1 - z0 + 2 * margin
    cam_data = bpy.data.cameras.new("picture")
    cam_data.type = "ORTHO"  # no perspective: heights compare across the two
    cam_data.ortho_scale = max(width, height)
    cam = bpy.data.objects.new("picture", cam_data)
    scene.collection.objects.link(cam)
    cam.location = Vector(((x0 + x1) / 2, pelvis0[1] - 6.0, (z0 + z1) / 2))
    cam.rotation_euler = (math.radians(90), 0.0, 0.0)
    scene.camera = cam
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.display.shading.color_type = "OBJECT"
    scene.display.shading.show_xray = False
    # The image takes the figures' own proportions, so they fill it.
    scene.render.resolution_y = 800
    scene.render.resolution_x = 2 * round(400 * width / height)
    scene.render.film_transparent = False
    scene.render.filepath = str(Path(args.out).resolve())
    bpy.ops.render.render(write_still=True)
    print(f"frame {frame}: {person.name} beside {rig.name} (size ratio {result.ratio:.2f}) -> {args.out}")


if __name__ == "__main__":
    main()
