"""The one Python finder (the add-on's worker setup and tools/dev.py), without Blender."""

from __future__ import annotations

import sys
from pathlib import Path

from ram_blender.pythons import find_python, python_version

HERE = f"{sys.version_info[0]}.{sys.version_info[1]}"


def test_finds_a_python_of_the_version_on_the_search_path_only(tmp_path: Path) -> None:
    assert python_version(sys.executable) == HERE
    assert find_python(HERE, search_path=str(tmp_path)) is None  # an empty folder: not even sys.executable
    (tmp_path / f"python{HERE}").symlink_to(Path(sys.executable).resolve())
    assert find_python(HERE, search_path=str(tmp_path)) == str(tmp_path / f"python{HERE}")
    (tmp_path / "python2.1").symlink_to(Path(sys.executable).resolve())  # runs, but is not 2.1
    assert find_python("2.1", search_path=str(tmp_path)) is None


def test_without_a_search_path_the_running_interpreter_counts() -> None:
    found = find_python(HERE)
    assert found is not None and python_version(found) == HERE
