"""The shared training loop on a toy stage: resume is bit-for-bit, and 2-process DDP (gloo) agrees, also on
when to stop."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

from safetensors.torch import load_file, save_file
from torch import nn

from ram_core.train.distributed import DistInfo
from ram_core.train.loop import LoopConfig, StageTask, seed_everything, train
from ram_core.train.sampling import StepBatches


class _ToyData(torch.utils.data.Dataset):
    """y = x @ w_true + noise, deterministic per index."""

    def __init__(self, n: int = 64) -> None:
        rng = np.random.default_rng(7)
        self.x = rng.normal(size=(n, 4)).astype(np.float32)
        self.y = (self.x @ np.array([1.0, -2.0, 0.5, 3.0], dtype=np.float32))[:, None]

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, np.ndarray]:
        return {"x": self.x[i], "y": self.y[i]}


def _collate(items: list[dict[str, np.ndarray]]) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(np.stack([it[k] for it in items])) for k in items[0]}


class _ToyStep(nn.Module):
    """Dropout (global RNG) plus per-step noise (step generator): both must replay on resume."""

    def __init__(self) -> None:
        super().__init__()
        self.model = nn.Sequential(nn.Linear(4, 16), nn.Dropout(0.2), nn.ReLU(), nn.Linear(16, 1))
        self.aux = nn.Linear(1, 1)

    def forward(self, batch: dict[str, torch.Tensor], gen: torch.Generator, step: int):
        noise = torch.randn(batch["x"].shape, generator=gen) * 0.01
        pred = self.model(batch["x"] + noise)
        loss = ((pred - batch["y"]) ** 2).mean() + 1e-3 * self.aux(pred).pow(2).mean()
        return loss, {"mse": loss.detach()}


def _save(model: nn.Module, path: Path) -> None:
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path / "model.safetensors"))


def _load(model: nn.Module, path: Path) -> None:
    model.load_state_dict(load_file(str(path / "model.safetensors")), strict=True)


def _task() -> StageTask:
    seed_everything(0)
    step = _ToyStep()
    return StageTask(step, step.model, step.aux, _ToyData(), _collate, _save, _load)


def test_step_batches_resume_at_any_step() -> None:
    full = StepBatches(10, 3, seed=1)
    it = iter(full)
    first = [next(it) for _ in range(7)]  # crosses an epoch (3 batches per epoch)
    later = iter(StepBatches(10, 3, seed=1, start_step=4))
    assert [next(later) for _ in range(3)] == first[4:7]
    assert first[:3] != first[3:6]  # each epoch has its own order


def test_training_reduces_loss_and_logs(tmp_path: Path) -> None:
    cfg = LoopConfig(max_steps=60, batch_size=16, lr=1e-2, log_every=10, checkpoint_every=0)
    ckpt = train(_task(), cfg, tmp_path, DistInfo())
    lines = [json.loads(s) for s in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == [10, 20, 30, 40, 50, 60]
    assert lines[-1]["loss"] < 0.5 * lines[0]["loss"]
    assert ckpt == tmp_path / "checkpoints" / "step_00000060"
    assert (ckpt / "model.safetensors").is_file() and (ckpt / "train_state.json").is_file()


def test_resume_is_bit_for_bit(tmp_path: Path) -> None:
    cfg = LoopConfig(max_steps=12, batch_size=8, lr=1e-2, warmup_steps=3, schedule="cosine", checkpoint_every=5)
    straight = train(_task(), cfg, tmp_path / "a", DistInfo(), resume=None)
    # Interrupted run: stops at 5 (a checkpoint); a rebuilt task resumes from it to 12.
    train(_task(), cfg, tmp_path / "b", DistInfo(), resume=None, until_step=5)
    seed_everything(123)  # the resumed run must not depend on the new process's RNG
    resumed = train(_task(), cfg, tmp_path / "b", DistInfo(), resume="auto")
    a = load_file(str(straight / "model.safetensors"))
    b = load_file(str(resumed / "model.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    sa = load_file(str(straight / "train_state.safetensors"))
    sb = load_file(str(resumed / "train_state.safetensors"))
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k
    ma = [json.loads(s) for s in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    mb = [json.loads(s) for s in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert [r["loss"] for r in ma] == [r["loss"] for r in mb]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_worker(rank: int, world: int, port: int, out: str) -> None:
    import os

    os.environ.update(
        {
            "RANK": str(rank),
            "WORLD_SIZE": str(world),
            "LOCAL_RANK": str(rank),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
        }
    )
    from ram_core.train.distributed import init_distributed, shutdown_distributed

    torch.set_num_threads(1)
    info = init_distributed("cpu")
    task = _task()
    before = {k: v.clone() for k, v in task.model.state_dict().items()}
    asked: list[int] = []

    def stop_on_rank1_after_two() -> bool:  # a signal that reached one rank only: both must stop together
        asked.append(1)
        return rank == 1 and len(asked) >= 2

    cfg = LoopConfig(max_steps=4, batch_size=4, lr=1e-2, log_every=1)
    train(task, cfg, Path(out), info, resume=None, should_stop=stop_on_rank1_after_two)
    weights = {k: v.contiguous() for k, v in task.model.state_dict().items()}
    moved = any(not torch.equal(before[k], weights[k]) for k in weights)
    save_file({**weights, "moved": torch.tensor(int(moved))}, str(Path(out) / f"rank{rank}.safetensors"))
    shutdown_distributed()


def test_ddp_two_processes_agree(tmp_path: Path) -> None:
    mp = pytest.importorskip("torch.multiprocessing")
    mp.spawn(_ddp_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    r0 = load_file(str(tmp_path / "rank0.safetensors"))
    r1 = load_file(str(tmp_path / "rank1.safetensors"))
    assert r0.pop("moved").item() == 1 and r1.pop("moved").item() == 1
    for k in r0:
        assert torch.equal(r0[k], r1[k]), k
    lines = [json.loads(s) for s in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == [1, 2]
    assert [p.name for p in (tmp_path / "checkpoints").glob("step_*")] == ["step_00000002"]
