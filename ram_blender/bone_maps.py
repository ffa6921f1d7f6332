"""Bone maps for retargeting: which target bone follows each SMPL joint (pure data, no bpy).

A map is ``{smpl_joint_name: target_bone_name}``; joints left out are not driven. Presets name the
bones of common rigs; :func:`auto_map` guesses a map for any rig from its bone names.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ram_core.contract.skeleton import JOINT_NAMES

# Not a joint: the target bone that carries the travel when it is not the pelvis's (Rigify's torso).
ROOT_MOTION = "root_motion"
PRESET_FORMAT = "ram-bone-map"
PRESET_VERSION = 1

# The joints both sides of the body share, by SMPL's names without the side.
_SIDED = ("hip", "knee", "ankle", "foot", "collar", "shoulder", "elbow", "wrist")


def _sided(template: dict[str, str], left: str, right: str) -> dict[str, str]:
    """``template`` (keyed by :data:`_SIDED`, values with ``{s}`` for the side) for both sides."""
    out = {}
    for joint, bone in template.items():
        out[f"left_{joint}"] = bone.format(s=left)
        out[f"right_{joint}"] = bone.format(s=right)
    return out


MIXAMO: dict[str, str] = {
    "pelvis": "mixamorig:Hips",
    "spine1": "mixamorig:Spine",
    "spine2": "mixamorig:Spine1",
    "spine3": "mixamorig:Spine2",
    "neck": "mixamorig:Neck",
    "head": "mixamorig:Head",
    **_sided(
        {
            "hip": "mixamorig:{s}UpLeg",
            "knee": "mixamorig:{s}Leg",
            "ankle": "mixamorig:{s}Foot",
            "foot": "mixamorig:{s}ToeBase",
            "collar": "mixamorig:{s}Shoulder",
            "shoulder": "mixamorig:{s}Arm",
            "elbow": "mixamorig:{s}ForeArm",
            "wrist": "mixamorig:{s}Hand",
        },
        "Left",
        "Right",
    ),
}

# Unreal Engine 5's mannequin (Manny/Quinn): five spine bones and two neck bones; SMPL's three spine
# joints drive the first, middle and last.
UE5: dict[str, str] = {
    "pelvis": "pelvis",
    "spine1": "spine_01",
    "spine2": "spine_03",
    "spine3": "spine_05",
    "neck": "neck_01",
    "head": "head",
    **_sided(
        {
            "hip": "thigh_{s}",
            "knee": "calf_{s}",
            "ankle": "foot_{s}",
            "foot": "ball_{s}",
            "collar": "clavicle_{s}",
            "shoulder": "upperarm_{s}",
            "elbow": "lowerarm_{s}",
            "wrist": "hand_{s}",
        },
        "l",
        "r",
    ),
}

PRESETS: dict[str, dict[str, str]] = {"mixamo": MIXAMO, "ue5": UE5}

# Name stems (lower case, no separators, side removed) each joint answers to, best first.
_ALIASES: dict[str, tuple[str, ...]] = {
    "pelvis": ("hips", "pelvis", "hip", "root"),
    "spine1": ("spine", "spine01", "spine1", "abdomen"),
    "spine2": ("spine1", "spine02", "spine03", "spine2", "chest"),
    "spine3": ("spine2", "spine05", "spine04", "spine3", "upperchest", "chest"),
    "neck": ("neck", "neck01", "neck1"),
    "head": ("head",),
    "hip": ("upleg", "thigh", "upperleg", "hip"),
    "knee": ("leg", "calf", "shin", "lowerleg", "knee"),
    "ankle": ("foot", "ankle"),
    "foot": ("toebase", "ball", "toe", "toes"),
    "collar": ("shoulder", "clavicle", "collar"),
    "shoulder": ("arm", "upperarm"),
    "elbow": ("forearm", "lowerarm", "elbow"),
    "wrist": ("hand", "wrist"),
}

_PREFIX = re.compile(r"^(mixamorig\d*:|def-|org-|mch-|bip\d*\s*|.*:)", re.IGNORECASE)
_SIDE_PATTERNS = (
    (re.compile(r"^(left|l)(?=[^a-z]|[A-Z])"), "left"),
    (re.compile(r"^(right|r)(?=[^a-z]|[A-Z])"), "right"),
    (re.compile(r"([._\s-])(l|left)$", re.IGNORECASE), "left"),
    (re.compile(r"([._\s-])(r|right)$", re.IGNORECASE), "right"),
    (re.compile(r"^left", re.IGNORECASE), "left"),
    (re.compile(r"^right", re.IGNORECASE), "right"),
    (re.compile(r"left$", re.IGNORECASE), "left"),
    (re.compile(r"right$", re.IGNORECASE), "right"),
)


def split_name(bone: str) -> tuple[str | None, str]:
    """``(side, stem)`` of a bone name: side ``"left"``/``"right"``/None, stem lower case alphanumerics
    without rig prefixes (``mixamorig:``, ``DEF-``) or the side (``LeftUpLeg`` -> ``("left", "upleg")``)."""
    name = _PREFIX.sub("", bone.strip())
    side = None
    for pattern, which in _SIDE_PATTERNS:
        if pattern.search(name):
            side = which
            name = pattern.sub("", name, count=1)
            break
    return side, re.sub(r"[^a-z0-9]", "", name.lower())


def auto_map(bone_names: list[str] | tuple[str, ...]) -> dict[str, str]:
    """A bone map guessed from names: each SMPL joint takes the first bone whose stem is its best
    alias (and whose side matches); no bone is used twice."""
    parsed = [(name, *split_name(name)) for name in bone_names]
    used: set[str] = set()
    out: dict[str, str] = {}
    for joint in JOINT_NAMES:
        side, key = None, joint
        if joint.startswith(("left_", "right_")):
            side, key = joint.split("_", 1)
        aliases = _ALIASES.get(key, ())
        for alias in aliases:
            hit = next((n for n, s, stem in parsed if stem == alias and s == side and n not in used), None)
            if hit is not None:
                out[joint] = hit
                used.add(hit)
                break
    return out


def bone_map(preset: str, bone_names: list[str] | tuple[str, ...]) -> dict[str, str]:
    """The preset's map (``"auto"`` guesses from ``bone_names``), limited to bones the rig has."""
    if preset == "auto":
        return auto_map(bone_names)
    if preset not in PRESETS:
        raise ValueError(f"unknown bone map preset {preset!r}: use one of auto, {', '.join(PRESETS)}")
    have = set(bone_names)
    return {j: b for j, b in PRESETS[preset].items() if b in have}


