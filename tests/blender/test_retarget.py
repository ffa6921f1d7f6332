"""Retargeting a captured person onto rigs with other names, rest poses (A-pose), rolls and size."""

from __future__ import annotations

import math
from pathlib import Path

import bpy
import numpy as np
import pytest
from mathutils import Matrix, Vector

from ram_blender import bone_maps, foot_pin, session
from ram_blender.importer.keys import action_fcurves, ensure_action, key_channels
from ram_blender.retarget import retarget
from ram_core.contract.results import save_results
from ram_core.contract.skeleton import JOINT_NAMES, PARENTS

SCALE = 0.8
A_POSE = math.radians(40.0)
ARMS = {"shoulder", "elbow", "wrist", "hand"}


def stretch_legs(rest, thigh: float, shin: float):
    """``rest`` (bone -> head, tail) with the thighs and shins ``thigh`` and ``shin`` times as long (what is
    below them moved along)."""
    out = dict(rest)
    for side in ("left", "right"):
        hip, knee, ankle = (rest[f"{side}_{j}"][0] for j in ("hip", "knee", "ankle"))
        at_knee = (thigh - 1.0) * (knee - hip)
        at_ankle = at_knee + (shin - 1.0) * (ankle - knee)
        moves = {"hip": (0.0, at_knee), "knee": (at_knee, at_ankle), "ankle": (at_ankle, at_ankle)}
        moves["foot"] = moves["ankle"]
        for joint, (by_head, by_tail) in moves.items():
            head, tail = rest[f"{side}_{joint}"]
            out[f"{side}_{joint}"] = (head + by_head, tail + by_tail)
    return out


def build_rig(source, names: dict[str, str], collection, legs: tuple[float, float] = (1.0, 1.0)) -> bpy.types.Object:
    """A rig named by ``names`` (SMPL joint -> bone): the source's rest bones scaled by SCALE (thighs and
    shins also by ``legs``), arms lowered into an A-pose, every bone with its own roll, an extra end bone,
    the object moved and turned."""
    arm = bpy.data.armatures.new("Character")
    obj = bpy.data.objects.new("Character", arm)
    collection.objects.link(obj)
    rest = {b.name: (np.array(b.head_local), np.array(b.tail_local)) for b in source.data.bones}
    rest = stretch_legs(rest, *legs)
    lowest = min(min(h[2], t[2]) for h, t in rest.values())  # standing on the floor at z = 0
    obj.matrix_world = Matrix.Translation((3.0, 1.0, -SCALE * lowest)) @ Matrix.Rotation(math.radians(30), 4, "Z")
    bpy.context.view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    made = {}
    for j, joint in enumerate(JOINT_NAMES):
        if joint not in names:
            continue
        head, tail = (SCALE * p for p in rest[joint])
        side = joint.split("_")[0]
        if joint.split("_", 1)[-1] in ARMS and side in ("left", "right"):
            pivot = SCALE * rest[f"{side}_shoulder"][0]
            angle = A_POSE if side == "left" else -A_POSE
            rot = np.array(Matrix.Rotation(angle, 3, "Y"))
            head, tail = (pivot + rot @ (p - pivot) for p in (head, tail))
        eb = arm.edit_bones.new(names[joint])
        eb.head, eb.tail = head, tail
        eb.roll = 0.7 * j - 2.0
        made[joint] = eb
        p = PARENTS[j]
        while p >= 0 and JOINT_NAMES[p] not in made:
            p = PARENTS[p]
        if p >= 0:
            eb.parent = made[JOINT_NAMES[p]]
    end = arm.edit_bones.new("HeadTop_End")
    top = np.array(made["head"].tail)
    end.head, end.tail = top, top + np.array([0.0, 0.0, 0.05])
    end.parent = made["head"]
    bpy.ops.object.mode_set(mode="OBJECT")
    return obj


