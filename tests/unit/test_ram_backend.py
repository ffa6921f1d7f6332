"""The ``ram`` backend on test-size networks (SAM2.1 at 128 px, tiny T-HMR) with weight files the tests
write in the official formats, in-process and through the real worker and ``ram-core capture``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sam2")
pytest.importorskip("safetensors")

from ram_core.backends.base import camera_intrinsics
from ram_core.backends.ram.backend import RamBackend
from ram_core.backends.ram.config import CONFIG_ENV, RamBackendConfig, RamConfigError
from ram_core.backends.ram.pipeline import build_pipeline
from ram_core.cli import main
from ram_core.contract.options import CaptureOptions
from ram_core.contract.results import load_results
from ram_core.contract.skeleton import forward_kinematics
from ram_core.contract.smpl_model import default_rest_joints, load_smpl_model, smpl_rest_joints
from ram_core.models import FrameOutput, PersonOutput, RamConfig, build_ram, save_ram_checkpoint
from ram_core.models.checkpoint import hmr2_key_map
from ram_core.tracking.segfollow import Sam2Architecture, build_sam2
from ram_core.video import VideoInfo
from ram_core.weights import MissingWeightsError
from tests.conftest import CLIP
from tests.fixtures.smpl import make_test_smpl_npz
from tests.fixtures.tiny_ram_backend import SPEC as TINY_RAM
from tests.fixtures.tiny_ram_backend import TINY

W, H = 160, 120
BOXES = np.array([[10.0, 10.0, 50.0, 100.0], [60.0, 15.0, 100.0, 110.0], [110.0, 5.0, 150.0, 100.0]])
ALL_PARTS = frozenset({"backbone", "thmr", "predictor", "combiner"})


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    """A weights folder with test-size files under the official names, in the official formats."""
    d = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    torch.save({"model": build_sam2(Sam2Architecture.tiny()).state_dict()}, d / "sam2.1_hiera_tiny.pt")
    model = build_ram(RamConfig.tiny())
    with torch.no_grad():  # trained-looking Predictor and Combiner (their output projections start at zero)
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    ours = model.state_dict()
    hmr2 = {theirs: ours[name] for name, theirs in hmr2_key_map(model.cfg).items()}
    hmr2["smpl.body_pose_mean"] = torch.zeros(69)  # an ignored SMPL buffer, as in the release
    torch.save({"state_dict": hmr2, "hyper_parameters": {"lr": 1e-5}}, d / "hmr2_epoch35.ckpt")
    save_ram_checkpoint(model, d / "ram.safetensors", trained=ALL_PARTS)
    return d


class NoDetector:
    """Births only from the detections a test passes."""

    def detect(self, image_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros((0, 4)), np.zeros(0)


def config(weights: Path, **kw) -> RamBackendConfig:
    return RamBackendConfig(weights_dir=str(weights), sam2="tiny", device="cpu", **kw)


def write_config(path: Path, cfg: RamBackendConfig) -> Path:
    path.write_text(json.dumps(cfg.to_dict()))
    return path


def test_config_comes_from_the_file_the_environment_names(tmp_path, monkeypatch, weights):
    monkeypatch.setenv(CONFIG_ENV, str(write_config(tmp_path / "c.json", config(weights, regressor="ram"))))
    assert RamBackendConfig.from_options(CaptureOptions()) == config(weights, regressor="ram")
    assert RamBackend(CaptureOptions()).cfg.regressor == "ram"
    # The user's device and weights folder (the add-on's preferences) apply unless the file names them.
    chosen = CaptureOptions(device="cuda:1", weights_dir="/w")
    assert RamBackendConfig.from_options(chosen).device == "cpu"
    (tmp_path / "nodevice.json").write_text(json.dumps({"sam2": "large"}))
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "nodevice.json"))
    assert RamBackendConfig.from_options(chosen) == RamBackendConfig(sam2="large", device="cuda:1", weights_dir="/w")
    monkeypatch.delenv(CONFIG_ENV)
    assert RamBackendConfig.from_options(chosen) == RamBackendConfig(device="cuda:1", weights_dir="/w")
    (tmp_path / "bad.json").write_text(json.dumps({"sam2": "tiny", "gpu": True}))
    with pytest.raises(RamConfigError, match=r"unknown keys \['gpu'\]"):
        RamBackendConfig.from_file(tmp_path / "bad.json")
    with pytest.raises(RamConfigError, match="mode 'later'"):
        RamBackendConfig(mode="later")


def test_every_person_of_a_frame_goes_through_the_regressor_as_one_batch(weights):
    k, _ = camera_intrinsics(W, H)
    pipeline = build_pipeline(config(weights, regressor="ram"), k, detector=NoDetector(), architectures=TINY)
    batches: list[int] = []
    encode = pipeline.regressor.model.encode
    pipeline.regressor.model.encode = lambda crops: (batches.append(crops.shape[0]), encode(crops))[1]
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (H, W, 3), dtype=np.uint8) for _ in range(3)]
    first = pipeline.step(0, frames[0], (BOXES, np.full(3, 0.9)))
    assert first.tracks.born == (1, 2, 3)
    assert batches == [3] and len(first.outputs) == 1
    assert [p.track_id for p in first.outputs[0].people] == [1, 2, 3]
    assert pipeline.regressor.fuse  # trained Predictor and Combiner: coasting people are filled in too
    backend = RamBackend(CaptureOptions(), config(weights, regressor="ram"))
    filled = 0
    for i in (1, 2):
        step = pipeline.step(i, frames[i])
        assert batches[-1] == len(step.tracks.people) == 3
        assert [o.index for o in step.outputs] == [i]
        records = backend.records(step.outputs)
        unseen = {p.track_id for p in step.tracks.people if not p.observed}
        assert all(r["predicted"] for r in records if r["track_id"] in unseen)
        filled += len(unseen)
    assert filled > 0  # random SAM2 weights lose people: the Combiner fills them in


def _person(track_id: int, frame: int, visibility: float, predicted: bool, rng) -> PersonOutput:
    return PersonOutput(
        track_id=track_id,
        frame=frame,
        global_orient=rng.normal(size=3).astype(np.float32),
        body_pose=rng.normal(scale=0.3, size=(23, 3)).astype(np.float32),
        betas=rng.normal(size=10).astype(np.float32),
        transl=np.array([0.1, 0.2, 4.0], np.float32),
        cam=np.array([0.9, 0.0, 0.0], np.float32),
        box=np.array([1, 2, 30, 60], np.float32),
        visibility=visibility,
        gate=0.3 if predicted else 0.9,
        predicted=predicted,
    )


def test_records_flag_filled_frames_and_pose_joints_with_the_shaped_smpl_skeleton(tmp_path, weights):
    rng = np.random.default_rng(3)
    outputs = [
        FrameOutput(7, (_person(1, 7, 0.8, False, rng), _person(2, 7, 0.0, False, rng), _person(3, 7, 0.9, True, rng)))
    ]
    plain = RamBackend(CaptureOptions(), config(weights))
    rec = plain.records(outputs)
    assert rec["predicted"].tolist() == [False, True, True]  # unseen by the tracker, or the gate chose the prediction
    assert np.allclose(rec["confidence"], [0.8, 0.0, 0.0])
    assert not plain.betas_fitted and np.all(rec["betas"] == 0)
    joints, _ = forward_kinematics(rec["global_orient"], rec["body_pose"], default_rest_joints(), rec["transl"])
    assert np.allclose(rec["joints"], joints, atol=1e-5)

    make_test_smpl_npz(tmp_path / "smpl.npz", num_betas=10)
    body = load_smpl_model(tmp_path / "smpl.npz")
    shaped = RamBackend(CaptureOptions(smpl_model=str(tmp_path / "smpl.npz")), config(weights))
    rec = shaped.records(outputs)
    assert shaped.betas_fitted and shaped.rest_source.startswith("smpl:")
    assert np.allclose(shaped.rest_joints, smpl_rest_joints(body))
    assert np.allclose(rec["betas"], [p.betas for p in outputs[0].people], atol=1e-6)
    for i, p in enumerate(outputs[0].people):
        rest = smpl_rest_joints(body, p.betas)
        want, _ = forward_kinematics(p.global_orient[None], p.body_pose[None], rest, p.transl[None])
        assert np.allclose(rec["joints"][i], want[0], atol=1e-5)
    assert not np.allclose(rec["joints"][0], plain.records(outputs)["joints"][0], atol=1e-3)  # the shape mattered


def test_bfloat16_autocast_gives_float32_outputs(weights):
    k, _ = camera_intrinsics(W, H)
    pipeline = build_pipeline(
        config(weights, regressor="hmr2", dtype="bfloat16"), k, detector=NoDetector(), architectures=TINY
    )
    frame = np.random.default_rng(1).integers(0, 255, (H, W, 3), dtype=np.uint8)
    step = pipeline.step(0, frame, (BOXES[:2], np.full(2, 0.9)))
    people = step.outputs[0].people
    assert len(people) == 2
    assert all(p.body_pose.dtype == np.float32 and np.all(np.isfinite(p.body_pose)) for p in people)


def _valid_rotations(aa: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(aa)) and np.all(np.linalg.norm(aa, axis=-1) <= np.pi + 1e-4))


@pytest.mark.parametrize("regressor", ["hmr2", "ram"])
def test_capture_end_to_end_through_the_worker(tmp_path, monkeypatch, weights, regressor, worker_env):
    pytest.importorskip("mediapipe")  # births come from the lite detector without the torchvision file
    monkeypatch.setenv("PYTHONPATH", worker_env["PYTHONPATH"])  # the worker imports the tiny backend
    monkeypatch.setenv(CONFIG_ENV, str(write_config(tmp_path / "c.json", config(weights, regressor=regressor))))
    smpl = tmp_path / "smpl.npz"
    make_test_smpl_npz(smpl)
    out = tmp_path / "out.npz"
    args = ["capture", str(CLIP), "-o", str(out), "--backend", TINY_RAM, "--end", "5"]
    assert main(args + (["--smpl", str(smpl)] if regressor == "ram" else [])) == 0
    results = load_results(out)
    meta = results.meta
    assert meta.backend == "ram" and (meta.frame_start, meta.frame_end) == (0, 5)
    assert meta.betas_fitted == (regressor == "ram")
    assert results.tracks, "the lite detector finds the clip's pedestrians on the first keyframe"
    for t in results.tracks:
        n = len(t.frame)
        assert t.global_orient.shape == (n, 3) and t.body_pose.shape == (n, 23, 3) and t.joints.shape == (n, 24, 3)
        assert _valid_rotations(t.global_orient) and _valid_rotations(t.body_pose)
        assert np.all(np.isfinite(t.transl)) and np.all(t.transl[:, 2] > 0)
        assert np.all(np.diff(t.frame) > 0) and t.frame.min() >= 0 and t.frame.max() < 5
        assert np.all(t.confidence[t.predicted] == 0) and not t.predicted[-1]


def test_a_missing_checkpoint_is_one_clear_error_and_exit_code_1(tmp_path, monkeypatch, capsys, weights):
    empty = tmp_path / "empty"
    empty.mkdir()
    cfg = RamBackendConfig(weights_dir=str(empty), sam2="small", device="cpu")
    with pytest.raises(MissingWeightsError) as err:
        RamBackend(CaptureOptions(), cfg).open(VideoInfo(str(CLIP), 10.0, W, H, 5), camera_intrinsics(W, H)[0], True)
    text = str(err.value)
    for part in ("sam2.1_hiera_small.pt", "about 176 MiB", "sha256", "dl.fbaipublicfiles.com", "hmr2_epoch35.ckpt"):
        assert part in text
    assert "\n" not in text  # the worker reports the first line

    monkeypatch.setenv(CONFIG_ENV, str(write_config(tmp_path / "c.json", cfg)))
    out = tmp_path / "out.npz"
    assert main(["capture", str(CLIP), "-o", str(out), "--backend", "ram", "--end", "5"]) == 1
    err_text = capsys.readouterr().err
    assert "sam2.1_hiera_small.pt" in err_text and "about 176 MiB" in err_text
    assert "MissingWeightsError" not in err_text  # a plain line, not the exception's class
    assert "ram-core weights fetch sam2.1-small" in err_text
    assert not out.exists()
