"""Set Up Worker Environment in real bpy (no window: it runs to the end, Ctrl+C cancels), with fake steps:
a pip that prints 1 MB, and a cancel in the middle of a step."""

from __future__ import annotations

import os
import shutil
import signal
import sys

import bpy
import pytest

from ram_blender import preferences
from ram_blender.operators import setup
from ram_blender.setup_job import READY_MARKER, SetupJob

MAKE_ENV = "import os, sys; os.makedirs(sys.argv[1], exist_ok=True)"
# A pip that prints 1 MB and checks, while it runs, that the environment does not count as ready.
LOUD_PIP = (
    "import os, sys\n"
    "assert not os.path.exists(os.path.join(sys.argv[1], sys.argv[2])), 'ready while pip runs'\n"
    "for i in range(20000): print(f'Collecting package-{i:05d} ' + 'x' * 40)\n"
    "print('Successfully installed ram-core')"
)
IMPORT_CHECK = "print('ram_core and the lite backend import')"
# A step that, once started, presses Ctrl+C in the Blender running the setup, then would take a minute.
CTRL_C_STEP = (
    "import os, signal, time\n"
    "print(f'Downloading ram_core.whl (pid {os.getpid()})', flush=True)\n"
    "os.kill(os.getppid(), signal.SIGINT)\n"
    "time.sleep(60)"
)


@pytest.fixture
def fake_setup(addon, monkeypatch):
    """Point the operator at fake steps in a fresh managed-environment folder; online access on."""
    env = preferences.managed_env_dir()
    shutil.rmtree(env, ignore_errors=True)
    system = bpy.context.preferences.system
    online = system.use_online_access
    system.use_online_access = True

    def use(*steps: str) -> None:
        commands = [[sys.executable, "-c", MAKE_ENV, str(env)]]
        commands += [[sys.executable, "-c", step, str(env), READY_MARKER] for step in steps]
        monkeypatch.setattr(setup, "setup_commands", lambda env_dir: commands)

    yield env, use
    system.use_online_access = online
    shutil.rmtree(env, ignore_errors=True)
    setup.setup_log_path(env).unlink(missing_ok=True)


def test_a_megabyte_of_pip_output_goes_to_the_log_and_ready_comes_after_the_import_check(fake_setup):
    env, use = fake_setup
    use(LOUD_PIP, IMPORT_CHECK)
    assert bpy.ops.ram.setup_worker_env.poll()
    assert bpy.ops.ram.setup_worker_env() == {"FINISHED"}
    log = setup.setup_log_path(env)
    assert log.stat().st_size > 1_000_000
    text = log.read_text()
    assert "Successfully installed ram-core" in text and text.rstrip().endswith(IMPORT_CHECK[7:-2])
    assert preferences.managed_state() == "ready"


def test_ctrl_c_cancels_the_running_step_and_leaves_the_environment_not_ready(fake_setup):
    env, use = fake_setup
    env.mkdir(parents=True)
    (env / READY_MARKER).write_text("from an earlier setup")
    use(CTRL_C_STEP, IMPORT_CHECK)
    before = signal.getsignal(signal.SIGINT)
    assert bpy.ops.ram.setup_worker_env() == {"CANCELLED"}
    assert signal.getsignal(signal.SIGINT) is before  # Ctrl+C means what it meant before, again
    text = setup.setup_log_path(env).read_text()
    assert "Downloading ram_core.whl" in text and IMPORT_CHECK[7:-2] not in text  # the last step never ran
    printed = next(line for line in text.splitlines() if line.startswith("Downloading"))
    pid = int(printed.split("(pid ")[1].rstrip(")"))
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the step was stopped (and reaped), not left running
    assert preferences.managed_state() != "ready"


def test_a_failed_step_is_one_error_naming_the_log(fake_setup):
    env, use = fake_setup
    use("import sys; print('ERROR: No matching distribution found for ram-core'); sys.exit(1)", IMPORT_CHECK)
    with pytest.raises(RuntimeError, match=r"step 2 of 3 failed \(exit 1\): ERROR: No matching distribution") as e:
        bpy.ops.ram.setup_worker_env()
    assert f"(log: {setup.setup_log_path(env)})" in str(e.value)
    assert preferences.managed_state() != "ready"


def test_the_preferences_say_setting_up_while_a_setup_runs(fake_setup):
    env, _ = fake_setup
    job = SetupJob([[sys.executable, "-c", "pass"]], env, setup.setup_log_path(env))
    try:
        assert preferences.managed_state() == "setting up (progress in the status bar; Esc cancels)"
        assert not bpy.ops.ram.setup_worker_env.poll()  # one setup at a time
    finally:
        job.close()
    assert preferences.managed_state() == "not set up" and bpy.ops.ram.setup_worker_env.poll()


def test_with_online_access_off_the_setup_says_how_to_turn_it_on(addon):
    system = bpy.context.preferences.system
    online = system.use_online_access
    system.use_online_access = False
    try:
        with pytest.raises(RuntimeError, match=r"Allow Online Access is off \(.*use_online_access = True$"):
            bpy.ops.ram.setup_worker_env()
    finally:
        system.use_online_access = online


def test_without_a_worker_python_the_headless_error_says_how_to_get_one(addon, monkeypatch):
    monkeypatch.delenv(preferences.WORKER_PYTHON_ENV, raising=False)
    monkeypatch.setattr(preferences, "managed_python", lambda: preferences.managed_env_dir() / "no" / "python")
    with pytest.raises(preferences.NoWorkerPython) as e:
        preferences.worker_python(preferences.Settings(worker_python=""))
    message = str(e.value)
    assert "\n" not in message and "--python PATH" in message and "bpy.ops.ram.setup_worker_env()" in message
