"""Capture every person in a video into a results file (.npz) that the Blender add-on imports.

Runs the capture in a worker process (the same path Blender uses) and shows a progress bar.
Ctrl-C stops cleanly and saves the frames done so far (exit code 130); a second Ctrl-C abandons
the capture without saving. SIGTERM does the same (exit code 143). On any error nothing is written
and the exit code is 1.

An output file that exists (``-o``, ``--raw``, ``--preview``, ``--contact-sheet``) is never replaced
silently: as ``ram-core batch`` and ``ram_capture`` do (:mod:`ram_core.contract.reruns`), the capture is
refused before it starts unless ``--skip-existing`` (keep the results, capture nothing) or ``--overwrite``
(the earlier files move together to ``replaced/<date>_<time>/`` beside ``-o`` once the new results are
there to save; a failed capture leaves them where they were).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

from ram_core.contract import options as capture_options
from ram_core.contract import reruns, stopping
from ram_core.contract.messages import Progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", help="the video file to capture")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.npz", help="the results file to write")
    capture_options.add_arguments(parser)
    parser.add_argument("--preview", default=None, metavar="OUT.mp4", help="also write a video with the tracks drawn")
    parser.add_argument(
        "--contact-sheet", default=None, metavar="OUT.png", help="also write a grid of frames with the tracks drawn"
    )
    parser.add_argument(
        "--raw",
        default=None,
        metavar="RAW.npz",
        help="also write the records as the backend sent them, before the whole-clip refinement (re-linking, "
        "floor, sizes, fit)",
    )
    parser.add_argument(
        "--python",
        default=sys.executable,
        metavar="PY",
        help="the Python that runs the worker (default: this one)",
    )
    reruns.add_arguments(
        parser,
        skip_help="if OUT.npz (or --raw, --preview, --contact-sheet) exists, keep it and capture nothing",
        overwrite_help=f"capture again; the earlier files move to {reruns.REPLACED}/<date>_<time>/ beside OUT.npz",
    )


def refusal(earlier: list[Path]) -> str:
    """The one line that refuses a capture over the ``earlier`` files (its outputs that exist)."""
    more = f" and {len(earlier) - 1} more file(s)" if len(earlier) > 1 else ""
    return (
        f"{earlier[0]}{more} from an earlier run would be replaced; give --overwrite to capture again (the earlier "
        f"files move to {earlier[0].parent.resolve() / reruns.REPLACED}/<date>_<time>/) or --skip-existing to keep them"
    )


class ProgressBar:
    """A one-line progress bar on a terminal. Elsewhere (a pipeline's log) a plain line each time another
    tenth of the frames is done and ``log_every_s`` has passed, so a long capture is not silent to its end
    and a short one adds nothing."""

    def __init__(
        self, stream: TextIO | None = None, width: int = 30, every_s: float = 0.1, log_every_s: float = 10.0
    ) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.enabled = self.stream.isatty()
        self.width = width
        self.every_s = every_s
        self.log_every_s = log_every_s
        self.started = time.monotonic()
        self._shown = 0.0
        self._logged = (self.started, 0)  # when, and at which tenth of the frames, the last plain line was written

    def rate(self, done: int) -> float:
        """Frames per second since the bar was made."""
        return done / max(time.monotonic() - self.started, 1e-9)

    def update(self, p: Progress) -> None:
        now = time.monotonic()
        if not self.enabled:
            tenth = 10 * p.done // max(p.total, 1)
            if now - self._logged[0] >= self.log_every_s and tenth > self._logged[1]:
                self._logged = (now, tenth)
                self.stream.write(
                    f"ram-core: {p.done}/{p.total} frames, {self.rate(p.done):.1f} frames/s, {p.people} people\n"
                )
                self.stream.flush()
            return
        if now - self._shown < self.every_s and p.done < p.total:
            return
        self._shown = now
        filled = int(self.width * p.done / max(p.total, 1))
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(
            f"\r[{bar}] {p.done}/{p.total} frames  {self.rate(p.done):5.1f} frames/s  {p.people} people  "
        )
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def check_results_names(output: str, raw: str | None = None) -> None:
    """ValueError, one line, for a results file (``-o``, ``--raw``) not named ``.npz``: ``-o clip.blend`` would
    write the results under a name Blender then cannot open."""
    for flag, path in (("-o", output), ("--raw", raw)):
        if path and Path(path).suffix.lower() != ".npz" and not Path(path).is_dir():  # a folder: said later
            raise ValueError(
                f"{flag} {path}: the results file is an .npz, give a name ending .npz (a .blend and FBX/BVH come "
                "from it in Blender: File > Import > RAM Results (.npz), or blender -b -c ram_capture --from-results)"
            )


def run(args: argparse.Namespace) -> int:
    from ram_core.contract.client import CaptureError, check_output_path, run_capture

    check_results_names(args.output, args.raw)
    options = capture_options.from_args(args)
    extras = [p for p in (args.preview, args.contact_sheet) if p]
    if extras:
        from ram_core.preview import check_names

        check_names(args.preview, args.contact_sheet)  # before the capture, not after it
    for path in extras:
        check_output_path(path)
    earlier = [Path(p) for p in dict.fromkeys((args.output, args.raw, *extras)) if p and Path(p).is_file()]
    if earlier and args.existing == reruns.SKIP:
        print(
            f"ram-core: {earlier[0]} is kept from an earlier run; nothing captured (--skip-existing)", file=sys.stderr
        )
        return 0
    if earlier and args.existing == reruns.REFUSE:
        raise CaptureError(refusal(earlier))
    folder = reruns.replaced_folder(Path(args.output).parent)

    def move_earlier() -> None:  # --overwrite: once there are new results to save
        reruns.set_aside(earlier, folder)
        print(f"ram-core: the earlier {', '.join(p.name for p in earlier)} moved to {folder}", file=sys.stderr)

    cancel = threading.Event()
    stopped_by: list[int] = []  # the signal that stopped the capture

    def on_stop(signum, frame) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        stopped_by.append(signum)
        sys.stderr.write(
            f"\nram-core: stopping; saving the frames done so far ({stopping.said(signum)} again to abandon)\n"
        )

    bar = ProgressBar()
    try:
        with stopping.on_stop(on_stop):
            results = run_capture(
                args.python,
                args.video,
                args.output,
                progress=bar.update,
                should_cancel=cancel.is_set,
                options=options,
                raw_path=args.raw,
                before_save=move_earlier if earlier else None,
            )
    except KeyboardInterrupt:
        bar.close()
        print("ram-core: interrupted; nothing saved", file=sys.stderr)
        return stopping.exit_code(stopped_by[0] if stopped_by else signal.SIGINT)
    bar.close()
    meta = results.meta
    frames = meta.frame_end - meta.frame_start
    skipped = f", {len(meta.skipped_frames)} damaged and skipped" if meta.skipped_frames else ""
    print(
        f"wrote {args.output}: {len(results.tracks)} tracks, frames {meta.frame_start}..{meta.frame_end - 1} "
        f"({frames} frames{skipped}, {bar.rate(frames):.1f} frames/s)"
    )
    if args.raw:
        print(f"wrote {args.raw}: the records before the whole-clip refinement")
    if not any(len(t) for t in results.tracks):
        print(f"ram-core: warning: nobody was found in {args.video}", file=sys.stderr)
    if client_notes := [n for n in meta.notes.split("; ") if n.startswith("video truncated")]:
        print(f"ram-core: warning: {client_notes[0]}; kept them", file=sys.stderr)
    if args.preview or args.contact_sheet:
        from ram_core.preview import write_contact_sheet, write_preview

        if args.preview:
            print(f"wrote {write_preview(results, args.preview)}")
        if args.contact_sheet:
            print(f"wrote {write_contact_sheet(results, args.contact_sheet)}")
    if cancel.is_set():
        print(f"ram-core: cancelled: saved the {frames} frames done to {args.output}", file=sys.stderr)
        return stopping.exit_code(stopped_by[0])
    return 0
