"""Capture through a real worker process (the scripted test backend): import, cancel, crash, batch."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import bpy
import numpy as np
import pytest

from ram_blender import cli, session
from ram_blender.capture_job import CaptureJob, CaptureRequest
from ram_blender.importer.plan import FRAME_OFFSET
from ram_core.contract import reruns
from ram_core.contract.client import CaptureError
from ram_core.contract.options import CaptureOptions, OptionsError
from tests.fixtures.interrupts import export_stopped_after_one

ROOT = Path(__file__).resolve().parents[2]
CLIP = ROOT / "tests" / "data" / "vtest_clip.avi"
SCRIPTED = "tests.fixtures.scripted_backend:ScriptedBackend"
WORKER_PYTHON = os.environ.get("RAM_WORKER_PYTHON", "/tmp/warm/lite/bin/python")

pytestmark = pytest.mark.skipif(not Path(WORKER_PYTHON).exists(), reason="set RAM_WORKER_PYTHON to a worker Python")


def request(tmp_path: Path, end: int = 70, **env: str) -> CaptureRequest:
    return CaptureRequest(
        python=WORKER_PYTHON,
        video=str(CLIP),
        out_path=str(tmp_path / "clip.ram.npz"),
        options=CaptureOptions(backend=SCRIPTED, end=end),
        extra_env=tuple(env.items()),
    )


def run_until(job: CaptureJob, done: int = 10**9, timeout: float = 30.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        status = job.step()
        if status.finished or status.error or status.done >= done:
            return status
        time.sleep(0.02)
    raise AssertionError("the worker did not get there in time")


def shm_exists(name: str) -> bool:
    return Path("/dev/shm", name.lstrip("/")).exists()


def test_capture_imports_moving_armatures(empty_scene, tmp_path):
    lines: list[str] = []
    path = cli.capture_one(request(tmp_path), report=lines.append)
    assert not [ln for ln in lines if ln.endswith("/0")], lines  # progress only once the total is known
    objects = session.import_results(bpy.context, str(path))
    assert len(objects) == 3
    walker = objects[0]
    bpy.context.scene.frame_set(FRAME_OFFSET + 5)
    a = np.array(walker.matrix_world @ walker.pose.bones["left_ankle"].head)
    bpy.context.scene.frame_set(FRAME_OFFSET + 25)
    b = np.array(walker.matrix_world @ walker.pose.bones["left_ankle"].head)
    assert np.linalg.norm(a - b) > 0.05
    (background,) = bpy.context.scene.camera.data.background_images  # the captured video, behind the people
    assert background.clip is not None and Path(background.clip.filepath).name == Path(request(tmp_path).video).name


def test_killed_worker_gives_one_error_keeps_partial_and_leaks_nothing(empty_scene, tmp_path):
    job = CaptureJob(request(tmp_path, RAM_SCRIPTED_SLEEP="0.05"))
    try:
        shm = job.shm_name
        assert shm and shm_exists(shm)
        run_until(job, done=8)
        os.kill(job.pid, signal.SIGKILL)
        status = run_until(job)
        assert status.error and "killed by signal 9" in status.error
        path, results = job.finish()
    finally:
        job.close()
    assert not shm_exists(shm)
    assert path is not None and 0 < results.meta.frame_end < 70
    assert len(session.import_results(bpy.context, str(path))) >= 1  # Blender carries on with what arrived


def test_cancel_stops_the_worker_and_keeps_what_was_captured(empty_scene, tmp_path):
    job = CaptureJob(request(tmp_path, RAM_SCRIPTED_SLEEP="0.05"))
    try:
        run_until(job, done=12)
        job.cancel()
        status = run_until(job)
        assert status.finished and status.error is None
        path, results = job.finish()
        shm = job.shm_name
    finally:
        job.close()
    assert not shm_exists(shm)
    assert "cancelled" in results.meta.notes
    assert 12 <= results.meta.frame_end < 70 and path.is_file()


def test_crash_in_the_backend_is_one_clear_error(empty_scene, tmp_path):
    job = CaptureJob(request(tmp_path, RAM_SCRIPTED_CRASH_AT="5"))
    try:
        status = run_until(job)
    finally:
        job.close()
    assert status.error and "\n" not in status.error


def test_batch_goes_on_after_a_failed_video_and_exits_non_zero(empty_scene, tmp_path):
    lines: list[str] = []
    code = cli.batch_capture(
        [str(tmp_path / "missing.mp4"), str(CLIP)],
        str(tmp_path / "out"),
        CaptureOptions(backend=SCRIPTED, end=30),
        exports=("npz",),
        python=WORKER_PYTHON,
        report=lines.append,
    )
    assert code == 1
    assert "FAILED" in lines[0] and "ok" in lines[-2] and lines[-1].endswith("1 of 2 videos done")
    out = tmp_path / "out"
    assert (out / "vtest_clip.blend").is_file() and (out / "vtest_clip.ram.npz").is_file()
    assert not (out / "vtest_clip.blend1").exists()  # no backup clutter in batch output
    assert sorted(p.name for p in out.glob("*_person*.npz")) == [
        f"vtest_clip_person{i}.npz" for i in (1, 2)
    ]  # track 3 enters at frame 40
    bpy.ops.wm.open_mainfile(filepath=str(out / "vtest_clip.blend"))
    armatures = [o for o in bpy.data.objects if o.type == "ARMATURE"]
    assert len(armatures) == 2 and all(o.animation_data.action for o in armatures)
    assert bpy.context.scene.ram.results_path == "//vtest_clip.ram.npz"  # moves with the .blend


def test_ctrl_c_among_the_exports_leaves_no_part_of_the_video_and_puts_the_earlier_files_back(
    empty_scene, tmp_path, monkeypatch
):
    """Before: Ctrl-C during the exports left the new results, .blend and some people's exports, the earlier
    run's files in replaced/; a rerun with --skip-existing then took the video for done, its exports missing."""
    out = tmp_path / "out"
    out.mkdir()
    earlier = {"vtest_clip.ram.npz": b"earlier results", "vtest_clip.blend": b"the artist's scene"}
    for name, data in earlier.items():
        (out / name).write_bytes(data)
    write_people = cli.export.export_people

    monkeypatch.setattr(cli.export, "export_people", export_stopped_after_one(write_people))
    argv = [str(CLIP), "-o", str(out), "--python", WORKER_PYTHON, "--backend", SCRIPTED, "--end", "10"]
    assert cli.main([*argv, "--export", "bvh", "--overwrite"]) == 130
    assert {p.name: p.read_bytes() for p in out.iterdir()} == earlier  # replaced/ gone with nothing in it
    monkeypatch.setattr(cli.export, "export_people", write_people)
    assert cli.main([*argv, "--export", "bvh", "--skip-existing"]) == 0  # still done: the video is skipped
    (out / "vtest_clip.blend").unlink()
    (out / "vtest_clip.ram.npz").unlink()
    monkeypatch.setattr(cli.export, "export_people", export_stopped_after_one(write_people))
    assert cli.main([*argv, "--export", "bvh"]) == 130  # no earlier run: nothing of the video is left
    assert not out.exists() or not any(out.iterdir())


