"""benchmarks/synthetic_suite.py's tables and gate on a fake suite: ground truth and scripted results, no capture."""

import importlib.util
import json
import sys

import numpy as np
import pytest

pytest.importorskip("trackeval")
from ram_core.contract.results import save_results
from ram_core.eval.capture import ROOT_FROM_GT_BACKEND
from tests.conftest import REPO
from tests.fixtures.capture_gt import make_gt, results_of

spec = importlib.util.spec_from_file_location("synthetic_suite", REPO / "benchmarks" / "synthetic_suite.py")
suite = importlib.util.module_from_spec(spec)
sys.modules["synthetic_suite"] = suite  # dataclasses look their module up there
spec.loader.exec_module(suite)


def fake_run(tmp_path, name: str, ours_sigma: float, base_sigma: float, seed: int):
    """One clip's run: our results and the baseline's with Gaussian joint noise of the given sizes."""
    gt = make_gt()
    rng = np.random.default_rng(seed)
    folder = tmp_path / name
    folder.mkdir()
    paths = []
    for label, sigma, backend in (("ours", ours_sigma, "lite"), ("base", base_sigma, ROOT_FROM_GT_BACKEND)):
        noisy = gt["joints_cam"] + rng.normal(0, sigma, gt["joints_cam"].shape).astype(np.float32)
        results = results_of(gt, folder, noisy, backend=backend)
        paths.append(save_results(results, folder / f"{label}.npz"))
    return suite.score_clip(name, gt, paths[0], paths[1], capture_s=2.0)


def test_tables_per_clip_overall_and_held_out(tmp_path):
    runs = [fake_run(tmp_path, "a", 0.01, 0.03, 0), fake_run(tmp_path, "b", 0.02, 0.03, 1)]
    text, doc, ours, base = suite.report(runs, tuning=["a"])
    assert "a *: 20 frames, capture 2.0 s (10.0 fps); person-frames scored 40 of 40 visible" in text
    assert "overall: 2 clips" in text
    assert "held out: 1 clips not used for tuning" in text
    pa = doc["clips"]["a"]["ours"]["overall"]["pa_mpjpe_mm"]
    assert doc["clips"]["a"]["ratio"]["pa_mpjpe_mm"] == pytest.approx(
        pa / doc["clips"]["a"]["baseline"]["overall"]["pa_mpjpe_mm"]
    )
    # Overall pools the person-frames: with equal counts per clip it is the mean of the clips'.
    both = [doc["clips"][n]["ours"]["overall"]["pa_mpjpe_mm"] for n in ("a", "b")]
    assert doc["overall"]["ours"]["overall"]["pa_mpjpe_mm"] == pytest.approx(np.mean(both))
    assert doc["held_out"]["ours"]["overall"]["pa_mpjpe_mm"] == pytest.approx(both[1])
    assert doc["overall"]["baseline"]["overall"]["abs_mpjpe_mm"] is None
    json.dumps(doc)
    base_row = next(line for line in text.splitlines() if line.strip().startswith("baseline"))
    assert base_row.split()[3:5] == ["n/a", "n/a"]  # abs and depth of the baseline
    assert suite.worse_than_baseline(ours, base) is None


def test_the_gate_fails_when_ours_is_no_better(tmp_path):
    runs = [fake_run(tmp_path, "a", 0.03, 0.01, 0)]
    _text, _doc, ours, base = suite.report(runs, tuning=[])
    assert "not below the baseline's" in suite.worse_than_baseline(ours, base)


def test_the_focal_length_comes_from_the_ground_truth():
    gt = {"intrinsics": np.array([[600.0, 0, 320], [0, 600, 240], [0, 0, 1]]), "image_size": np.array([640, 480])}
    assert suite.focal_of(gt) == (600.0, [])
    gt["intrinsics"][0, 2] = 300
    assert "principal point" in suite.focal_of(gt)[1][0]


def test_main_refuses_a_missing_suite(tmp_path, capsys):
    assert suite.main(["--suite", str(tmp_path / "none")]) == 2
    assert suite.main(["--suite", str(tmp_path)]) == 2


def test_a_clip_or_tuning_name_not_in_the_suite_is_named_and_refine_wants_reuse(tmp_path, capsys):
    """Before: ``--tuning nope`` ran the whole suite with nothing held out and ``--refine`` without ``--reuse``
    captured everything afresh, both without a word."""
    for name in ("couple", "pillar"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "gt.npz").write_bytes(b"")
        (tmp_path / name / "clip.mp4").write_bytes(b"")
    clips = suite.clip_dirs(tmp_path)
    assert suite.unknown_names(clips, "couple", ["pillar"]) is None
    assert suite.unknown_names(clips, None, ["nope"]) == (
        "--tuning (or tuning.txt): no clip nope in the suite (its clips: couple, pillar)"
    )
    assert (
        suite.unknown_names(clips, "couple,cuople", [])
        == "--clips: no clip cuople in the suite (its clips: couple, pillar)"
    )
    assert suite.main(["--suite", str(tmp_path), "--refine"]) == 2
    assert "give --reuse DIR" in capsys.readouterr().err
