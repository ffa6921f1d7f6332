"""The gt.npz format (tools/synth/gt_format.py): a round trip, what check_gt refuses, the scorer reads it;
the committed suite (tests/data/synth) follows it and its own rules."""

from pathlib import Path

import numpy as np
import pytest

from ram_core.contract.skeleton import JOINT_NAMES
from tools.synth.gt_format import KEYS, VERSION, GroundTruthError, check_gt, load_gt, save_gt


def make_gt(p: int = 2, f: int = 5) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    jc = rng.normal(0, 0.3, (p, f, 24, 3)) + [0, 0, 5]
    uv = jc[..., :2] / jc[..., 2:] * 500 + [320, 240]
    box = np.concatenate([uv.min(axis=2), uv.max(axis=2)], axis=-1)
    return {
        "version": VERSION, "fps": 25.0, "image_size": np.array([640, 480]), "n_frames": f,
        "intrinsics": np.array([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]]), "world_from_camera": np.eye(4),
        "floor_cam": np.array([0.0, -1.0, 0.0, 1.5]), "person_ids": np.arange(p), "heights": np.full(p, 1.7),
        "present": np.ones((p, f), bool), "joints_cam": jc, "joints_world": jc, "joints_2d": uv,
        "joint_visible": np.ones((p, f, 24), bool), "box_amodal": box, "box_visible": box,
        "visible_fraction": np.ones((p, f)), "contact": np.zeros((p, f, 2), bool),
        "joint_names": np.array(JOINT_NAMES), "scenario": '{"name": "test"}',
    }  # fmt: skip


def test_round_trip_keeps_every_key_without_pickle(tmp_path):
    path = save_gt(tmp_path / "gt.npz", make_gt())
    with np.load(path, allow_pickle=False) as z:
        assert set(z.files) == set(KEYS)
        assert z["joints_cam"].dtype == np.float32 and z["intrinsics"].dtype == np.float64
    gt = load_gt(path)
    assert gt["joints_cam"].shape == (2, 5, 24, 3) and str(gt["scenario"]) == '{"name": "test"}'


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda g: g.pop("contact"), "lacks"),
        (lambda g: g.update(present=np.ones((2, 4), bool)), "present: shape"),
        (lambda g: g.update(contact=np.zeros((2, 5, 2))), "contact: dtype"),
        (lambda g: g.update(joint_names=np.array(JOINT_NAMES[::-1])), "joint_names"),
        (lambda g: g.update(floor_cam=np.array([0.0, -2.0, 0.0, 1.5])), "unit"),
        (lambda g: g["joints_cam"].__setitem__((0, 1, 3, 0), np.nan), "NaN"),
    ],
)
def test_check_refuses_malformed_ground_truth(change, message):
    gt = make_gt()
    change(gt)
    with pytest.raises(GroundTruthError, match=message):
        check_gt(gt)


def test_the_capture_scorer_reads_the_format(tmp_path):
    pytest.importorskip("scipy")
    from ram_core.eval.capture import load_gt as scorer_load_gt

    gt = scorer_load_gt(save_gt(tmp_path / "gt.npz", make_gt()))
    assert gt["joints_cam"].shape == (2, 5, 24, 3)


SUITE = sorted((Path(__file__).resolve().parents[1] / "data" / "synth").glob("*/gt.npz"))


@pytest.mark.parametrize("path", SUITE, ids=[p.parent.name for p in SUITE])
def test_every_committed_clip_follows_the_format_and_the_suite_rules(path):
    gt = load_gt(path)  # checks every key
    width, height = (int(v) for v in gt["image_size"])
    assert 480 <= height <= width <= 1280 and 60 <= int(gt["n_frames"]) <= 150
    size = sum(f.stat().st_size for f in path.parent.iterdir())
    assert size < 1_100_000, f"{path.parent.name}: {size} bytes"
    assert (path.parent / "clip.mp4").exists() and (path.parent / "scenario.json").exists()
    present = gt["present"]
    assert np.all(gt["visible_fraction"][present] <= 1.0) and gt["contact"][present].any()


def test_the_crossing_clip_hides_one_person_fully_for_5_to_15_frames():
    path = Path(__file__).resolve().parents[1] / "data" / "synth" / "cross_hidden" / "gt.npz"
    if not path.exists():
        pytest.skip("suite not rendered")
    gt = load_gt(path)
    hidden = gt["present"] & (gt["visible_fraction"] == 0)
    assert 5 <= hidden.sum(axis=1).max() <= 15
