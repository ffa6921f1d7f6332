"""MOTChallenge text files, gap interpolation, and tracking a detection file end to end (CLI included)."""

import numpy as np
import pytest

from ram_core.tracking.boxes import xywh_to_xyxy
from ram_core.tracking.mot import (
    MotFormatError,
    MotTable,
    interpolate_gaps,
    read_mot,
    sequence_fps,
    track_detections,
    write_mot,
)


def table(rows: list[tuple]) -> MotTable:
    a = np.asarray(rows, dtype=np.float64)
    return MotTable(a[:, 0].astype(np.int64), a[:, 1].astype(np.int64), a[:, 2:6], a[:, 6])


def two_walkers(frames: int = 30, hide: range = range(0)) -> MotTable:
    """Ground truth of two people walking in opposite directions; person 1 is missing on ``hide`` frames."""
    rows = []
    for f in range(1, frames + 1):
        if f not in hide:
            rows.append((f, 1, 50 + 4 * f, 100, 40, 100, 1.0))
        rows.append((f, 2, 400 - 4 * f, 130, 45, 110, 1.0))
    return table(rows)


def test_round_trip(tmp_path):
    t = table([(2, 7, 10.5, 20.25, 30, 40, 0.9), (1, 3, 0, 0, 5, 5, 1.0), (1, 1, 1, 2, 3, 4, 0.5)])
    path = tmp_path / "t.txt"
    write_mot(path, t)
    lines = path.read_text().splitlines()
    assert lines[0] == "1,1,1.00,2.00,3.00,4.00,0.5000,-1,-1,-1"
    back = read_mot(path)
    s = t.sorted()
    np.testing.assert_array_equal(back.frames, s.frames)
    np.testing.assert_array_equal(back.ids, s.ids)
    np.testing.assert_allclose(back.boxes, s.boxes)
    np.testing.assert_allclose(back.conf, s.conf)


def test_reads_six_and_ten_column_files_and_empty_ones(tmp_path):
    p = tmp_path / "d.txt"
    p.write_text("1,-1,10,20,30,40\n\n2, -1, 1, 2, 3, 4, 0.7, -1, -1, -1\n")
    d = read_mot(p)
    np.testing.assert_allclose(d.conf, [1.0, 0.7])
    (tmp_path / "e.txt").write_text("")
    assert len(read_mot(tmp_path / "e.txt")) == 0


@pytest.mark.parametrize(
    "text, message",
    [
        ("1,2,3\n", ":1: expected at least 6"),
        ("1,1,a,2,3,4\n", ":1: not a number"),
        ("0,1,1,2,3,4\n", "frame must be"),
        ("1,1,0,0,3,4\n1,1,1,2,-3,4\n", ":2: negative box size"),
        ("1,1,nan,2,3,4\n", ":1: NaN or infinity"),
        ("1,1,1,2,inf,4,1\n", ":1: NaN or infinity"),
    ],
)
def test_malformed_files_name_the_line(tmp_path, text, message):
    p = tmp_path / "bad.txt"
    p.write_text(text)
    with pytest.raises(MotFormatError, match=message):
        read_mot(p)