def test_a_batch_whose_every_video_fails_leaves_no_output_folder(empty_scene, tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    for out in (tmp_path / "new" / "out", tmp_path / "there"):
        lines: list[str] = []
        existed = out == tmp_path / "there"
        if existed:
            out.mkdir()
        args = [str(tmp_path / "missing.mp4"), str(text)], str(out), CaptureOptions(backend=SCRIPTED, end=5)
        assert cli.batch_capture(*args, python=WORKER_PYTHON, report=lines.append) == 1
        assert lines[-1].endswith("0 of 2 videos done")
        assert out.is_dir() == existed and not (existed and any(out.iterdir()))  # the user's own folder stays
        assert not (tmp_path / "new").exists()


def test_a_failed_batch_never_removes_a_folder_the_user_made(empty_scene, tmp_path, monkeypatch):
    """``new/../mine`` is the user's empty folder ``mine``: before, the run made ``new`` and, every video failed,
    removed ``mine`` as a folder it had made (the path was walked without resolving ``..``)."""
    (tmp_path / "mine").mkdir()
    monkeypatch.chdir(tmp_path)
    args = [str(tmp_path / "missing.mp4")], "new/../mine", CaptureOptions(backend=SCRIPTED, end=5)
    assert cli.batch_capture(*args, python=WORKER_PYTHON, report=lambda line: None) == 1
    assert (tmp_path / "mine").is_dir()


def test_cli_says_in_one_line_that_it_cannot_make_the_output_folder(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    out = tmp_path / "notes.txt" / "out"  # below a file: no folder can be made there
    assert cli.main([str(CLIP), "-o", str(out), "--python", WORKER_PYTHON]) == 2
    assert capsys.readouterr().err.strip() == f"ram_capture: {out}: cannot make the output folder (Not a directory)"


def test_two_videos_with_one_name_are_refused_before_any_capture(tmp_path, capsys):
    """Before: the second ``clip.avi`` was captured over the first's results and .blend."""
    videos = [tmp_path / "a" / "clip.avi", tmp_path / "b" / "clip.avi"]
    for video in videos:
        video.parent.mkdir()
        video.write_bytes(b"")
    assert cli.main([*map(str, videos), "-o", str(tmp_path / "out"), "--python", WORKER_PYTHON]) == 2
    said = f"ram_capture: {videos[0]} and {videos[1]} would both write clip.ram.npz; rename one or capture them in two runs"
    assert capsys.readouterr().err == said + "\n" and not (tmp_path / "out").exists()


def test_cli_rejects_unknown_export_before_capturing(tmp_path, capsys):
    assert cli.main([str(CLIP), "-o", str(tmp_path), "--export", "obj", "--python", WORKER_PYTHON]) == 2
    assert "unknown export format" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_lite_batch_on_a_vtest_slice_gives_moving_armatures(empty_scene, tmp_path):
    lines: list[str] = []
    code = cli.batch_capture(
        [str(CLIP)], str(tmp_path), CaptureOptions(backend="lite", end=12), python=WORKER_PYTHON, report=lines.append
    )
    assert code == 0, lines
    bpy.ops.wm.open_mainfile(filepath=str(tmp_path / "vtest_clip.blend"))
    armatures = [o for o in bpy.data.objects if o.type == "ARMATURE"]
    assert armatures
    moved = []
    for obj in armatures:
        row = next(t for t in bpy.context.scene.ram.tracks if t.object == obj)
        heads = []
        for f in (row.frame_first, row.frame_last):
            bpy.context.scene.frame_set(f)
            heads.append(np.array([obj.pose.bones[n].head for n in ("left_wrist", "right_ankle", "pelvis")]))
        moved.append(float(np.abs(heads[0] - heads[1]).max()))
    assert max(moved) > 0.01


def test_the_capture_dialog_and_the_preferences_together_set_every_option():
    from types import SimpleNamespace

    from ram_blender import preferences
    from ram_blender.operators import capture as op
    from ram_core.contract.options import FIELD_NAMES

    assert set(op.OPTION_PROPERTIES) <= set(op.RAM_OT_capture_video.__annotations__)
    drawn: list[str] = []

    class Layout:
        def column(self, align: bool = False) -> Layout:
            return self

        def label(self, text: str) -> None:
            pass

        def prop(self, owner: object, name: str) -> None:
            drawn.append(name)

    op.RAM_OT_capture_video.draw(SimpleNamespace(layout=Layout()), bpy.context)
    drawn_too = ["body", "ground_plane", "scene_camera", "output_dir"]
    assert sorted(drawn) == sorted([*op.OPTION_PROPERTIES, *drawn_too])  # shows every one
    assert sorted([*op.OPTION_PROPERTIES.values(), *op.PREFERENCE_OPTIONS]) == sorted(FIELD_NAMES)
    prefs = preferences.Settings(smpl_model="/m.npz", backend="ram", device="cuda", weights_dir="/w")
    base = preferences.capture_options(prefs)
    assert (base.smpl_model, base.device, base.weights_dir) == ("/m.npz", "cuda", "/w")
    dialog = SimpleNamespace(
        backend="lite", frame_start=4, frame_end=0, max_people=0, focal_px=0.0, fov_deg=0.0, allow_truncated=True
    )
    got = op.RAM_OT_capture_video.capture_options(dialog, base)
    assert got == CaptureOptions(
        backend="lite", start=4, allow_truncated=True, smpl_model="/m.npz", device="cuda", weights_dir="/w"
    )
    dialog.frame_end, dialog.focal_px, dialog.max_people = 50, 1400.0, 2
    got = op.RAM_OT_capture_video.capture_options(dialog, base)
    assert (got.end, got.focal_px, got.max_people) == (50, 1400.0, 2)
    dialog.focal_px, dialog.fov_deg = 0.0, 70.0
    assert op.RAM_OT_capture_video.capture_options(dialog, base).focal_for(1920, 1080) == pytest.approx(
        960 / np.tan(np.radians(35))
    )
    dialog.focal_px = 1400.0
    with pytest.raises(OptionsError, match="not both"):
        op.RAM_OT_capture_video.capture_options(dialog, base)


def test_a_truncated_video_fails_in_blender_as_on_the_command_line(empty_scene, tmp_path):
    truncated = tmp_path / "truncated.avi"
    data = CLIP.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])

    def job(allow: bool) -> CaptureJob:
        return CaptureJob(
            CaptureRequest(
                WORKER_PYTHON,
                str(truncated),
                str(tmp_path / f"t{allow}.ram.npz"),
                CaptureOptions(backend=SCRIPTED, allow_truncated=allow),
            )
        )

    strict = job(False)
    try:
        run_until(strict)
        with pytest.raises(CaptureError, match="truncated or damaged"):
            strict.finish()
    finally:
        strict.close()
    assert not (tmp_path / "tFalse.ram.npz").exists()
    lenient = job(True)
    try:
        run_until(lenient)
        path, results = lenient.finish()
    finally:
        lenient.close()
    assert path is not None and "truncated" in results.meta.notes


