"""``python -m ram_blender ARGS``: the ``ram_capture`` command (:mod:`ram_blender.cli`) from a Python with
the ``bpy`` module, the add-on registered first. For a development checkout and the tests (``ram-core
batch --blender PYTHON``); Blender itself runs the same command as ``blender -b -c ram_capture ARGS``."""

from __future__ import annotations

import sys

import ram_blender
from ram_blender import cli

ram_blender.register()
sys.exit(cli.main(sys.argv[1:]))
