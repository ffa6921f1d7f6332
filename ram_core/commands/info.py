"""Print a summary of a results file: tracks, frame ranges, backend, versions, the scene and people's heights."""

from __future__ import annotations

import argparse
import os


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", help="a results file (.npz) written by 'ram-core capture'")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ram_core.contract.results import load_results, summary
    from ram_core.scene.solve import rest_stature

    if os.path.isdir(args.results):  # a batch's output folder, say: name what it holds
        from ram_core.commands import CommandError
        from ram_core.contract.batch_files import find_results

        found = find_results(args.results)
        hint = f", e.g. {found[0]} ({len(found)} there)" if found else " (none there)"
        raise CommandError(f"{args.results}: is a folder; give one results file{hint}")
    results = load_results(args.results)
    heights = {}
    if results.meta.floor_cam is not None:  # sizes solved with the floor: each skeleton scaled to its person
        stature = rest_stature(results.meta.rest_joints)
        heights = {t.track_id: stature * float(np.median(t.scale)) for t in results.tracks if len(t)}
    print(summary(results, heights))
    return 0