def y_axis(obj, bone):
    if isinstance(bone, tuple):  # a chain of bones: from the first's head to the last's tail
        mw = obj.matrix_world
        v = np.array(mw @ obj.pose.bones[bone[1]].tail - mw @ obj.pose.bones[bone[0]].head)
        return v / np.linalg.norm(v)
    m = obj.matrix_world.to_3x3().normalized() @ obj.pose.bones[bone].matrix.to_3x3()
    v = np.array(m.col[1])
    return v / np.linalg.norm(v)


def curve_values(obj):
    out = []
    for fc in action_fcurves(obj["ram_action"]):
        co = np.empty(2 * len(fc.keyframe_points))
        fc.keyframe_points.foreach_get("co", co)
        out.append(co)
    return np.concatenate(out)


@pytest.mark.parametrize(
    ("preset", "names"), [("mixamo", bone_maps.MIXAMO), ("ue5", bone_maps.UE5), ("auto", bone_maps.MIXAMO)]
)
def test_mapped_bones_follow_the_source_directions_and_root_travel_scales(empty_scene, results_file, preset, names):
    objects = session.import_results(bpy.context, str(results_file))
    source = objects[0]
    before = curve_values(source)
    target = build_rig(source, names, bpy.context.scene.collection)
    mapping = bone_maps.bone_map(preset, [b.name for b in target.data.bones])
    assert mapping == names
    result = retarget(bpy.context.scene, source, target, mapping)

    assert result.action.name.startswith(source.name)
    strips = [s for t in target.animation_data.nla_tracks for s in t.strips]
    assert [s.action for s in strips] == [result.action] and target.animation_data.action is None
    assert result.ratio == pytest.approx(SCALE, rel=1e-4)
    np.testing.assert_array_equal(curve_values(source), before)  # the source is only read
    hips = mapping["pelvis"]
    scene = bpy.context.scene
    first = int(result.frames[0])
    scene.frame_set(first)
    src0 = np.array(source.matrix_world @ source.pose.bones["pelvis"].head)
    tgt0 = np.array(target.matrix_world @ target.pose.bones[hips].head)
    worst = 0.0
    for frame in np.linspace(result.frames[0], result.frames[-1], 6).astype(int):
        scene.frame_set(int(frame))
        for joint, bone in mapping.items():
            cos = float(np.clip(np.dot(y_axis(source, joint), y_axis(target, bone)), -1.0, 1.0))
            worst = max(worst, math.degrees(math.acos(cos)))
        src = np.array(source.matrix_world @ source.pose.bones["pelvis"].head)
        tgt = np.array(target.matrix_world @ target.pose.bones[hips].head)
        np.testing.assert_allclose(tgt[:2] - tgt0[:2], SCALE * (src[:2] - src0[:2]), atol=1e-4)
        assert tgt[2] == pytest.approx(SCALE * src[2], abs=1e-4)  # both floors at z = 0
    assert worst < 3.0, f"worst bone direction error {worst:.2f} degrees"
    frames = np.linspace(result.frames[0], result.frames[-1], 6).astype(int)
    feet = worst_foot_height(source, target, {s: mapping[f"{s}_ankle"] for s in ("left", "right")}, result, frames)
    assert feet < 0.02, f"a foot is {feet:.3f} m off its scaled height"
    print(f"retarget {preset}: worst direction error {worst:.4f} degrees, worst foot height error {feet:.4f} m")


def test_a_map_without_hips_is_refused(empty_scene, results_file):
    source = session.import_results(bpy.context, str(results_file))[0]
    target = build_rig(source, bone_maps.MIXAMO, bpy.context.scene.collection)
    with pytest.raises(ValueError, match="pelvis"):
        retarget(bpy.context.scene, source, target, {"head": "mixamorig:Head"})


def test_the_operator_retargets_and_reports_a_bad_pick(empty_scene, results_file):
    source = session.import_results(bpy.context, str(results_file))[0]
    target = build_rig(source, bone_maps.UE5, bpy.context.scene.collection)
    with pytest.raises(RuntimeError, match="pick an armature as the target"):
        bpy.ops.ram.retarget(source=source.name, target="nothing")
    assert bpy.ops.ram.retarget(source=source.name, target=target.name, preset="ue5") == {"FINISHED"}
    action = target.animation_data.nla_tracks[0].strips[0].action
    assert action.name.startswith(source.name) and action != source["ram_action"]


