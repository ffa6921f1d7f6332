"""The ``ram-core`` command: one subcommand per module in :mod:`ram_core.commands`."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import os
import re
import sys

from ram_core import __version__
from ram_core.commands import COMMANDS, USER_ERRORS
from ram_core.contract.errors import one_line

DESCRIPTION = (
    "RAM: markerless multi-person motion capture from ordinary video. Captures every person's SMPL "
    "motion into a results file that the RAM Blender add-on imports as animated armatures."
)


def plain_text(doc: str) -> str:
    """A module docstring as a terminal shows help: reStructuredText's ``code`` and :mod:`role` marks dropped
    (``--help`` printed ```-o``, ``--raw``` and ``:mod:`ram_core.contract.reruns```)."""
    return re.sub(r":[a-z]+:`~?([^`]+)`", r"\1", doc).replace("``", "")


def build_parser() -> argparse.ArgumentParser:
    """The parser with every available subcommand (a command whose module is absent is not listed)."""
    parser = argparse.ArgumentParser(prog="ram-core", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"ram-core {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module_name = f"ram_core.commands.{name}"
        if importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        doc = plain_text((module.__doc__ or name).strip())
        command = sub.add_parser(
            name,
            help=doc.splitlines()[0],
            description=doc,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``ram-core`` with ``argv`` (default: the process's arguments); returns the exit code."""
    args = build_parser().parse_args(argv)
    # A handler for this call only, so that main() can be called again (tests) with another stderr.
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("ram-core: %(levelname)s: %(message)s"))
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if args.debug else logging.WARNING)
    try:
        return int(args.run(args))
    except BrokenPipeError:  # `ram-core info F | head`: the reader has what it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not fail again
        return 0
    except USER_ERRORS as e:
        if args.debug:
            raise
        print(f"ram-core: error: {one_line(e)}", file=sys.stderr)
        return 1
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)
