"""Capture many videos into a folder of results files, on this machine or on a Ray cluster.

Each video becomes OUT_DIR/<stem>.ram.npz, captured as `ram-core capture` does, beside <stem>.ram.json
(the video's checksum and the options). Outputs of an earlier run are never replaced silently: a run over
them is refused before any capture unless --skip-existing (do only the videos without outputs: a stopped
batch resumes) or --overwrite (capture them all again; each video's earlier files move to
OUT_DIR/replaced/<date>_<time>/ when its new results replace them). A failed video is retried (--max-retries) when its worker died or
failed for a reason other than the input, then reported; the others go on. The summary (video, status,
frames, people, seconds) is printed and written to OUT_DIR/batch_summary.csv and .json. Exit code 0 if
every video is done or skipped, 1 if any failed, 130 after Ctrl-C, 143 after SIGTERM (outstanding videos are
cancelled and leave no partial files; a second Ctrl-C stops at once). Without --ray the videos run on a local pool;
--ray runs each as a Ray task (pip install "ram-core[ray]"; see docs/batch.md). --export fbx,bvh,npz
also builds each captured (or skipped, unless it has one) video's OUT_DIR/<stem>.blend and exports with Blender (--blender,
default: blender on PATH) on this machine, as soon as its capture ends; a failed scene is that video's
alone and makes the exit code 1. Or build the scenes elsewhere with `blender -b -c ram_capture --from-results OUT_DIR`.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING, TextIO

from ram_core.commands import CommandError
from ram_core.contract import options as capture_options
from ram_core.contract import reruns, stopping

if TYPE_CHECKING:
    from ram_core.batch.driver import BatchProgress
    from ram_core.batch.task import Outcome


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="video files or folders of videos")
    parser.add_argument("-o", "--out", required=True, metavar="OUT_DIR", help="the folder for the results")
    parser.add_argument(
        "--ray",
        nargs="?",
        const="auto",
        default=None,
        metavar="ADDRESS",
        help="run on Ray: 'auto' (default when given: a running cluster, else a local one) or HOST:PORT",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="local pool: videos at once (default: the CPUs over what one capture uses)",
    )
    parser.add_argument(
        "--max-retries", type=int, default=2, metavar="N", help="tries after a worker died or failed (default 2)"
    )
    reruns.add_arguments(parser)
    parser.add_argument(
        "--export",
        default=None,
        metavar="FORMATS",
        help="after the captures, build each video's .blend and these exports with Blender: fbx,bvh,npz",
    )
    parser.add_argument(
        "--blender",
        default=None,
        metavar="PATH",
        help="the Blender (with the add-on enabled) that builds the scenes (default: blender on PATH)",
    )
    capture_options.add_arguments(parser)
    parser.add_argument(
        "--python",
        default=None,
        metavar="PY",
        help="the Python that runs the workers (default: the one running each task)",
    )


class BatchBar:
    """One line on a terminal: videos finished, failed, frames captured, captures running. Elsewhere (a
    pipeline's log) a plain line for each finished video, so a long batch is not silent until its summary."""

    def __init__(self, stream: TextIO | None = None, every_s: float = 0.2) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.enabled = self.stream.isatty()
        self.every_s = every_s
        self.started = time.monotonic()
        self._shown = 0.0

    def update(self, p: BatchProgress, new: list[Outcome]) -> None:
        for i, o in enumerate(new):  # finished videos scroll above the bar
            why = f"  ({o.message})" if o.message else ""
            line = f"{o.status:9} {os.path.basename(o.video)}{why}"
            if self.enabled:
                self.stream.write(f"\r\x1b[K{line}\n")
            else:
                self.stream.write(f"[{p.finished - len(new) + i + 1}/{p.videos}] {line}\n")
                self.stream.flush()
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._shown < self.every_s and not new:
            return
        self._shown = now
        width = 24
        filled = int(width * p.finished / max(p.videos, 1))
        rate = p.frames_done / max(now - self.started, 1e-9)
        failed = f" ({p.failed} failed)" if p.failed else ""
        self.stream.write(
            f"\r\x1b[K[{'#' * filled}{'-' * (width - filled)}] {p.finished}/{p.videos} videos{failed}  "
            f"{p.frames_done} frames  {rate:5.1f} frames/s  {p.running} running"
        )
        self.stream.flush()

    def scene_done(self, o: Outcome) -> None:
        """A line for a finished scene (the scene stage shows no bar: Blender says nothing of its progress)."""
        why = f"  ({o.message})" if o.export != "done" and o.message else ""
        clear = "\r\x1b[K" if self.enabled else ""  # the bar's line, on a terminal
        self.stream.write(f"{clear}scene {o.export:9} {os.path.basename(o.video)}{why}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ram_core.batch import scenes, summary
    from ram_core.batch.driver import make_jobs, run_batch
    from ram_core.batch.schedulers import LocalScheduler, RayScheduler, local_workers
    from ram_core.batch.task import CANCELLED, DONE, FAILED, SKIPPED
    from ram_core.contract.batch_files import clashing_names, find_videos, make_output_folder, no_videos

    options = capture_options.from_args(args)
    if args.max_retries < 0:
        raise CommandError(f"--max-retries is {args.max_retries}; give 0 or more")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CommandError(f"{out}: is a file; give a folder")
    videos = find_videos(args.inputs)
    if not videos:
        raise CommandError(no_videos(args.inputs))
    blender, formats = None, ()
    if args.export is not None:  # every reason the scene stage could not run is found before any capture
        try:
            formats = scenes.parse_formats(args.export)
            blender = scenes.find_blender(args.blender)
        except ValueError as e:
            raise CommandError(str(e)) from None
    elif args.blender is not None:
        raise CommandError("--blender builds the scenes of --export; give --export fbx,bvh,npz too")
    clash = clashing_names(videos, exports=args.export is not None)  # the exports' names too: one line, exit 1
    if clash:
        raise CommandError(clash)
    jobs = make_jobs(videos, out, options, max_retries=args.max_retries, python=args.python)
    earlier = {v.stem: found for v in videos if (found := reruns.video_outputs(out, v.stem))}
    if earlier and args.existing == reruns.REFUSE:
        raise CommandError(reruns.refusal(earlier, len(videos)))
    if earlier and args.existing == reruns.SKIP:
        print(
            f"ram-core: {len(earlier)} of {len(videos)} videos skipped: their outputs from an earlier run are kept "
            "(--skip-existing)",
            file=sys.stderr,
        )
    try:
        make_output_folder(out)  # only now: a batch refused above leaves no empty folder behind
    except ValueError as e:
        raise CommandError(str(e)) from None
    if args.ray is not None:
        if args.workers is not None:
            raise CommandError("--workers is for the local pool; Ray places the tasks by their resources")
        scheduler = RayScheduler(args.ray)
    else:
        scheduler = LocalScheduler(args.workers or local_workers(options))

    stop = threading.Event()

    stopped_by: list[int] = []  # the signal that cancelled the batch

    def on_stop(signum, frame) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        stopped_by.append(signum)
        sys.stderr.write(
            f"\nram-core: cancelling the outstanding videos ({stopping.said(signum)} again to stop at once)\n"
        )

    bar = BatchBar()
    pool = None
    if blender is not None:
        workers = args.workers or scenes.default_workers()
        print(f"ram-core: scenes built by {blender.path} as the captures end, {workers} at once", file=sys.stderr)
        pool = scenes.ScenePool(
            blender, formats, workers, should_stop=stop.is_set, on_done=bar.scene_done, existing=args.existing
        )

    def on_update(progress: BatchProgress, new: list[Outcome]) -> None:
        bar.update(progress, new)
        if pool is not None:
            pool.add(new)

    try:
        with stopping.on_stop(on_stop):
            skip = args.existing == reruns.SKIP
            outcomes = run_batch(jobs, scheduler, skip_existing=skip, on_update=on_update, should_stop=stop.is_set)
            bar.close()
            if pool is not None:
                if pool.pending():
                    print(f"ram-core: captures ended; waiting for {pool.pending()} scenes", file=sys.stderr)
                outcomes = pool.finish(outcomes)
    except KeyboardInterrupt:
        bar.close()
        print("ram-core: interrupted", file=sys.stderr)
        return stopping.exit_code(stopped_by[0] if stopped_by else signal.SIGINT)
    except RuntimeError as e:  # Ray missing or unreachable
        raise CommandError(str(e)) from None
    finally:
        if pool is not None:
            pool.close()
    print(summary.table(outcomes))
    csv_path, json_path = summary.write(outcomes, out)
    counts = {s: sum(o.status == s for o in outcomes) for s in (DONE, SKIPPED, CANCELLED)}
    bad = len(outcomes) - counts[DONE] - counts[SKIPPED] - counts[CANCELLED]
    scenes_line = ""
    if blender is not None:
        built = {s: sum(o.export == s for o in outcomes) for s in (DONE, SKIPPED, FAILED, CANCELLED)}
        kept = f", {built[SKIPPED]} kept" if built[SKIPPED] else ""
        scenes_line = f"; scenes: {built[DONE]} built{kept}, {built[FAILED]} failed, {built[CANCELLED]} cancelled"
    print(
        f"{counts[DONE]} done, {counts[SKIPPED]} skipped, {bad} failed, {counts[CANCELLED]} cancelled "
        f"of {len(outcomes)} videos{scenes_line}; summary in {csv_path} and {json_path.name}"
    )
    if args.existing == reruns.OVERWRITE and Path(jobs[0].replaced).is_dir():
        print(f"ram-core: the earlier files that were replaced are kept in {jobs[0].replaced}", file=sys.stderr)
    for o in outcomes:
        if o.status not in (DONE, SKIPPED, CANCELLED):
            print(f"ram-core: error: {o.message}", file=sys.stderr)
        elif o.export == FAILED:
            print(f"ram-core: error: {os.path.basename(o.video)}: {o.message}", file=sys.stderr)
    if counts[CANCELLED] or any(o.export == CANCELLED for o in outcomes):
        return stopping.exit_code(stopped_by[0] if stopped_by else signal.SIGINT)
    return 1 if bad or any(o.export == FAILED for o in outcomes) else 0
