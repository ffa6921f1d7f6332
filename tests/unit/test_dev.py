"""tools/dev.py, the two commands' driver: what a newcomer sees when an environment cannot be made."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def dev(monkeypatch):
    spec = importlib.util.spec_from_file_location("ram_dev_tool", ROOT / "tools" / "dev.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_a_failed_pip_install_is_one_line_and_leaves_no_half_made_environment(dev, tmp_path, monkeypatch):
    """Before: subprocess's CalledProcessError traceback (no network, no wheel, Debian without python3.x-venv)."""
    ran = []

    def run(cmd, check, env):
        ran.append(cmd)
        (tmp_path / "env").mkdir(exist_ok=True)
        return subprocess.CompletedProcess(cmd, 0 if len(ran) == 1 else 1)  # venv works, pip fails

    monkeypatch.setattr(dev.subprocess, "run", run)
    with pytest.raises(SystemExit) as e:
        dev._create_env(dev.LINT, sys.executable, tmp_path / "env")
    assert str(e.value) == (
        "[dev] creating environment lint failed at 'pip install -r requirements/lint.txt' (exit 1); the lines "
        "above say why: run the command again once that is fixed"
    )
    assert len(ran) == 2 and not (tmp_path / "env").exists()
