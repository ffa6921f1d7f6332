"""Print a summary of a results file: tracks, frame ranges, backend, versions."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", help="a results file (.npz) written by 'ram-core capture'")


def run(args: argparse.Namespace) -> int:
    from ram_core.contract.results import load_results, summary

    print(summary(load_results(args.results)))
    return 0