def test_ram_capture_into_a_file_fails_before_capturing(tmp_path, capsys):
    existing = tmp_path / "results.blend"
    existing.write_bytes(b"the user's file")
    assert cli.main([str(CLIP), "-o", str(existing), "--python", WORKER_PYTHON, "--backend", SCRIPTED]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a file; give a folder" in err
    assert existing.read_bytes() == b"the user's file"


@pytest.mark.parametrize(
    ("flags", "message"), [(["--max-people", "0"], "max_people is 0"), (["--focal", "inf"], "inf px")]
)
def test_ram_capture_refuses_options_that_make_no_sense_before_capturing(tmp_path, capsys, flags, message):
    out = tmp_path / "out"
    assert cli.main([str(CLIP), "-o", str(out), "--python", WORKER_PYTHON, "--backend", SCRIPTED, *flags]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not out.exists()  # nothing made, nothing captured


def test_ram_capture_into_an_unwritable_folder_fails_before_capturing(tmp_path, capsys):
    import subprocess

    locked = tmp_path / "locked"
    locked.mkdir()
    if os.geteuid() == 0:  # root writes into folders whatever their mode: a read-only file system stops it
        mount = ["mount", "-t", "tmpfs", "-o", "ro,size=16k", "tmpfs", str(locked)]
        if subprocess.run(mount, capture_output=True, check=False).returncode != 0:
            pytest.skip("as root, a read-only folder needs a read-only mount, and mounting one failed")
    else:
        locked.chmod(0o500)
    try:
        assert cli.main([str(CLIP), "-o", str(locked), "--python", WORKER_PYTHON, "--backend", SCRIPTED]) == 2
        assert "not writable" in capsys.readouterr().err
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(locked)], capture_output=True, check=False)
        else:
            locked.chmod(0o700)


