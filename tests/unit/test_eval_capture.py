"""The capture scorer on ground truth made here with numpy: zeros against itself, known perturbations."""

import math

import numpy as np
import pytest

pytest.importorskip("trackeval")
from ram_core.eval.capture import ROOT_FROM_GT_BACKEND, score_capture
from tests.fixtures.capture_gt import FPS, make_gt, results_from, results_of


def test_ground_truth_scores_zero_against_itself(tmp_path):
    gt = make_gt()
    scores = score_capture(gt, results_of(gt, tmp_path))
    for s in [*scores.people, scores.overall]:
        assert s.pa_mpjpe_mm == pytest.approx(0, abs=1e-3) and s.mpjpe_mm == pytest.approx(0, abs=1e-3)
        assert s.abs_mpjpe_mm == pytest.approx(0, abs=1e-3) and s.depth_error_pct == pytest.approx(0, abs=1e-4)
        assert s.consistency == 1.0 and s.coverage == 1.0 and s.duplicate_frames == 0
        assert s.penetration_p95_cm == 0.0 and s.jitter == pytest.approx(0, abs=1e-3)
    assert scores.overall.frames == 40
    assert scores.hota == pytest.approx(100) and scores.assa == pytest.approx(100) and scores.idsw == 0


def test_a_constant_offset_shows_in_absolute_error_and_depth_only(tmp_path):
    gt = make_gt()
    s = score_capture(gt, results_of(gt, tmp_path, gt["joints_cam"] + np.float32([0, 0, 0.1]))).overall
    assert s.abs_mpjpe_mm == pytest.approx(100, abs=0.1)
    assert s.mpjpe_mm == pytest.approx(0, abs=1e-3) and s.pa_mpjpe_mm == pytest.approx(0, abs=1e-3)
    pelvis = gt["joints_cam"][:, :, 0].astype(np.float64).reshape(-1, 3)
    dist = np.linalg.norm(pelvis, axis=-1)
    expected = 100 * np.mean(np.abs(np.linalg.norm(pelvis + np.array([0, 0, 0.1]), axis=-1) - dist) / dist)
    assert s.depth_error_pct == pytest.approx(expected, rel=1e-4)
    assert s.consistency == 1.0 and s.duplicate_frames == 0


def test_a_swap_of_two_tracks_from_frame_f_shows_in_consistency_and_idsw(tmp_path):
    gt, swap_at, f = make_gt(f=20), 8, 20
    joints, boxes = gt["joints_cam"].copy(), gt["box_amodal"].copy()
    joints[:, swap_at:], boxes[:, swap_at:] = joints[::-1, swap_at:], boxes[::-1, swap_at:]
    scores = score_capture(gt, results_from(tmp_path, joints, boxes))
    assert scores.idsw == 2  # each person changes track once
    for s in [*scores.people, scores.overall]:
        assert s.consistency == pytest.approx((f - swap_at) / f)  # each person's main track holds frames 8-19
        assert s.coverage == 1.0 and s.duplicate_frames == 0
        assert s.pa_mpjpe_mm == pytest.approx(0, abs=1e-3) and s.abs_mpjpe_mm == pytest.approx(0, abs=1e-3)
    assert scores.assa < 100


def test_a_duplicated_track_counts_its_person_frames(tmp_path):
    gt = make_gt()
    dup_frames = np.arange(5, 15)
    joints = np.concatenate([gt["joints_cam"], gt["joints_cam"][:1]])
    boxes = np.concatenate([gt["box_amodal"], gt["box_amodal"][:1] + np.float32([2, 0, 2, 0])])  # IoU ~0.97
    frames = [np.arange(20), np.arange(20), dup_frames]
    scores = score_capture(gt, results_from(tmp_path, joints, boxes, frames))
    assert scores.overall.duplicate_frames == len(dup_frames)
    assert [s.duplicate_frames for s in scores.people] == [len(dup_frames), 0]
    assert scores.overall.consistency == 1.0 and scores.overall.coverage == 1.0
    assert scores.overall.pa_mpjpe_mm == pytest.approx(0, abs=1e-3) and scores.idsw == 0
    assert scores.hota < 100  # the duplicate's boxes are false positives


