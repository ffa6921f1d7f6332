"""Lines that native code writes to file descriptor 2 (past Python's ``sys.stderr``), some of them dropped.

Libraries written in C or C++ print to the process's stderr directly: LiteRT's ``INFO: Created TensorFlow Lite
XNNPACK delegate for CPU.`` when an interpreter first allocates its tensors, Blender's ``EGL Error (0x3009):
EGL_BAD_MATCH ...`` while a render without a display picks its GPU context (it then renders fine). Users read
such lines as failures. Within :func:`native_lines_dropped` descriptor 2 points at a temporary file; after, every
line that does not start with one of the given prefixes goes to the real stderr, in order. Python exceptions
pass through. Standard library only (the contract's rule).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_SWAP = threading.Lock()  # one swap of descriptor 2 at a time in a process


@contextmanager
def native_lines_dropped(*prefixes: bytes) -> Iterator[None]:
    """Within: lines on file descriptor 2 that start with any of ``prefixes`` are dropped, the others kept."""
    with _SWAP, tempfile.TemporaryFile() as caught:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):  # no descriptor 2 to point elsewhere
            yield
            return
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            kept = [line for line in caught.read().splitlines(keepends=True) if not line.startswith(prefixes)]
            if kept:
                os.write(2, b"".join(kept))


__all__ = ["native_lines_dropped"]