def test_a_missing_results_folder_fails_before_any_worker_starts(empty_scene, tmp_path, scripted_dialog):
    """Before: the whole capture ran, then its results went to the rescue folder."""
    missing = tmp_path / "not made yet"
    never = CaptureRequest(python="/no/such/python", video=str(CLIP), out_path=str(missing / "clip.ram.npz"))
    with pytest.raises(CaptureError, match="output folder does not exist"):
        CaptureJob(never)  # the path is checked first: a started worker would fail on its Python instead
    with pytest.raises(RuntimeError, match="output folder does not exist") as e:
        bpy.ops.ram.capture_video(filepath=str(CLIP), frame_end=30, output_dir=str(missing))
    assert "kept in" not in str(e.value) and not missing.exists() and people() == []


def test_an_unsaved_file_capturing_from_a_read_only_folder_is_told_what_to_do(empty_scene, tmp_path, scripted_dialog):
    import shutil
    import subprocess

    share = tmp_path / "share"
    share.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(share)]
    if os.geteuid() == 0 and subprocess.run(mount, check=False).returncode:  # root writes anywhere: a read-only tmpfs
        pytest.skip("as root, a read-only folder needs a mount, and mounting one failed")
    shutil.copy(CLIP, share / CLIP.name)
    if os.geteuid() == 0:
        subprocess.run(["mount", "-o", "remount,ro", str(share)], check=True)
    else:
        share.chmod(0o500)
    try:
        with pytest.raises(RuntimeError) as e:
            bpy.ops.ram.capture_video(filepath=str(share / CLIP.name), frame_end=30)
        assert "not writable" in str(e.value) and "(save the .blend first, or choose a Results folder)" in str(e.value)
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(share)], check=False)
        else:
            share.chmod(0o700)