def test_gaussian_noise_of_known_sigma_gives_the_expected_mean_error(tmp_path):
    sigma = 0.02
    gt = make_gt(f=500)  # 1000 person-frames: the mean of the norms within ~1.5% (they share each frame's pelvis)
    noise = np.random.default_rng(1).normal(0, sigma, gt["joints_cam"].shape)
    s = score_capture(gt, results_of(gt, tmp_path, gt["joints_cam"] + noise)).overall
    mean_norm = sigma * math.sqrt(8 / math.pi)  # mean length of a 3D Gaussian vector of per-axis sigma
    assert s.abs_mpjpe_mm == pytest.approx(1000 * mean_norm, rel=0.03)
    # Root-relative: the pelvis' own noise is subtracted from the 23 other joints (sigma * sqrt 2), the pelvis is 0.
    assert s.mpjpe_mm == pytest.approx(1000 * mean_norm * math.sqrt(2) * 23 / 24, rel=0.03)
    assert 0 < s.pa_mpjpe_mm < s.abs_mpjpe_mm


def test_pa_mpjpe_is_invariant_to_a_similarity_transform(tmp_path):
    gt = make_gt(f=30)
    noisy = gt["joints_cam"] + np.random.default_rng(2).normal(0, 0.03, gt["joints_cam"].shape)
    angle = 0.4
    c, s_ = math.cos(angle), math.sin(angle)
    rot = np.array([[c, 0, s_], [0, 1, 0], [-s_, 0, c]]) @ np.array([[1, 0, 0], [0, c, -s_], [0, s_, c]])
    moved = 1.3 * noisy @ rot.T + np.array([0.4, -0.2, 1.0])
    a = score_capture(gt, results_of(gt, tmp_path, noisy)).overall
    b = score_capture(gt, results_of(gt, tmp_path, moved)).overall
    assert b.pa_mpjpe_mm == pytest.approx(a.pa_mpjpe_mm, rel=1e-4)
    assert b.mpjpe_mm > 2 * a.mpjpe_mm and b.abs_mpjpe_mm > 2 * a.abs_mpjpe_mm


def test_foot_skate_is_the_horizontal_foot_step_during_contact(tmp_path):
    gt = make_gt(step=0.01)
    gt["contact"][:] = True
    s = score_capture(gt, results_of(gt, tmp_path)).overall
    assert s.foot_skate_cm == pytest.approx(1.0, abs=1e-4)  # the ground truth itself slides 1 cm a frame
    lifted = gt["joints_cam"] + np.float32([0, -0.05, 0])  # 5 cm up: vertical, no skate
    assert score_capture(gt, results_of(gt, tmp_path, lifted)).overall.foot_skate_cm == pytest.approx(1.0, abs=1e-4)
    gt["contact"][:, ::2] = False  # contact on odd frames only: no two frames in a row touch
    assert score_capture(gt, results_of(gt, tmp_path)).overall.foot_skate_cm is None


def test_penetration_is_the_depth_of_the_lowest_joint_below_the_floor(tmp_path):
    gt = make_gt()
    sunk = gt["joints_cam"] + np.float32([0, 2.0, 0])  # 2 m down
    s = score_capture(gt, results_of(gt, tmp_path, sunk)).overall
    lowest = float(sunk[0, 0, :, 1].max())  # the same body every frame: one depth
    assert s.penetration_p95_cm == pytest.approx(100 * (lowest - 1.5), abs=1e-3)


def test_jitter_of_an_alternating_offset(tmp_path):
    gt, e = make_gt(), 0.01  # linear ground-truth motion: no acceleration of its own
    wobble = gt["joints_cam"] + (e * (-1.0) ** np.arange(20))[None, :, None, None].astype(np.float32) * [1, 0, 0]
    s = score_capture(gt, results_of(gt, tmp_path, wobble.astype(np.float32))).overall
    assert s.jitter == pytest.approx(4 * e * FPS**2, rel=1e-3)  # |x[t+1] - 2 x[t] + x[t-1]| = 4 e
    assert s.jitter_ratio is None  # the ground truth's own jitter is 0


def test_root_from_ground_truth_results_have_no_absolute_errors(tmp_path):
    gt = make_gt()
    scores = score_capture(gt, results_of(gt, tmp_path, backend=ROOT_FROM_GT_BACKEND))
    assert scores.root_from_gt and scores.overall.abs_mpjpe_mm is None and scores.overall.depth_error_pct is None
    assert scores.overall.pa_mpjpe_mm == pytest.approx(0, abs=1e-3)