def test_a_binary_file_is_not_motchallenge_text(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\xe3\xff")
    with pytest.raises(MotFormatError, match="bad.txt: not MOTChallenge text"):
        read_mot(p)


def test_sequence_fps_from_seqinfo_beside_or_one_folder_up(tmp_path):
    seq = tmp_path / "TUD-Campus"
    (seq / "det").mkdir(parents=True)
    dets = seq / "det" / "det.txt"
    dets.write_text("")
    assert sequence_fps(dets) is None
    (seq / "seqinfo.ini").write_text("[Sequence]\nname=TUD-Campus\nframeRate=30\nseqLength=71\n")
    assert sequence_fps(dets) == (30.0, (seq / "seqinfo.ini").resolve())
    (seq / "det" / "seqinfo.ini").write_text("[Sequence]\nframeRate=14\n")
    assert sequence_fps(dets)[0] == 14.0
    (seq / "det" / "seqinfo.ini").write_text("no section here\n")
    assert sequence_fps(dets)[0] == 30.0  # an unreadable one is skipped


def test_interpolate_gaps_fills_short_gaps_per_id_only():
    t = table([(1, 1, 0, 0, 10, 10, 1), (4, 1, 30, 0, 10, 10, 1), (20, 1, 0, 0, 10, 10, 1), (2, 2, 5, 5, 5, 5, 1)])
    filled = interpolate_gaps(t, max_gap=5)
    rows = filled.frames[filled.ids == 1]
    np.testing.assert_array_equal(rows, [1, 2, 3, 4, 20])
    np.testing.assert_allclose(filled.boxes[(filled.ids == 1) & (filled.frames == 2)], [[10, 0, 10, 10]])
    assert filled.conf[(filled.ids == 1) & (filled.frames == 3)] == 0.0
    assert len(interpolate_gaps(t, 0)) == len(t)


def test_track_detections_recovers_identities_through_a_gap():
    gt = two_walkers(hide=range(12, 16))
    dets = MotTable(gt.frames, -np.ones(len(gt), np.int64), gt.boxes, np.full(len(gt), 0.9))
    tracks = track_detections(dets, fill_gaps=0)
    assert len(np.unique(tracks.ids)) == 2
    for gid in (1, 2):
        # Every ground-truth box is covered by one and the same track id, tentative frames included.
        g = gt.boxes[gt.ids == gid]
        f = gt.frames[gt.ids == gid]
        ids = {
            int(tracks.ids[(tracks.frames == fi) & (np.abs(tracks.boxes - b).sum(axis=1) < 8)][0])
            for fi, b in zip(f, g)
        }
        assert len(ids) == 1
    filled = track_detections(dets, fill_gaps=10)
    assert len(filled) == len(tracks) + 4
    one = filled.ids == filled.ids[filled.frames == 13][np.argmin(filled.boxes[filled.frames == 13][:, 0])]
    np.testing.assert_allclose(xywh_to_xyxy(filled.boxes[one & (filled.frames == 13)])[0, 0], 50 + 4 * 13, atol=3)


def test_cli_track_writes_tracks(tmp_path):
    from ram_core.cli import main

    gt = two_walkers()
    write_mot(tmp_path / "dets.txt", MotTable(gt.frames, -np.ones(len(gt), np.int64), gt.boxes, np.full(len(gt), 0.9)))
    assert main(["track", "--dets", str(tmp_path / "dets.txt"), "-o", str(tmp_path / "tracks.txt")]) == 0
    out = read_mot(tmp_path / "tracks.txt")
    assert len(out) == len(gt) and len(np.unique(out.ids)) == 2
    args = ["--fps", "8.3", "--no-relink", "--fill-gaps", "0"]
    assert main(["track", "--dets", str(tmp_path / "dets.txt"), "-o", str(tmp_path / "t2.txt"), *args]) == 0
    assert len(read_mot(tmp_path / "t2.txt")) == len(gt)
    assert main(["track", "--dets", str(tmp_path / "dets.txt"), "-o", str(tmp_path / "x.txt"), "--fps", "0"]) == 1
    assert main(["track", "--dets", str(tmp_path / "missing.txt"), "-o", str(tmp_path / "x.txt")]) == 1
    assert not (tmp_path / "x.txt").exists()


@pytest.mark.parametrize("args", [["--fps", "inf"], ["--fps", "nan"], ["--max-coast", "-1"], ["-o", "."]])
def test_cli_track_refuses_in_one_line_and_leaves_nothing(tmp_path, monkeypatch, capsys, args):
    from ram_core.cli import main

    monkeypatch.chdir(tmp_path)
    gt = two_walkers()
    write_mot(tmp_path / "dets.txt", MotTable(gt.frames, -np.ones(len(gt), np.int64), gt.boxes, np.full(len(gt), 0.9)))
    out = ["-o", "x.txt"] if "-o" not in args else []
    assert main(["track", "--dets", "dets.txt", *out, *args]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("ram-core: error:") and "\n" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dets.txt"]


def test_cli_track_reads_the_frame_rate_from_seqinfo(tmp_path, capsys):
    from ram_core.cli import main

    gt = two_walkers()
    (tmp_path / "det").mkdir()
    dets = tmp_path / "det" / "det.txt"
    write_mot(dets, MotTable(gt.frames, -np.ones(len(gt), np.int64), gt.boxes, np.full(len(gt), 0.9)))
    assert main(["track", "--dets", str(dets), "-o", str(tmp_path / "t.txt")]) == 0
    assert "at 25 fps (assumed: no seqinfo.ini" in capsys.readouterr().out
    (tmp_path / "seqinfo.ini").write_text("[Sequence]\nframeRate=30\n")
    assert main(["track", "--dets", str(dets), "-o", str(tmp_path / "t.txt")]) == 0
    assert "at 30 fps (" in capsys.readouterr().out
    assert main(["track", "--dets", str(dets), "-o", str(tmp_path / "t.txt"), "--fps", "12.5"]) == 0
    assert "at 12.5 fps (--fps)" in capsys.readouterr().out
