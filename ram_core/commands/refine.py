"""Refine the raw records of a capture (from 'ram-core capture --raw') again into a results file.

The whole-clip refinement a capture runs after its last frame (``ram_core.scene.refine``: tracklets re-linked,
gaps filled, the floor, the camera and each person's size solved, the temporal fit), run on records kept with
``--raw``: a newer version of the refinement, or the causal filter instead of the fit, without capturing again.
"""

from __future__ import annotations

import argparse

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


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ram_core.commands import CommandError
    from ram_core.contract.client import check_output_path, save_or_rescue
    from ram_core.contract.results import load_results
    from ram_core.scene.refine import refine

    raw_path, out = Path(args.raw), check_output_path(args.output)
    if out.resolve() == raw_path.resolve():
        raise CommandError(f"{out}: the results would replace the raw records; give them another file name")
    raw = load_results(raw_path)
    if raw.meta.motion:
        raise CommandError(
            f"{raw_path}: already refined (motion: {raw.meta.motion}); "
            "give the file written by 'ram-core capture --raw'"
        )
    results = refine(raw, MOTION_CHOICES[args.motion])
    save_or_rescue(results, out)
    print(f"wrote {out}: {len(results.tracks)} people, motion: {results.meta.motion}")
    return 0
