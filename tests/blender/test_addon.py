"""Registration and the built extension zip in a real Blender (the import boundary: tests/unit/test_boundary.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import bpy
import pytest

ROOT = Path(__file__).resolve().parents[2]


def ram_classes() -> list[str]:
    names = ("RAM_OT_", "RAM_PT_", "RAM_UL_", "RAM_TrackItem", "RAM_SceneState", "RAM_AddonPreferences")
    return sorted(n for n in dir(bpy.types) if n.startswith(names))


def test_register_unregister_is_symmetric(addon):
    registered = ram_classes()
    assert all(c.is_registered for c in addon.classes()) and len(registered) >= 11
    assert hasattr(bpy.types.Scene, "ram") and hasattr(bpy.ops.ram, "capture_video")
    addon.unregister()
    try:
        assert ram_classes() == [] and not any(c.is_registered for c in addon.classes())
        assert not hasattr(bpy.types.Scene, "ram")
        menu = bpy.types.TOPBAR_MT_file_import
        assert all(getattr(f, "__module__", "") != "ram_blender" for f in getattr(menu.draw, "_draw_funcs", []))
    finally:
        addon.register()
    assert ram_classes() == registered


INSTALL_SCRIPT = r"""
import json, sys, bpy
zip_path = sys.argv[1]
bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default", enable_on_install=True)
name = "bl_ext.user_default.ram_mocap"
import ram_core
info = {"enabled": name in bpy.context.preferences.addons, "op": hasattr(bpy.ops.ram, "import_results"),
        "scene": hasattr(bpy.types.Scene, "ram"), "ram_core": ram_core.__file__, "version": ram_core.__version__,
        "prefs": type(bpy.context.preferences.addons[name].preferences).__name__}
bpy.ops.preferences.addon_disable(module=name)
info["after_disable"] = [hasattr(bpy.types.Scene, "ram"), name in bpy.context.preferences.addons,
                         "RAM_OT_import_results" in dir(bpy.types)]
