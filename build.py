"""Build the installable Blender extension: ``python build.py [--python PY] [--blender-ext PATH] [--out DIR]``.

1. ``pip wheel --no-deps`` builds ram_core's own pure-Python wheel into ``wheels/`` (its base
   install needs only numpy, which Blender bundles), versioned ``<version>+<hash>``: the hash is of
   ram_core's content, so a rebuilt extension of the same version whose ram_core differs bundles a
   wheel of another name and version. (Blender keeps an installed wheel whose ``.dist-info`` folder,
   ``ram_core-<version>.dist-info``, is already there, and pip one whose version is installed: without
   the hash a reinstall would keep running the old ram_core.)
2. The extension is staged (``ram_blender/``'s contents, the manifest with its ``wheels = [...]``
   list naming the wheels in ``wheels/``, ``wheels/``) and built and validated with Blender's own
   tool, ``bl_pkg/cli/blender_ext.py``, which runs under plain Python: found inside the ``bpy`` module
   of ``--python``, or given with ``--blender-ext``.

Standard library only. Prints the path of the zip.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
MANIFEST = ROOT / "blender_manifest.toml"
WHEELS = ROOT / "wheels"
ADDON = ROOT / "ram_blender"
_WHEELS_LIST = re.compile(r"^wheels = \[.*?\]\n", re.S | re.M)
_VERSION = re.compile(r'^__version__ = "([^"+]+)"$', re.M)
# What ram_core's wheel is built from (pyproject.toml reads the version from ram_core/__init__.py).
WHEEL_SOURCES = ("pyproject.toml", "README.md", "LICENSE", "ram_core")
_NOT_SOURCES = ("__pycache__", "*.pyc", "*.egg-info")


def content_hash(root: Path = ROOT) -> str:
    """The first 12 hex digits of the sha256 of ram_core's wheel sources under ``root`` (names and bytes)."""
    digest = hashlib.sha256()
    for name in WHEEL_SOURCES:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for f in files:
            if "__pycache__" in f.parts or f.suffix == ".pyc":
                continue
            data = f.read_bytes()
            digest.update(f"{f.relative_to(root).as_posix()}\0{len(data)}\0".encode())
            digest.update(data)
    return digest.hexdigest()[:12]


def build_wheels(python: str) -> list[Path]:
    """ram_core's wheel, version ``<version>+<content hash>``, into ``wheels/`` (older ram_core wheels
    removed); the wheels now there."""
    for old in WHEELS.glob("ram_core-*.whl"):
        old.unlink()
    with tempfile.TemporaryDirectory(prefix="ram_core_src_") as tmp:
        src = Path(tmp)
        for name in WHEEL_SOURCES:
            if (ROOT / name).is_dir():
                shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns(*_NOT_SOURCES))
            else:
                shutil.copy2(ROOT / name, src / name)
        init = src / "ram_core" / "__init__.py"
        text = init.read_text()
        if not _VERSION.search(text):
            raise SystemExit(f"{ROOT / 'ram_core' / '__init__.py'}: no '__version__ = \"X.Y.Z\"' line")
        init.write_text(_VERSION.sub(lambda m: f'__version__ = "{m[1]}+{content_hash()}"', text, count=1))
        subprocess.run([python, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(WHEELS), str(src)], check=True)
    return sorted(WHEELS.glob("*.whl"))


def wheels_list(wheels: list[Path]) -> str:
    lines = "".join(f'  "./wheels/{w.name}",\n' for w in wheels)
    return f"wheels = [\n{lines}]\n"


def staged_manifest(wheels: list[Path]) -> str:
    """The manifest with its ``wheels`` list naming ``wheels`` (the file in the repository keeps an empty
    list: the names change with ram_core's content)."""
    text = MANIFEST.read_text()
    if not _WHEELS_LIST.search(text):
        raise SystemExit(f"{MANIFEST}: no 'wheels = [...]' list")
    return _WHEELS_LIST.sub(wheels_list(wheels), text, count=1)


def find_blender_ext(python: str) -> Path:
    """``blender_ext.py`` inside the ``bpy`` module installed for ``python``."""
    code = "import importlib.util, pathlib; print(pathlib.Path(importlib.util.find_spec('bpy').origin).parent)"
    out = subprocess.run([python, "-c", code], check=False, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(
            f"{python} has no bpy module; give --python PYTHON_WITH_BPY, or --blender-ext "
            "BLENDER_DIR/<version>/scripts/addons_core/bl_pkg/cli/blender_ext.py from a Blender install"
        )
    found = sorted(Path(out.stdout.strip()).glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
    if not found:
        raise SystemExit(f"no blender_ext.py inside {out.stdout.strip()}; pass --blender-ext")
    return found[-1]


def stage(directory: Path, wheels: list[Path]) -> Path:
    """Lay the extension out as Blender wants it: ``__init__.py`` and the manifest (listing ``wheels``) at the top."""
    shutil.copytree(ADDON, directory, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (directory / MANIFEST.name).write_text(staged_manifest(wheels))
    shutil.copytree(WHEELS, directory / "wheels", ignore=shutil.ignore_patterns(".gitkeep", "README.md"))
    return directory


def build(python: str, blender_ext: Path | None, out_dir: Path) -> Path:
    wheels = build_wheels(python)
    tool = blender_ext or find_blender_ext(python)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ram_ext_") as tmp:
        src = stage(Path(tmp) / "ram_mocap", wheels)
        subprocess.run([python, str(tool), "build", "--source-dir", str(src), "--output-dir", str(out_dir)], check=True)
    zips = sorted(out_dir.glob("ram_mocap-*.zip"), key=lambda p: p.stat().st_mtime)
    subprocess.run([python, str(tool), "validate", str(zips[-1])], check=True)
    return zips[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="Python with pip (and bpy, unless --blender-ext)")
    parser.add_argument("--blender-ext", type=Path, default=None, help="path to Blender's blender_ext.py")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="where the zip goes (default: dist/)")
    args = parser.parse_args(argv)
    print(build(args.python, args.blender_ext, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