def test_a_worker_that_cannot_start_is_not_blamed_on_the_unsaved_file(empty_scene, tmp_path, monkeypatch):
    """The save-first hint is for a results folder that cannot be written, not for every capture error."""
    import shutil

    shutil.copy(CLIP, tmp_path / CLIP.name)
    python = tmp_path / "python"
    python.write_text("")  # exists, but no one may run it
    python.chmod(0o644)
    monkeypatch.setenv("RAM_WORKER_PYTHON", str(python))
    with pytest.raises(RuntimeError, match="cannot start the worker") as e:
        bpy.ops.ram.capture_video(filepath=str(tmp_path / CLIP.name), frame_end=30)
    assert "save the .blend first" not in str(e.value) and not list(tmp_path.glob("*.ram.npz"))


def test_a_new_capture_of_the_same_video_never_replaces_the_earlier_results_file(tmp_path, monkeypatch):
    from ram_blender.operators import capture
    from ram_blender.operators.capture import results_path_for

    video = str(tmp_path / "street.mp4")
    first = results_path_for(video, str(tmp_path))
    assert first.name == "street.ram.npz"
    first.write_bytes(b"earlier capture")
    second = results_path_for(video, str(tmp_path))
    assert second.name == "street-2.ram.npz"
    second.write_bytes(b"")
    assert results_path_for(video, str(tmp_path)).name == "street-3.ram.npz"
    # A capture running in another scene writes street-3 when it ends: a capture started now takes street-4.
    monkeypatch.setattr(capture, "WRITING", {tmp_path / "street-3.ram.npz"})
    assert results_path_for(video, str(tmp_path)).name == "street-4.ram.npz"


def test_the_input_corpus_through_the_headless_batch(empty_scene, tmp_path, monkeypatch, no_leaked_segments, capsys):
    import json
    import subprocess
    import tempfile

    corpus = json.loads(
        subprocess.run(
            [WORKER_PYTHON, "-m", "tests.fixtures.bad_inputs", str(tmp_path / "inputs")],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        ).stdout
    )
    out = tmp_path / "out"
    out.mkdir()
    temporary = tmp_path / "tmp"  # the client's temporary files go here, so what is left can be seen
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    failures = []
    for name, case in sorted(corpus.items()):
        stem = Path(case["path"]).stem
        users = {out / f"{stem}.ram.npz": b"user's results", out / f"{stem}.blend": b"user's blend"}
        for path, content in users.items():
            path.write_bytes(content)
        lines: list[str] = []
        code = cli.batch_capture(
            [case["path"]],
            str(out),
            CaptureOptions(backend=SCRIPTED),
            python=WORKER_PYTHON,
            report=lines.append,
            existing=reruns.OVERWRITE,
        )
        if case["ok"]:
            if code != 0:
                failures.append(f"{name}: expected ok, got {lines}")
            kept = [p for p in (out / "replaced").rglob(f"{stem}.blend") if p.read_bytes() == b"user's blend"]
            if len(kept) != 1 or (kept[0].parent / f"{stem}.ram.npz").read_bytes() != b"user's results":
                failures.append(f"{name}: the user's files were not kept aside together: {kept}")
            said = {"damaged_frame": "(1 damaged frame(s) skipped", "variable_rate": "(variable frame rate"}.get(name)
            if said and not any(": ok in " in ln and said in ln for ln in lines):
                failures.append(f"{name}: the report line does not say {said!r}: {lines}")
            continue
        # A folder given to the batch is searched for videos (an empty one has none).
        expected = "no videos found" if name == "directory" else case["message"]
        said = lines + capsys.readouterr().err.splitlines()  # "no videos found" is an error line on stderr
        failed_line = next((ln for ln in said if "FAILED" in ln or "no videos" in ln), "")
        if code != 1 or expected not in failed_line or "\n" in failed_line:
            failures.append(f"{name}: expected FAILED with {expected!r}, got {lines}")
        if any(path.read_bytes() != content for path, content in users.items()):
            failures.append(f"{name}: the user's files were replaced")
    assert failures == []
    assert list(temporary.iterdir()) == []  # (no_leaked_segments checks the shared memory)


