"""Training's torch SMPL joints agree with the contract's numpy kinematics and an SMPL file's regressor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ram_core.contract.skeleton import axis_angle_to_matrix, forward_kinematics
from ram_core.contract.smpl_model import load_smpl_model, smpl_rest_joints
from ram_core.models.config import CameraConfig
from ram_core.train.body import SkeletonJoints, joint_basis_from_smpl, project_to_crop
from tests.fixtures.smpl import make_test_smpl_npz


def test_skeleton_joints_match_contract_fk(tmp_path: Path) -> None:
    path = tmp_path / "smpl.npz"
    make_test_smpl_npz(path)
    model = load_smpl_model(path)
    basis = joint_basis_from_smpl(model, str(path))
    rng = np.random.default_rng(0)
    betas = rng.normal(size=10)
    np.testing.assert_allclose(basis.rest + basis.shape_dirs @ betas, smpl_rest_joints(model, betas), atol=1e-9)
    aa = rng.normal(0.0, 0.4, (2, 24, 3))
    expected = np.stack([forward_kinematics(a[None, 0], a[None, 1:], smpl_rest_joints(model, betas))[0][0] for a in aa])
    rot = torch.as_tensor(axis_angle_to_matrix(aa), dtype=torch.float32)
    got = SkeletonJoints(basis)(rot, torch.as_tensor(np.stack([betas, betas]), dtype=torch.float32))
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-5)


def test_projection_hand_case() -> None:
    cam_cfg = CameraConfig(focal_length=5000.0, crop_size=256)
    # s = 1 -> tz = 2 * 5000 / 256 = 39.0625 m; a point 1 m right of the root projects to
    # (5000 / 256) * 1 / 39.0625 = 0.5 (the crop square's right edge).
    joints = torch.tensor([[[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]])
    xy = project_to_crop(joints, torch.tensor([[1.0, 0.0, 0.0]]), cam_cfg)
    np.testing.assert_allclose(xy.numpy(), [[[0.0, 0.0], [0.5, 0.0]]], atol=1e-6)