def foot_lifts(source, target, ankles, frames):
    """The source's and the target's ankles' lifts above where they stand at rest ``(T, 2)`` each (metres,
    left and right; the source's floor is z = 0) at ``frames``; ``ankles``: side -> target bone."""
    scene = bpy.context.scene
    both = []
    for obj, bones in ((source, {s: f"{s}_ankle" for s in ankles}), (target, ankles)):
        mw = obj.matrix_world
        lowest = min(min((mw @ b.head_local).z, (mw @ b.tail_local).z) for b in obj.data.bones)
        floor = 0.0 if obj is source else lowest
        stand = np.array([(mw @ obj.data.bones[bones[s]].head_local).z - lowest for s in ("left", "right")])
        lifts = []
        for frame in frames:
            scene.frame_set(int(frame))
            lifts.append([(mw @ obj.pose.bones[bones[s]].head).z - floor for s in ("left", "right")] - stand)
        both.append(np.array(lifts))
    return both[0], both[1]


def foot_errors(source, target, ankles, result, frames):
    """How far ``(T, 2)`` (metres) each target ankle's lift is from the source's scaled by the size ratio."""
    lift, got = foot_lifts(source, target, ankles, frames)
    return got - result.ratio * lift, lift


def worst_foot_height(source, target, ankles, result, frames):
    """The largest of :func:`foot_errors` over both feet."""
    return float(np.abs(foot_errors(source, target, ankles, result, frames)[0]).max())


@pytest.fixture(scope="module")
def rigify_blend(tmp_path_factory, addon):
    """A .blend holding a rig Rigify generated from its human metarig (made once: generating takes seconds)."""
    import addon_utils

    addon_utils.enable("rigify", default_set=True)
    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.ops.object.armature_human_metarig_add()
    bpy.ops.pose.rigify_generate()
    rig = bpy.context.view_layer.objects.active
    rig.name = "Rigify"
    path = tmp_path_factory.mktemp("rigify") / "rigify.blend"
    bpy.data.libraries.write(str(path), {rig})
    return path


def append_rig(path, collection):
    with bpy.data.libraries.load(str(path)) as (_src, dst):
        dst.objects = ["Rigify"]
    rig = dst.objects[0]
    collection.objects.link(rig)
    return rig


# The bones the mesh deforms with, for each SMPL joint: Rigify's DEF bones (driven by its own constraints
# in the FK choice). The neck is two bones: from the first's head to the second's tail.
RIGIFY_SHOWN = {**bone_maps.RIGIFY_DEF, "neck": ("DEF-spine.004", "DEF-spine.005")}


def worst_direction(source, target, pairs, frames):
    scene = bpy.context.scene
    worst, where = 0.0, ""
    for frame in frames:
        scene.frame_set(int(frame))
        for joint, bone in pairs.items():
            cos = float(np.clip(np.dot(y_axis(source, joint), y_axis(target, bone)), -1.0, 1.0))
            if math.degrees(math.acos(cos)) > worst:
                worst, where = math.degrees(math.acos(cos)), f"{joint}->{bone}@{frame}"
    return worst, where


