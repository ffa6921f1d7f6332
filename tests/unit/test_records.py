"""Records built by backends: the chosen rest skeleton and joints by forward kinematics."""

from __future__ import annotations

import numpy as np

from ram_core.backends.records import pose_records, rest_skeleton
from ram_core.contract.skeleton import forward_kinematics
from ram_core.contract.smpl_model import DEFAULT_REST_SOURCE
from tests.fixtures.smpl import make_test_smpl_npz


def test_pose_records_joints_are_forward_kinematics_plus_transl() -> None:
    rng = np.random.default_rng(0)
    skeleton = rest_skeleton(None)
    assert skeleton.source == DEFAULT_REST_SOURCE and skeleton.model is None
    go, bp, tr = rng.normal(size=(3, 3)), 0.3 * rng.normal(size=(3, 23, 3)), rng.normal(size=(3, 3))
    boxes = rng.uniform(0, 100, size=(3, 4))
    rec = pose_records(7, [1, 2, 3], go, bp, tr, skeleton.joints, boxes, 0.5, predicted=[False, True, False])
    expected, _ = forward_kinematics(go, bp, skeleton.joints, tr)
    np.testing.assert_allclose(rec["joints"], expected, atol=1e-5)
    assert rec["frame"].tolist() == [7, 7, 7] and rec["track_id"].tolist() == [1, 2, 3]
    assert rec["predicted"].tolist() == [False, True, False] and np.all(rec["betas"] == 0)
    np.testing.assert_allclose(rec["box"], boxes, rtol=1e-6)
    # One rest skeleton per record gives each record its own joints.
    shifted = np.stack([skeleton.joints, 2 * skeleton.joints, skeleton.joints])
    per_record = pose_records(7, 1, go, bp, tr, shifted, boxes, 0.5)
    np.testing.assert_allclose(per_record["joints"][[0, 2]], rec["joints"][[0, 2]], atol=1e-6)
    assert not np.allclose(per_record["joints"][1], rec["joints"][1])
    assert (
        len(
            pose_records(
                0, 0, np.zeros((0, 3)), np.zeros((0, 23, 3)), np.zeros((0, 3)), skeleton.joints, np.zeros((0, 4)), 1.0
            )
        )
        == 0
    )


def test_rest_skeleton_from_an_smpl_file(tmp_path) -> None:
    path = tmp_path / "smpl.npz"
    make_test_smpl_npz(path)
    skeleton = rest_skeleton(str(path))
    assert skeleton.model is not None and skeleton.source == f"smpl:{path}"
    assert skeleton.joints.shape == (24, 3)