def test_a_rerun_of_ram_capture_never_replaces_the_artists_scene_silently(empty_scene, tmp_path, capsys):
    """Before: a rerun replaced <stem>.ram.npz and <stem>.blend, the artist's work in it lost."""
    out = tmp_path / "out"
    argv = [str(CLIP), "-o", str(out), "--python", WORKER_PYTHON, "--backend", SCRIPTED, "--end", "30"]
    assert cli.main(argv) == 0
    bpy.ops.wm.open_mainfile(filepath=str(out / "vtest_clip.blend"))
    bpy.context.scene.collection.objects.link(bpy.data.objects.new("artist's prop", None))
    cli.save_blend(out / "vtest_clip.blend")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()

    assert cli.main(argv) == 2  # refused before any capture, in one line
    assert capsys.readouterr().err == (
        f"ram_capture: {out / 'vtest_clip.ram.npz'} and 1 more file(s) from an earlier run would be replaced (1 of 1 "
        "videos); give --skip-existing to keep them and do only the others, or --overwrite to redo them (the "
        f"earlier files move to {out / 'replaced'}/<date>_<time>/)\n"
    )
    assert cli.main([*argv, "--skip-existing"]) == 0
    assert capsys.readouterr().out == (
        "ram_capture: 1 of 1 videos skipped: their outputs from an earlier run are kept (--skip-existing)\n"
    )
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before

    assert cli.main([*argv, "--overwrite"]) == 0
    [replaced] = list((out / "replaced").iterdir())
    said = capsys.readouterr().out.splitlines()
    assert said[-1] == f"ram_capture: the earlier files that were replaced are kept in {replaced}"
    assert {p.name: p.read_bytes() for p in replaced.iterdir()} == before  # the pair, as it was
    bpy.ops.wm.open_mainfile(filepath=str(replaced / "vtest_clip.blend"))
    assert "artist's prop" in bpy.data.objects  # and it still opens with its own results beside it
    assert Path(bpy.path.abspath(bpy.context.scene.ram.results_path)) == replaced / "vtest_clip.ram.npz"
    assert len(session.edited(bpy.context).results.tracks) == 2
    bpy.ops.wm.open_mainfile(filepath=str(out / "vtest_clip.blend"))
    assert "artist's prop" not in bpy.data.objects and people() == [1, 2]


def test_a_video_without_people_is_not_a_failed_batch(empty_scene, tmp_path, monkeypatch):
    monkeypatch.setenv("RAM_SCRIPTED_PEOPLE", "0")
    lines: list[str] = []
    options = CaptureOptions(backend=SCRIPTED, end=3)
    assert cli.batch_capture([str(CLIP)], str(tmp_path), options, python=WORKER_PYTHON, report=lines.append) == 0
    assert "nobody was found in it; nothing written" in lines[0] and lines[-1].endswith("1 of 1 videos done")


@pytest.fixture
def scripted_dialog(monkeypatch):
    """The Capture operator with the scripted backend (the dialog offers only lite and ram)."""
    from dataclasses import replace

    from ram_blender.operators import capture as op

    options = op.RAM_OT_capture_video.capture_options
    monkeypatch.setattr(
        op.RAM_OT_capture_video, "capture_options", lambda self, base: replace(options(self, base), backend=SCRIPTED)
    )
    monkeypatch.setenv("RAM_WORKER_PYTHON", WORKER_PYTHON)
    return monkeypatch


def people() -> list[int]:
    return sorted(o["ram_track_id"] for o in bpy.data.objects if o.type == "ARMATURE" and "ram_track_id" in o)