def test_hidden_frames_count_for_identity_not_for_pose(tmp_path):
    gt = make_gt()
    gt["box_visible"][0, 5:10] = np.nan  # person 0 fully hidden for 5 frames, still in the image
    gt["visible_fraction"][0, 5:10] = 0
    frames = [np.r_[0:5, 10:20], np.arange(20)]  # the tracker drops them while hidden and keeps their id
    scores = score_capture(gt, results_from(tmp_path, gt["joints_cam"], gt["box_amodal"], frames))
    p0 = scores.people[0]
    assert p0.frames == 15 and p0.consistency == 1.0 and p0.coverage == 1.0
    assert scores.idsw == 0 and scores.hota < 100  # the 5 hidden frames are misses


def test_clips_pool_exactly(tmp_path):
    from ram_core.eval.capture import clip_parts, combine

    gt = make_gt()
    noisy = gt["joints_cam"] + np.random.default_rng(4).normal(0, 0.02, gt["joints_cam"].shape)
    joints, boxes = gt["joints_cam"].copy(), gt["box_amodal"].copy()
    joints[:, 8:], boxes[:, 8:] = joints[::-1, 8:], boxes[::-1, 8:]
    a = clip_parts(gt, results_of(gt, tmp_path, noisy))
    b = clip_parts(gt, results_from(tmp_path, joints, boxes, name="swap.npz"))
    both = combine([a, b])
    assert both.people == [] and both.overall.frames == 80 and both.idsw == 2
    one = combine([a]).overall
    assert both.overall.pa_mpjpe_mm == pytest.approx(one.pa_mpjpe_mm / 2)  # the swap's 40 frames are exact
    assert both.overall.consistency == pytest.approx((40 + 24) / 80)


def test_a_mask_scores_only_the_frames_it_keeps(tmp_path):
    gt = make_gt()
    mask = np.zeros((2, 20), bool)
    mask[0, :10] = True
    s = score_capture(gt, results_of(gt, tmp_path), mask=mask)
    assert s.overall.frames == 10 and s.people[1].frames == 0 and s.people[1].pa_mpjpe_mm is None
    assert s.overall.consistency == 1.0 and s.hota == pytest.approx(100)


