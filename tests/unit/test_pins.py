"""The exact pins in requirements/ (what the tests run) satisfy pyproject.toml's ranges (what pip users get).

requirements/ pins each package to the version tested here; pyproject.toml gives the range a
``pip install ram-core[...]`` accepts. A pin outside its range means the tested version is one pip
users cannot get, or the range admits versions nothing tested: the two must not drift apart.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

packaging = pytest.importorskip("packaging.requirements")
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]


def pinned() -> dict[str, tuple[str, str]]:
    """Package name -> (exact version, requirements file) for every ``name==version`` line."""
    pins = {}
    for path in sorted((REPO / "requirements").glob("*.txt")):
        for line in path.read_text().splitlines():
            m = re.match(r"^\s*([A-Za-z0-9_.\-]+)==([^\s;#]+)", line)
            if m:
                pins.setdefault(m.group(1).lower().replace("_", "-"), (m.group(2), path.name))
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        lines += [d for d in extra if not d.startswith("ram-core")]
    return [Requirement(d) for d in lines]


def test_every_pin_satisfies_the_range_pip_users_get():
    pins = pinned()
    outside = []
    for req in declared():
        name = req.name.lower().replace("_", "-")
        if name in pins and not req.specifier.contains(pins[name][0], prereleases=True):
            outside.append(f"{name}: {pins[name][1]} pins {pins[name][0]}, pyproject.toml says {req.specifier}")
    assert outside == []