def save_preset(path: str | Path, mapping: dict[str, str]) -> Path:
    """Write ``mapping`` as a bone-map preset file (JSON, joints in SMPL order); the path written."""
    path = Path(path)
    if path.suffix.lower() != ".json":
        path = path.with_suffix(".json")
    ordered = {j: mapping[j] for j in (*JOINT_NAMES, ROOT_MOTION) if mapping.get(j)}
    doc = {"format": PRESET_FORMAT, "version": PRESET_VERSION, "bones": ordered}
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return path


def load_preset(path: str | Path) -> dict[str, str]:
    """The bone map in a preset file written by :func:`save_preset` (ValueError, one line, if it is not one)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"no bone map preset at {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path.name} is not a bone map preset ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != PRESET_FORMAT or not isinstance(doc.get("bones"), dict):
        raise ValueError(f"{path.name} is not a RAM bone map preset (no {PRESET_FORMAT!r} format and bones)")
    if doc.get("version", 0) > PRESET_VERSION:
        raise ValueError(f"{path.name} is a newer bone map preset (version {doc['version']}); update the add-on")
    unknown = sorted(set(doc["bones"]) - {*JOINT_NAMES, ROOT_MOTION})
    if unknown:
        raise ValueError(f"{path.name} maps unknown joints {', '.join(unknown)}: use SMPL joint names")
    return {j: str(b) for j, b in doc["bones"].items() if b}
