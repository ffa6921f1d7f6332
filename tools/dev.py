"""The two commands a newcomer runs: ``python3 tools/dev.py demo`` and ``python3 tools/dev.py test``.

Each creates (or reuses) the virtual environments it needs. Environments live outside the clone,
in ``$RAM_ENV_DIR`` (default ``~/.cache/ram-blender/envs``), one folder per environment named by a
hash of its requirement files and its Python, so a change to a requirements file makes a new one and
a second run reuses the first's. Standard library only: this runs before any environment exists.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this script runs on a bare Python, not in an environment with the repository

from ram_blender import pythons

REQUIREMENTS = ROOT / "requirements"
ENV_ROOT = Path(os.environ.get("RAM_ENV_DIR", Path.home() / ".cache" / "ram-blender" / "envs"))


@dataclass(frozen=True)
class EnvSpec:
    """A virtual environment: a requirements file and the Pythons that may run it, best first."""

    name: str
    requirements: str
    pythons: tuple[str, ...]
    extra_env: tuple[tuple[str, str], ...] = ()


WORKER_LITE = EnvSpec("worker-lite", "lite.txt", ("3.11",))
WORKER_FULL = EnvSpec("worker-full", "test.txt", ("3.11",), (("SAM2_BUILD_CUDA", "0"),))
BLENDER = EnvSpec("blender", "blender.txt", ("3.13",))
BLENDER_PY311 = EnvSpec("blender", "blender-py311.txt", ("3.11",))
BLENDER_LEGACY = EnvSpec("blender-legacy", "blender-legacy.txt", ("3.11",))
LINT = EnvSpec("lint", "lint.txt", ("3.11", "3.13"))
# ruff lints and format-checks everything; mypy checks the files named in pyproject.toml's [tool.mypy].
LINT_STEPS = (
    ("ruff check", ["-m", "ruff", "check", "--no-cache", "."]),
    ("ruff format", ["-m", "ruff", "format", "--no-cache", "--check", "."]),
    ("mypy", ["-m", "mypy", "--no-incremental", "--cache-dir", os.devnull]),
)


def log(msg: str) -> None:
    print(f"[dev] {msg}", flush=True)


def find_python(version: str) -> str | None:
    """A Python ``version`` ("3.11") interpreter on this machine (its real file), or None.

    The add-on's finder (``ram_blender.pythons``, standard library only): one search for both.
    """
    found = pythons.find_python(version)
    return str(Path(found).resolve()) if found else None


def requirement_files(name: str) -> list[Path]:
    """The requirements file and every file it includes with ``-r``, recursively."""
    path = REQUIREMENTS / name
    files = [path]
    for line in path.read_text().splitlines():
        m = re.match(r"^\s*-r\s+(\S+)", line)
        if m:
            files += requirement_files(m.group(1))
    return files


def env_dir(spec: EnvSpec, python: str) -> Path:
    h = hashlib.sha256()
    h.update(python.encode())
    for f in requirement_files(spec.requirements):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return ENV_ROOT / f"{spec.name}-{h.hexdigest()[:12]}"


def ensure_env(spec: EnvSpec) -> Path:
    """Create ``spec``'s environment if it does not exist yet; return its Python."""
    python = next((p for v in spec.pythons if (p := find_python(v))), None)
    if python is None:
        raise SystemExit(f"[dev] {spec.name} needs Python {' or '.join(spec.pythons)}, which this machine lacks")
    target = env_dir(spec, python)
    env_python = target / "bin" / "python"
    if (target / ".complete").exists():
        return env_python
    target.parent.mkdir(parents=True, exist_ok=True)
    # Two runs at once (two clones, a test and a demo) must not build the same environment over each other.
    with open(target.with_name(target.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / ".complete").exists():
            _create_env(spec, python, target)
    return env_python


def _create_env(spec: EnvSpec, python: str, target: Path) -> None:
    env_python = target / "bin" / "python"
    # No marker means an earlier run was interrupted: start that environment over.
    shutil.rmtree(target, ignore_errors=True)
    log(f"creating environment {spec.name} in {target} (first run only; a few minutes)")
    t0 = time.monotonic()
    env = {**os.environ, **dict(spec.extra_env)}
    pip = [str(env_python), "-m", "pip", "--disable-pip-version-check", "-q"]
    steps = {
        f"{python} -m venv": [python, "-m", "venv", str(target)],
        f"pip install -r requirements/{spec.requirements}": [
            *pip,
            "install",
            "-r",
            str(REQUIREMENTS / spec.requirements),
        ],
    }
    for said, step in steps.items():
        code = subprocess.run(step, check=False, env=env).returncode
        if code != 0:  # no venv module (Debian's python3.x-venv), no network, no wheel: its output says which
            shutil.rmtree(target, ignore_errors=True)
            raise SystemExit(
                f"[dev] creating environment {spec.name} failed at '{said}' (exit {code}); the lines above say why: "
                "run the command again once that is fixed"
            )
    (target / ".complete").write_text(f"{time.time()}\n")
    log(f"{spec.name} ready in {time.monotonic() - t0:.0f} s")


def blender_env() -> Path:
    """Blender 5.2 on Python 3.13 where there is one, else Blender 5.0 on Python 3.11."""
    return ensure_env(BLENDER if find_python("3.13") else BLENDER_PY311)


def run_env(python: Path, args: list[str], env: dict[str, str] | None = None) -> int:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **(env or {})}
    full_env.pop("PYTHONHOME", None)
    proc = subprocess.Popen([str(python), *args], cwd=ROOT, env=full_env)
    try:
        return proc.wait()
    except KeyboardInterrupt:  # the child got the Ctrl-C too and stops on its own: no traceback from here
        return proc.wait()


