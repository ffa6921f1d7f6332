"""Print a summary of a results file: tracks, frame ranges, backend, versions, the scene and people's heights."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", help="a results file (.npz) written by 'ram-core capture'")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ram_core.contract.results import load_results, summary
    from ram_core.scene.solve import rest_stature

    results = load_results(args.results)
    heights = {}
    if results.meta.floor_cam is not None:  # sizes solved with the floor: each skeleton scaled to its person
        stature = rest_stature(results.meta.rest_joints)
        heights = {t.track_id: stature * float(np.median(t.scale)) for t in results.tracks if len(t)}
    print(summary(results, heights))
    return 0