def test_eval_capture_and_baseline_commands(tmp_path, capsys):
    import json

    from ram_core.cli import main
    from ram_core.contract.results import save_results

    gt = make_gt()
    np.savez(tmp_path / "gt.npz", **gt)
    save_results(results_of(gt, tmp_path), tmp_path / "out.npz")
    assert main(["eval", "capture", "--gt", str(tmp_path / "gt.npz"), str(tmp_path / "out.npz"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["overall"]["consistency"] == 1.0 and doc["idsw"] == 0 and len(doc["people"]) == 2
    args = ["eval", "baseline", "--gt", str(tmp_path / "gt.npz"), "--video", str(tmp_path / "none.mp4")]
    assert main([*args, "--out", str(tmp_path / "b.npz")]) != 0
    assert f"{tmp_path / 'none.mp4'}: no such file" in capsys.readouterr().err


def test_results_or_a_video_of_another_clip_are_refused_in_one_line(tmp_path, capsys):
    """Before: another clip's results scored against a gt.npz gave a table of meaningless numbers (HOTA 1.3),
    a video for --gt said "load it unsafely with allow_pickle", and baseline's --out in a missing folder
    failed after the whole clip, naming a temporary file."""
    import dataclasses

    from ram_core.cli import main
    from ram_core.contract.results import save_results
    from ram_core.eval.capture import CaptureEvalError

    gt = {**make_gt(), "image_size": np.array([640, 480])}
    results = results_of(gt, tmp_path)
    assert score_capture(gt, results).idsw == 0  # the clip's own size and rate
    for meta in (dataclasses.replace(results.meta, width=768, height=576), dataclasses.replace(results.meta, fps=10.0)):
        with pytest.raises(CaptureEvalError, match=r"is \d+x\d+ at [\d.]+ fps, the ground truth's clip 640x480 at 25"):
            score_capture(gt, dataclasses.replace(results, meta=meta))
    np.savez(tmp_path / "gt.npz", **gt)
    (tmp_path / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(64))
    save_results(results, tmp_path / "out.npz")
    assert main(["eval", "capture", "--gt", str(tmp_path / "clip.mp4"), str(tmp_path / "out.npz")]) == 1
    assert capsys.readouterr().err == (
        f"ram-core: error: {tmp_path / 'clip.mp4'}: not a readable ground-truth .npz (not an .npz file)\n"
    )
    args = ["eval", "baseline", "--gt", str(tmp_path / "gt.npz"), "--video", str(tmp_path / "clip.mp4")]
    assert main([*args, "--out", str(tmp_path / "no such folder" / "b.npz")]) == 1
    assert capsys.readouterr().err == f"ram-core: error: {tmp_path / 'no such folder'}: output folder does not exist\n"


def test_a_solved_scene_is_scored_and_used_for_the_world(tmp_path):
    import dataclasses

    from ram_core.contract.results import Results
    from ram_core.scene.solve import world_from_floor

    gt = make_gt()
    sunk = gt["joints_cam"] + np.float32([0, 2.0, 0])  # 2 m down: through both floors
    plain = results_of(gt, tmp_path, sunk)
    tilt = math.radians(3.0)
    floor = np.array([0.0, -math.cos(tilt), -math.sin(tilt), 1.5 * 1.05])  # 3 degrees off, 5% too high
    meta = dataclasses.replace(plain.meta, floor_cam=floor, world_from_camera=world_from_floor(floor))
    scores = score_capture(gt, Results(meta, plain.tracks))
    assert scores.floor_angle_deg == pytest.approx(3.0, abs=1e-6)
    assert scores.camera_height_error_pct == pytest.approx(5.0, abs=1e-6)
    # Penetration is below the results' own floor, not the true one.
    lowest = float(np.min(sunk[0, 0].astype(np.float64) @ floor[:3] + floor[3]))
    assert lowest < 0 and scores.overall.penetration_p95_cm == pytest.approx(-100 * lowest, abs=1e-3)
    assert score_capture(gt, plain).floor_angle_deg is None


def test_contact_flags_are_scored_against_the_ground_truths(tmp_path):
    from ram_core.contract.results import Results

    gt = make_gt()
    gt["contact"][:] = False
    gt["contact"][:, ::2, 0] = True  # the left foot planted on even frames
    plain = results_of(gt, tmp_path)
    assert score_capture(gt, plain).overall.contact_precision is None  # no contact in the results: not scored
    tracks = []
    for t in plain.tracks:
        arrays = t.arrays()
        c = np.zeros((len(t), 2), np.float32)
        c[:, 0] = 0.9  # left planted on every frame: all of the truth, half of it wrong
        arrays["contact"] = c
        tracks.append(type(t)(t.track_id, **arrays))
    s = score_capture(gt, Results(plain.meta, tracks)).overall
    assert s.contact_recall == pytest.approx(1.0)
    assert s.contact_precision == pytest.approx(0.5, abs=0.05)


def test_lean_is_the_torsos_angle_from_the_floor_normal_against_the_truths():
    from ram_core.eval.capture import NECK, PELVIS, torso_lean

    joints = np.zeros((2, 24, 3))
    angle = math.radians(20.0)
    joints[0, NECK] = [0.0, -0.5, 0.0]  # straight up (camera y is down): floor normal (0, -1, 0)
    joints[1, NECK] = [0.0, -0.5 * math.cos(angle), 0.5 * math.sin(angle)]
    joints[:, PELVIS] = [0.1, 0.2, 4.0]
    joints[:, NECK] += joints[:, PELVIS]
    floor = np.array([0.0, -1.0, 0.0, 1.5])
    np.testing.assert_allclose(torso_lean(joints, floor), [0.0, 20.0], atol=1e-9)


def test_a_tilted_body_shows_in_lean(tmp_path):
    from ram_core.eval.capture import torso_lean

    gt = make_gt()
    assert score_capture(gt, results_of(gt, tmp_path)).overall.lean_deg == pytest.approx(0, abs=1e-3)
    c, s_ = math.cos(0.3), math.sin(0.3)
    rot = np.array([[1, 0, 0], [0, c, -s_], [0, s_, c]])
    pelvis = gt["joints_cam"][:, :, :1]
    tilted = (gt["joints_cam"] - pelvis) @ rot.T + pelvis
    floor = gt["floor_cam"].astype(np.float64)
    flat = gt["joints_cam"].reshape(-1, 24, 3).astype(np.float64)
    expected = np.mean(
        np.abs(torso_lean(tilted.reshape(-1, 24, 3).astype(np.float64), floor) - torso_lean(flat, floor))
    )
    lean = score_capture(gt, results_of(gt, tmp_path, tilted.astype(np.float32))).overall.lean_deg
    assert lean == pytest.approx(expected, rel=1e-4) and lean > 1.0
