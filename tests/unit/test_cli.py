"""The ``ram-core`` command line: help, a capture, info, Ctrl-C, and bad inputs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ram_core.cli import main
from ram_core.contract.results import load_results
from tests.conftest import CLIP, REPO, SCRIPTED

pytestmark = pytest.mark.usefixtures("no_leaked_segments")


@pytest.fixture(autouse=True)
def scripted_backend_importable(monkeypatch, worker_env):
    monkeypatch.setenv("PYTHONPATH", worker_env["PYTHONPATH"])


def error_lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.startswith("ram-core: error:")]


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "capture" in out and "info" in out and "motion capture" in out


def test_every_command_help_line_is_a_whole_sentence():
    import argparse

    from ram_core.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for choice in sub._choices_actions:
        assert choice.help and choice.help.endswith("."), (choice.dest, choice.help)


def test_every_command_help_is_plain_text_without_rst_marks():
    """Before: ``capture --help`` printed ```-o``, ``--raw``` and ``:mod:`ram_core.contract.reruns```."""
    import argparse

    from ram_core.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in sub.choices.items():
        text = command.format_help()
        assert "``" not in text and ":mod:" not in text and ":func:" not in text, (name, text)


def test_capture_help_says_what_it_does(capsys):
    with pytest.raises(SystemExit):
        main(["capture", "--help"])
    out = capsys.readouterr().out
    assert "Ctrl-C" in out and "--preview" in out and "--max-people" in out


def test_capture_then_info(tmp_path, capsys):
    out = tmp_path / "out.npz"
    sheet = tmp_path / "sheet.png"
    rc = main(
        ["capture", str(CLIP), "-o", str(out), "--backend", SCRIPTED, "--end", "20", "--contact-sheet", str(sheet)]
    )
    assert rc == 0
    assert sheet.stat().st_size > 0
    results = load_results(out)
    assert [t.track_id for t in results.tracks] == [1, 2]
    assert results.meta.frame_end == 20
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "backend scripted" in text and "track   2: frames 10..19" in text


def test_a_preview_video_has_every_frame(tmp_path):
    import cv2

    preview = tmp_path / "preview.mp4"
    assert (
        main(
            [
                "capture",
                str(CLIP),
                "-o",
                str(tmp_path / "o.npz"),
                "--backend",
                SCRIPTED,
                "--end",
                "12",
                "--preview",
                str(preview),
            ]
        )
        == 0
    )
    cap = cv2.VideoCapture(str(preview))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 12
    assert (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))) == (768, 576)
    cap.release()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.npz", "preview.mp4"]


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("missing", "no such file"),
        ("text", "not a video file"),
        ("truncated", "truncated or damaged: only"),
        ("zero_frames", "has no frames"),
        ("codec", "or in a codec it cannot decode"),
    ],
)
def test_a_bad_video_fails_cleanly(bad_videos, tmp_path, capsys, kind, message):
    rc = main(["capture", str(bad_videos[kind]), "-o", str(tmp_path / "out.npz"), "--backend", SCRIPTED])
    err = capsys.readouterr().err
    assert rc == 1
    assert len(error_lines(err)) == 1 and message in error_lines(err)[0], err
    assert list(tmp_path.iterdir()) == []


def test_a_truncated_video_can_be_kept_on_request(bad_videos, tmp_path):
    out = tmp_path / "out.npz"
    assert (
        main(["capture", str(bad_videos["truncated"]), "-o", str(out), "--backend", SCRIPTED, "--allow-truncated"]) == 0
    )
    meta = load_results(out).meta
    assert 0 < meta.frame_end < 120 and "truncated" in meta.notes


@pytest.mark.parametrize(
    ("out", "message"),
    [("/proc/out.npz", "output folder is not writable"), ("/nonexistent-folder/out.npz", "does not exist")],
)
def test_an_output_folder_that_cannot_be_written(capsys, out, message):
    rc = main(["capture", str(CLIP), "-o", out, "--backend", SCRIPTED])
    err = capsys.readouterr().err
    assert rc == 1 and len(error_lines(err)) == 1 and message in err, err


def test_a_read_only_output_folder(tmp_path, capsys):
    import subprocess

    folder = tmp_path / "read-only"
    folder.mkdir()
    if os.geteuid() == 0:  # root writes into folders whatever their mode: a read-only file system stops it
        mount = ["mount", "-t", "tmpfs", "-o", "ro,size=16k", "tmpfs", str(folder)]
        if subprocess.run(mount, capture_output=True, check=False).returncode != 0:
            pytest.skip("as root, a read-only folder needs a read-only mount, and mounting one failed")
    else:
        folder.chmod(0o555)
    try:
        assert main(["capture", str(CLIP), "-o", str(folder / "out.npz"), "--backend", SCRIPTED]) == 1
        err = capsys.readouterr().err
        assert len(error_lines(err)) == 1 and "output folder is not writable" in err, err
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(folder)], capture_output=True, check=False)
        else:
            folder.chmod(0o755)


def test_an_unknown_backend(tmp_path, capsys):
    assert main(["capture", str(CLIP), "-o", str(tmp_path / "out.npz"), "--backend", "nope"]) == 1
    assert "unknown backend 'nope'" in capsys.readouterr().err


def test_info_on_a_file_that_is_not_results(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_text("nope")
    assert main(["info", str(bad)]) == 1
    assert "not a RAM results file" in capsys.readouterr().err


def test_info_on_a_missing_file_names_it_plainly(tmp_path, capsys):
    missing = tmp_path / "nope.npz"
    assert main(["info", str(missing)]) == 1
    assert error_lines(capsys.readouterr().err) == [f"ram-core: error: {missing}: No such file or directory"]


def test_a_backend_without_its_packages_says_which_extra_installs_them(monkeypatch):
    from ram_core.backends import registry

    # A registered backend whose module needs a package that is not installed (as `ram` without torch).
    monkeypatch.setitem(registry.BACKENDS, "heavy", "package_not_installed_here:Backend")
    with pytest.raises(registry.BackendNotFound, match=r"pip install 'ram-core\[heavy\]'"):
        registry.resolve("heavy")
    with pytest.raises(registry.BackendNotFound) as e:  # an unregistered module:attr gets no extra to name
        registry.resolve("package_not_installed_here:Backend")
    assert "pip install" not in str(e.value)


@pytest.mark.parametrize(("signal_name", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_ctrl_c_saves_what_was_done(tmp_path, worker_env, signal_name, code):
    """SIGTERM (a pipeline's kill or timeout) as Ctrl-C; before, it ended the client at once, without a line,
    and left the worker running until it noticed."""
    out = tmp_path / "out.npz"
    env = {"RAM_SCRIPTED_SIGINT_PARENT_AT": "15", "RAM_SCRIPTED_SLEEP": "0.03", "RAM_SCRIPTED_SIGNAL": signal_name}
    proc = subprocess.run(
        [sys.executable, "-m", "ram_core", "capture", str(CLIP), "-o", str(out), "--backend", SCRIPTED],
        env={**os.environ, **worker_env, **env},
        cwd=REPO,
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert proc.returncode == code, proc.stderr
    assert "cancelled: saved the" in proc.stderr
    meta = load_results(out).meta
    assert 15 <= meta.frame_end < 120
    assert "cancelled" in meta.notes


def test_a_capture_writing_to_a_log_says_how_far_it_is_every_tenth():
    """Before: nothing until the end, however long the video (the bar shows only on a terminal)."""
    import io

    from ram_core.commands.capture import ProgressBar
    from ram_core.contract.messages import Progress

    stream = io.StringIO()
    bar = ProgressBar(stream, log_every_s=0.0)
    for done in range(1, 101):
        bar.update(Progress(frame=done - 1, done=done, total=100, people=3))
    bar.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 10 and lines[-1].startswith("ram-core: 100/100 frames, ")
    assert lines[-1].endswith(" frames/s, 3 people")


def test_info_piped_into_a_reader_that_stops_early_is_not_an_error(tmp_path):
    from ram_core.contract.results import Results, make_track, save_results
    from tests.unit.test_results import sample_results

    # Enough one-frame tracks that the summary overflows the pipe's buffer before the reader goes away.
    base = sample_results(n_tracks=1)
    one = {name: a[:1] for name, a in base.tracks[0].arrays().items()}
    many = Results(base.meta, [make_track(i, **one) for i in range(1, 3001)])
    path = save_results(many, tmp_path / "many.ram.npz")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ram_core", "info", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    proc.stdout.readline()
    proc.stdout.close()  # as `| head -1` does
    assert proc.wait(timeout=60) == 0
    assert proc.stderr.read() == b""


def test_a_video_without_people_is_a_capture_with_a_warning(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RAM_SCRIPTED_PEOPLE", "0")
    out = tmp_path / "out.npz"
    assert main(["capture", str(CLIP), "-o", str(out), "--backend", SCRIPTED, "--end", "3"]) == 0
    assert "nobody was found" in capsys.readouterr().err
    assert load_results(out).tracks == []


def test_raw_records_are_kept_and_refine_into_the_results(tmp_path, capsys):
    """``--raw``: the records as the backend sent them, which the whole-clip refinement turns into the results
    file again (so a refinement change can be scored without capturing again)."""
    import numpy as np

    from ram_core.scene.refine import refine

    out, raw = tmp_path / "out.npz", tmp_path / "raw.npz"
    assert main(["capture", str(CLIP), "-o", str(out), "--raw", str(raw), "--backend", SCRIPTED, "--end", "12"]) == 0
    assert f"wrote {raw}: the records before the whole-clip refinement" in capsys.readouterr().out
    kept, results = load_results(raw), load_results(out)
    assert kept.meta.motion != results.meta.motion and len(kept.tracks) >= len(results.tracks) > 0
    again = refine(kept)
    assert [t.track_id for t in again.tracks] == [t.track_id for t in results.tracks]
    for a, b in zip(again.tracks, results.tracks):
        np.testing.assert_array_equal(a.frame, b.frame)
        np.testing.assert_allclose(a.joints, b.joints, atol=1e-6)


def test_refine_turns_raw_records_into_the_results(tmp_path, capsys):
    """``ram-core refine RAW -o OUT``: the same results as the capture wrote; a refined file or its own path refused."""
    import numpy as np

    out, raw, again = tmp_path / "out.npz", tmp_path / "raw.npz", tmp_path / "again.npz"
    assert main(["capture", str(CLIP), "-o", str(out), "--raw", str(raw), "--backend", SCRIPTED, "--end", "12"]) == 0
    capsys.readouterr()
    assert main(["refine", str(raw), "-o", str(again)]) == 0
    assert f"wrote {again}: " in capsys.readouterr().out
    results, refined = load_results(out), load_results(again)
    assert refined.meta.motion == results.meta.motion
    assert [t.track_id for t in refined.tracks] == [t.track_id for t in results.tracks]
    for a, b in zip(refined.tracks, results.tracks):
        np.testing.assert_allclose(a.joints, b.joints, atol=1e-6)
    assert main(["refine", str(out), "-o", str(tmp_path / "twice.npz")]) == 1
    assert "already refined" in capsys.readouterr().err
    assert main(["refine", str(raw), "-o", str(raw)]) == 1
    assert "would replace the raw records" in capsys.readouterr().err
    assert not (tmp_path / "twice.npz").exists()
    assert load_results(raw).meta.motion == ""
    assert main(["refine", str(raw), "-o", str(again), "--motion", "one-euro"]) == 1  # again.npz exists
    err = error_lines(capsys.readouterr().err)
    assert len(err) == 1 and "would be replaced" in err[0] and "--overwrite" in err[0], err
    assert main(["refine", str(raw), "-o", str(again), "--motion", "one-euro", "--skip-existing"]) == 0
    assert load_results(again).meta.motion == results.meta.motion
    assert main(["refine", str(raw), "-o", str(again), "--motion", "one-euro", "--overwrite"]) == 0
    assert load_results(again).meta.motion == "one-euro"
    (folder,) = (tmp_path / "replaced").iterdir()
    assert load_results(folder / "again.npz").meta.motion == results.meta.motion


def test_raw_records_never_replace_the_results(tmp_path, capsys):
    """``--raw`` naming the output file: refused before the capture (it used to overwrite the refined results)."""
    out = tmp_path / "out.npz"
    args = ["capture", str(CLIP), "-o", str(out), "--raw", str(tmp_path / "out.npz"), "--backend", SCRIPTED]
    assert main(args) == 1
    assert error_lines(capsys.readouterr().err) == [
        f"ram-core: error: {out}: the raw records would replace the results; give them another file name"
    ]
    assert list(tmp_path.iterdir()) == []


def test_a_capture_over_an_earlier_one_follows_the_rerun_rules(tmp_path, capsys):
    """``-o`` naming an existing file: refused before any work unless --skip-existing (kept, nothing captured)
    or --overwrite (the earlier results and raw records move together to replaced/<stamp>/ when the new
    ones are saved; a failed capture leaves them where they were), as ``ram-core batch`` and ``ram_capture`` do."""
    from tests.unit.test_reliability import USERS_FILE

    out, raw = tmp_path / "out.npz", tmp_path / "raw.npz"
    args = ["capture", str(CLIP), "-o", str(out), "--raw", str(raw), "--backend", SCRIPTED, "--end", "6"]
    out.write_bytes(USERS_FILE)
    assert main(args) == 1
    err = error_lines(capsys.readouterr().err)
    assert len(err) == 1 and f"{out} from an earlier run would be replaced" in err[0] and "--overwrite" in err[0], err
    assert main([*args, "--skip-existing"]) == 0
    assert "nothing captured (--skip-existing)" in capsys.readouterr().err
    assert out.read_bytes() == USERS_FILE and not raw.exists()

    raw.write_bytes(b"earlier raw records")
    assert main(["capture", str(tmp_path / "missing.mp4"), *args[2:], "--overwrite"]) == 1  # fails: nothing moves
    capsys.readouterr()
    assert out.read_bytes() == USERS_FILE and raw.read_bytes() == b"earlier raw records"
    assert not (tmp_path / "replaced").exists()

    assert main([*args, "--overwrite"]) == 0
    assert "moved to" in capsys.readouterr().err
    (folder,) = (tmp_path / "replaced").iterdir()
    assert (folder / "out.npz").read_bytes() == USERS_FILE and (
        folder / "raw.npz"
    ).read_bytes() == b"earlier raw records"
    assert load_results(out).meta.frame_end == 6 and load_results(raw).meta.frame_end == 6


def test_a_bad_smpl_file_reads_as_one_plain_line(tmp_path, capsys):
    """Before: 'SmplModelError: ...', and numpy's advice to load a text file with allow_pickle."""
    junk = tmp_path / "smpl.npz"
    junk.write_text("not a model")
    out = tmp_path / "out.npz"
    assert main(["capture", str(CLIP), "-o", str(out), "--end", "2", "--smpl", str(junk)]) == 1
    assert error_lines(capsys.readouterr().err) == [
        f"ram-core: error: {junk}: not an .npz file (an SMPL .pkl? convert it once with "
        "`ram-core smpl convert IN.pkl OUT.npz`)"
    ]
    assert not out.exists()


@pytest.mark.parametrize(
    ("flag", "name", "message"),
    [
        ("--preview", "p.png", "--preview {}: give a video file name ending .mp4, .m4v, .mov, .avi"),
        ("--contact-sheet", "s.mp4", "--contact-sheet {}: give an image file name ending .png, .jpg, .jpeg"),
    ],
)
def test_a_preview_or_contact_sheet_named_as_the_other_kind_is_refused_before_the_capture(
    tmp_path, capsys, flag, name, message
):
    """Before: a preview named .png was written as a broken image with FFmpeg warnings; a contact sheet named
    .mp4 failed with OpenCV's traceback after the whole capture."""
    path = tmp_path / name
    out = tmp_path / "out.npz"
    assert main(["capture", str(CLIP), "-o", str(out), "--backend", SCRIPTED, flag, str(path)]) == 1
    assert error_lines(capsys.readouterr().err) == ["ram-core: error: " + message.format(path)]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "named"), [(["-o", "{}/clip.blend"], "-o"), (["-o", "{}/a.npz", "--raw", "{}/raw"], "--raw")]
)
def test_a_results_file_not_named_npz_is_refused_before_the_capture(tmp_path, capsys, args, named):
    """Before: ``-o clip.blend`` wrote the results as clip.blend, which Blender then could not open."""
    args = [a.format(tmp_path) for a in args]
    assert main(["capture", str(CLIP), "--backend", SCRIPTED, *args]) == 1
    (line,) = error_lines(capsys.readouterr().err)
    assert line.startswith(f"ram-core: error: {named} {args[-1]}: the results file is an .npz, give a name ending .npz")
    assert list(tmp_path.iterdir()) == []
    assert main(["refine", args[-1], "-o", str(tmp_path / "out.txt")]) == 1
    assert "-o " + str(tmp_path / "out.txt") + ": the results file is an .npz" in capsys.readouterr().err


