"""The open body: the packaged mesh, its skinning on SMPL's joints, and fitting it to a skeleton."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest

from ram_core.contract.open_body import OpenBodyError, fit_to_joints, load_open_body, open_body_from_arrays
from ram_core.contract.skeleton import JOINT_INDEX
from ram_core.contract.smpl_model import default_rest_joints


def test_the_packaged_body_rests_on_the_default_skeleton_and_is_small() -> None:
    body = load_open_body()
    path = resources.files("ram_core").joinpath("data/open_body.npz")
    assert path.stat().st_size < 1.5e6  # type: ignore[attr-defined]
    np.testing.assert_array_equal(body.rest_joints, default_rest_joints())
    assert body.faces.shape[1] == 4 and body.faces.max() < body.num_vertices
    w = body.weights
    assert w.shape == (body.num_vertices, 24)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-12)
    assert np.count_nonzero(w, axis=1).max() <= 4
    assert body.stature_m == pytest.approx(np.ptp(body.vertices[:, 1]))
    assert 1.65 < body.stature_m < 1.75
    # Standing on the feet: the sole is a few cm under the foot joints (the scene solve assumes 2.6 cm).
    above = body.rest_joints[JOINT_INDEX["left_foot"], 1] - body.vertices[:, 1].min()
    assert 0.01 < above < 0.04
    # Each part follows its own limb: the vertices nearest a wrist are skinned mostly to that arm.
    for side in ("left", "right"):
        near = np.argsort(np.linalg.norm(body.vertices - body.rest_joints[JOINT_INDEX[f"{side}_wrist"]], axis=1))[:50]
        arm = [JOINT_INDEX[f"{side}_{j}"] for j in ("elbow", "wrist", "hand")]
        assert np.all(w[near][:, arm].sum(axis=1) > 0.9)


def test_fitting_to_a_scaled_moved_skeleton_scales_and_moves_the_body_exactly() -> None:
    body = load_open_body()
    target = 1.1 * body.rest_joints + np.array([0.3, 0.9, -2.0])
    fitted = fit_to_joints(body.vertices, body.weights, body.rest_joints, target)
    np.testing.assert_allclose(fitted, 1.1 * body.vertices + np.array([0.3, 0.9, -2.0]), atol=1e-9)


def test_fitting_to_other_proportions_moves_each_part_with_its_joints() -> None:
    body = load_open_body()
    target = body.rest_joints.copy()
    target[JOINT_INDEX["left_wrist"]] += [0.05, 0.0, 0.0]  # a longer left forearm
    fitted = fit_to_joints(body.vertices, body.weights, body.rest_joints, target)
    moved = np.linalg.norm(fitted - body.vertices, axis=1)
    wrist = body.weights[:, JOINT_INDEX["left_wrist"]] > 0.99
    head = body.weights[:, JOINT_INDEX["head"]] > 0.99
    assert np.all(moved[head] < 0.01) and np.all(moved[wrist] > 0.04)


def test_a_malformed_body_file_is_refused() -> None:
    body = load_open_body()
    good = {
        "vertices": body.vertices,
        "faces": body.faces,
        "skin_index": np.zeros((body.num_vertices, 4), np.uint8),
        "skin_weight": np.full((body.num_vertices, 4), 64, np.uint8),
        "rest_joints": body.rest_joints,
        "stature_m": np.array(body.stature_m),
    }
    assert open_body_from_arrays(good).num_vertices == body.num_vertices
    with pytest.raises(OpenBodyError, match="missing"):
        open_body_from_arrays({k: v for k, v in good.items() if k != "faces"})
    with pytest.raises(OpenBodyError, match="out of range"):
        open_body_from_arrays({**good, "faces": body.faces + body.num_vertices})


def test_the_generators_kernels_without_anny() -> None:
    """tools/make_open_body.py's numpy parts: the skin table covers both sides, weights quantise to rows
    of 255, a swing turns one direction onto another, and posing onto the same skeleton changes nothing."""
    from tools.make_open_body import pose_onto, quantise_weights, skin_table, swing

    table = skin_table(["Hips", "LeftArm", "RightArm", "LThumb", "RThumb", "RHipJoint"])
    assert table["RightArm"] == "right_shoulder" and table["RThumb"] == "right_wrist"
    with pytest.raises(KeyError, match="Tail"):
        skin_table(["Tail"])
    rng = np.random.default_rng(0)
    dense = rng.random((50, 24)) ** 4
    index, counts = quantise_weights(dense / dense.sum(axis=1, keepdims=True))
    assert index.shape == counts.shape == (50, 4) and np.all(counts.astype(int).sum(axis=1) == 255)
    a, b = np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.6, 0.8])
    np.testing.assert_allclose(swing(a, b) @ a, b, atol=1e-12)
    body = load_open_body()
    posed = pose_onto(body.vertices[:200], body.weights[:200], body.rest_joints, body.rest_joints)
    np.testing.assert_allclose(posed, body.vertices[:200], atol=1e-12)
