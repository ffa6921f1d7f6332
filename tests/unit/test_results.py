"""The results file: a round trip, and a clear refusal of every kind of malformed file."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import io
import json
import zipfile

import numpy as np
import pytest

from ram_core.contract import results as results_module
from ram_core.contract.results import (
    FORMAT_VERSION,
    RECORD_FIELDS,
    CaptureMeta,
    Results,
    ResultsFormatError,
    load_results,
    make_track,
    save_results,
    summary,
)


def sample_results(n_tracks: int = 2) -> Results:
    rng = np.random.default_rng(0)
    k = np.array([[800.0, 0, 384], [0, 800.0, 288], [0, 0, 1]])
    meta = CaptureMeta(
        video_path="/videos/street.avi",
        fps=10.0,
        width=768,
        height=576,
        frame_count=120,
        frame_start=0,
        frame_end=120,
        intrinsics=k,
        intrinsics_assumed=True,
        backend="lite",
        rest_joints=rng.normal(size=(24, 3)),
        rest_source="anny-cmu_mb",
        notes="a test",
    )
    tracks = []
    for i in range(n_tracks):
        n = 5 + 3 * i
        arrays = {name: rng.normal(size=(n, *f.shape)) for name, f in RECORD_FIELDS.items()}
        arrays["frame"] = np.arange(10 * i, 10 * i + n)
        arrays["predicted"] = np.arange(n) % 3 == 1
        tracks.append(make_track(i + 1, **arrays))
    return Results(meta, tracks)


def arrays_of(path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def test_round_trip(tmp_path):
    original = sample_results()
    path = save_results(original, tmp_path / "r.npz")
    loaded = load_results(path)
    assert loaded.meta.to_json() == original.meta.to_json()
    assert [t.track_id for t in loaded.tracks] == [1, 2]
    for a, b in zip(original.tracks, loaded.tracks, strict=True):
        for name, f in RECORD_FIELDS.items():
            shape, dtype = f.shape, f.dtype
            got = getattr(b, name)
            assert got.dtype == dtype and got.shape == (len(a), *shape)
            np.testing.assert_array_equal(got, getattr(a, name))
    assert "track   2: frames 10..17" in summary(loaded)


def test_no_tracks_round_trip(tmp_path):
    loaded = load_results(save_results(sample_results(0), tmp_path / "r.npz"))
    assert loaded.tracks == []


def test_saving_leaves_no_temporary_file(tmp_path):
    save_results(sample_results(), tmp_path / "r.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["r.npz"]


def rewrite(tmp_path, change) -> str:
    """Save a good file, change its arrays with ``change(dict)`` and write them back."""
    good = save_results(sample_results(), tmp_path / "good.npz")
    data = arrays_of(good)
    change(data)
    bad = tmp_path / "bad.npz"
    np.savez(bad, **data)
    return str(bad)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d.update(body_pose=d["body_pose"].astype(np.float64)),
            "'body_pose' has dtype float64, expected float32",
        ),
        (lambda d: d.update(joints=d["joints"][:, :20]), r"joints: shape \(13, 20, 3\), expected \(13, 24, 3\)"),
        (lambda d: d.pop("betas"), "missing array 'betas'"),
        (lambda d: d.pop("meta_json"), "missing array 'meta_json'"),
        (
            lambda d: d.update(format_version=np.array(FORMAT_VERSION + 1, dtype=np.int32)),
            f"format version {FORMAT_VERSION + 1}",
        ),
        (lambda d: d.update(joints=np.where(True, np.nan, d["joints"]).astype(np.float32)), "joints. holds NaN"),
        (lambda d: d.update(box=np.full_like(d["box"], np.inf)), "box. holds NaN"),
        (
            lambda d: d.update(
                meta_json=np.array(d["meta_json"].item().replace('"frame_start": 0', '"frame_start": "abc"'))
            ),
            "frame_start is .abc.",
        ),
        (lambda d: d.update(meta_json=np.array(d["meta_json"].item().replace('"fps": 10.0', '"fps": 0'))), "fps is 0"),
        (
            lambda d: d.update(meta_json=np.array(d["meta_json"].item().replace('"width": 768', '"width": -1'))),
            "width is -1",
        ),
        (
            lambda d: d.update(
                track_ids=np.arange(2_000_000, dtype=np.int32), track_offsets=np.zeros(2_000_001, dtype=np.int64)
            ),
            "2000000 tracks declared",
        ),
        (lambda d: d.update(format_name=np.array("something-else")), "format_name is 'something-else'"),
        (lambda d: d.update(track_offsets=np.array([0, 9, 4], dtype=np.int64)), "do not partition"),
        (lambda d: d.update(track_ids=np.array([3, 3], dtype=np.int32)), "duplicate track ids"),
        (lambda d: d.update(frame=d["frame"][::-1].copy()), "not strictly increasing"),
        (lambda d: d.update(meta_json=np.array("{not json")), "metadata is not valid JSON"),
        (lambda d: d.update(meta_json=_meta_with(d, skipped_frames="abc")), "skipped_frames is abc"),
        (lambda d: d.update(meta_json=_meta_with(d, skipped_frames=[5, 500])), "skipped_frames are not increasing"),
        (lambda d: d.update(meta_json=_meta_with(d, frame_times=[0.0, 0.1])), r"frame_times: shape \(2,\)"),
        (
            lambda d: d.update(meta_json=_meta_with(d, frame_times=[0.0] * 120)),
            "frame_times do not increase",
        ),
        (lambda d: d.update(meta_json=_meta_with(d, video_rotation=45)), "video_rotation is 45, expected 0, 90"),
        (lambda d: d.update(meta_json=_meta_with(d, video_rotation="90")), "video_rotation is '90', expected int"),
        (lambda d: d.update(meta_json=np.array('{"fps": 10}')), "metadata lacks"),
    ],
)
def test_a_malformed_file_is_refused_with_a_reason(tmp_path, change, message):
    with pytest.raises(ResultsFormatError, match=message):
        load_results(rewrite(tmp_path, change))


def test_an_object_array_is_refused_without_unpickling(tmp_path):
    def to_objects(d):
        d["box"] = np.array([object()] * len(d["box"]), dtype=object)

    good = save_results(sample_results(), tmp_path / "good.npz")
    data = arrays_of(good)
    to_objects(data)
    bad = tmp_path / "bad.npz"
    np.savez(bad, **data)  # np.savez pickles object arrays; the reader must refuse them
    with pytest.raises(ResultsFormatError, match="not a RAM results file"):
        load_results(bad)


def test_a_file_that_is_not_npz(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(ResultsFormatError):
        load_results(bad)


def test_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_results(tmp_path / "none.npz")


def test_a_truncated_file(tmp_path):
    good = save_results(sample_results(), tmp_path / "good.npz").read_bytes()
    bad = tmp_path / "bad.npz"
    bad.write_bytes(good[: len(good) // 2])
    with pytest.raises(ResultsFormatError):
        load_results(bad)


def test_the_file_is_a_plain_zip_of_npy_arrays(tmp_path):
    path = save_results(sample_results(), tmp_path / "r.npz")
    with zipfile.ZipFile(path) as z:
        names = sorted(z.namelist())
        header = io.BytesIO(z.read("body_pose.npy")).read(6)
    assert header == b"\x93NUMPY"
    assert "meta_json.npy" in names and "track_offsets.npy" in names


FIXTURES = __import__("pathlib").Path(__file__).parents[1] / "data" / "results"


def _meta_with(data: dict, **keys) -> np.ndarray:
    meta = json.loads(data["meta_json"].item())
    return np.array(json.dumps({**meta, **keys}))


def test_skipped_frames_and_frame_times_round_trip_and_show_in_the_summary(tmp_path):
    r = sample_results()
    times = np.cumsum(np.full(120, 0.1)) + np.r_[np.zeros(60), np.full(60, 0.5)]
    r.meta = dataclasses.replace(r.meta, skipped_frames=(10, 11), frame_times=times)
    back = load_results(save_results(r, tmp_path / "r.npz"))
    assert back.meta.skipped_frames == (10, 11)
    assert back.meta.frame_times is not None and np.allclose(back.meta.frame_times, times)
    text = summary(back)
    assert "2 damaged frame(s) skipped, left missing: 10, 11" in text
    assert "variable frame rate: each frame's time kept (0.100..12.500 s" in text


def test_files_without_them_load_with_none_skipped_and_a_constant_rate(tmp_path):
    old = load_results(FIXTURES / "v1_two_tracks.ram.npz")
    assert old.meta.skipped_frames == () and old.meta.frame_times is None
    r = load_results(save_results(sample_results(), tmp_path / "r.npz"))
    assert r.meta.skipped_frames == () and r.meta.frame_times is None
    assert "skipped" not in summary(r) and "variable" not in summary(r)


@pytest.mark.parametrize("name", ["v1_two_tracks.ram.npz", "v1_empty.ram.npz"])
def test_version_1_files_load(name):
    r = load_results(FIXTURES / name)
    assert r.meta.fps == 10.0
    assert all(len(t) for t in r.tracks)


def test_version_1_files_load_without_a_scene():
    r = load_results(FIXTURES / "v1_two_tracks.ram.npz")
    assert r.meta.world_from_camera is None and r.meta.floor_cam is None and r.meta.scene_status == ""
    assert all(np.all(t.scale == 1.0) for t in r.tracks)


def test_version_1_files_load_without_contact():
    r = load_results(FIXTURES / "v1_two_tracks.ram.npz")
    assert all(t.contact.shape == (len(t), 2) and np.all(t.contact == 0) for t in r.tracks)


def test_version_2_files_load_with_their_scene_and_without_contact():
    r = load_results(FIXTURES / "v2_scene.ram.npz")
    assert r.meta.format_version == 2 and r.meta.scene_status == "solved: a test"
    assert r.meta.floor_cam is not None and r.meta.floor_cam[3] == 2.5
    assert len(r.tracks) == 2 and all(np.all(t.scale == np.float32(1.1)) for t in r.tracks)
    assert all(t.contact.shape == (len(t), 2) and np.all(t.contact == 0) for t in r.tracks)


def test_version_3_files_load_without_keypoints_and_say_no_fit(tmp_path):
    data = arrays_of(save_results(sample_results(), tmp_path / "v4.ram.npz"))
    old = {k: v for k, v in data.items() if not k.startswith("keypoints")}
    old["format_version"] = np.array(3, dtype=np.int32)
    r = results_module.results_from_arrays(old)
    assert r.meta.motion == ""
    for t in r.tracks:
        assert t.keypoints_2d.shape == (len(t), 24, 3) and np.all(t.keypoints_2d == 0)
        assert t.keypoints_3d.shape == (len(t), 24, 4) and np.all(t.keypoints_3d == 0)


def test_summary_tells_raw_records_apart_and_shows_heights():
    raw = sample_results()  # motion "": records as the backend sent them (ram-core capture --raw)
    assert raw.meta.format_version >= 4 and raw.meta.motion == ""
    text = summary(raw)
    assert "motion: not refined: the records as the backend sent them" in text and " tall" not in text
    raw.meta = dataclasses.replace(raw.meta, format_version=3)
    assert "motion: one-euro (a file from before the temporal fit)" in summary(raw)
    raw.meta = dataclasses.replace(raw.meta, motion="temporal fit")
    text = summary(raw, {2: 1.734})
    assert "motion: temporal fit" in text
    assert "track   2: frames 10..17" in text and text.count(" tall") == 1 and text.endswith(", 1.73 m tall)")


def test_a_field_added_later_loads_from_old_files_with_its_default(monkeypatch):
    mod = results_module

    later = mod.FORMAT_VERSION + 1
    fields = dict(mod.RECORD_FIELDS, future=mod.RecordField((2,), np.dtype(np.float32), since=later, default=0.5))
    monkeypatch.setattr(mod, "RECORD_FIELDS", fields)
    monkeypatch.setattr(mod, "FORMAT_VERSION", later)
    data = arrays_of(FIXTURES / "v1_two_tracks.ram.npz")
    flat = dict(data.items())
    n = int(flat["track_offsets"][-1])
    got = mod._record_array("old", flat, "future", fields["future"], 1, n)
    assert got.shape == (n, 2) and np.all(got == 0.5)


def test_a_huge_declared_shape_is_refused_before_reading(tmp_path):
    good = save_results(sample_results(), tmp_path / "good.npz")
    bad = tmp_path / "bad.npz"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "joints.npy":
                body = body.replace(b"(13, 24, 3)", b"(1000000000000, 24, 3)")
            dst.writestr(info.filename, body)
    with pytest.raises(ResultsFormatError, match="more than a"):
        load_results(bad)


def test_the_type_checkers_track_names_every_record_field():
    tree = ast.parse(inspect.getsource(results_module))
    stub = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == "Track")
    names = [s.target.id for s in stub.body if isinstance(s, ast.AnnAssign)]
    assert names == ["track_id", *RECORD_FIELDS]
