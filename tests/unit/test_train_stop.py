"""Ctrl-C and SIGTERM during ``ram-core train``: a checkpoint at the end of the step, one line, 130/143; the same
command resumes from that step."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("safetensors")

from ram_core.cli import main
from ram_core.train import loop


def _config(path: Path) -> Path:
    data = {"num_samples": 2, "seq_len": 3, "empty_fraction": 0.0}
    run = {"max_steps": 5, "batch_size": 2, "lr": 1e-3, "log_every": 1, "checkpoint_every": 0}
    path.write_text(json.dumps({"data": data, "loop": run}))
    return path


@pytest.mark.parametrize(("signum", "said", "code"), [(signal.SIGTERM, "SIGTERM", 143), (signal.SIGINT, "Ctrl-C", 130)])
def test_a_stopped_run_checkpoints_its_step_and_resumes_from_it(tmp_path, capsys, monkeypatch, signum, said, code):
    config, out = _config(tmp_path / "tiny.json"), tmp_path / "run"
    write = loop.MetricsWriter.write

    def write_then_signal(self, record):  # the signal lands during step 2, as SLURM's would
        write(self, record)
        if record["step"] == 2:
            os.kill(os.getpid(), signum)

    monkeypatch.setattr(loop.MetricsWriter, "write", write_then_signal)
    argv = ["train", "stage1", "--config", str(config), "--out", str(out), "--device", "cpu"]
    assert main(argv) == code
    err = capsys.readouterr().err
    saved = out / "checkpoints" / "step_00000002"
    assert f"ram-core: stopped by {said} at step 2 of 5: checkpoint {saved}; resume: ram-core train stage1" in err
    assert (saved / "ram.safetensors").is_file()

    monkeypatch.setattr(loop.MetricsWriter, "write", write)
    assert main(argv) == 0
    assert capsys.readouterr().out.strip().endswith(str(out / "checkpoints" / "step_00000005" / "ram.safetensors"))
    steps = [json.loads(s)["step"] for s in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5]  # resumed at 3: no step done twice or skipped
