"""``ram-core batch`` on the local pool: results equal to ``ram-core capture``'s, a rerun refused, skipping or
replacing (the earlier files kept aside), a killed
worker is retried, a corrupt video fails alone, Ctrl-C leaves no partial files. (Ray: test_batch_ray.py.)"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ram_core.batch.driver import make_jobs, run_batch
from ram_core.batch.scenes import Blender
from ram_core.batch.schedulers import LocalScheduler, task_resources
from ram_core.batch.task import CANCELLED, DONE, FAILED, SKIPPED, VideoJob
from ram_core.cli import main
from ram_core.commands import CommandError
from ram_core.contract.batch_files import (
    clashing_names,
    find_results,
    find_videos,
    record_path,
    results_path,
    stem_of_results,
)
from ram_core.contract.options import CaptureOptions
from tests.conftest import REPO, SCRIPTED
from tests.unit.batch_clips import assert_same_results, leftovers

pytestmark = pytest.mark.usefixtures("no_leaked_segments")
SCRIPTED_OPTIONS = CaptureOptions(backend=SCRIPTED)


@pytest.fixture(autouse=True)
def scripted_backend_importable(monkeypatch, worker_env):
    monkeypatch.setenv("PYTHONPATH", worker_env["PYTHONPATH"])


def test_a_folder_captures_to_what_capture_gives_and_a_rerun_never_replaces_silently(batch_clips, tmp_path, capsys):
    videos, references = batch_clips
    out = tmp_path / "out"
    args = ["batch", str(videos[0].parent), "-o", str(out), "--backend", SCRIPTED, "--workers", "2"]
    assert main(args) == 0
    for video, ref in zip(videos, references):
        assert_same_results(results_path(out, video), ref)
    assert [p.name for p in find_results(out)] == [f"{v.stem}.ram.npz" for v in videos]
    assert leftovers(out) == []
    text = capsys.readouterr().out
    assert "4 done, 0 skipped, 0 failed" in text and "clip1.avi  done" in text
    with open(out / "batch_summary.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(r["video"], r["status"], r["frames"], r["people"]) for r in rows] == [
        (v.name, "done", "12", "2") for v in videos
    ]

    # A rerun is refused before any capture, in one line naming what is there and the two flags.
    stamps = {p: p.stat().st_mtime_ns for p in find_results(out)}
    (out / "clip2.blend").write_bytes(b"the artist's scene")
    with pytest.raises(CommandError) as refused:
        run_command(args)
    assert str(refused.value) == (
        f"{out / 'clip0.ram.npz'} and 8 more file(s) from an earlier run would be replaced (4 of 4 videos); give "
        "--skip-existing to keep them and do only the others, or --overwrite to redo them (the earlier files "
        f"move to {out / 'replaced'}/<date>_<time>/)"
    )
    # --skip-existing resumes: the videos with outputs are skipped (one whose record does not match says so).
    (out / "clip3.ram.npz").unlink()
    (out / "clip3.ram.json").unlink()
    record = record_path(out, videos[1])
    changed = json.loads(record.read_text())
    changed["sha256"] = "0" * 64
    record.write_text(json.dumps(changed))
    assert main([*args, "--skip-existing"]) == 0
    captured = capsys.readouterr()
    assert (
        "ram-core: 3 of 4 videos skipped: their outputs from an earlier run are kept (--skip-existing)\n"
        in captured.err
    )
    assert "1 done, 3 skipped" in captured.out
    summary = json.loads((out / "batch_summary.json").read_text())["videos"]
    assert [v["status"] for v in summary] == [SKIPPED, SKIPPED, SKIPPED, DONE]
    assert "captured from another version of the video or with other options" in summary[1]["message"]
    assert [p.stat().st_mtime_ns == stamps[p] for p in find_results(out)[:3]] == [True, True, True]
    assert (out / "clip2.blend").read_bytes() == b"the artist's scene"

    # --overwrite captures all again; each video's earlier files move together to replaced/<date>_<time>/.
    assert main([*args, "--overwrite"]) == 0
    captured = capsys.readouterr()
    [replaced] = list((out / "replaced").iterdir())
    assert "4 done, 0 skipped" in captured.out
    assert f"ram-core: the earlier files that were replaced are kept in {replaced}\n" in captured.err
    assert sorted(p.name for p in replaced.iterdir()) == sorted(
        [f"clip{i}.ram.{ext}" for i in range(4) for ext in ("npz", "json")] + ["clip2.blend"]
    )
    assert (replaced / "clip2.blend").read_bytes() == b"the artist's scene" and not (out / "clip2.blend").exists()
    assert json.loads((replaced / "clip1.ram.json").read_text())["sha256"] == "0" * 64
    for video, ref in zip(videos, references):
        assert_same_results(results_path(out, video), ref)
        assert_same_results(replaced / results_path(out, video).name, ref)
    assert leftovers(out) == []


def test_a_corrupt_video_fails_alone_with_its_one_line_message(batch_clips, bad_videos, tmp_path, capsys):
    videos, references = batch_clips
    folder = tmp_path / "videos"
    folder.mkdir()
    shutil.copy(videos[0], folder / videos[0].name)
    shutil.copy(bad_videos["text"], folder / "broken.avi")
    out = tmp_path / "out"
    assert main(["batch", str(folder), "-o", str(out), "--backend", SCRIPTED]) == 1
    captured = capsys.readouterr()
    errors = [ln for ln in captured.err.splitlines() if ln.startswith("ram-core: error:")]
    assert len(errors) == 1 and "broken.avi: not a video file" in errors[0], captured.err
    summary = {v["video"]: v for v in json.loads((out / "batch_summary.json").read_text())["videos"]}
    assert summary["broken.avi"]["status"] == FAILED and summary["broken.avi"]["attempts"] == 1  # not retried
    assert summary[videos[0].name]["status"] == DONE
    assert_same_results(results_path(out, videos[0]), references[0])
    assert not results_path(out, "broken.avi").exists() and leftovers(out) == []


def test_a_killed_worker_is_retried(batch_clips, tmp_path):
    videos, references = batch_clips
    env = {"RAM_SCRIPTED_KILL_AT": "5", "RAM_SCRIPTED_KILL_MARKER": str(tmp_path / "killed")}
    jobs = make_jobs(videos[:1], tmp_path / "out", SCRIPTED_OPTIONS, max_retries=1, extra_env=env)
    [outcome] = run_batch(jobs, LocalScheduler(1))
    assert (tmp_path / "killed").exists()
    assert outcome.status == DONE and outcome.attempts == 2, outcome
    assert_same_results(results_path(tmp_path / "out", videos[0]), references[0])


def test_a_video_with_nobody_in_it_is_done_and_says_so(batch_clips, tmp_path):
    """Before: its summary row was done, 0 people, and no message (``ram-core capture`` warns)."""
    videos, _ = batch_clips
    jobs = make_jobs(videos[:1], tmp_path, SCRIPTED_OPTIONS, extra_env={"RAM_SCRIPTED_PEOPLE": "0"})
    [outcome] = run_batch(jobs, LocalScheduler(1))
    assert (outcome.status, outcome.people, outcome.message) == (DONE, 0, "nobody was found in it")


def test_without_retries_a_killed_worker_is_reported(batch_clips, tmp_path):
    videos, _ = batch_clips
    jobs = make_jobs(videos[:1], tmp_path, SCRIPTED_OPTIONS, max_retries=0, extra_env={"RAM_SCRIPTED_KILL_AT": "3"})
    [outcome] = run_batch(jobs, LocalScheduler(1))
    assert outcome.status == FAILED and "killed by signal 9" in outcome.message, outcome
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("signal_name", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_ctrl_c_cancels_the_outstanding_videos_and_leaves_no_partial_files(
    batch_clips, tmp_path, worker_env, signal_name, code
):
    videos, _ = batch_clips
    out = tmp_path / "out"
    env = {"RAM_SCRIPTED_SIGINT_PARENT_AT": "4", "RAM_SCRIPTED_SLEEP": "0.2", "RAM_SCRIPTED_SIGNAL": signal_name}
    proc = subprocess.run(
        [sys.executable, "-m", "ram_core", "batch", str(videos[0].parent), "-o", str(out)]
        + ["--backend", SCRIPTED, "--workers", "1"],
        env={**os.environ, **worker_env, **env},
        cwd=REPO,
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert proc.returncode == code, proc.stderr
    assert "cancelling the outstanding videos" in proc.stderr
    statuses = [v["status"] for v in json.loads((out / "batch_summary.json").read_text())["videos"]]
    assert statuses == [CANCELLED] * 4
    assert sorted(p.name for p in out.iterdir()) == ["batch_summary.csv", "batch_summary.json"]


def test_a_cancel_keeps_an_earlier_complete_result(batch_clips, tmp_path):
    videos, references = batch_clips
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(references[0], results_path(out, videos[0]))
    jobs = make_jobs(videos[:1], out, SCRIPTED_OPTIONS, extra_env={"RAM_SCRIPTED_SLEEP": "0.2"})
    scheduler = LocalScheduler(1)
    [outcome] = run_batch(jobs, scheduler, skip_existing=False, should_stop=lambda: bool(scheduler.progress()))
    assert outcome.status == CANCELLED
    assert_same_results(results_path(out, videos[0]), references[0])
    assert leftovers(out) == [] and not record_path(out, videos[0]).exists()
    assert not (out / "replaced").exists()  # earlier files move aside only when new ones replace them


def test_two_videos_with_one_name_are_refused_before_any_capture(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with pytest.raises(ValueError, match=r"would both write clip\.ram\.npz"):
        make_jobs([tmp_path / "a" / "clip.mp4", tmp_path / "b" / "clip.mp4"], tmp_path, SCRIPTED_OPTIONS)


def test_names_that_differ_only_in_case_are_refused(tmp_path):
    """On macOS and Windows ``Clip.ram.npz`` and ``clip.ram.npz`` are one file: the second would replace the first."""
    videos = [tmp_path / "a" / "Clip.mp4", tmp_path / "b" / "clip.mp4"]
    assert clashing_names(videos) == (
        f"{videos[0]} and {videos[1]} would both write clip.ram.npz; rename one or capture them in two runs"
    )
    exported = [tmp_path / "My clip.mp4", tmp_path / "my_clip.mp4"]
    assert clashing_names(exported) is None
    assert "would both write my_clip_person<N> exports" in clashing_names(exported, exports=True)


def test_a_video_named_twice_is_captured_once(tmp_path, monkeypatch):
    """Before: ``ram-core batch clip.mp4 clip.mp4`` made two jobs writing the same results at once (and
    ``clip.mp4 ./folder/..../clip.mp4`` was refused as two videos of one name)."""
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "link.mp4").symlink_to(video)  # a name of its own: link.ram.npz, as before
    found = find_videos(["clip.mp4", str(video), str(tmp_path), "clip.mp4", "../" + tmp_path.name + "/clip.mp4"])
    assert found == [Path("clip.mp4"), tmp_path / "link.mp4"] and clashing_names(found) is None


def test_hidden_files_in_a_folder_are_not_videos(tmp_path):
    """macOS writes ``._clip.mp4`` (its AppleDouble metadata) beside ``clip.mp4`` on FAT and exFAT drives and
    network shares: before, each was captured and failed ('not a video'), and the batch exited 1."""
    for name in ("clip.mp4", "._clip.mp4", ".hidden.mp4"):
        (tmp_path / name).write_bytes(b"")
    assert find_videos([str(tmp_path)]) == [tmp_path / "clip.mp4"]
    assert find_videos([str(tmp_path / ".hidden.mp4")]) == [tmp_path / ".hidden.mp4"]  # named: used


def test_two_videos_whose_exports_share_a_name_are_refused_with_export(tmp_path, capsys):
    """``my clip.mp4`` and ``my_clip.mp4`` write different results but the same ``my_clip_person1.fbx``."""
    videos = [tmp_path / "my clip.mp4", tmp_path / "my_clip.mp4"]
    for video in videos:
        video.write_bytes(b"")
    args = ["batch", str(tmp_path), "-o", str(tmp_path / "out"), "--backend", SCRIPTED]
    assert main([*args, "--export", "fbx", "--blender", sys.executable]) == 1
    assert capsys.readouterr().err == (
        f"ram-core: error: {videos[0]} and {videos[1]} would both write my_clip_person<N> exports; rename one or "
        "capture them in two runs\n"
    )
    assert not (tmp_path / "out").exists()


def test_the_scene_of_a_results_file_is_named_without_its_suffix():
    assert stem_of_results("/o/clip.ram.npz") == "clip"
    assert stem_of_results("/o/clip.raw.npz") == "clip.raw"  # ram-core capture --raw's file: not clip.raw.npz.blend
    assert stem_of_results("out.npz") == "out"


def test_jobs_and_resources():
    job = VideoJob(3, "/v/clip.mp4", "/out", CaptureOptions(backend="ram", end=9), 1, None, (("A", "b"),))
    assert VideoJob.from_json(job.to_json()) == job
    assert task_resources(CaptureOptions(backend="ram")) == {"num_cpus": 1, "num_gpus": 1}
    assert task_resources(CaptureOptions(backend="ram", device="cpu")) == {"num_cpus": 1, "num_gpus": 0}
    assert task_resources(CaptureOptions(backend="lite")) == {"num_cpus": 2}
    # The scene stage: Blender runs the add-on's command; a Python with bpy runs the add-on's package.
    results, out = Path("/o/clip.ram.npz"), Path("/o")
    assert Blender("/b/blender").command(results, out, ("fbx", "bvh")) == [
        *(
            "/b/blender",
            "-b",
            "-c",
            "ram_capture",
            "--from-results",
            "/o/clip.ram.npz",
            "-o",
            "/o",
            "--export",
            "fbx,bvh",
        )
    ]
    assert Blender("/p/python", is_python=True).command(results, out, ("npz",))[:3] == [
        "/p/python",
        "-m",
        "ram_blender",
    ]


def test_the_progress_line_counts_videos_and_frames():
    import io

    from ram_core.batch.driver import BatchProgress
    from ram_core.batch.task import Outcome
    from ram_core.commands.batch import BatchBar

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    bar = BatchBar(stream, every_s=0.0)
    bar.update(BatchProgress(1, 4, 1, 130, 200, 2), [Outcome(0, "/v/bad.mp4", FAILED, message="bad.mp4: no such file")])
    bar.close()
    text = stream.getvalue()
    assert "failed    bad.mp4  (bad.mp4: no such file)\n" in text
    assert "1/4 videos (1 failed)  130 frames" in text and "2 running" in text


def test_a_batch_writing_to_a_log_says_each_finished_video():
    """Before: nothing until the summary, however long the batch (the bar shows only on a terminal)."""
    import io

    from ram_core.batch.driver import BatchProgress
    from ram_core.batch.task import Outcome
    from ram_core.commands.batch import BatchBar

    stream = io.StringIO()
    bar = BatchBar(stream, every_s=0.0)
    bar.update(BatchProgress(0, 4, 0, 0, 0, 2), [])
    bar.update(
        BatchProgress(2, 4, 1, 130, 200, 2),
        [Outcome(0, "/v/a.mp4", DONE), Outcome(1, "/v/bad.mp4", FAILED, message="bad.mp4: no such file")],
    )
    bar.scene_done(Outcome(0, "/v/a.mp4", DONE, export=DONE))
    bar.close()
    assert stream.getvalue() == (
        "[1/4] done      a.mp4\n[2/4] failed    bad.mp4  (bad.mp4: no such file)\nscene done      a.mp4\n"
    )


BLENDER_PYTHON = os.environ.get("RAM_BLENDER_PYTHON")


@pytest.mark.skipif(
    not BLENDER_PYTHON, reason="RAM_BLENDER_PYTHON (a Python with bpy) not set; tools/dev.py test sets it"
)
def test_export_builds_each_videos_scene_and_a_failed_scene_fails_alone(batch_clips, tmp_path, capsys, monkeypatch):
    videos, references = batch_clips
    monkeypatch.setenv("BLENDER_USER_RESOURCES", str(tmp_path / "blender-user"))  # not the real user's Blender
    out = tmp_path / "out"
    (out / "clip1.blend").mkdir(parents=True)  # a folder where clip1's scene must be saved: that scene fails
    args = ["batch", str(videos[0]), str(videos[1]), "-o", str(out), "--backend", SCRIPTED]
    args += ["--export", "bvh", "--blender", str(BLENDER_PYTHON)]
    assert main(args) == 1
    captured = capsys.readouterr()
    summary = {v["video"]: v for v in json.loads((out / "batch_summary.json").read_text())["videos"]}
    assert summary["clip0.avi"]["status"] == DONE and summary["clip0.avi"]["export"] == DONE
    assert summary["clip1.avi"]["status"] == DONE and summary["clip1.avi"]["export"] == FAILED
    assert summary["clip1.avi"]["message"].startswith("scene: Error: Cannot"), summary["clip1.avi"]  # Blender's words
    assert "scenes: 1 built, 1 failed" in captured.out
    errors = [ln for ln in captured.err.splitlines() if ln.startswith("ram-core: error:")]
    assert len(errors) == 1 and errors[0].startswith("ram-core: error: clip1.avi: scene:"), captured.err
    assert (out / "clip0.blend").is_file() and len(list(out.glob("clip0_person*.bvh"))) == 2
    assert_same_results(results_path(out, videos[1]), references[1])  # the capture stands

    # Fixed, a rerun with --skip-existing skips the captures, builds the missing scene from the results
    # already there and keeps the scene that is there (the artist may have worked in it).
    (out / "clip1.blend").rmdir()
    blend0 = (out / "clip0.blend").read_bytes()
    assert main([*args, "--skip-existing"]) == 0
    rows = json.loads((out / "batch_summary.json").read_text())["videos"]
    assert [(row["status"], row["export"]) for row in rows] == [(SKIPPED, SKIPPED), (SKIPPED, DONE)]
    assert "scenes: 1 built, 1 kept, 0 failed" in capsys.readouterr().out
    assert (out / "clip1.blend").is_file() and len(list(out.glob("clip1_person*.bvh"))) == 2
    assert (out / "clip0.blend").read_bytes() == blend0


def test_export_without_blender_or_with_unknown_formats_fails_before_any_capture(batch_clips, tmp_path, monkeypatch):
    videos, _ = batch_clips
    monkeypatch.setenv("PATH", str(tmp_path))  # no blender on it
    out = tmp_path / "out"
    args = ["batch", str(videos[0]), "-o", str(out), "--backend", SCRIPTED]
    with pytest.raises(CommandError, match=r"no 'blender' on PATH; give --blender"):
        run_command([*args, "--export", "fbx"])
    with pytest.raises(CommandError, match=r"--blender /nowhere/blender: no such program"):
        run_command([*args, "--export", "fbx", "--blender", "/nowhere/blender"])
    with pytest.raises(CommandError, match=r"--export 'fbx,obj': give a comma-separated list of fbx, bvh, npz"):
        run_command([*args, "--export", "fbx,obj"])
    assert not out.exists()  # not even an empty output folder


def test_a_blender_without_the_add_on_is_refused(tmp_path):
    from ram_core.batch.scenes import find_blender

    def fake_blender(name: str, has_command: bool) -> str:
        """A program that answers as Blender does: its version, and ``-c ram_capture --help`` when enabled."""
        path = tmp_path / name
        usage = "usage: blender -b -c ram_capture [-h]" if has_command else ""
        path.write_text(
            f"#!{sys.executable}\nimport sys\n"
            "if sys.argv[1:] == ['--version']:\n    print('Blender 5.2.0')\n    sys.exit(0)\n"
            f"print({usage!r} or 'Error: Unrecognized command: ram_capture')\nsys.exit(0 if {has_command} else 1)\n"
        )
        path.chmod(0o755)
        return str(path)

    assert find_blender(fake_blender("blender", True)) == Blender(str(tmp_path / "blender"))
    with pytest.raises(ValueError, match=r"no 'ram_capture' command; install and enable the RAM add-on"):
        find_blender(fake_blender("bare-blender", False))
    with pytest.raises(ValueError, match=r"not Blender \('.*true --version' says"):
        find_blender(shutil.which("true"))


def test_scene_pool_reports_a_failed_scene_and_cancels_those_not_started(tmp_path):
    from ram_core.batch.scenes import ScenePool
    from ram_core.batch.task import Outcome

    outcomes = [
        Outcome(0, "/v/a.mp4", DONE, output=str(tmp_path / "a.ram.npz")),
        Outcome(1, "/v/b.mp4", FAILED, message="b.mp4: not a video file"),
    ]
    no_bpy = Blender(sys.executable, is_python=True)  # this tier's Python has no bpy: the scene fails
    pool = ScenePool(no_bpy, ("bvh",), workers=2)
    pool.add(outcomes)
    built = pool.finish(outcomes)
    assert [o.export for o in built] == [FAILED, ""]  # a failed capture gets no scene
    assert built[0].message == "scene: ModuleNotFoundError: No module named 'bpy'", built[0]
    assert built[1].message == "b.mp4: not a video file"
    stopped = ScenePool(no_bpy, ("bvh",), should_stop=lambda: True)
    stopped.add(outcomes)
    assert [o.export for o in stopped.finish(outcomes)] == [CANCELLED, ""]


def run_command(argv: list[str]) -> int:
    """``ram-core`` with ``argv``, letting its user errors through (``main`` would print them)."""
    from ram_core.cli import build_parser

    args = build_parser().parse_args(argv)
    return args.run(args)


def test_a_folder_without_videos_says_what_counts_and_where_they_are(tmp_path, capsys):
    """Before: 'no videos found in footage', with the videos one folder down and nothing saying why."""
    footage = tmp_path / "footage"
    (footage / "day1").mkdir(parents=True)
    (footage / "notes.txt").write_text("shot list")
    assert main(["batch", str(footage), "-o", str(tmp_path / "out"), "--backend", SCRIPTED]) == 1
    err = capsys.readouterr().err
    assert err.endswith(
        "no videos found in " + str(footage) + " (videos are files ending .avi, .m4v, .mkv, .mov, "
        ".mp4, .mpeg, .mpg, .webm)\n"
    ), err
    (footage / "day1" / "clip.MP4").write_bytes(b"")
    assert main(["batch", str(footage), "-o", str(tmp_path / "out"), "--backend", SCRIPTED]) == 1
    err = capsys.readouterr().err
    assert (
        err == f"ram-core: error: no videos found in {footage}; subfolders are not searched: give {footage / 'day1'}\n"
    )
    assert not (tmp_path / "out").exists()


def test_an_output_folder_that_cannot_be_made_is_one_line(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    out = tmp_path / "notes.txt" / "out"  # below a file: no folder can be made there
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"")
    assert main(["batch", str(video), "-o", str(out), "--backend", SCRIPTED]) == 1
    assert capsys.readouterr().err == f"ram-core: error: {out}: cannot make the output folder (Not a directory)\n"