def test_a_results_file_named_in_upper_case_or_a_folder_is_not_refused_for_its_name(tmp_path):
    from ram_core.commands.capture import check_results_names

    check_results_names(str(tmp_path / "CLIP.NPZ"), str(tmp_path / "Raw.Npz"))
    check_results_names(str(tmp_path))  # a folder: check_output_path says "is a folder, expected a file name"


def test_info_on_a_folder_names_a_results_file_in_it(tmp_path, capsys):
    """Before: 'not a RAM results file (unreadable .npz: IsADirectoryError: [Errno 21] ...)'."""
    from ram_core.contract.results import save_results
    from tests.unit.test_results import sample_results

    assert main(["info", str(tmp_path)]) == 1
    assert error_lines(capsys.readouterr().err) == [
        f"ram-core: error: {tmp_path}: is a folder; give one results file (none there)"
    ]
    save_results(sample_results(n_tracks=1), tmp_path / "clip.ram.npz")
    assert main(["info", str(tmp_path)]) == 1
    assert error_lines(capsys.readouterr().err) == [
        f"ram-core: error: {tmp_path}: is a folder; give one results file, e.g. {tmp_path / 'clip.ram.npz'} (1 there)"
    ]


def test_track_on_a_missing_detection_file_names_it_as_the_other_commands_do(tmp_path, capsys):
    missing = tmp_path / "dets.txt"
    assert main(["track", "--dets", str(missing), "-o", str(tmp_path / "tracks.txt")]) == 1
    assert error_lines(capsys.readouterr().err) == [f"ram-core: error: {missing}: no such file (--dets)"]
