"""Lines that native code prints to file descriptor 2 and that read as failures but are not, kept off stderr.

Native code (LiteRT's C++, Blender's GPU context) writes past Python's ``sys.stderr``, so the descriptor itself
points at a temporary file within the block; after it, every other line goes to the real stderr, in order.
Standard library only: the worker and Blender (the demo's renders) use it.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_SWAP = threading.RLock()  # one descriptor 2 per process: swaps from two threads must not interleave


@contextmanager
def lines_dropped(*prefixes: bytes) -> Iterator[None]:
    """Within: lines on descriptor 2 that start with one of ``prefixes`` are dropped, the others kept.

    If the block raises, every line is kept: the dropped kind may be why it failed. A crash of the process
    inside the block loses its stderr (it is in the temporary file): keep the blocks to the calls that print.
    """
    with _SWAP, tempfile.TemporaryFile() as caught:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):  # no descriptor 2 to point elsewhere
            yield
            return
        os.dup2(caught.fileno(), 2)
        failed = True
        try:
            yield
            failed = False
        finally:
            sys.stderr.flush()  # what Python wrote within belongs before what follows the block
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            lines = caught.read().splitlines(keepends=True)
            kept = b"".join(line for line in lines if failed or not line.startswith(prefixes))
            while kept:
                kept = kept[os.write(2, kept) :]