print("RESULT", json.dumps(info))
"""


def build_zip(root: Path, out: Path) -> Path:
    """``root/build.py`` run: the extension zip it printed."""
    run = subprocess.run(
        [sys.executable, str(root / "build.py"), "--python", sys.executable, "--out", str(out)],
        check=False,
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return Path(run.stdout.strip().splitlines()[-1])


def install(zip_path: Path, user: Path) -> dict:
    """Install and enable ``zip_path`` in a fresh Blender whose user folder is ``user``; what it saw."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["BLENDER_USER_RESOURCES"] = str(user)
    run = subprocess.run(
        [sys.executable, "-c", INSTALL_SCRIPT, str(zip_path)],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=user.parent,
        timeout=120,
    )
    line = next((ln for ln in run.stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert line, run.stdout[-2000:] + run.stderr[-2000:]
    return json.loads(line[len("RESULT ") :])


def test_built_zip_installs_enables_disables_and_a_rebuild_replaces_its_ram_core(tmp_path):
    """Before: the wheel was ram_core-0.1.0-py3-none-any.whl whatever its content, and Blender keeps a wheel
    whose ram_core-0.1.0.dist-info is installed: a reinstalled rebuild ran the new add-on on the old ram_core."""
    import shutil

    sys.path.insert(0, str(ROOT))
    try:
        from build import WHEEL_SOURCES, content_hash
    finally:
        sys.path.remove(str(ROOT))
    zip_path = build_zip(ROOT, tmp_path / "dist")
    info = install(zip_path, tmp_path / "user")
    assert info["enabled"] and info["op"] and info["scene"] and info["prefs"] == "RAM_AddonPreferences"
    assert str(tmp_path / "user") in info["ram_core"]  # the bundled wheel, not this checkout
    assert info["after_disable"] == [False, False, False]
    assert info["version"] == f"0.1.0+{content_hash(ROOT)}"

    copy = tmp_path / "checkout"  # the same sources: the same name; ram_core changed: another
    (copy / "wheels").mkdir(parents=True)
    for name in (*WHEEL_SOURCES, "ram_blender", "build.py", "blender_manifest.toml"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, copy / name)
    assert content_hash(copy) == content_hash(ROOT)
    with open(copy / "ram_core" / "contract" / "options.py", "a") as f:
        f.write("# changed\n")
    assert content_hash(copy) != content_hash(ROOT)
    rebuilt = install(build_zip(copy, tmp_path / "dist2"), tmp_path / "user")
    assert rebuilt["version"] == f"0.1.0+{content_hash(copy)}" and rebuilt["ram_core"] == info["ram_core"]
    assert [p.name for p in (copy / "wheels").glob("*.whl")] == [f"ram_core-{rebuilt['version']}-py3-none-any.whl"]


def test_worker_environment_is_built_from_a_python_mediapipe_supports(tmp_path, monkeypatch):
    """Blender 5.1+ bundles Python 3.13, which MediaPipe lacks: the setup looks for 3.10-3.12 instead."""
    import sys

    from ram_blender.operators import setup
    from ram_blender.pythons import python_version

    if f"{sys.version_info[0]}.{sys.version_info[1]}" in setup.WORKER_PYTHONS:
        assert setup.find_base_python(search_path=str(tmp_path)) == sys.executable
        return
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    with pytest.raises(setup.NoBasePython, match="python3.11"):
        setup.find_base_python(search_path=str(fake_bin))
    try:
        real = setup.find_base_python()
    except setup.NoBasePython:
        pytest.skip("no Python 3.10-3.12 on this machine")
    version = python_version(real)
    (fake_bin / f"python{version}").symlink_to(real)
    chosen = setup.find_base_python(search_path=str(fake_bin))
    assert chosen == str(fake_bin / f"python{version}")
    commands = setup.setup_commands(tmp_path / "env", python=chosen)
    assert commands[0][:3] == [chosen, "-m", "venv"]
    assert commands[1][-1].endswith("[lite]")
    assert commands[2][1:] == ["-c", setup.CHECK_IMPORTS]  # ready only once the worker's modules import


def test_a_file_saved_mid_capture_opens_ready_to_capture(addon, tmp_path):
    """The running flag lives in the scene; reopening a file saved while a capture ran must clear it."""
    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.context.scene.ram.capture_running = True
    path = tmp_path / "busy.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    bpy.ops.wm.open_mainfile(filepath=str(path))
    assert not bpy.context.scene.ram.capture_running
    assert bpy.ops.ram.capture_video.poll()


def test_the_report_of_a_capture_stopped_with_esc_says_it_stopped_early(tmp_path):
    from ram_blender.operators.capture import RAM_OT_capture_video, finish_message

    path = tmp_path / "clip.ram.npz"
    assert finish_message(None, path, 3, (40, 40), False) == ("INFO", f"RAM capture: 3 people, results in {path}")
    level, text = finish_message(None, path, 2, (12, 40), True)
    assert (level, text) == ("WARNING", f"RAM capture stopped early after 12 of 40 frames; kept 2 people in {path}")
    assert "stopped early" in finish_message(None, None, 0, (3, 40), True)[1]
    assert finish_message("boom\nValueError: bad", path, 1, (5, 40), True) == (
        "ERROR",
        "RAM capture: ValueError: bad; kept clip.ram.npz",
    )
    assert RAM_OT_capture_video.bl_options == {"UNDO"}  # one undo step; no redo panel rerunning a capture


def test_the_report_says_damaged_frames_were_skipped_and_the_rate_varied(tmp_path):
    import dataclasses

    import numpy as np
    from synth import make_meta

    from ram_blender.capture_job import video_remarks
    from ram_blender.operators.capture import finish_message

    meta = dataclasses.replace(make_meta(), skipped_frames=(10,), frame_times=np.cumsum(np.full(40, 0.05)) ** 1.1)
    path = tmp_path / "clip.ram.npz"
    assert finish_message(None, path, 3, (40, 40), False, video_remarks(meta)) == (
        "WARNING",
        f"RAM capture: 3 people, results in {path} (1 damaged frame(s) skipped, left missing; "
        "variable frame rate: keyed at each frame's time)",
    )
    assert video_remarks(make_meta()) == ""
    solved = "solved: floor from 200 stance frames of 3 people; camera 5.80 m above it"
    assert video_remarks(dataclasses.replace(make_meta(), scene_status=solved)) == ""
    doubt = "solved: floor uncertain (about +-2.1 degrees: ...); floor from 40 stance frames of 1 people"
    assert video_remarks(dataclasses.replace(make_meta(), scene_status=doubt)) == (
        "floor uncertain: the ground's tilt may be off"
    )
    moving = "moving camera suspected: the two halves' floors differ by 12 degrees"
    assert video_remarks(dataclasses.replace(make_meta(), scene_status=moving)) == (
        "no floor solved (moving camera suspected): camera at the origin, no ground"
    )
    few = "no floor: too few stance frames (23, at least 30)"
    assert video_remarks(dataclasses.replace(make_meta(), scene_status=few)) == (
        "no floor solved (too few stance frames (23, at least 30)): camera at the origin, no ground"
    )


def test_enabling_prints_no_error(tmp_path):
    """Blender 4.2 printed a ValueError on every enable (an option it does not know, caught but printed)."""
    script = "import bpy, ram_blender; ram_blender.register(); ram_blender.unregister(); print('ok')"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BLENDER_USER_RESOURCES": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr
    assert "Error" not in done.stderr + done.stdout, done.stderr


def test_a_worker_python_that_is_not_there_is_named_first(addon, monkeypatch, tmp_path):
    from ram_blender import preferences

    monkeypatch.setenv(preferences.WORKER_PYTHON_ENV, str(tmp_path / "python3"))
    with pytest.raises(preferences.NoWorkerPython, match=r"python3: no such file \(the worker Python\)"):
        preferences.worker_python(preferences.Settings())


def test_a_managed_environment_is_used_only_once_its_setup_finished(addon, monkeypatch):
    from ram_blender import preferences
    from ram_blender.setup_job import READY_MARKER

    monkeypatch.delenv(preferences.WORKER_PYTHON_ENV, raising=False)
    env = preferences.managed_env_dir()
    python = preferences.managed_python()
    python.parent.mkdir(parents=True, exist_ok=True)
    python.symlink_to(sys.executable)
    try:
        assert preferences.managed_state() == "incomplete: set it up again"
        with pytest.raises(preferences.NoWorkerPython, match="not ready"):
            preferences.worker_python(preferences.Settings())
        (env / READY_MARKER).write_text("done")
        assert preferences.managed_state() == "ready"
        assert preferences.worker_python(preferences.Settings()) == str(python)
    finally:
        python.unlink()
        (env / READY_MARKER).unlink(missing_ok=True)


def test_an_undo_to_a_step_stored_mid_capture_leaves_capture_available(undo):
    """A step pushed while a capture ran stores capture_running on; undoing to it after the capture
    ended must not grey the Capture button out for good."""
    from ram_blender import state

    scene = bpy.context.scene
    state.CAPTURING.add(scene.session_uid)
    try:
        state.sync_capture_flags()
        assert scene.ram.capture_running and not bpy.ops.ram.capture_video.poll()
        bpy.ops.ed.undo_push(message="an edit made while the capture ran")
    finally:
        state.CAPTURING.discard(scene.session_uid)
    state.sync_capture_flags()
    bpy.ops.ed.undo_push(message="the capture imported")
    undo()
    assert not bpy.context.scene.ram.capture_running and bpy.ops.ram.capture_video.poll()
