"""Add-on preferences: the worker's Python, weights, the SMPL model, default backend and device."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import bpy

from ram_core.contract.options import CaptureOptions

from . import setup_job
from .importer.build import BODY_ITEMS

WORKER_PYTHON_ENV = "RAM_WORKER_PYTHON"
BACKEND_ITEMS = [
    ("lite", "Lite (CPU)", "MediaPipe-based capture that runs on any CPU"),
    ("ram", "RAM", "The full RAM method (torch; a GPU helps)"),
]
DEVICE_ITEMS = [
    ("auto", "Automatic", "A GPU when the worker finds one, else the CPU"),
    ("cpu", "CPU", "Always the CPU"),
    ("cuda", "CUDA", "An NVIDIA GPU"),
]


class NoWorkerPython(RuntimeError):
    """No Python to run the capture worker has been chosen or set up."""


@dataclass(frozen=True)
class Settings:
    """The preferences as plain values (defaults when the add-on runs without being enabled)."""

    worker_python: str = ""
    weights_dir: str = ""
    smpl_model: str = ""
    body: str = "open"
    ground_plane: bool = True
    backend: str = "lite"
    device: str = "auto"


def managed_env_dir() -> Path:
    """Where the add-on's own worker environment lives (the extension's user folder)."""
    try:
        return Path(bpy.utils.extension_path_user(__package__, path="worker-env"))
    except (ValueError, AttributeError):  # not running as an installed extension
        return Path(bpy.utils.user_resource("SCRIPTS", path="ram_worker_env"))


def managed_python() -> Path:
    env = managed_env_dir()
    return env / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def managed_state() -> str:
    """'ready' only once a setup ran to the end, its import check included (see ``setup_job``)."""
    if managed_env_dir() in setup_job.RUNNING:
        return "setting up (progress in the status bar; Esc cancels)"
    if setup_job.is_ready(managed_env_dir()):
        return "ready"
    return "incomplete: set it up again" if managed_python().exists() else "not set up"


class RAM_AddonPreferences(bpy.types.AddonPreferences):
    bl_idname = __package__

    worker_python: bpy.props.StringProperty(
        name="Worker Python",
        description="Python interpreter that runs the capture worker (empty: the add-on's own environment)",
        subtype="FILE_PATH",
    )
    weights_dir: bpy.props.StringProperty(name="Weights folder", subtype="DIR_PATH")
    smpl_model: bpy.props.StringProperty(
        name="SMPL model",
        description="SMPL body model (.npz; a .pkl is converted once). Adds a skinned body per person",
        subtype="FILE_PATH",
    )
    body: bpy.props.EnumProperty(
        name="Body", description="The body each person gets without an SMPL model", items=BODY_ITEMS, default="open"
    )
    ground_plane: bpy.props.BoolProperty(
        name="Ground plane",
        description="Add a floor plane (a Cycles shadow catcher) under captures with a solved scene",
        default=True,
    )
    backend: bpy.props.EnumProperty(name="Default backend", items=BACKEND_ITEMS, default="lite")
    device: bpy.props.EnumProperty(name="Device", items=DEVICE_ITEMS, default="auto")

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        col = layout.column()
        col.prop(self, "worker_python")
        row = col.row()
        row.label(text=f"Managed environment: {managed_state()} ({managed_env_dir()})")
        row = col.row()
        row.enabled = bpy.app.online_access
        row.operator("ram.setup_worker_env", icon="CONSOLE")
        if not bpy.app.online_access:
            col.label(text="Setting up the environment needs online access (Preferences > System)", icon="INFO")
        col.prop(self, "weights_dir")
        col.prop(self, "smpl_model")
        col.operator("ram.convert_smpl", icon="FILE_REFRESH")
        col.prop(self, "body")
        col.prop(self, "ground_plane")
        col.prop(self, "backend")
        col.prop(self, "device")


def settings(context: bpy.types.Context | None = None) -> Settings:
    """Current preferences, or defaults when the add-on is imported rather than enabled."""
    context = context or bpy.context
    addon = context.preferences.addons.get(__package__)
    if addon is None:
        return Settings()
    p = addon.preferences
    return Settings(
        worker_python=bpy.path.abspath(p.worker_python) if p.worker_python else "",
        weights_dir=bpy.path.abspath(p.weights_dir) if p.weights_dir else "",
        smpl_model=bpy.path.abspath(p.smpl_model) if p.smpl_model else "",
        body=p.body,
        ground_plane=p.ground_plane,
        backend=p.backend,
        device=p.device,
    )


def worker_python(s: Settings) -> str:
    """The worker interpreter: ``$RAM_WORKER_PYTHON``, else the preference, else the managed environment."""
    for candidate in (os.environ.get(WORKER_PYTHON_ENV, ""), s.worker_python):
        if candidate:
            if not Path(candidate).exists():
                raise NoWorkerPython(f"{candidate}: no such file (the worker Python)")
            return candidate
    managed = managed_python()
    if managed.exists() and setup_job.is_ready(managed_env_dir()):
        return str(managed)
    if managed.exists():
        raise NoWorkerPython(
            "the add-on's worker environment is not ready (its setup did not finish): press "
            "'Set Up Worker Environment' in the add-on preferences again"
        )
    headless = (
        " (without a window: ram_capture --python PATH, $RAM_WORKER_PYTHON, or set it up with blender -b "
        '--online-mode --python-expr "import bpy; bpy.ops.ram.setup_worker_env()")'
    )
    raise NoWorkerPython(
        "no worker Python: set one in the add-on preferences, or press 'Set Up Worker Environment' there"
        + (headless if bpy.app.background else "")
    )


def capture_options(s: Settings) -> CaptureOptions:
    """The capture options the preferences set (backend, SMPL model, device, weights folder); the
    operator and ``ram_capture`` replace the rest (frames, people, focal length) with what the user gave."""
    return CaptureOptions(
        backend=s.backend,
        smpl_model=s.smpl_model or None,
        device=s.device,
        weights_dir=s.weights_dir or None,
    )
