"""Accuracy of ``capture --backend lite`` on the synthetic suite, beside the raw-landmark baseline.

For every clip folder of the suite (``clip.mp4`` and ``gt.npz``; default ``tests/data/synth``): capture it
with ``ram-core capture --backend lite --focal F`` (F from the ground truth's intrinsics: the camera is
known), compute the baseline with ``ram-core eval baseline`` (BlazePose's world landmarks on the
ground-truth boxes, pelvis from the ground truth), both run as subprocesses of ``--python``, then score
both with the capture scorer (``ram_core.eval.capture``; definitions in ``docs/evaluation.md``). The
baseline is scored on the person-frames our capture was matched on, so the ratios compare like with like.
Prints one table per clip and overall (all clips, and the clips not used for tuning), each a row for ours,
the baseline and ours / baseline where both are defined:

    PYTHONPATH=. python benchmarks/synthetic_suite.py [--suite DIR] [--json OUT.json] [--keep DIR]
        [--clips a,b] [--reuse DIR [--refine]] [--tuning a,b] [--require-better-than-baseline]

``--reuse DIR`` scores the captures an earlier ``--keep DIR`` left (``DIR/<clip>/lite.ram.npz`` and
``baseline.ram.npz``) instead of running them, for the clips that have both (their capture time shows as 0):
rerun a few clips with ``--clips a,b --keep DIR``, then ``--reuse DIR`` gives the whole suite's table. It
scores the refined results as they were kept; with ``--refine`` it runs this code's whole-clip refinement
(``ram_core.scene.refine``: re-link, gaps, depth, scene solve, fit) again on the records the backend sent
(``DIR/<clip>/raw.ram.npz``, which captures keep since ``--raw``), so a refinement change is scored without
capturing again (seconds per clip); the refined results go to ``--keep``'s folder when given.

Run it with the worker env's Python (``python3 tools/dev.py env worker-full``): scoring needs scipy and
trackeval. Clips used to tune anything are named by ``--tuning`` or listed in ``DIR/tuning.txt`` (one name a
line); they are marked ``*`` and the "held out" overall leaves them out. Exit status: 0, 1 when
``--require-better-than-baseline`` is given and our overall PA-MPJPE is not below the baseline's, 2 when
the suite or a capture is missing or fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ram_core.contract.results import load_results
from ram_core.eval.capture import CaptureScores, ClipParts, clip_parts, combine, load_gt

DEFAULT_SUITE = ROOT / "tests" / "data" / "synth"

#: (header, where, key, format): "s" a field of the overall Scores, "c" of CaptureScores.
COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("PA-MPJPE", "s", "pa_mpjpe_mm", "{:.1f}"),
    ("MPJPE", "s", "mpjpe_mm", "{:.1f}"),
    ("abs", "s", "abs_mpjpe_mm", "{:.1f}"),
    ("depth%", "s", "depth_error_pct", "{:.1f}"),
    ("HOTA", "c", "hota", "{:.1f}"),
    ("AssA", "c", "assa", "{:.1f}"),
    ("IDSW", "c", "idsw", "{:d}"),
    ("consist", "s", "consistency", "{:.3f}"),
    ("dup", "s", "duplicate_frames", "{:d}"),
    ("cover", "s", "coverage", "{:.3f}"),
    ("skate", "s", "foot_skate_cm", "{:.2f}"),
    ("pen95", "s", "penetration_p95_cm", "{:.1f}"),
    ("jit/gt", "s", "jitter_ratio", "{:.2f}"),
    ("lean", "s", "lean_deg", "{:.1f}"),
    ("contP", "s", "contact_precision", "{:.2f}"),
    ("contR", "s", "contact_recall", "{:.2f}"),
    ("height%", "s", "height_error_pct", "{:.1f}"),
    ("floor deg", "c", "floor_angle_deg", "{:.2f}"),
    ("cam h%", "c", "camera_height_error_pct", "{:.1f}"),
)
#: Figures both captures have a meaning for. Not the absolute errors (the baseline's pelvis is the ground
#: truth's) nor identity and coverage (the baseline's tracks are the ground truth's people).
RATIO_KEYS = ("pa_mpjpe_mm", "mpjpe_mm", "foot_skate_cm", "penetration_p95_cm", "jitter_ratio", "lean_deg")


@dataclass(frozen=True)
class ClipRun:
    """One clip's captures: ours, the baseline on our matched person-frames and on all, and how long ours took."""

    name: str
    frames: int
    ours: ClipParts
    baseline: ClipParts
    baseline_all: ClipParts
    capture_s: float


