"""Score results against ground truth (tracks, joints, captures, the baseline).

'eval track' for MOTChallenge tracks (HOTA, MOTA, IDF1 via trackeval),
'eval pose' for joints given as arrays (MPJPE, PA-MPJPE, PCK@0.05/0.1),
'eval capture' for a results file against a synthetic clip's gt.npz,
'eval baseline' for the raw-landmark baseline's results file of such a clip (score it with 'eval capture')."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def _require_files(*paths: Path) -> None:
    from ram_core.commands import CommandError

    for path in paths:
        if not path.is_file():
            raise CommandError(f"{path}: no such file")


def _add_track(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gt", required=True, type=Path, help="ground truth, MOTChallenge text")
    parser.add_argument("--pred", required=True, type=Path, help="tracks to score, MOTChallenge text")


def _run_track(args: argparse.Namespace) -> int:
    from ram_core.commands import CommandError
    from ram_core.tracking.mot import read_mot

    _require_files(args.gt, args.pred)
    try:
        from ram_core.eval.track import evaluate_tracks

        scores = evaluate_tracks(read_mot(args.gt), read_mot(args.pred))
    except ImportError as e:
        raise CommandError(str(e)) from e
    print(
        f"frames {scores.num_frames}, ground-truth boxes {scores.num_gt_dets}, predicted boxes {scores.num_pred_dets}"
    )
    print(scores.format())
    return 0


def _add_pose(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gt", required=True, type=Path, help="ground truth .npz (joints3d and/or keypoints2d)")
    parser.add_argument("--pred", required=True, type=Path, help="predictions .npz with the same keys and shapes")
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")


def _run_pose(args: argparse.Namespace) -> int:
    import json

    from ram_core.eval.pose import evaluate_pose, load_arrays

    metrics = evaluate_pose(load_arrays(args.pred), load_arrays(args.gt))
    if args.json:
        print(json.dumps(metrics.as_dict()))
        return 0
    print(f"samples {metrics.num_samples}")
    if metrics.mpjpe_mm is not None:
        print(f"MPJPE {metrics.mpjpe_mm:.1f} mm, PA-MPJPE {metrics.pa_mpjpe_mm:.1f} mm")
    for t, v in (metrics.pck or {}).items():
        print(f"PCK@{t} {100 * v:.1f}%")
    return 0


def _add_capture(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gt", required=True, type=Path, help="ground truth gt.npz of a synthetic clip")
    parser.add_argument("results", type=Path, help="the capture's results .npz")
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")


def _run_capture(args: argparse.Namespace) -> int:
    import json

    from ram_core.commands import CommandError
    from ram_core.contract.results import ResultsFormatError, load_results
    from ram_core.eval.capture import CaptureEvalError, format_table, load_gt, score_capture

    _require_files(args.gt, args.results)
    try:
        scores = score_capture(load_gt(args.gt), load_results(args.results))
    except (CaptureEvalError, ResultsFormatError, ImportError) as e:
        raise CommandError(str(e)) from e
    print(json.dumps(scores.as_dict()) if args.json else format_table(scores))
    return 0


def _add_baseline(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gt", required=True, type=Path, help="ground truth gt.npz of a synthetic clip")
    parser.add_argument("--video", required=True, type=Path, help="the clip's video (clip.mp4)")
    parser.add_argument("--out", required=True, type=Path, help="the baseline's results file to write (.npz)")


def _run_baseline(args: argparse.Namespace) -> int:
    from ram_core.commands import CommandError
    from ram_core.commands.capture import check_results_names
    from ram_core.contract.client import CaptureError, check_output_path
    from ram_core.contract.results import save_results
    from ram_core.eval.capture import CaptureEvalError, load_gt
    from ram_core.video import VideoError

    _require_files(args.gt, args.video)
    try:
        check_results_names(str(args.out))  # a folder that is not there fails now, not after the whole clip
        check_output_path(args.out)
    except (CaptureError, ValueError) as e:
        raise CommandError(str(e).replace("-o ", "--out ", 1)) from None
    try:
        from ram_core.eval.baseline import compute_baseline

        results = compute_baseline(load_gt(args.gt), args.video)
    except (CaptureEvalError, VideoError, ImportError, FileNotFoundError) as e:
        raise CommandError(str(e)) from e
    path = save_results(results, args.out)
    frames = sum(len(t) for t in results.tracks)
    print(f"{path}: {frames} person-frames of {len(results.tracks)} people (pelvis from the ground truth)")
    return 0


SUBCOMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "track": ("HOTA, DetA, AssA, MOTA, IDF1, IDSW of MOTChallenge tracks (trackeval)", _add_track, _run_track),
    "pose": ("MPJPE, PA-MPJPE and PCK@0.05/0.1 of joints given as .npz arrays", _add_pose, _run_pose),
    "capture": (
        "pose, identity, foot skate and jitter of a results file against synthetic ground truth",
        _add_capture,
        _run_capture,
    ),
    "baseline": (
        "the raw-landmark baseline of a synthetic clip (BlazePose world landmarks on its ground-truth boxes)",
        _add_baseline,
        _run_baseline,
    ),
}
"""name -> (help line, add_arguments, run); each evaluation adds one entry."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="eval_command", metavar="WHAT", required=True)
    for name, (help_line, add, run_one) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_line, description=help_line)
        add(p)
        p.set_defaults(eval_run=run_one)


def run(args: argparse.Namespace) -> int:
    return int(args.eval_run(args))