def test_a_generated_rigify_rig_follows_through_its_fk_controls(empty_scene, results_file, rigify_blend):
    from ram_blender.retarget import retarget_preset

    source = session.import_results(bpy.context, str(results_file))[0]
    rig = append_rig(rigify_blend, bpy.context.scene.collection)
    result = retarget_preset(bpy.context.scene, source, rig, "rigify")
    assert result.bone_map["left_shoulder"] == "upper_arm_fk.L"
    frames = np.linspace(result.frames[0], result.frames[-1], 5).astype(int)
    bpy.context.scene.frame_set(int(frames[0]))
    assert rig.pose.bones["upper_arm_parent.L"]["IK_FK"] == 1.0 and rig.pose.bones["thigh_parent.R"]["IK_FK"] == 1.0
    controls = {j: b for j, b in result.bone_map.items() if j in JOINT_NAMES}
    worst, where = worst_direction(source, rig, controls, frames)
    assert worst < 3.0, f"controls: worst {worst:.2f} degrees at {where}"
    worst, where = worst_direction(source, rig, RIGIFY_SHOWN, frames)
    assert worst < 3.0, f"deforming bones: worst {worst:.2f} degrees at {where}"
    print(f"rigify: worst deforming-bone direction error {worst:.4f} degrees ({where})")
    # Feet: Rigify's metarig has other leg proportions than SMPL's; the body moves vertically so the foot
    # that carries it is at its scaled height. On these random poses (the body tilted, feet anywhere) that
    # means something where one foot is clearly the lower; the other foot is only printed. With Pin Feet
    # both ankles are placed.
    ankles = {"left": "ORG-foot.L", "right": "ORG-foot.R"}
    every = result.frames
    error, lift = foot_errors(source, rig, ankles, result, every)
    lower = np.argmin(lift, axis=1)
    single = np.abs(lift[:, 0] - lift[:, 1]) > 0.05
    supporting = np.abs(error[np.arange(len(every)), lower])[single]
    assert single.sum() > len(every) // 2 and supporting.max() < 0.02, f"a lower foot {supporting.max():.3f} m off"
    result = retarget_preset(bpy.context.scene, source, rig, "rigify", pin_feet=True)
    pinned = worst_foot_height(source, rig, ankles, result, frames)
    assert pinned < 0.02, f"with Pin Feet a foot is still {pinned:.3f} m off its scaled height"
    print(
        f"rigify, random poses: the lower foot at most {supporting.max():.4f} m off its scaled height "
        f"({single.sum()} of {len(every)} frames), either foot {np.abs(error).max():.3f} m; "
        f"with Pin Feet {pinned:.4f} m"
    )


@pytest.fixture(scope="module")
def walking_file(tmp_path_factory):
    """The synthetic couple clip's people walking, fitted and solved as a capture is (feet planted, contact)."""
    from synth import make_walking_results

    results = make_walking_results(Path(__file__).resolve().parents[1] / "data" / "synth" / "couple" / "gt.npz")
    return save_results(results, tmp_path_factory.mktemp("walk") / "couple.ram.npz")


def test_a_captured_walk_keeps_both_feet_at_their_scaled_heights_on_rigs_with_other_legs(
    empty_scene, walking_file, rigify_blend
):
    from ram_blender.retarget import retarget_preset

    source = session.import_results(bpy.context, str(walking_file))[0]
    col = bpy.context.scene.collection
    rigs = {
        "rigify": (append_rig(rigify_blend, col), {"left": "ORG-foot.L", "right": "ORG-foot.R"}),
        "mixamo": (build_rig(source, bone_maps.MIXAMO, col, legs=(1.12, 0.9)), None),
        "ue5": (build_rig(source, bone_maps.UE5, col, legs=(0.9, 1.12)), None),
    }
    for preset, (rig, ankles) in rigs.items():
        result = retarget_preset(bpy.context.scene, source, rig, preset)
        ankles = ankles or {s: result.bone_map[f"{s}_ankle"] for s in ("left", "right")}
        error, lift = foot_errors(source, rig, ankles, result, result.frames)
        contact = foot_pin.contact_curves(source, result.frames)
        # a foot flat on the floor (in contact, the ankle where it stands): it carries the body
        flat = np.stack([contact["left"], contact["right"]], axis=1) & (lift < 0.02)
        planted = np.abs(error[flat])
        controls = {j: b for j, b in result.bone_map.items() if j in JOINT_NAMES}
        worst, where = worst_direction(source, rig, controls, result.frames[::15])
        print(
            f"walk onto {preset} (ratio {result.ratio:.3f}): feet off their scaled heights by at most "
            f"{np.abs(error[:, 0]).max():.4f} m (left), {np.abs(error[:, 1]).max():.4f} m (right), "
            f"{planted.max():.4f} m flat on the floor ({len(planted)} foot-frames); bones within {worst:.3f} degrees"
        )
        assert np.abs(error).max() < 0.02 and planted.max() < 0.003 and worst < 3.0, f"{preset}: {where}"


