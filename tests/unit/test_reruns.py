"""What a rerun does with an earlier run's outputs (``ram_core.contract.reruns``): which files are a
video's, and moving them aside together without ever replacing a file."""

from __future__ import annotations

import argparse

import pytest

from ram_core.contract import reruns


def test_a_videos_outputs_are_its_results_record_scene_and_exports_only(tmp_path):
    names = ["clip.ram.npz", "clip.ram.json", "clip.blend", "clip.blend1", "clip_person1.fbx", "clip_person12.bvh"]
    others = ["clip_person1.obj", "clip_personA.fbx", "clip2.blend", "clip2_person1.fbx", "my_clip.blend", "clip.mp4"]
    for name in names + others:
        (tmp_path / name).write_bytes(name.encode())
    assert sorted(p.name for p in reruns.video_outputs(tmp_path, "clip")) == sorted(names)
    assert [p.name for p in reruns.scene_outputs(tmp_path, "clip")] == names[2:]
    assert reruns.video_outputs(tmp_path / "missing", "clip") == []


def test_files_move_aside_together_and_never_over_a_file(tmp_path):
    results = tmp_path / "clip.ram.npz"
    results.write_bytes(b"results")
    blend = tmp_path / "clip.blend"
    blend.write_bytes(b"scene")
    folder = reruns.replaced_folder(tmp_path)
    assert folder.parent == tmp_path / "replaced" and not folder.exists()  # made only when a file moves
    reruns.set_aside([blend], folder, keep_copy=results)
    assert (folder / "clip.blend").read_bytes() == b"scene" and not blend.exists()
    assert (folder / "clip.ram.npz").read_bytes() == b"results" and results.exists()  # a copy: the input stays
    assert reruns.replaced_folder(tmp_path) != folder  # a later run never mixes into this one's folder
    blend.write_bytes(b"second scene")
    (tmp_path / "clip_person1.fbx").write_bytes(b"fbx")
    with pytest.raises(FileExistsError, match="clip.blend: exists; the earlier files stay where they are"):
        reruns.set_aside([tmp_path / "clip_person1.fbx", blend], folder)
    assert blend.read_bytes() == b"second scene" and (tmp_path / "clip_person1.fbx").exists()


def test_putting_back_removes_the_unfinished_files_and_returns_only_that_videos_earlier_ones(tmp_path):
    for name in ["clip.ram.npz", "clip.blend", "clip_person1.fbx", "other.blend"]:
        (tmp_path / name).write_bytes(b"earlier " + name.encode())
    folder = reruns.replaced_folder(tmp_path)
    reruns.set_aside(reruns.video_outputs(tmp_path, "other"), folder)
    reruns.set_aside(reruns.video_outputs(tmp_path, "clip"), folder)
    (tmp_path / "clip.ram.npz").write_bytes(b"new")
    (tmp_path / "clip.blend").write_bytes(b"new")  # stopped here: one person's exports made, not the other's
    (tmp_path / "clip_person2.fbx").write_bytes(b"new")
    reruns.put_back(tmp_path, "clip", folder, reruns.video_outputs)
    here = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert here == {n: b"earlier " + n.encode() for n in ["clip.ram.npz", "clip.blend", "clip_person1.fbx"]}
    assert [p.name for p in folder.iterdir()] == ["other.blend"]  # another video's, replaced for good
    reruns.put_back(tmp_path, "other", folder, reruns.video_outputs)
    assert not (tmp_path / "replaced").exists()  # emptied: no folder left behind


def test_putting_back_a_scene_built_into_another_folder_leaves_no_copy_of_its_results(tmp_path):
    """Before, the copy of the results set beside the earlier .blend was removed only when the results were in
    the scene's folder: a failed ``--overwrite`` build into another folder left ``replaced/<date>/clip.ram.npz``."""
    results, out = tmp_path / "runs" / "clip.ram.npz", tmp_path / "scenes"
    results.parent.mkdir()
    out.mkdir()
    results.write_bytes(b"results")
    (out / "clip.blend").write_bytes(b"earlier")
    folder = reruns.replaced_folder(out)
    reruns.set_aside(reruns.scene_outputs(out, "clip"), folder, keep_copy=results)
    (out / "clip.blend").write_bytes(b"new, unfinished")
    reruns.put_back(out, "clip", folder, reruns.scene_outputs, copy=results)
    assert (out / "clip.blend").read_bytes() == b"earlier" and results.read_bytes() == b"results"
    assert not (out / "replaced").exists()


def test_a_video_named_with_spaces_has_its_exports_among_its_outputs(tmp_path):
    """Exports are named by ``export_stem`` (``street walk`` -> ``street_walk_person1.fbx``): before, --overwrite
    left them out of what moves to replaced/ and the new ones were written over them."""
    names = ["street walk.ram.npz", "street walk.blend", "street_walk_person1.fbx", "street_walk_person2.npz"]
    for name in names:
        (tmp_path / name).write_bytes(b"")
    assert sorted(p.name for p in reruns.video_outputs(tmp_path, "street walk")) == sorted(names)


def test_an_export_the_new_one_would_write_over_by_another_case_is_among_the_outputs(tmp_path):
    """On macOS and Windows writing ``clip_person1.fbx`` writes over an earlier ``Clip_person1.fbx`` (one file):
    before, --overwrite for ``clip.mp4`` left it out of what moves to replaced/. A hard link stands in for such
    a file system here; on a case-sensitive one (this) the other case is another file and is not touched."""
    (tmp_path / "Clip_person1.fbx").write_bytes(b"earlier")
    (tmp_path / "Clip_person2.BVH").write_bytes(b"another file here")
    assert reruns.scene_outputs(tmp_path, "clip") == []
    (tmp_path / "clip_person1.fbx").hardlink_to(tmp_path / "Clip_person1.fbx")
    assert [p.name for p in reruns.scene_outputs(tmp_path, "clip")] == ["Clip_person1.fbx", "clip_person1.fbx"]


def test_the_flags_exclude_each_other_and_refusing_is_the_default():
    parser = argparse.ArgumentParser()
    reruns.add_arguments(parser)
    assert parser.parse_args([]).existing == reruns.REFUSE
    assert parser.parse_args(["--skip-existing"]).existing == reruns.SKIP
    assert parser.parse_args(["--overwrite"]).existing == reruns.OVERWRITE
    with pytest.raises(SystemExit):
        parser.parse_args(["--skip-existing", "--overwrite"])


@pytest.mark.parametrize("command", ["capture", "refine"])
def test_a_command_of_one_output_file_says_what_the_flags_do_for_it(command, capsys):
    from ram_core.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"keep it and {command} nothing" in text and "videos" not in text.rsplit("--skip-existing", 1)[1]
