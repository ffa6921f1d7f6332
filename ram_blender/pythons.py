"""Find a Python interpreter of a given version on this machine. Standard library only, no Blender.

The add-on builds its worker environment from a Python MediaPipe has wheels for (Blender 5.1+ bundles 3.13);
tools/dev.py builds the test environments the same way and imports this module without Blender.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def python_version(python: str) -> str | None:
    """``"3.11"`` for the interpreter at ``python``, or None when it does not run.

    ``PYENV_VERSION`` is set to the name of the folder two levels above the real file, so a pyenv interpreter
    (``versions/3.11.7/bin/python3.11``) runs as itself and a pyenv shim (which runs only the version pyenv
    selects, maybe another) is refused: pyenv's own copy is found under ``versions`` instead.
    """
    env = {**os.environ, "PYENV_VERSION": Path(python).resolve().parent.parent.name}
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            check=False,
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def find_python(version: str, search_path: str | None = None) -> str | None:
    """A Python ``version`` ("3.11") interpreter, or None: ``python3.11`` on the search path, else pyenv's
    installs of that version (newest first), else the running interpreter if it is that version.

    Args:
        version: ``major.minor``.
        search_path: the folders to look in (``os.pathsep``-separated); None: ``$PATH``, pyenv and the running
            interpreter too.
    """
    candidates = [shutil.which(f"python{version}", path=search_path)]
    if search_path is None:
        pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
        if pyenv.is_dir():
            candidates += [
                str(p / "bin" / f"python{version}") for p in sorted(pyenv.glob(f"{version}.*"), reverse=True)
            ]
        if f"{sys.version_info[0]}.{sys.version_info[1]}" == version:
            candidates.append(sys.executable)
    return next((c for c in candidates if c and Path(c).exists() and python_version(c) == version), None)
