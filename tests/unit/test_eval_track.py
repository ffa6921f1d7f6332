"""`ram-core eval track` against cases computed by hand (the metrics themselves come from trackeval)."""

import numpy as np
import pytest

pytest.importorskip("trackeval")

from ram_core.eval.track import evaluate_sequences, evaluate_tracks
from ram_core.tracking.mot import MotTable, write_mot


def table(rows: list[tuple]) -> MotTable:
    a = np.asarray(rows, dtype=np.float64)
    return MotTable(a[:, 0].astype(np.int64), a[:, 1].astype(np.int64), a[:, 2:6], a[:, 6])


GT = table(
    [(f, 1, 10 + 5 * f, 20, 40, 100, 1) for f in range(1, 11)]
    + [(f, 2, 300 - 5 * f, 40, 40, 100, 1) for f in range(1, 11)]
)


def test_perfect_tracks_score_100():
    pred = MotTable(GT.frames, GT.ids + 7, GT.boxes, GT.conf)  # ids need not match, only be consistent
    s = evaluate_tracks(GT, pred)
    for v in (s.hota, s.deta, s.assa, s.mota, s.idf1):
        assert v == pytest.approx(100.0)
    assert s.idsw == 0 and s.num_frames == 10 and s.num_gt_dets == 20


def test_one_identity_switch_matches_the_hand_computation():
    # Person 1 is tracked perfectly but its id changes from 1 to 3 at frame 6; person 2 is perfect.
    ids = np.where((GT.ids == 1) & (GT.frames >= 6), 3, GT.ids)
    s = evaluate_tracks(GT, MotTable(GT.frames, ids, GT.boxes, GT.conf))
    assert s.idsw == 1
    # MOTA = 1 - (FN + FP + IDSW) / GT = 1 - 1/20.
    assert s.mota == pytest.approx(95.0)
    # IDF1: person 1 keeps 5 of its 10 boxes under its best id: IDTP = 15, IDFN = IDFP = 5 -> 30 / 40.
    assert s.idf1 == pytest.approx(75.0)
    # HOTA: every box a perfect detection (DetA 1). Association per true positive: person 2's 10 -> 1,
    # person 1's 10 -> 5 / (5 + 5 + 0) = 0.5, so AssA = (10 + 5) / 20 = 0.75 and HOTA = sqrt(0.75).
    assert s.deta == pytest.approx(100.0)
    assert s.assa == pytest.approx(75.0)
    assert s.hota == pytest.approx(100 * np.sqrt(0.75))


def test_misses_and_false_positives_count_in_mota():
    keep = ~((GT.ids == 2) & (GT.frames > 8))  # person 2 missed on frames 9 and 10
    pred = MotTable(GT.frames[keep], GT.ids[keep], GT.boxes[keep], GT.conf[keep])
    fp = table([(3, 9, 500, 300, 40, 100, 1)])
    pred = MotTable(
        *(
            np.concatenate([a, b])
            for a, b in zip((pred.frames, pred.ids, pred.boxes, pred.conf), (fp.frames, fp.ids, fp.boxes, fp.conf))
        )
    )
    s = evaluate_tracks(GT, pred)
    assert s.mota == pytest.approx(100 * (1 - 3 / 20))
    assert s.idsw == 0


def test_zero_marked_ground_truth_is_ignored_and_sequences_combine():
    ignored = table([(5, 99, 600, 300, 40, 100, 0)])
    gt = MotTable(
        *(
            np.concatenate([a, b])
            for a, b in zip(
                (GT.frames, GT.ids, GT.boxes, GT.conf), (ignored.frames, ignored.ids, ignored.boxes, ignored.conf)
            )
        )
    )
    assert evaluate_tracks(gt, GT).mota == pytest.approx(100.0)
    ids = np.where((GT.ids == 1) & (GT.frames >= 6), 3, GT.ids)
    both = evaluate_sequences([(GT, GT, None), (GT, MotTable(GT.frames, ids, GT.boxes, GT.conf), None)])
    assert both.idsw == 1 and both.mota == pytest.approx(100 * (1 - 1 / 40)) and both.num_frames == 20


def test_cli_prints_the_scores(tmp_path, capsys):
    from ram_core.cli import main

    write_mot(tmp_path / "gt.txt", GT)
    write_mot(tmp_path / "pred.txt", GT)
    assert main(["eval", "track", "--gt", str(tmp_path / "gt.txt"), "--pred", str(tmp_path / "pred.txt")]) == 0
    out = capsys.readouterr().out
    for name in ("HOTA", "DetA", "AssA", "MOTA", "IDF1", "IDSW"):
        assert name in out
    assert "HOTA 100.00" in out
