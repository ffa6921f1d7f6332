"""Blender tests run in the real ``bpy`` module, imported once per pytest process.

Blender's user folders (config, extensions) are pointed at a temporary directory before ``bpy`` is
imported, so no test touches the real user's Blender setup.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

os.environ["BLENDER_USER_RESOURCES"] = tempfile.mkdtemp(prefix="ram-blender-user-")
atexit.register(shutil.rmtree, os.environ["BLENDER_USER_RESOURCES"], ignore_errors=True)  # left one per run before
sys.path.insert(0, str(Path(__file__).resolve().parent))

bpy = pytest.importorskip("bpy")


@pytest.fixture(scope="session")
def addon():
    """``ram_blender`` registered for the whole session (the register test does its own cycle)."""
    import ram_blender

    ram_blender.register()
    yield ram_blender
    ram_blender.unregister()


@pytest.fixture
def empty_scene(addon):
    """A fresh, empty file with the add-on registered."""
    bpy.ops.wm.read_homefile(use_empty=True)
    return bpy.context.scene


@pytest.fixture
def results_file(tmp_path):
    """A test-made results file: three people, gaps, late start, predicted frames."""
    from synth import make_results

    from ram_core.contract.results import save_results

    return save_results(make_results(), tmp_path / "synthetic.ram.npz")


@pytest.fixture
def undo(empty_scene):
    """Blender's own Ctrl+Z and Ctrl+Shift+Z: ``undo()``, ``undo(redo=True)``. Background Blender starts its
    undo stack on the first push; operators push a step only when called with ``undo=True``, as a click does."""
    bpy.ops.ed.undo_push(message="start")

    def step(redo: bool = False) -> None:
        window = bpy.context.window_manager.windows[0]
        with bpy.context.temp_override(window=window, screen=window.screen):
            assert (bpy.ops.ed.redo() if redo else bpy.ops.ed.undo()) == {"FINISHED"}

    return step


def pytest_sessionfinish(session, exitstatus):
    session.config.ram_exitstatus = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """Blender 4.2's ``bpy`` module segfaults at interpreter exit once Rigify was registered (even after
    unregistering it; 5.x does not): after everything else is done and reported, leave with pytest's
    own exit status instead of through that crash."""
    if bpy.app.version < (4, 3, 0) and "rigify" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        # os._exit skips atexit and Blender's own exit, which would remove these two folders.
        shutil.rmtree(os.environ["BLENDER_USER_RESOURCES"], ignore_errors=True)
        if Path(bpy.app.tempdir).name.startswith("blender_"):  # not the temp folder itself, Blender's fallback
            shutil.rmtree(bpy.app.tempdir, ignore_errors=True)
        os._exit(getattr(config, "ram_exitstatus", 0))
