"""The ``ram-core`` subcommands, one module each.

A command module exposes ``add_arguments(parser)`` and ``run(args) -> int`` (the exit code) and keeps
heavy imports inside ``run`` so that ``ram-core --help`` stays fast. Domain errors (a bad file, a
failed capture) are raised as one of :data:`USER_ERRORS`: the CLI prints their one-line message and
exits with 1.
"""

from __future__ import annotations

from ram_core.contract.client import CaptureError

COMMANDS: tuple[str, ...] = ("capture", "batch", "refine", "info", "track", "eval", "smpl", "weights", "train")


class CommandError(Exception):
    """A problem the user can fix, reported as ``ram-core: error: <message>``."""


USER_ERRORS: tuple[type[BaseException], ...] = (CommandError, CaptureError, OSError, ValueError)
