"""The three stages on tiny configs and synthetic data: they fit, freeze what they say, and save loadable models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

from safetensors.torch import load_file

from ram_core.models.checkpoint import load_ram_checkpoint
from ram_core.train.config import config_from_dict
from ram_core.train.distributed import DistInfo
from ram_core.train.run import MODEL_FILE, build_task, run_stage


def _losses(run: Path) -> list[float]:
    return [json.loads(s)["loss"] for s in (run / "metrics.jsonl").read_text().splitlines()]


def _cfg(init: Path | None, steps: int, lr: float, batch: int, **extra: object):
    data = {"num_samples": batch, "seq_len": 3, **extra.pop("data", {})}
    loop = {"max_steps": steps, "batch_size": batch, "lr": lr, "log_every": 1, "checkpoint_every": 0, "grad_clip": 0}
    return config_from_dict({"init": str(init) if init else None, "data": data, "loop": loop, **extra})


@pytest.fixture(scope="module")
def stage1_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("stage1")
    run_stage("stage1", _cfg(None, 120, 2e-3, 4, data={"empty_fraction": 0.0}), out, DistInfo(), resume=None)
    return out


def test_stage1_overfits_and_saves_a_loadable_model(stage1_run: Path) -> None:
    losses = _losses(stage1_run)
    assert losses[-1] <= 0.1 * losses[0], (losses[0], losses[-1])
    model = load_ram_checkpoint(stage1_run / "checkpoints" / "step_00000120" / MODEL_FILE)
    assert model.trained == {"backbone", "thmr"}


def test_stage1_leaves_temporal_parts_and_predictor_untouched() -> None:
    task = build_task("stage1", _cfg(None, 1, 1e-3, 2))
    trainable = {n for n, p in task.model.named_parameters() if p.requires_grad}
    assert any(n.startswith("backbone.") for n in trainable)
    assert not any(n.startswith(("predictor.", "combiner.")) or "time_attn" in n for n in trainable)


@pytest.fixture(scope="module")
def stage2_run(stage1_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("stage2")
    run_stage("stage2", _stage2_cfg(stage1_run), out, DistInfo(), resume=None)
    return out


def _stage2_cfg(stage1_run: Path):
    init = stage1_run / "checkpoints" / "step_00000120" / MODEL_FILE
    return _cfg(init, 60, 1e-2, 2, stage2={"teacher_forcing_end": 1.0}, data={"pan_zoom_fraction": 1.0})


def test_stage2_predictor_fits_sequences(stage1_run: Path, stage2_run: Path) -> None:
    task = build_task("stage2", _stage2_cfg(stage1_run))
    trainable = {n.split(".")[0] for n, p in task.model.named_parameters() if p.requires_grad}
    assert trainable == {"predictor"}
    losses = _losses(stage2_run)
    assert losses[-1] <= 0.1 * losses[0], (losses[0], losses[-1])
    model = load_ram_checkpoint(stage2_run / "checkpoints" / "step_00000060" / MODEL_FILE)
    assert model.trained == {"backbone", "thmr", "predictor"}


def test_stage3_trains_only_the_combiner(stage2_run: Path, tmp_path: Path) -> None:
    init = stage2_run / "checkpoints" / "step_00000060" / MODEL_FILE
    cfg = _cfg(init, 20, 1e-2, 2, stage3={"mask_prob": 1.0}, data={"pan_zoom_fraction": 1.0})
    task = build_task("stage3", cfg)
    for name, p in task.model.named_parameters():
        assert p.requires_grad == name.startswith("combiner."), name
    before = load_file(str(init))
    out = run_stage("stage3", cfg, tmp_path, DistInfo(), resume=None)
    after = load_file(str(out / MODEL_FILE))
    assert after.keys() == before.keys()
    changed = {k for k in after if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith("combiner.") for k in changed), sorted(changed)[:5]
    losses = _losses(tmp_path)
    assert losses[-1] < losses[0]


def test_stage3_combiner_learns_to_trust_the_image(stage1_run: Path, tmp_path: Path) -> None:
    # Untrained Predictor, unmasked frames: the fused token is only good once the gate opens.
    init = stage1_run / "checkpoints" / "step_00000120" / MODEL_FILE
    cfg = _cfg(init, 40, 3e-2, 2, stage3={"mask_prob": 0.0}, data={"pan_zoom_fraction": 1.0})
    run_stage("stage3", cfg, tmp_path, DistInfo(), resume=None)
    records = [json.loads(s) for s in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["loss"] <= 0.1 * records[0]["loss"], (records[0]["loss"], records[-1]["loss"])
    assert records[-1]["gate"] > 0.9 > records[0]["gate"]


def test_a_missing_config_is_named_plainly(tmp_path):
    from ram_core.train.config import TrainConfigError, load_config

    with pytest.raises(TrainConfigError, match=r"c.json: no such file \(the training config; see docs/training.md\)$"):
        load_config(tmp_path / "c.json")


@pytest.mark.parametrize(
    ("section", "key", "value", "said"),
    [
        ("loop", "batch_size", -1, "loop.batch_size is -1; it must be at least 1"),
        ("loop", "log_every", 0, "loop.log_every is 0; it must be at least 1"),
        ("loop", "lr", 0.0, "loop.lr is 0.0; it must be above 0"),
        ("data", "seq_len", 1, "data.seq_len is 1; it must be at least 2"),
    ],
)
def test_a_count_that_cannot_be_is_refused_in_one_line(section, key, value, said):
    """Before: ``"batch_size": -1`` trained without a line for minutes and SIGTERM could not stop it."""
    from ram_core.train.config import TrainConfigError

    with pytest.raises(TrainConfigError, match=f"^config: {said}$"):
        config_from_dict({section: {key: value}})


def test_wrong_train_inputs_are_one_line_each(tmp_path, capsys, monkeypatch):
    """Before: a missing --init file was "its config nope.json is missing beside it", --device cuda without a
    GPU a 20-line traceback about NVIDIA drivers, and an --out that is a file "File exists"."""
    from ram_core.cli import main

    config = tmp_path / "c.json"
    config.write_text('{"model": "tiny", "loop": {"max_steps": 1}}')
    argv = ["train", "stage1", "--config", str(config), "--out"]
    assert main([*argv, str(tmp_path / "run"), "--init", str(tmp_path / "nope.safetensors")]) == 1
    assert capsys.readouterr().err == (
        f"ram-core: error: {tmp_path / 'nope.safetensors'}: no such file (the initial weights, --init or the "
        "config's init)\n"
    )
    assert main([*argv, str(config)]) == 1
    assert (
        capsys.readouterr().err
        == f"ram-core: error: --out {config}: is a file; give the run's folder (made if needed)\n"
    )
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main([*argv, str(tmp_path / "run"), "--device", "cuda"]) == 1
    assert capsys.readouterr().err == (
        "ram-core: error: --device cuda: torch sees no CUDA GPU here; give --device cpu (or auto)\n"
    )
    assert not (tmp_path / "run").exists()
