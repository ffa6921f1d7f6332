"""Preferences actions: set up the managed worker environment; convert an SMPL .pkl to .npz."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import bpy

from .. import preferences, setup_job
from ..headless import run_to_end
from ..pythons import find_python
from ..setup_job import CHECK_IMPORTS, SetupJob, SetupStatus

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


def env_python(env_dir: Path) -> Path:
    return Path(env_dir) / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def setup_commands(env_dir: Path, python: str | None = None) -> list[list[str]]:
    """The commands that create the environment at ``env_dir``, install ram_core with the lite backend, and
    check that the worker's modules import there (the setup is ready only after that)."""
    python = python or find_base_python()
    wheels = sorted(WHEELS.glob("ram_core-*.whl"))
    target = f"{wheels[-1]}[lite]" if wheels else "ram-core[lite]"
    new_python = str(env_python(env_dir))
    return [
        [python, "-m", "venv", str(env_dir)],
        [new_python, "-m", "pip", "install", "--progress-bar", "off", "--upgrade", target],
        [new_python, "-c", CHECK_IMPORTS],
    ]


def setup_message(status: SetupStatus, python: Path, log_path: Path) -> tuple[str, str]:
    """The report level and line for a setup that ended: failed, cancelled or ready."""
    if status.error:
        return "ERROR", f"Worker environment setup failed: {status.error} (log: {log_path})"
    if status.cancelled:
        return "WARNING", f"Worker environment setup cancelled at step {status.step} of {status.total}: not ready"
    return "INFO", f"Worker environment ready: {python}"


class RAM_OT_setup_worker_env(bpy.types.Operator):
    """Create the add-on's own Python environment for the capture worker (downloads packages from PyPI;
    Esc cancels)"""

    bl_idname = "ram.setup_worker_env"
    bl_label = "Set Up Worker Environment"

    _job: SetupJob | None = None
    _timer = None

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        # The message is the greyed button's tooltip, and the headless call's error instead of Blender's
        # "poll() failed, context is incorrect".
        if not bpy.app.online_access:
            cls.poll_message_set(  # Blender cuts a poll message at about 200 characters
                "Allow Online Access is off (the setup downloads from PyPI): turn it on in Preferences > System, "
                "or blender --online-mode, or preferences.system.use_online_access = True"
            )
            return False
        if preferences.managed_env_dir() in setup_job.RUNNING:
            cls.poll_message_set("the worker environment is being set up (progress in the status bar)")
            return False
        return True

    def execute(self, context: bpy.types.Context) -> set[str]:
        env_dir = preferences.managed_env_dir()
        try:
            commands = setup_commands(env_dir)
            self._job = SetupJob(commands, env_dir, setup_log_path(env_dir))
        except (NoBasePython, OSError) as e:
            self.report({"ERROR"}, f"Cannot set up the worker environment: {e}")
            return {"CANCELLED"}
        if bpy.app.background:  # no event loop runs a modal operator: set up here (Ctrl+C cancels)
            self.report({"INFO"}, f"Setting up the worker environment (log: {self._job.log_path}; Ctrl+C cancels)")
            return self._end(context, run_to_end(self._job, lambda status: status.finished, poll_s=0.2))
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.2, window=context.window)
        wm.modal_handler_add(self)
        wm.progress_begin(0, 100)
        self.report({"INFO"}, f"Setting up the worker environment (log: {self._job.log_path}; Esc cancels)")
        return {"RUNNING_MODAL"}

    def modal(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        job = self._job
        assert job is not None  # set in execute, cleared only by _end
        if event.type == "ESC" and event.value == "PRESS":
            job.cancel()
        elif event.type != "TIMER":
            return {"PASS_THROUGH"}
        status = job.step()
        context.window_manager.progress_update(100.0 * status.fraction)
        if context.workspace is not None:
            line = status.line[:90]
            context.workspace.status_text_set(f"RAM setup {status.step}/{status.total}: {line}  (Esc to cancel)")
        if not status.finished:
            return {"PASS_THROUGH"}
        return self._end(context, status)

    def cancel(self, context: bpy.types.Context) -> None:
        if self._job is not None:
            self._job.cancel()
            self._end(context, self._job.step())

    def _end(self, context: bpy.types.Context, status: SetupStatus) -> set[str]:
        job = self._job
        assert job is not None
        job.close()
        self._job = None
        wm = context.window_manager
        if self._timer is not None:
            wm.event_timer_remove(self._timer)
            self._timer = None
            wm.progress_end()
        if context.workspace is not None:
            context.workspace.status_text_set(None)
        level, text = setup_message(status, env_python(job.env_dir), job.log_path)
        self.report({level}, text)
        return {"FINISHED"} if level == "INFO" else {"CANCELLED"}


def setup_log_path(env_dir: Path) -> Path:
    """The setup's log, beside the environment (so a failed setup that removed nothing still has it)."""
    return Path(env_dir).parent / "ram-worker-setup.log"


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
