"""MPJPE, PA-MPJPE and PCK against cases worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from ram_core.eval import pose


def _skeleton() -> np.ndarray:
    """A 4-joint, non-planar toy skeleton ``(1, 4, 3)`` in metres."""
    return np.array([[[0.0, 0.0, 0.0], [0.0, 0.5, 0.0], [0.3, 0.0, 0.0], [0.0, 0.0, 0.2]]])


def _rot_z(deg: float) -> np.ndarray:
    a = np.deg2rad(deg)
    return np.array([[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0], [0.0, 0.0, 1.0]])


def test_mpjpe_hand_case() -> None:
    gt = _skeleton()
    pred = gt.copy()
    pred[0, 1, 0] += 0.03  # 3 cm off on one joint
    pred[0, 2] += [0.0, 0.04, 0.03]  # 5 cm off on another
    # root relative: root unchanged; errors (0, 0.03, 0.05, 0) -> mean 0.02 m
    assert pose.mpjpe(pred, gt) == pytest.approx(0.02)


def test_mpjpe_is_root_relative_and_respects_visibility() -> None:
    gt = _skeleton()
    pred = gt + np.array([1.0, 2.0, 3.0])
    assert pose.mpjpe(pred, gt) == pytest.approx(0.0)
    assert pose.mpjpe(pred, gt, root=None) == pytest.approx(np.sqrt(14.0))
    off = gt.copy()
    off[0, 3, 2] += 0.1
    visible = np.array([[1.0, 1.0, 1.0, 0.0]])
    assert pose.mpjpe(off, gt, visible) == pytest.approx(0.0)
    assert pose.mpjpe(off, gt) == pytest.approx(0.1 / 4)


def test_pa_mpjpe_removes_similarity_transform() -> None:
    gt = _skeleton()
    pred = 1.7 * gt @ _rot_z(40.0).T + np.array([0.2, -0.1, 3.0])
    assert pose.mpjpe(pred, gt) > 0.05
    assert pose.pa_mpjpe(pred, gt) == pytest.approx(0.0, abs=1e-9)


def test_pa_mpjpe_does_not_reflect() -> None:
    gt = _skeleton()
    mirrored = gt * np.array([-1.0, 1.0, 1.0])
    # A mirror image is not a rotation: some error must remain.
    assert pose.pa_mpjpe(mirrored, gt) > 0.01


def test_pa_mpjpe_hand_case_two_points() -> None:
    # Two joints: any two-point pair aligns exactly under a similarity transform.
    gt = np.array([[[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]])
    pred = np.array([[[5.0, 5.0, 5.0], [5.0, 7.0, 5.0]]])
    assert pose.pa_mpjpe(pred, gt) == pytest.approx(0.0, abs=1e-9)
    # Scale-only case: a symmetric three-point set shrunk to half, aligned back exactly.
    gt3 = np.array([[[-1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    assert pose.pa_mpjpe(0.5 * gt3, gt3) == pytest.approx(0.0, abs=1e-9)


def test_pck_hand_case() -> None:
    gt = np.array([[[0.0, 0.0], [100.0, 0.0], [0.0, 200.0], [100.0, 200.0]]])  # box side 200 px
    pred = gt.copy()
    pred[0, 0] += [3.0, 4.0]  # 5 px: within 0.05 * 200 = 10 and within 0.1 * 200 = 20
    pred[0, 1] += [15.0, 0.0]  # 15 px: within 20, not within 10
    pred[0, 2] += [0.0, 30.0]  # 30 px: neither
    assert pose.pck(pred, gt, 0.05) == pytest.approx(2 / 4)
    assert pose.pck(pred, gt, 0.1) == pytest.approx(3 / 4)
    visible = np.array([[1.0, 1.0, 0.0, 1.0]])
    assert pose.pck(pred, gt, 0.1, visible, bbox_size=np.array([200.0])) == pytest.approx(1.0)
    assert pose.pck(pred, gt, 0.1, bbox_size=np.array([100.0])) == pytest.approx(2 / 4)


def test_evaluate_pose_and_files(tmp_path) -> None:
    gt3 = _skeleton()
    pred3 = gt3.copy()
    pred3[0, 1, 0] += 0.04
    gt2 = np.array([[[0.0, 0.0], [100.0, 0.0], [0.0, 200.0], [100.0, 200.0]]])
    np.savez(tmp_path / "pred.npz", joints3d=pred3, keypoints2d=gt2 + 1.0)
    np.savez(tmp_path / "gt.npz", joints3d=gt3, keypoints2d=gt2)
    m = pose.evaluate_pose(pose.load_arrays(tmp_path / "pred.npz"), pose.load_arrays(tmp_path / "gt.npz"))
    assert m.num_samples == 1
    assert m.mpjpe_mm == pytest.approx(10.0)
    assert m.pa_mpjpe_mm is not None and 0.0 < m.pa_mpjpe_mm < m.mpjpe_mm
    assert m.pck == {"0.05": 1.0, "0.1": 1.0}


def test_mismatched_shapes_are_refused() -> None:
    with pytest.raises(pose.PoseEvalError):
        pose.mpjpe(np.zeros((2, 4, 3)), np.zeros((2, 5, 3)))
    with pytest.raises(pose.PoseEvalError):
        pose.evaluate_pose({"joints3d": np.zeros((1, 4, 3))}, {"keypoints2d": np.zeros((1, 4, 2))})


def test_a_missing_file_or_a_results_file_says_what_to_do(tmp_path) -> None:
    with pytest.raises(pose.PoseEvalError, match=r"nope.npz: no such file$"):
        pose.load_arrays(tmp_path / "nope.npz")
    results = {"format_name": np.array("ram-results"), "tracks": np.zeros(1)}
    with pytest.raises(pose.PoseEvalError, match=r"scored with 'ram-core eval capture --gt GT.npz RESULTS.npz'"):
        pose.evaluate_pose(results, {"joints3d": np.zeros((1, 4, 3))})


def test_a_file_that_is_no_npz_says_so_without_numpys_advice_to_unpickle(tmp_path) -> None:
    """Before: "... contains pickled (object) data. If you trust the file you can load it unsafely ..."."""
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(64))
    with pytest.raises(pose.PoseEvalError) as e:
        pose.load_arrays(video)
    assert str(e.value) == f"{video}: not a readable .npz of plain arrays (not an .npz file)"
