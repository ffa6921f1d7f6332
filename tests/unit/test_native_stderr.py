"""native_stderr.lines_dropped: the lines native code prints that read as failures but are not (LiteRT's INFO
line, Blender's EGL_BAD_MATCH while it picks a GPU context) stay off stderr; every other line is kept, in order."""

from __future__ import annotations

import os

import pytest

from ram_core.contract.native_stderr import lines_dropped

BAD_MATCH = b"EGL Error (0x3009): EGL_BAD_MATCH: Arguments are inconsistent.\n"


def test_only_the_named_lines_are_dropped(capfd):
    with lines_dropped(b"EGL Error (0x3009)"):
        os.write(2, BAD_MATCH + b"EGL Error (0x3001): EGL_NOT_INITIALIZED: not initialized.\n" + BAD_MATCH)
        os.write(2, b"Error: kept\n")
    os.write(2, BAD_MATCH)  # after the block: untouched
    assert capfd.readouterr().err == (
        "EGL Error (0x3001): EGL_NOT_INITIALIZED: not initialized.\nError: kept\n" + BAD_MATCH.decode()
    )


def test_when_the_block_fails_every_line_is_kept(capfd):
    """The dropped lines may be why it failed (before, the demo's filter dropped them regardless)."""
    with pytest.raises(RuntimeError, match="render failed"), lines_dropped(b"EGL Error"):
        os.write(2, BAD_MATCH)
        raise RuntimeError("render failed")
    os.write(2, b"back\n")
    assert capfd.readouterr().err == BAD_MATCH.decode() + "back\n"


def test_blocks_nest(capfd):
    with lines_dropped(b"INFO: "), lines_dropped(b"EGL Error"):
        os.write(2, b"INFO: x\n" + BAD_MATCH + b"kept\n")
    assert capfd.readouterr().err == "kept\n"
