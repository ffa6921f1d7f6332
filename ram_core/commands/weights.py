"""List, locate, verify and download the weight files of the ``ram`` backend.

  ram-core weights list            each file: name, kind, file, size, sha256, licence, source
  ram-core weights path NAME       where NAME's file is expected
  ram-core weights verify [NAME]   check presence, size and sha256 (all files when no NAME), and that
                                   the safe loader accepts each torch checkpoint; exits 1 for a file
                                   with no published size or checksum ("unverified") unless
                                   --allow-unverified
  ram-core weights fetch NAME      download from the official URL (resumes an interrupted download)

Files live in $RAM_WEIGHTS_DIR (default ~/.cache/ram-blender/weights) unless --dir says otherwise.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", type=Path, default=None, help="weights folder (default: $RAM_WEIGHTS_DIR)")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("list", help="the table of weight files")
    p = sub.add_parser("path", help="where a file is expected")
    p.add_argument("name")
    v = sub.add_parser("verify", help="check presence, size, sha256, and that torch checkpoints load safely")
    v.add_argument("names", nargs="*", help="variants (default: all)")
    v.add_argument(
        "--allow-unverified",
        action="store_true",
        help="exit 0 for files whose publisher gives no size or checksum to compare (they are still checked to load)",
    )
    f = sub.add_parser("fetch", help="download from the official URL")
    f.add_argument("name")


def _progress_printer() -> Callable[[int, int | None], None]:
    start = time.monotonic()
    last = [0.0]

    def show(done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - last[0] < 0.2 and (total is None or done < total):
            return
        last[0] = now
        rate = done / max(now - start, 1e-6) / 1e6
        if total:
            bar = "#" * int(30 * done / total)
            sys.stderr.write(f"\r[{bar:<30}] {done / 1e6:8.1f} / {total / 1e6:.1f} MB {rate:6.1f} MB/s")
        else:
            sys.stderr.write(f"\r{done / 1e6:8.1f} MB {rate:6.1f} MB/s")
        sys.stderr.flush()

    return show


# Kinds whose file is a torch.save checkpoint read by ram_core.weights.loading.safe_torch_load.
TORCH_KINDS = frozenset({"hmr2", "sam2", "detector"})


def _load_problem(path: Path) -> str | None:
    """Why the safe loader would refuse the checkpoint at ``path`` (its pickle's globals only), or None."""
    try:
        from ram_core.weights.loading import loadable_problem
    except ImportError:  # no torch in this environment: the ram backend cannot run here anyway
        return None
    return loadable_problem(path)


def run(args: argparse.Namespace) -> int:
    from ram_core.commands import CommandError
    from ram_core.weights import VARIANTS, Variant, check, fetch, listing, variant, weights_path

    def pick(name: str) -> Variant:
        try:
            return variant(name)
        except KeyError as e:
            raise CommandError(e.args[0]) from None

    if args.action == "list":
        print("\n\n".join("\n".join(listing(v)) for v in VARIANTS))
        return 0
    if args.action == "path":
        print(weights_path(pick(args.name), args.dir))
        return 0
    if args.action == "verify":
        chosen = [pick(n) for n in args.names] if args.names else list(VARIANTS)
        failed = False
        for r in (check(v, args.dir) for v in chosen):
            problem = _load_problem(r.path) if r.ok and r.variant.kind in TORCH_KINDS else None
            print(
                f"{r.variant.name:16} {r.message}" + (f"\n{'':16} refused by the loader: {problem}" if problem else "")
            )
            failed |= not r.ok or problem is not None or not (r.verified or args.allow_unverified)
        return 1 if failed else 0
    v = pick(args.name)
    path = fetch(v, args.dir, _progress_printer())
    sys.stderr.write("\n")
    print(check(v, args.dir).message)
    return 0 if path.is_file() else 1
