"""SMPL through smplx on a test-made model: joints agree with the contract's forward kinematics."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("smplx")

from ram_core.contract.skeleton import axis_angle_to_matrix, forward_kinematics
from ram_core.models.smpl import SmplBody
from tests.fixtures.smpl import SMPL_VERTICES, make_test_smpl_npz


def test_smplx_forward_matches_forward_kinematics(tmp_path):
    make_test_smpl_npz(tmp_path / "smpl_test.npz", num_vertices=SMPL_VERTICES)
    body = SmplBody.from_file(tmp_path / "smpl_test.npz")
    rng = np.random.default_rng(1)
    aa = rng.normal(size=(2, 24, 3)) * 0.4
    betas = rng.normal(size=(2, 10))
    transl = rng.normal(size=(2, 3))
    rot = torch.tensor(axis_angle_to_matrix(aa), dtype=torch.float32)
    out = body(rot, torch.tensor(betas, dtype=torch.float32), torch.tensor(transl, dtype=torch.float32))
    assert out.joints.shape == (2, 24, 3) and out.vertices.shape == (2, 6890, 3)
    data = np.load(tmp_path / "smpl_test.npz")
    for i in range(2):
        shaped = data["v_template"] + data["shapedirs"] @ betas[i]
        rest = data["J_regressor"] @ shaped
        joints, _ = forward_kinematics(aa[i, :1], aa[i, None, 1:], rest, transl[i, None])
        assert np.allclose(out.joints[i].detach().numpy(), joints[0], atol=1e-4)
