"""The import boundary (STYLE.md, "Layout and boundaries"), checked on the source without importing it.

- ``ram_core`` never imports Blender (``bpy``, ``mathutils``, ...).
- ``ram_core.contract`` and ``ram_core.scene`` import only the standard library, numpy and each other
  (Blender's Python runs them).
- ``ram_blender`` imports from ``ram_core`` only the contract, and no third-party package but numpy
  and Blender's own modules (never torch, OpenCV, MediaPipe).
- The add-on's numpy-only modules import without bpy.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BLENDER_MODULES = {"bpy", "mathutils", "bmesh", "bpy_extras", "addon_utils", "bl_ui", "rna_prop_ui", "gpu", "blf"}
STDLIB = set(sys.stdlib_module_names)
# The contract, and the scene solve the client runs on its results: numpy and the standard library only.
NUMPY_ONLY_CORE = (("ram_core", "contract"), ("ram_core", "scene"))
NUMPY_ONLY_ADDON_MODULES = (
    "ram_blender.importer.plan",
    "ram_blender.importer.proxy",
    "ram_blender.edits",
    "ram_blender.capture_job",
)


def imports(path: Path, package: str) -> list[str]:
    """Absolute names of the modules ``path`` (in dotted ``package``) imports, relative imports resolved."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # level 1: this package; 2: its parent ...
                pkg = package.split(".")
                base = pkg[: len(pkg) - node.level + 1]
                out.append(".".join([*base, node.module] if node.module else base))
            elif node.module:
                out.append(node.module)
    return out


def violations(root: Path) -> list[str]:
    """Every import in ``root``'s ``ram_core`` and ``ram_blender`` trees that crosses the boundary."""
    found = []
    for tree in ("ram_core", "ram_blender"):
        for path in sorted((root / tree).rglob("*.py")):
            rel = path.relative_to(root)
            parts = rel.with_suffix("").parts
            for name in imports(path, ".".join(parts[:-1])):  # a module's package is its folder
                top = name.split(".")[0]
                why = _crossing(parts, name, top)
                if why:
                    found.append(f"{rel}: imports {name} ({why})")
    return found


def _crossing(parts: tuple[str, ...], name: str, top: str) -> str | None:
    if parts[0] == "ram_core":
        if top in BLENDER_MODULES:
            return "ram_core never imports Blender"
        in_contract = parts[:2] in NUMPY_ONLY_CORE or parts == ("ram_core", "__init__")
        if in_contract and not (
            top in STDLIB
            or top == "numpy"
            or name == "ram_core"
            or any(name.startswith(".".join(p)) for p in NUMPY_ONLY_CORE)
        ):
            return "the contract imports only the standard library and numpy"
        return None
    if top == "ram_core" and not name.startswith("ram_core.contract"):
        return "the add-on imports only ram_core.contract"
    if top not in STDLIB | BLENDER_MODULES | {"numpy", "ram_core", "ram_blender"}:
        return "the add-on imports no third-party package but numpy"
    return None


def test_the_source_tree_keeps_the_boundary():
    assert violations(REPO) == []


def test_the_checker_finds_each_kind_of_crossing(tmp_path):
    files = {
        "ram_core/__init__.py": "",
        "ram_core/contract/__init__.py": "",
        "ram_core/contract/ok.py": "import json\nimport numpy as np\nfrom ram_core import __version__\nfrom . import ok\n",
        "ram_core/contract/bad.py": "import torch\n",
        "ram_core/models/bad.py": "from mathutils import Matrix\n",
        "ram_blender/__init__.py": "import bpy\nfrom .importer import plan\n",
        "ram_blender/importer/plan.py": "import numpy as np\nfrom ram_core.contract.results import Results\n",
        "ram_blender/bad.py": "from ram_core.models import thmr\nimport cv2\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    assert violations(tmp_path) == [
        "ram_core/contract/bad.py: imports torch (the contract imports only the standard library and numpy)",
        "ram_core/models/bad.py: imports mathutils (ram_core never imports Blender)",
        "ram_blender/bad.py: imports ram_core.models (the add-on imports only ram_core.contract)",
        "ram_blender/bad.py: imports cv2 (the add-on imports no third-party package but numpy)",
    ]


def test_the_addons_numpy_only_modules_import_without_blender():
    code = (
        "import sys\n"
        "sys.modules['bpy'] = None  # any import of bpy now fails\n"
        f"for name in {NUMPY_ONLY_ADDON_MODULES!r}:\n"
        "    __import__(name)\n"
        "assert 'torch' not in sys.modules and 'cv2' not in sys.modules\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=False, cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
