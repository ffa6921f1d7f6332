"""Refine the raw records of a capture (from 'ram-core capture --raw') again into a results file.

The whole-clip refinement a capture runs after its last frame (``ram_core.scene.refine``: tracklets re-linked,
gaps filled, the floor, the camera and each person's size solved, the temporal fit), run on records kept with
``--raw``: a newer version of the refinement, or the causal filter instead of the fit, without capturing again.
An existing ``-o`` file is never replaced silently (as ``ram-core capture``: :mod:`ram_core.contract.reruns`):
refused unless ``--skip-existing`` (kept, nothing written) or ``--overwrite`` (it moves to ``replaced/<date>_<time>/``
beside it once the new results are there to save).
"""

from __future__ import annotations

import argparse
import sys

from ram_core.contract import reruns
from ram_core.scene.refine import FILTER, FIT

#: ``--motion``'s words (one shell word each) for the refinement's motion paths.
MOTION_CHOICES = {"fit": FIT, "one-euro": FILTER}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("raw", help="the raw records written by 'ram-core capture --raw'")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.npz", help="the results file to write")
    parser.add_argument(
        "--motion",
        choices=tuple(MOTION_CHOICES),
        default="fit",
        help="how the motion is made steady: fit, the temporal body fit (default), or one-euro, the causal filter",
    )
    reruns.add_arguments(
        parser,
        skip_help="if OUT.npz exists, keep it and refine nothing",
        overwrite_help=f"refine again; the earlier OUT.npz moves to {reruns.REPLACED}/<date>_<time>/ beside it",
    )


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ram_core.commands import CommandError
    from ram_core.commands.capture import check_results_names
    from ram_core.contract.client import check_output_path, save_or_rescue
    from ram_core.contract.results import load_results
    from ram_core.scene.refine import refine

    check_results_names(args.output)
    raw_path, out = Path(args.raw), check_output_path(args.output)
    if out.resolve() == raw_path.resolve():
        raise CommandError(f"{out}: the results would replace the raw records; give them another file name")
    earlier = out.is_file()
    if earlier and args.existing == reruns.SKIP:
        print(f"ram-core: {out} is kept from an earlier run; nothing refined (--skip-existing)", file=sys.stderr)
        return 0
    if earlier and args.existing == reruns.REFUSE:
        raise CommandError(
            f"{out}: from an earlier run, would be replaced; give --overwrite to refine again (it moves to "
            f"{out.parent.resolve() / reruns.REPLACED}/<date>_<time>/) or --skip-existing to keep it"
        )
    raw = load_results(raw_path)
    if raw.meta.motion:
        raise CommandError(
            f"{raw_path}: already refined (motion: {raw.meta.motion}); "
            "give the file written by 'ram-core capture --raw'"
        )
    results = refine(raw, MOTION_CHOICES[args.motion])
    if earlier:  # --overwrite
        folder = reruns.replaced_folder(out.parent)
        reruns.set_aside([out], folder)
        print(f"ram-core: the earlier {out.name} moved to {folder}", file=sys.stderr)
    save_or_rescue(results, out)
    print(f"wrote {out}: {len(results.tracks)} people, motion: {results.meta.motion}")
    return 0