def test_rigify_deform_bones_can_be_driven_directly(empty_scene, results_file, rigify_blend):
    from ram_blender.retarget import retarget_preset

    source = session.import_results(bpy.context, str(results_file))[0]
    rig = append_rig(rigify_blend, bpy.context.scene.collection)
    result = retarget_preset(bpy.context.scene, source, rig, "rigify_def")
    frames = np.linspace(result.frames[0], result.frames[-1], 5).astype(int)
    worst, where = worst_direction(source, rig, bone_maps.RIGIFY_DEF, frames)
    assert worst < 3.0, f"deform bones: worst {worst:.2f} degrees at {where}"
    assert rig.pose.bones["DEF-spine.001"].constraints[0].influence == 0.0
    print(f"rigify DEF: worst deform-bone direction error {worst:.4f} degrees ({where})")
    retarget_preset(bpy.context.scene, source, rig, "rigify")  # back to FK: Rigify drives the DEF bones again
    bpy.context.scene.frame_set(int(frames[1]))
    assert rig.pose.bones["DEF-spine.001"].constraints[0].influence == 1.0


def test_a_custom_map_round_trips_through_its_preset_file(empty_scene, results_file, tmp_path):
    from ram_blender import bone_map_state
    from ram_blender.retarget import retarget_preset

    source = session.import_results(bpy.context, str(results_file))[0]
    names = {j: f"bone_{i}" for i, j in enumerate(JOINT_NAMES)}
    target = build_rig(source, names, bpy.context.scene.collection)
    assert bone_maps.auto_map([b.name for b in target.data.bones]) == {}  # nothing to guess from
    bone_map_state.store_map(target, names)
    path = bone_maps.save_preset(tmp_path / "character", bone_map_state.stored_map(target))
    assert path.suffix == ".json" and bone_maps.load_preset(path) == names
    bone_map_state.store_map(target, {})
    with pytest.raises(ValueError, match="no bone map of its own"):
        retarget_preset(bpy.context.scene, source, target, "custom")
    result = retarget_preset(bpy.context.scene, source, target, str(path))
    assert result.bone_map == names
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "ram-bone-map", "bones": {"elbow": "x"}}')
    with pytest.raises(ValueError, match="unknown joints elbow"):
        bone_maps.load_preset(bad)


def test_headless_applies_a_character_from_a_blend_file_to_every_person(empty_scene, results_file, tmp_path):
    from ram_blender import cli

    people = [o for o in session.import_results(bpy.context, str(results_file)) if o.type == "ARMATURE"]
    rig = build_rig(people[0], bone_maps.UE5, bpy.context.scene.collection)
    path = tmp_path / "character.blend"
    bpy.data.libraries.write(str(path), {rig})
    with pytest.raises(ValueError, match="has no object 'Nobody'"):
        cli.Character.parse(f"{path}:Nobody").check()
    with pytest.raises(ValueError, match=r"gone\.blend: no such file \(--retarget\)"):
        cli.Character.parse(f"{tmp_path / 'gone.blend'}:Character").check()
    with pytest.raises(ValueError, match="wants TARGET.blend:ARMATURE"):
        cli.Character.parse("character:Character")
    # Found before any capture (before: after each capture, or never: a bad --map retargeted nothing).
    body = bpy.data.objects.new("Body", bpy.data.meshes.new("Body"))
    bpy.data.libraries.write(str(tmp_path / "body.blend"), {body})
    for spec, bone_map, message in (
        (f"{tmp_path / 'body.blend'}:Body", "ue5", "Body in body.blend is a mesh, not an armature"),
        (f"{path}:Character", "nomap", "unknown bone map preset 'nomap'"),
        (f"{path}:Character", "rigify", "Character is not a generated Rigify rig"),
        (f"{path}:Character", "mixamo", "--map mixamo finds no hips bone in Character"),
    ):
        with pytest.raises(ValueError, match=message):
            cli.Character.parse(spec, bone_map).check()
    before = set(bpy.data.objects)
    cli.Character.parse(f"{path}:Character", "ue5").check()
    assert set(bpy.data.objects) == before  # the look leaves nothing behind
    made = cli.apply_character(bpy.context, people, cli.Character.parse(f"{path}:Character", "ue5"))
    assert [m.name for m in made] == [f"Character {p.name}" for p in people]
    assert all(m.animation_data.nla_tracks[0].strips[0].action.name.startswith(p.name) for m, p in zip(made, people))
    args = cli.parse_args(["clip.mp4", "-o", "out", "--retarget", f"{path}:Character", "--map", "rigify", "--pin-feet"])
    assert cli.character_of(args) == cli.Character(path, "Character", "rigify", True)