def cmd_demo(args: argparse.Namespace) -> int:
    worker = ensure_env(WORKER_LITE)
    blender = blender_env()
    out = Path(args.out).resolve()
    return run_env(
        blender,
        [
            "tools/demo.py",
            "--video",
            str(Path(args.video).resolve()),
            "--out",
            str(out),
            "--worker-python",
            str(worker),
        ],
    )


def _pytest(python: Path, label: str, paths: list[str], junit: Path, env: dict[str, str] | None = None) -> int:
    log(f"{label}: pytest {' '.join(paths)}")
    return run_env(python, ["-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", *paths], env)


def _counts(junit: Path) -> tuple[int, int, int]:
    """(passed, failed, skipped) from a JUnit XML report; a missing report counts as one failure."""
    if not junit.exists():
        return 0, 1, 0
    root = ET.parse(junit).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    total = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    return total - failed - skipped, failed, skipped


def cmd_lint(args: argparse.Namespace) -> int:
    """Run every lint step (each even after one fails, so one run shows everything); 0 if all pass."""
    python = ensure_env(LINT)
    failed = [label for label, step in LINT_STEPS if run_env(python, step) != 0]
    log(f"lint: {'failed: ' + ', '.join(failed) if failed else 'ruff check, ruff format and mypy pass'}")
    return 1 if failed else 0


def cmd_test(args: argparse.Namespace) -> int:
    lint_code = cmd_lint(args)
    reports = Path(os.environ.get("RAM_TEST_REPORTS", ROOT / "build" / "test-reports"))
    reports.mkdir(parents=True, exist_ok=True)
    worker = ensure_env(WORKER_FULL)
    worker_env = {"RAM_WORKER_PYTHON": str(worker)}
    pytest_args = [*(["-k", args.k] if args.k else []), *args.pytest_args]
    # The unit tier's batch tests build scenes with a Python that has bpy (ram-core batch --export --blender).
    unit_env = {} if args.unit_only else {"RAM_BLENDER_PYTHON": str(blender_env())}
    runs = [(worker, "unit", ["tests/unit"], unit_env)]
    if not args.unit_only:
        runs.append((blender_env(), "blender", ["tests/blender"], worker_env))
        runs.append((ensure_env(BLENDER_LEGACY), "blender-legacy", ["tests/blender"], worker_env))
    totals = [0, 0, 0]
    codes = []
    for python, label, paths, env in runs:
        junit = reports / f"{label}.xml"
        junit.unlink(missing_ok=True)
        code = _pytest(python, label, paths + pytest_args, junit, env)
        counts = _counts(junit)
        codes.append(code if code != 5 else 0)  # 5: no tests collected in that tier
        log(f"{label}: {counts[0]} passed, {counts[1]} failed, {counts[2]} skipped (exit {code})")
        totals = [a + b for a, b in zip(totals, counts)]
    print(f"{totals[0]} passed, {totals[1]} failed, {totals[2]} skipped{'; lint failed' if lint_code else ''}")
    return 0 if all(c == 0 for c in codes) and totals[1] == 0 and lint_code == 0 else 1


def cmd_env(args: argparse.Namespace) -> int:
    specs = {"worker-lite": WORKER_LITE, "worker-full": WORKER_FULL, "blender-legacy": BLENDER_LEGACY, "lint": LINT}
    print(blender_env() if args.name == "blender" else ensure_env(specs[args.name]))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/dev.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="capture a video with the lite backend into a .blend and a rendered preview")
    p.add_argument(
        "--video",
        default=str(ROOT / "tests" / "data" / "vtest_clip.avi"),
        help="the video to capture (default: the bundled 12 s street clip, tests/data/vtest_clip.avi)",
    )
    p.add_argument(
        "--out",
        default=str(ROOT / "out" / "demo"),
        help="the folder for the results, .blend, exports and preview.png (default: out/demo); an earlier "
        "run's files there move to OUT/replaced/<date>_<time>/",
    )
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("test", help="lint, then run every test tier (unit, Blender 5.x, Blender 4.2)")
    p.add_argument("--unit-only", action="store_true", help="only the tests that need no Blender")
    p.add_argument("-k", metavar="EXPR", help="only the tests whose names match (pytest -k), in every tier")
    p.add_argument("pytest_args", nargs="*", help="extra arguments passed to pytest (after --)")
    p.set_defaults(func=cmd_test)
    p = sub.add_parser("lint", help="ruff check, ruff format --check and mypy")
    p.set_defaults(func=cmd_lint)
    p = sub.add_parser("env", help="create an environment if needed and print its Python")
    p.add_argument("name", choices=["worker-lite", "worker-full", "blender", "blender-legacy", "lint"])
    p.set_defaults(func=cmd_env)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
