"""Preferences actions: set up the managed worker environment; convert an SMPL .pkl to .npz."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import bpy

from .. import preferences
from ..pythons import find_python

WHEELS = Path(__file__).resolve().parent.parent / "wheels"
# Runs in the worker's Python: the converter reads the pickle with a restricted unpickler.
_CONVERT = (
    "import sys; from ram_core.body.smpl_convert import convert_smpl_pkl; convert_smpl_pkl(sys.argv[1], sys.argv[2])"
)


# MediaPipe 0.10.14 (whose wheel carries the lite backend's weights) has wheels for these Pythons only.
WORKER_PYTHONS = ("3.12", "3.11", "3.10")


class NoBasePython(RuntimeError):
    """No Python that the worker's packages support was found to build the managed environment from."""


def find_base_python(search_path: str | None = None) -> str:
    """A Python 3.10-3.12 to create the worker environment from: Blender's own if it qualifies, else one on PATH
    or pyenv's (``search_path``: see :func:`~ram_blender.pythons.find_python`).

    Blender 5.1 and newer bundle Python 3.13, for which MediaPipe 0.10.14 has no wheel.
    """
    if f"{sys.version_info[0]}.{sys.version_info[1]}" in WORKER_PYTHONS:
        return sys.executable
    found = next((p for v in WORKER_PYTHONS if (p := find_python(v, search_path))), None)
    if found is None:
        raise NoBasePython(
            f"the worker needs Python {', '.join(WORKER_PYTHONS)} (MediaPipe has no wheel for Blender's Python "
            f"{sys.version_info[0]}.{sys.version_info[1]}); install one (e.g. python3.11) or set the worker "
            "Python in the add-on preferences"
        )
    return found


def setup_commands(env_dir: Path, python: str | None = None) -> list[list[str]]:
    """The commands that create the managed environment and install ram_core with the lite backend."""
    python = python or find_base_python()
    wheels = sorted(WHEELS.glob("ram_core-*.whl"))
    target = f"{wheels[-1]}[lite]" if wheels else "ram-core[lite]"
    env_python = str(preferences.managed_python())
    return [[python, "-m", "venv", str(env_dir)], [env_python, "-m", "pip", "install", "--upgrade", target]]


class RAM_OT_setup_worker_env(bpy.types.Operator):
    """Create the add-on's own Python environment for the capture worker (downloads packages from PyPI)"""

    bl_idname = "ram.setup_worker_env"
    bl_label = "Set Up Worker Environment"

    _procs: list[list[str]] = []
    _proc: subprocess.Popen | None = None
    _timer = None

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return bpy.app.online_access

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            self._procs = setup_commands(preferences.managed_env_dir())
        except NoBasePython as e:
            self.report({"ERROR"}, f"Cannot set up the worker environment: {e}")
            return {"CANCELLED"}
        self._next()
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.5, window=context.window)
        wm.modal_handler_add(self)
        self.report({"INFO"}, "Setting up the worker environment...")
        return {"RUNNING_MODAL"}

    def _next(self) -> None:
        self._proc = subprocess.Popen(self._procs.pop(0), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def modal(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        proc = self._proc
        assert proc is not None  # started in invoke
        if event.type != "TIMER" or proc.poll() is None:
            return {"PASS_THROUGH"}
        output = proc.stdout.read() if proc.stdout else ""
        if proc.returncode == 0 and self._procs:
            self._next()
            return {"PASS_THROUGH"}
        context.window_manager.event_timer_remove(self._timer)
        if proc.returncode != 0:
            tail = output.strip().splitlines()[-1:] or ["no output"]
            self.report({"ERROR"}, f"Worker environment setup failed: {tail[0]}")
            return {"CANCELLED"}
        self.report({"INFO"}, f"Worker environment ready: {preferences.managed_python()}")
        return {"FINISHED"}


class RAM_OT_convert_smpl(bpy.types.Operator):
    """Convert the SMPL model preference from .pkl to .npz (once; runs in the worker's Python)"""

    bl_idname = "ram.convert_smpl"
    bl_label = "Convert SMPL .pkl"

    def execute(self, context: bpy.types.Context) -> set[str]:
        s = preferences.settings(context)
        src = Path(s.smpl_model)
        if src.suffix.lower() != ".pkl":
            self.report({"INFO"}, "The SMPL model is not a .pkl; nothing to convert")
            return {"CANCELLED"}
        dst = src.with_suffix(".npz")
        try:
            python = preferences.worker_python(s)
            subprocess.run([python, "-c", _CONVERT, str(src), str(dst)], check=True, capture_output=True, text=True)
        except preferences.NoWorkerPython as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        except subprocess.CalledProcessError as e:
            self.report({"ERROR"}, f"Conversion failed: {(e.stderr or '').strip().splitlines()[-1:]}")
            return {"CANCELLED"}
        context.preferences.addons[__package__.rpartition(".")[0]].preferences.smpl_model = str(dst)
        self.report({"INFO"}, f"Converted to {dst}")
        return {"FINISHED"}