def test_the_capture_operator_is_one_undo_step(undo, tmp_path, scripted_dialog):
    """Without a window the operator runs to the end; Blender's own undo takes the capture back."""
    out = tmp_path / "out"
    out.mkdir()
    # undo=True: push an undo step as a click does (bpy.ops calls from Python do not, by default)
    done = bpy.ops.ram.capture_video("EXEC_DEFAULT", True, filepath=str(CLIP), frame_end=30, output_dir=str(out))
    assert done == {"FINISHED"}
    state = bpy.context.scene.ram
    assert people() == [1, 2] and [t.track_id for t in state.tracks] == [1, 2] and not state.capture_running
    assert (out / "vtest_clip.ram.npz").is_file()
    from ram_blender.operators import capture

    assert not capture.WRITING  # the name is free again once the capture has written it
    undo()
    assert people() == [] and not bpy.context.scene.ram.results_path
    undo(redo=True)
    assert people() == [1, 2] and bpy.context.scene.ram.results_path
    assert bpy.ops.ram.capture_video.poll()


def test_ctrl_c_stops_the_capture_and_the_report_says_so(empty_scene, tmp_path, scripted_dialog, capfd):
    scripted_dialog.setenv("RAM_SCRIPTED_SIGINT_PARENT_AT", "12")
    scripted_dialog.setenv("RAM_SCRIPTED_SLEEP", "0.02")
    out = tmp_path / "out"
    out.mkdir()
    assert bpy.ops.ram.capture_video(filepath=str(CLIP), frame_end=70, output_dir=str(out)) == {"FINISHED"}
    report = next(line for line in capfd.readouterr().out.splitlines() if "RAM capture" in line)
    assert report.startswith("Warning: RAM capture stopped early after ") and " of 70 frames; kept " in report
    done = int(report.split("after ")[1].split(" of")[0])
    results = session.edited(bpy.context).results
    assert 12 <= done < 70 and results.meta.frame_end == done and "cancelled" in results.meta.notes
    assert str(out / "vtest_clip.ram.npz") in report


def test_ram_capture_with_no_videos_makes_no_output_folder(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    out = tmp_path / "out"
    assert cli.main([str(tmp_path / "empty"), "-o", str(out), "--python", WORKER_PYTHON]) == 1
    assert capsys.readouterr().err.startswith("ram_capture: error: no videos found in ") and not out.exists()
    assert cli.main([str(CLIP), "-o", "/proc/no/such/folder", "--python", WORKER_PYTHON]) == 2
    said = capsys.readouterr().err
    assert said == "ram_capture: /proc/no/such/folder: cannot make the output folder (No such file or directory)\n"


@pytest.mark.parametrize(("signal_name", "code", "said"), [("SIGINT", 130, "Ctrl-C"), ("SIGTERM", 143, "SIGTERM")])
def test_ctrl_c_stops_ram_capture_in_one_line_and_keeps_the_users_files(
    tmp_path, capfd, monkeypatch, no_leaked_segments, signal_name, code, said
):
    """Before: a KeyboardInterrupt traceback of 20 lines; SIGTERM ended Blender without a line."""
    monkeypatch.setenv("RAM_SCRIPTED_SIGINT_PARENT_AT", "5")
    monkeypatch.setenv("RAM_SCRIPTED_SIGNAL", signal_name)
    monkeypatch.setenv("RAM_SCRIPTED_SLEEP", "0.02")
    earlier = tmp_path / "vtest_clip.ram.npz"
    earlier.write_bytes(b"the user's earlier capture")
    argv = [str(CLIP), "-o", str(tmp_path), "--python", WORKER_PYTHON, "--backend", SCRIPTED, "--end", "70"]
    assert cli.main([*argv, "--overwrite"]) == code  # nothing moves aside: no new results replaced it
    err = capfd.readouterr().err
    assert err.count("\n") == 1 and f"ram_capture: stopped by {said}" in err, err
    assert earlier.read_bytes() == b"the user's earlier capture"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vtest_clip.ram.npz"]


def test_ram_capture_takes_the_frame_range_and_the_field_of_view(tmp_path, capsys):
    from ram_blender import preferences
    from ram_core.contract.options import from_args

    args = cli.parse_args([str(CLIP), "-o", str(tmp_path), "--start", "5", "--end", "40", "--fov", "70"])
    options = from_args(args, preferences.capture_options(preferences.settings()))
    assert (options.start, options.end, options.fov_deg, options.focal_px) == (5, 40, 70.0, None)
    assert cli.main([str(CLIP), "-o", str(tmp_path), "--focal", "900", "--fov", "70"]) == 2
    assert capsys.readouterr().err.strip() == "ram_capture: give the focal length or the field of view, not both"
