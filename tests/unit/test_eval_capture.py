"""The capture scorer on ground truth made here with numpy: zeros against itself, known perturbations."""

import numpy as np
import pytest

from ram_core.contract.results import CaptureMeta, Results, load_results, make_track, save_results

pytest.importorskip("trackeval")
from ram_core.eval.capture import score_capture

K = np.array([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]])


def make_gt(p: int = 2, f: int = 20) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    body = rng.normal(0, 0.3, (24, 3))
    joints = np.zeros((p, f, 24, 3))
    for i in range(p):
        for t in range(f):
            joints[i, t] = body + np.array([-1.0 + 2.0 * i + 0.01 * t, 0.0, 5.0])
    uv = joints[..., :2] / joints[..., 2:] * 500 + [320, 240]
    box = np.concatenate([uv.min(axis=2), uv.max(axis=2)], axis=-1)
    return {
        "fps": np.array(25.0),
        "present": np.ones((p, f), bool),
        "joints_cam": joints.astype(np.float32),
        "box_amodal": box.astype(np.float32),
        "box_visible": box.astype(np.float32),
        "visible_fraction": np.ones((p, f), np.float32),
        "contact": np.zeros((p, f, 2), bool),
        "floor_cam": np.array([0.0, -1.0, 0.0, 1.5]),
        "world_from_camera": np.eye(4),
        "person_ids": np.arange(p),
    }


def results_of(gt, tmp_path, joints=None) -> Results:
    joints = gt["joints_cam"] if joints is None else joints
    p, f = gt["present"].shape
    meta = CaptureMeta("clip.mp4", 25.0, 640, 480, f, 0, f, K, False, "gt", np.zeros((24, 3)), "test")
    tracks = [
        make_track(
            i,
            frame=np.arange(f),
            global_orient=np.zeros((f, 3)),
            body_pose=np.zeros((f, 23, 3)),
            betas=np.zeros((f, 10)),
            transl=joints[i, :, 0],
            joints=joints[i],
            box=gt["box_amodal"][i],
            confidence=np.ones(f),
            predicted=np.zeros(f, bool),
        )
        for i in range(p)
    ]
    return load_results(save_results(Results(meta, tracks), tmp_path / "r.npz"))


def test_ground_truth_scores_zero_against_itself(tmp_path):
    gt = make_gt()
    s = score_capture(gt, results_of(gt, tmp_path)).overall
    assert s.pa_mpjpe_mm == pytest.approx(0, abs=1e-3) and s.abs_mpjpe_mm == pytest.approx(0, abs=1e-3)
    assert s.consistency == 1.0 and s.coverage == 1.0 and s.duplicate_frames == 0


def test_a_constant_offset_shows_in_absolute_error_only(tmp_path):
    gt = make_gt()
    s = score_capture(gt, results_of(gt, tmp_path, gt["joints_cam"] + np.float32([0, 0, 0.1]))).overall
    assert s.abs_mpjpe_mm == pytest.approx(100, abs=0.1)
    assert s.mpjpe_mm == pytest.approx(0, abs=1e-3)
