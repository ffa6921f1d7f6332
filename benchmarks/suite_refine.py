"""The synthetic suite's table for a change in the whole-clip refinement, without capturing again.

``benchmarks/synthetic_suite.py --reuse DIR`` scores results already refined; a change in what runs after
the capture (``ram_core.scene.refine``: relink, gaps, depth, the scene solve, contact, the fit) needs the
backend's raw records. This keeps them: the first run captures each clip once (the ``lite`` backend through
:class:`~ram_core.contract.client.CaptureClient`, the path ``ram-core capture`` takes, with the ground truth's
focal length) into ``DIR/<clip>/raw.ram.npz`` and the raw-landmark baseline into ``DIR/<clip>/baseline.ram.npz``;
every run then refines the raw records with the code as it is now into ``DIR/<clip>/lite.ram.npz`` (2 processes)
and prints ``synthetic_suite.py --reuse DIR``'s table (about 20 s for the 9 clips on 2 cores):

    PYTHONPATH=. python benchmarks/suite_refine.py DIR [--suite DIR] [--clips a,b] [--json OUT.json]
        [--tuning a,b]

Run it with the worker env's Python (``python3 tools/dev.py env worker-full``). The lite capture is
deterministic on one machine: the raw records refined by the code of a capture give that capture's results.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from synthetic_suite import DEFAULT_SUITE, clip_dirs, focal_of, run_cli
from synthetic_suite import main as score

from ram_core.contract.client import CaptureClient
from ram_core.contract.options import CaptureOptions
from ram_core.contract.results import load_results, save_results
from ram_core.eval.capture import load_gt
from ram_core.scene.refine import refine


def capture_raw(clip: Path, out: Path, python: str) -> None:
    """``out/raw.ram.npz``: the clip's records as the lite backend sent them (before any refinement)."""
    focal, _ = focal_of(load_gt(clip / "gt.npz"))
    with CaptureClient(python, str(clip / "clip.mp4"), CaptureOptions(backend="lite", focal_px=focal)) as client:
        client.start()
        while not client.finished:
            client.poll()
            time.sleep(0.05)
        save_results(client.raw_results(), out / "raw.ram.npz")


def refine_kept(work: Path) -> str:
    """``work/lite.ram.npz`` refined from ``work/raw.ram.npz``; the scene's status."""
    refined = refine(load_results(work / "raw.ram.npz"))
    save_results(refined, work / "lite.ram.npz")
    return refined.meta.scene_status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path, help="where the raw records are kept (made on the first run)")
    parser.add_argument("--suite", type=Path, default=DEFAULT_SUITE, help="folder of clip folders (clip.mp4, gt.npz)")
    parser.add_argument("--clips", default=None, metavar="A,B", help="only these clips")
    parser.add_argument("--json", type=Path, default=None, metavar="OUT", help="also write the figures as JSON")
    parser.add_argument("--tuning", default=None, metavar="A,B", help="clips used for tuning (default: tuning.txt)")
    args = parser.parse_args(argv)
    clips = clip_dirs(args.suite)
    if args.clips:
        clips = [c for c in clips if c.name in set(args.clips.split(","))]
    for clip in clips:
        work = args.dir / clip.name
        work.mkdir(parents=True, exist_ok=True)
        if not (work / "raw.ram.npz").is_file():
            capture_raw(clip, work, sys.executable)
            print(f"{clip.name}: raw records captured", file=sys.stderr)
        if not (work / "baseline.ram.npz").is_file():
            gt, video, base = clip / "gt.npz", clip / "clip.mp4", work / "baseline.ram.npz"
            run_cli(
                sys.executable,
                ["eval", "baseline", "--gt", str(gt), "--video", str(video), "--out", str(base)],
                work / "baseline.log",
            )
    with ProcessPoolExecutor(2) as pool:
        for clip, status in zip(clips, pool.map(refine_kept, [args.dir / c.name for c in clips])):
            print(f"{clip.name}: {status}", file=sys.stderr)
    rest = ["--suite", str(args.suite), "--reuse", str(args.dir), "--clips", ",".join(c.name for c in clips)]
    rest += [] if args.json is None else ["--json", str(args.json)]
    rest += [] if args.tuning is None else ["--tuning", args.tuning]
    return score(rest)


if __name__ == "__main__":
    sys.exit(main())
