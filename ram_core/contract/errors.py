"""How an error reads to a user: one line. Standard library only (the CLIs and the add-on share it)."""

from __future__ import annotations


def one_line(error: BaseException) -> str:
    """``PATH: reason`` for a file the system refused (not ``[Errno 2] No such file or directory: 'PATH'``),
    else the error's own message."""
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        return f"{error.filename}: {error.strerror}"
    return str(error)


__all__ = ["one_line"]