def value(scores: CaptureScores, where: str, key: str) -> float | int | None:
    return getattr(scores.overall if where == "s" else scores, key)


def ratios(ours: CaptureScores, base: CaptureScores) -> dict[str, float | None]:
    """ours / baseline for ``RATIO_KEYS``; None where either is n/a or the baseline is 0."""
    out: dict[str, float | None] = {}
    for key in RATIO_KEYS:
        a, b = getattr(ours.overall, key), getattr(base.overall, key)
        out[key] = a / b if a is not None and b else None
    return out


def table(title: str, ours: CaptureScores, base: CaptureScores) -> str:
    """Rows ours, baseline, ratio under a title line."""
    head = f"{'':>10} " + " ".join(f"{c:>8}" for c, _, _, _ in COLUMNS)
    rows = [title, head]
    ratio = ratios(ours, base)
    for label, s in (("ours", ours), ("baseline", base)):
        cells = []
        for _, where, key, fmt in COLUMNS:
            v = value(s, where, key)
            if label == "baseline" and key not in RATIO_KEYS:
                v = None  # by construction (ground-truth pelvis, boxes and people): not a measurement
            cells.append(f"{'n/a' if v is None else fmt.format(v):>8}")
        rows.append(f"{label:>10} " + " ".join(cells))
    cells = []
    for _, _, key, _ in COLUMNS:
        r = ratio.get(key)
        cells.append(f"{'' if key not in RATIO_KEYS else 'n/a' if r is None else f'{r:.2f}':>8}")
    rows.append(f"{'ours/base':>10} " + " ".join(cells))
    return "\n".join(rows)


def focal_of(gt: dict[str, np.ndarray]) -> tuple[float, list[str]]:
    """The ground truth's focal length (pixels) for ``--focal``, and warnings where ``--focal`` cannot say it all."""
    k = np.asarray(gt["intrinsics"], dtype=np.float64)
    w, h = (int(v) for v in np.asarray(gt["image_size"]))
    warnings = []
    if abs(k[0, 0] - k[1, 1]) > 1e-6 * k[0, 0]:
        warnings.append(f"fx {k[0, 0]:g} != fy {k[1, 1]:g}: capture assumes square pixels")
    if abs(k[0, 2] - w / 2) > 0.5 or abs(k[1, 2] - h / 2) > 0.5:
        warnings.append(f"principal point ({k[0, 2]:g}, {k[1, 2]:g}) is not the centre: capture assumes it is")
    return float(k[0, 0]), warnings


def run_cli(python: str, args: list[str], log: Path) -> None:
    """``python -m ram_core ARGS`` without a shell, output into ``log``; raises on failure with the log's tail."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    with open(log, "w") as out:
        cmd = [python, "-m", "ram_core", *args]
        rc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, check=False).returncode
    if rc != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"ram-core {args[0]} {args[1]} exited {rc}:\n{tail}")


def run_clip(clip: Path, work: Path, python: str) -> ClipRun:
    """Capture, baseline and score one clip folder; files land in ``work``."""
    gt = load_gt(clip / "gt.npz")
    focal, warnings = focal_of(gt)
    for w in warnings:
        print(f"{clip.name}: {w}", file=sys.stderr)
    ours_path, base_path = work / "lite.ram.npz", work / "baseline.ram.npz"
    begin = time.perf_counter()
    run_cli(
        python,
        [
            *("capture", str(clip / "clip.mp4"), "-o", str(ours_path)),
            *("--backend", "lite", "--focal", repr(focal), "--python", python, "--raw", str(work / "raw.ram.npz")),
            "--overwrite",  # a clip captured again into --keep DIR: the earlier capture moves to replaced/
        ],
        work / "capture.log",
    )
    capture_s = time.perf_counter() - begin
    run_cli(
        python,
        ["eval", "baseline", "--gt", str(clip / "gt.npz"), "--video", str(clip / "clip.mp4"), "--out", str(base_path)],
        work / "baseline.log",
    )
    return score_clip(clip.name, gt, ours_path, base_path, capture_s)


def score_clip(name: str, gt: dict[str, np.ndarray], ours_path: Path, base_path: Path, capture_s: float) -> ClipRun:
    """Score our results and the baseline's (on the person-frames ours was matched on)."""
    ours = clip_parts(gt, load_results(ours_path))
    base_results = load_results(base_path)
    base = clip_parts(gt, base_results, mask=ours.matched)
    return ClipRun(name, int(gt["present"].shape[1]), ours, base, clip_parts(gt, base_results), capture_s)


