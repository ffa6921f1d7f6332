"""Build the installable Blender extension: ``python build.py [--python PY] [--blender-ext PATH] [--out DIR]``.

1. ``pip wheel --no-deps`` builds ram_core's own pure-Python wheel into ``wheels/`` (its base
   install needs only numpy, which Blender bundles).
2. The manifest's ``wheels = [...]`` list is rewritten to name exactly the wheels in ``wheels/``
   (``--check`` fails instead when it differs).
3. The extension is staged (``ram_blender/``'s contents, the manifest, ``wheels/``) and built and
   validated with Blender's own tool, ``bl_pkg/cli/blender_ext.py``, which runs under plain Python:
   found inside the ``bpy`` module of ``--python``, or given with ``--blender-ext``.

Standard library only. Prints the path of the zip.
"""

from __future__ import annotations

import argparse
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


def build_wheels(python: str) -> list[Path]:
    """ram_core's wheel into ``wheels/`` (older ram_core wheels removed); the wheels now there."""
    for old in WHEELS.glob("ram_core-*.whl"):
        old.unlink()
    subprocess.run([python, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(WHEELS), str(ROOT)], check=True)
    return sorted(WHEELS.glob("*.whl"))


def wheels_list(wheels: list[Path]) -> str:
    lines = "".join(f'  "./wheels/{w.name}",\n' for w in wheels)
    return f"wheels = [\n{lines}]\n"


def sync_manifest(wheels: list[Path], check: bool) -> None:
    """Make the manifest's ``wheels`` list name ``wheels``; with ``check``, raise if it does not."""
    text = MANIFEST.read_text()
    if not _WHEELS_LIST.search(text):
        raise SystemExit(f"{MANIFEST}: no 'wheels = [...]' list")
    new = _WHEELS_LIST.sub(wheels_list(wheels), text, count=1)
    if new != text:
        if check:
            raise SystemExit(f"{MANIFEST}: wheels list differs from wheels/ (run build.py without --check)")
        MANIFEST.write_text(new)


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


def stage(directory: Path) -> Path:
    """Lay the extension out as Blender wants it: ``__init__.py`` and the manifest at the top."""
    shutil.copytree(ADDON, directory, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy2(MANIFEST, directory / MANIFEST.name)
    shutil.copytree(WHEELS, directory / "wheels", ignore=shutil.ignore_patterns(".gitkeep", "README.md"))
    return directory


def build(python: str, blender_ext: Path | None, out_dir: Path, check: bool) -> Path:
    wheels = build_wheels(python)
    sync_manifest(wheels, check)
    tool = blender_ext or find_blender_ext(python)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ram_ext_") as tmp:
        src = stage(Path(tmp) / "ram_mocap")
        subprocess.run([python, str(tool), "build", "--source-dir", str(src), "--output-dir", str(out_dir)], check=True)
    zips = sorted(out_dir.glob("ram_mocap-*.zip"), key=lambda p: p.stat().st_mtime)
    subprocess.run([python, str(tool), "validate", str(zips[-1])], check=True)
    return zips[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="Python with pip (and bpy, unless --blender-ext)")
    parser.add_argument("--blender-ext", type=Path, default=None, help="path to Blender's blender_ext.py")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="where the zip goes (default: dist/)")
    parser.add_argument("--check", action="store_true", help="fail if the manifest's wheels list is out of date")
    args = parser.parse_args(argv)
    print(build(args.python, args.blender_ext, args.out, args.check))
    return 0


if __name__ == "__main__":
    sys.exit(main())
