"""``blender -b -c ram_capture --from-results DIR``: scenes and exports from results files already made
(``ram-core batch``'s output), with no capture; one bad file fails alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import bpy
import numpy as np

from ram_blender import cli
from tests.fixtures.interrupts import export_stopped_after_one

RESULTS = Path(__file__).resolve().parents[2] / "tests" / "data" / "results"


def test_scenes_are_built_from_a_results_folder_and_a_bad_file_fails_alone(empty_scene, tmp_path, capsys):
    results = tmp_path / "results"
    results.mkdir()
    shutil.copy(RESULTS / "v2_scene.ram.npz", results / "walk.ram.npz")
    (results / "broken.ram.npz").write_bytes(b"not a results file")
    out = tmp_path / "scenes"
    assert cli.main(["--from-results", str(results), "-o", str(out), "--export", "bvh"]) == 1
    said = capsys.readouterr()
    assert "broken.ram.npz: FAILED" in said.out and "1 of 2 scenes built" in said.out
    # Each failure again on stderr, one line naming the file: what a pipeline's 2>errors.log keeps.
    [error] = said.err.splitlines()
    assert error.startswith(f"ram_capture: error: {results / 'broken.ram.npz'}: "), error
    assert (out / "walk.blend").is_file() and list(out.glob("walk_person*.bvh"))
    assert not (out / "broken.blend").exists()
    bpy.ops.wm.open_mainfile(filepath=str(out / "walk.blend"))
    armatures = [o for o in bpy.data.objects if o.type == "ARMATURE"]
    assert armatures and all(o.animation_data.action for o in armatures)
    # F12 in the built file shows the people (Blender's empty file, EEVEE without world or light, rendered black).
    scene = bpy.context.scene
    scene.render.resolution_percentage = 10
    scene.frame_set(scene.frame_start + 10)
    scene.render.filepath = str(tmp_path / "f12.png")
    bpy.ops.render.render(write_still=True)
    image = bpy.data.images.load(str(tmp_path / "f12.png"))
    pixels = np.empty(image.size[0] * image.size[1] * image.channels, np.float32)
    image.pixels.foreach_get(pixels)
    rgb = pixels.reshape(-1, image.channels)[:, :3]
    assert rgb.mean() > 0.02 and rgb.std(axis=0).max() > 0.01  # not black, not one colour


def test_results_whose_exports_share_a_name_are_refused_before_any_scene(empty_scene, tmp_path, capsys):
    """Before: ``my clip.ram.npz``'s exports were written over by ``my_clip.ram.npz``'s (both my_clip_person1.bvh)."""
    names = [tmp_path / "my clip.ram.npz", tmp_path / "my_clip.ram.npz"]
    for name in names:
        shutil.copy(RESULTS / "v2_scene.ram.npz", name)
    out = tmp_path / "scenes"
    assert cli.main(["--from-results", str(tmp_path), "-o", str(out), "--export", "bvh"]) == 2
    assert capsys.readouterr().err == (
        f"ram_capture: {names[0]} and {names[1]} would both write my_clip_person<N> exports; rename one or build "
        "them in two runs\n"
    )
    assert not out.exists()
    assert cli.main(["--from-results", str(tmp_path), "-o", str(out)]) == 0  # without exports: two scenes
    assert {p.name for p in out.glob("*.blend")} == {"my clip.blend", "my_clip.blend"}


def test_from_results_on_nothing_says_what_it_found(tmp_path, capsys):
    assert cli.main(["--from-results", str(tmp_path / "nope")]) == 1
    assert capsys.readouterr().err == f"ram_capture: error: {tmp_path / 'nope'}: no such file or folder\n"
    assert cli.main(["--from-results", str(tmp_path)]) == 1
    assert capsys.readouterr().err == f"ram_capture: error: {tmp_path}: no results files (*.ram.npz) in it\n"


def test_from_results_and_videos_together_are_refused(tmp_path, capsys):
    assert cli.main(["--from-results", str(tmp_path), "clip.mp4"]) == 2
    assert "not both" in capsys.readouterr().err
    # Blender asks a command to answer --help with exit code 0; a bad flag is a usage error, not a traceback.
    assert cli.main(["--help"]) == 0
    said = capsys.readouterr().out
    assert "usage: blender -b -c ram_capture" in said and "Capture every person" in said and "``" not in said
    assert cli.main(["--no-such-flag"]) == 2


def test_one_results_file_builds_its_scene_beside_it_and_a_rebuild_keeps_the_earlier_scene(
    empty_scene, tmp_path, capsys
):
    results = tmp_path / "walk.ram.npz"
    shutil.copy(RESULTS / "v2_scene.ram.npz", results)
    shutil.copy(RESULTS / "v2_scene.ram.npz", tmp_path / "other.ram.npz")  # not asked for: not built
    argv = ["--from-results", str(results), "--export", "npz"]
    assert cli.main(argv) == 0
    scene = sorted(p.name for p in tmp_path.glob("walk*") if p != results)
    assert "walk.blend" in scene and any(n.startswith("walk_person") for n in scene)
    assert not (tmp_path / "other.blend").exists()
    capsys.readouterr()

    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "from an earlier run would be replaced (1 of 1 scenes); give --skip-existing" in err
    assert cli.main([*argv, "--overwrite"]) == 0
    [replaced] = list((tmp_path / "replaced").iterdir())
    # The earlier scene and a copy of the results it was built from (which stay where they are).
    assert sorted(p.name for p in replaced.iterdir()) == sorted([*scene, "walk.ram.npz"]) and results.is_file()
    assert (tmp_path / "walk.blend").is_file()


def test_a_rebuild_stopped_among_its_exports_puts_the_earlier_scene_back(empty_scene, tmp_path, monkeypatch):
    """Before: Ctrl-C while exporting left the new .blend and some people's exports, the earlier scene in
    replaced/, and a rerun with --skip-existing took the scene for built."""
    results = tmp_path / "walk.ram.npz"
    shutil.copy(RESULTS / "v2_scene.ram.npz", results)
    argv = ["--from-results", str(results), "--export", "bvh"]
    assert cli.main(argv) == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    write_people = cli.export.export_people

    monkeypatch.setattr(cli.export, "export_people", export_stopped_after_one(write_people))
    assert cli.main([*argv, "--overwrite"]) == 130
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no replaced/ folder either


def test_each_scene_is_saved_once_with_its_results_named_relative_to_it(empty_scene, tmp_path, capfd):
    """Blender prints "Info: Saved as" per save: the scene was saved twice (once only to make the results path
    relative). Once now, and the .blend and its results still move together."""
    results = tmp_path / "walk.ram.npz"
    shutil.copy(RESULTS / "v2_scene.ram.npz", results)
    capfd.readouterr()
    assert cli.main(["--from-results", str(results)]) == 0
    assert capfd.readouterr().out.count("Saved") == 1
    moved = tmp_path / "moved"
    moved.mkdir()
    for name in ("walk.blend", "walk.ram.npz"):
        shutil.move(tmp_path / name, moved / name)
    bpy.ops.wm.open_mainfile(filepath=str(moved / "walk.blend"))
    assert bpy.context.scene.ram.results_path == "//walk.ram.npz"
    assert Path(bpy.path.abspath(bpy.context.scene.ram.results_path)) == moved / "walk.ram.npz"