def refine_kept(raw_path: Path, out: Path) -> Path:
    """The raw records at ``raw_path`` refined by this code (``ram_core.scene.refine``), saved to ``out``."""
    from ram_core.contract.results import save_results
    from ram_core.scene.refine import refine

    return save_results(refine(load_results(raw_path)), out)


def clip_dirs(suite: Path) -> list[Path]:
    return sorted(p for p in suite.iterdir() if (p / "gt.npz").is_file() and (p / "clip.mp4").is_file())


def tuning_names(suite: Path, given: str | None) -> list[str]:
    if given is not None:
        return [n for n in given.split(",") if n]
    listed = suite / "tuning.txt"
    if listed.is_file():
        return [line.strip() for line in listed.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return []


def unknown_names(clips: list[Path], given: str | None, tuning: list[str]) -> str | None:
    """The line naming a ``--clips`` or tuning name that is no clip of the suite (a typo ran the whole suite
    with nothing held out, or left a clip out, without a word), or None."""
    names = [c.name for c in clips]
    for flag, wanted in (("--clips", (given or "").split(",")), ("--tuning (or tuning.txt)", tuning)):
        bad = [n for n in wanted if n and n not in names]
        if bad and names:
            return f"{flag}: no clip {', '.join(bad)} in the suite (its clips: {', '.join(names)})"
    return None


def report(runs: list[ClipRun], tuning: list[str]) -> tuple[str, dict[str, object], CaptureScores, CaptureScores]:
    """The text tables and the JSON document of a suite's runs; and the overall scores (ours, baseline)."""
    blocks, doc_clips = [], {}
    for r in runs:
        ours, base = combine([r.ours], per_person=False), combine([r.baseline], per_person=False)
        base_all = combine([r.baseline_all], per_person=False).overall
        mark = " *" if r.name in tuning else ""
        fps = r.frames / r.capture_s if r.capture_s > 0 else float("nan")
        pa_all = "n/a" if base_all.pa_mpjpe_mm is None else f"{base_all.pa_mpjpe_mm:.1f} mm"
        title = (
            f"{r.name}{mark}: {r.frames} frames, capture {r.capture_s:.1f} s ({fps:.1f} fps); "
            f"person-frames scored {ours.overall.frames} of {base_all.frames} visible "
            f"(baseline PA-MPJPE on all: {pa_all})"
        )
        blocks.append(table(title, ours, base))
        doc_clips[r.name] = {
            "tuning": r.name in tuning,
            "frames": r.frames,
            "capture_s": r.capture_s,
            "ours": ours.as_dict(),
            "baseline": base.as_dict(),
            "baseline_all_frames": asdict(base_all),
            "ratio": ratios(ours, base),
        }
    all_ours = combine([r.ours for r in runs], per_person=False)
    all_base = combine([r.baseline for r in runs], per_person=False)
    blocks.append(table(f"overall: {len(runs)} clip{'s' if len(runs) > 1 else ''}", all_ours, all_base))
    doc: dict[str, object] = {
        "clips": doc_clips,
        "tuning": tuning,
        "overall": {"ours": all_ours.as_dict(), "baseline": all_base.as_dict(), "ratio": ratios(all_ours, all_base)},
    }
    held = [r for r in runs if r.name not in tuning]
    if tuning and held:
        h_ours = combine([r.ours for r in held], per_person=False)
        h_base = combine([r.baseline for r in held], per_person=False)
        blocks.append(table(f"held out: {len(held)} clips not used for tuning", h_ours, h_base))
        doc["held_out"] = {"ours": h_ours.as_dict(), "baseline": h_base.as_dict(), "ratio": ratios(h_ours, h_base)}
    notes = [
        "mm; depth % of the distance; skate cm/frame; pen95 cm; jit/gt: mean joint acceleration / the ground truth's",
        "baseline: BlazePose world landmarks on the ground-truth boxes, pelvis from the ground truth, scored on the",
        "person-frames ours was matched on; its absolute errors and identity figures are n/a by construction",
        f"* tuning clips: {', '.join(tuning) if tuning else 'none named'}",
    ]
    return "\n\n".join(blocks) + "\n\n" + "\n".join(notes), doc, all_ours, all_base


def worse_than_baseline(ours: CaptureScores, base: CaptureScores) -> str | None:
    """Why our PA-MPJPE is not below the baseline's, or None when it is."""
    a, b = ours.overall.pa_mpjpe_mm, base.overall.pa_mpjpe_mm
    if a is None or b is None:
        return f"PA-MPJPE n/a (ours {a}, baseline {b})"
    return None if a < b else f"our PA-MPJPE {a:.1f} mm is not below the baseline's {b:.1f} mm"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0].replace("``", ""))
    parser.add_argument("--suite", type=Path, default=DEFAULT_SUITE, help="folder of clip folders (clip.mp4, gt.npz)")
    parser.add_argument("--python", default=sys.executable, help="the Python that runs ram-core (the worker env's)")
    parser.add_argument("--json", type=Path, default=None, metavar="OUT", help="also write the figures as JSON")
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR", help="keep results and logs under DIR/<clip>")
    parser.add_argument("--tuning", default=None, metavar="A,B", help="clips used for tuning (default: tuning.txt)")
    parser.add_argument("--clips", default=None, metavar="A,B", help="only these clips")
    parser.add_argument(
        "--reuse", type=Path, default=None, metavar="DIR", help="score the captures kept in DIR/<clip> instead"
    )
    parser.add_argument(
        "--refine",
        action="store_true",
        help="with --reuse: refine the kept raw records (DIR/<clip>/raw.ram.npz) again with this code",
    )
    parser.add_argument(
        "--require-better-than-baseline",
        action="store_true",
        help="exit 1 unless our overall PA-MPJPE is below the baseline's",
    )
    args = parser.parse_args(argv)
    if not args.suite.is_dir():
        print(f"{args.suite}: no suite there (pass --suite)", file=sys.stderr)
        return 2
    if args.refine and args.reuse is None:
        print("--refine refines the raw records an earlier --keep DIR kept: give --reuse DIR", file=sys.stderr)
        return 2
    clips = clip_dirs(args.suite)
    tuning = tuning_names(args.suite, args.tuning)
    unknown = unknown_names(clips, args.clips, tuning)
    if unknown:  # said, not refused: another suite may be scored with this one's tuning names
        print(f"warning: {unknown}", file=sys.stderr)
    if args.clips:
        wanted = set(args.clips.split(","))
        clips = [c for c in clips if c.name in wanted]
    if not clips:
        print(f"{args.suite}: no clip folder with clip.mp4 and gt.npz", file=sys.stderr)
        return 2
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for clip in clips:
            work = (args.keep or Path(tmp)) / clip.name
            work.mkdir(parents=True, exist_ok=True)
            kept = None if args.reuse is None else args.reuse / clip.name
            try:
                if kept is not None and args.refine:
                    if not (kept / "raw.ram.npz").is_file() or not (kept / "baseline.ram.npz").is_file():
                        raise RuntimeError(
                            f"{kept}: no raw.ram.npz and baseline.ram.npz to refine (capture with --keep)"
                        )
                    ours_path = refine_kept(kept / "raw.ram.npz", work / "lite.ram.npz")
                    gt = load_gt(clip / "gt.npz")
                    runs.append(score_clip(clip.name, gt, ours_path, kept / "baseline.ram.npz", 0.0))
                    continue
                if kept is not None and (kept / "lite.ram.npz").is_file() and (kept / "baseline.ram.npz").is_file():
                    gt = load_gt(clip / "gt.npz")
                    runs.append(score_clip(clip.name, gt, kept / "lite.ram.npz", kept / "baseline.ram.npz", 0.0))
                    continue
                runs.append(run_clip(clip, work, args.python))
            except RuntimeError as e:
                print(f"{clip.name}: {e}", file=sys.stderr)
                return 2
            print(f"{clip.name}: done in {runs[-1].capture_s:.1f} s", file=sys.stderr)
    text, doc, ours, base = report(runs, tuning)
    print(text)
    if args.json is not None:
        args.json.write_text(json.dumps(doc, indent=1))
    if args.require_better_than_baseline:
        why = worse_than_baseline(ours, base)
        if why is not None:
            print(f"FAIL: {why}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