def add_root(source, offset, frames):
    """Give ``source`` a ``root`` bone at its feet parenting the pelvis (as grounded captures have), keyed
    to move from 0 to ``offset`` (world metres) over ``frames`` (first, last); the pelvis keys stay."""
    bpy.context.view_layer.objects.active = source
    bpy.ops.object.mode_set(mode="EDIT")
    root = source.data.edit_bones.new("root")
    root.head, root.tail = (0.0, 0.0, 0.0), (0.0, 0.2, 0.0)
    source.data.edit_bones["pelvis"].parent = root
    bpy.ops.object.mode_set(mode="OBJECT")
    pb = source.pose.bones["root"]
    local = source.data.bones["root"].matrix_local.to_3x3().inverted() @ source.matrix_world.to_3x3().inverted()
    values = np.stack([np.zeros(3), np.array(local @ Vector(offset))])
    key_channels(source["ram_action"], source, 'pose.bones["root"].location', np.array(frames, float), values, "root")
    return pb


def test_a_source_with_a_root_bone_above_the_pelvis_moves_the_target_by_it(empty_scene, results_file):
    source = session.import_results(bpy.context, str(results_file))[0]
    target = build_rig(source, bone_maps.MIXAMO, bpy.context.scene.collection)
    plain = retarget(bpy.context.scene, source, target, bone_maps.MIXAMO)
    scene = bpy.context.scene
    frame = int(plain.frames[len(plain.frames) // 2])
    scene.frame_set(frame)
    before = {b: np.array(target.matrix_world @ target.pose.bones[b].head) for b in bone_maps.MIXAMO.values()}
    offset = np.array([0.3, -0.2, 0.1])
    first, last = int(plain.frames[0]), int(plain.frames[-1])
    add_root(source, offset, (first, last))
    rooted = retarget(bpy.context.scene, source, target, bone_maps.MIXAMO, frames=plain.frames)
    assert rooted.action == plain.action  # the rerun updated the same action and track
    assert len(target.animation_data.nla_tracks) == 1
    scene.frame_set(frame)
    moved = SCALE * offset * (frame - first) / (last - first)
    for bone, head in before.items():
        np.testing.assert_allclose(
            np.array(target.matrix_world @ target.pose.bones[bone].head), head + moved, atol=1e-4
        )


def test_pinned_feet_stay_put_during_contact_and_pinning_is_off_by_default(empty_scene, results_file):
    source = session.import_results(bpy.context, str(results_file))[0]
    target = build_rig(source, bone_maps.MIXAMO, bpy.context.scene.collection)
    first = int(source["ram_action"].frame_range[0])
    frames = np.arange(first, first + 30)
    contact = (frames >= first + 5) & (frames < first + 16)
    # A body that drifts a few centimetres a frame (the synthetic people jump metres), so a leg can reach
    # where its foot was.
    drift = np.zeros((len(frames), 3))
    drift[:, 0] = 0.01 * np.arange(len(frames))
    hips = source.pose.bones["pelvis"]
    scene = bpy.context.scene
    scene.frame_set(first)
    key_channels(
        source["ram_action"],
        source,
        'pose.bones["pelvis"].location',
        frames.astype(float),
        np.array(hips.location) + drift,
        "pelvis",
    )
    # the contact as the importer keys it: properties on the armature data, in the data's own action
    contact_action = ensure_action(source.data, "contact")
    for prop, values in (("ram_contact_left", contact), ("ram_contact_right", np.zeros(len(frames), bool))):
        source.data[prop] = 0.0
        key_channels(contact_action, source.data, f'["{prop}"]', frames.astype(float), values[:, None] * 1.0, "RAM")

    def ankles(bone):
        out = []
        for f in frames:
            scene.frame_set(int(f))
            out.append(np.array(target.matrix_world @ target.pose.bones[bone].head))
        return np.array(out)

    retarget(scene, source, target, bone_maps.MIXAMO, frames=frames)
    free_left, free_right = ankles("mixamorig:LeftFoot"), ankles("mixamorig:RightFoot")
    assert np.ptp(free_left[contact, :2], axis=0).max() > 0.05  # the random motion skates a lot
    retarget(scene, source, target, bone_maps.MIXAMO, frames=frames, pin_feet=True)
    left, right = ankles("mixamorig:LeftFoot"), ankles("mixamorig:RightFoot")
    assert np.ptp(left[contact, :2], axis=0).max() < 1e-3  # held during contact
    np.testing.assert_allclose(left[~contact], free_left[~contact], atol=1e-4)  # free elsewhere
    np.testing.assert_allclose(right, free_right, atol=1e-4)  # the other foot had no contact


def test_the_bone_map_operators_fill_save_and_load_the_active_armatures_map(empty_scene, results_file, tmp_path):
    source = session.import_results(bpy.context, str(results_file))[0]
    target = build_rig(source, bone_maps.UE5, bpy.context.scene.collection)
    bpy.context.view_layer.objects.active = target
    assert bpy.ops.ram.bone_map_fill(preset="auto") == {"FINISHED"}
    assert {r.joint: r.bone for r in target.ram_bone_map if r.bone} == bone_maps.UE5
    target.ram_bone_map[0].bone = ""  # the artist clears the pelvis row
    path = tmp_path / "ue5 minus hips.json"
    assert bpy.ops.ram.bone_map_save(filepath=str(path)) == {"FINISHED"}
    assert bpy.ops.ram.bone_map_fill(preset="mixamo") == {"FINISHED"}  # nothing matches: all rows empty
    assert not any(r.bone for r in target.ram_bone_map)
    assert bpy.ops.ram.bone_map_load(filepath=str(path)) == {"FINISHED"}
    assert "pelvis" not in {r.joint for r in target.ram_bone_map if r.bone}
    with pytest.raises(RuntimeError, match="no target bone for the pelvis"):
        bpy.ops.ram.retarget(source=source.name, target=target.name, preset="custom")
    target.ram_bone_map[0].bone = "pelvis"
    assert bpy.ops.ram.retarget(source=source.name, target=target.name, preset="custom") == {"FINISHED"}


def test_a_rerun_refills_the_same_strip_where_the_artist_moved_it(empty_scene, results_file):
    source = session.import_results(bpy.context, str(results_file))[0]
    target = build_rig(source, bone_maps.UE5, bpy.context.scene.collection)
    first = retarget(bpy.context.scene, source, target, bone_maps.UE5)
    strip = target.animation_data.nla_tracks[0].strips[0]
    strip.frame_start_ui = strip.frame_start + 50  # the artist slides the strip later
    start = strip.frame_start
    again = retarget(bpy.context.scene, source, target, bone_maps.UE5, frames=first.frames[:10])
    assert again.action == first.action and len(target.animation_data.nla_tracks) == 1
    strip = target.animation_data.nla_tracks[0].strips[0]
    assert strip.frame_start == start and strip.frame_end == start + 9
    assert tuple(again.action.frame_range) == (first.frames[0], first.frames[9])
