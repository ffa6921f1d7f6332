"""List, locate, verify and download the weight files of the ``ram`` backend.

  ram-core weights list            the table: name, file, size, sha256, licence, source
  ram-core weights path NAME       where NAME's file is expected
  ram-core weights verify [NAME]   check presence, size and sha256 (all files when no NAME)
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
    v = sub.add_parser("verify", help="check presence, size and sha256")
    v.add_argument("names", nargs="*", help="variants (default: all)")
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


def run(args: argparse.Namespace) -> int:
    from ram_core.commands import CommandError
    from ram_core.weights import VARIANTS, Variant, check, describe, fetch, variant, weights_path

    def pick(name: str) -> Variant:
        try:
            return variant(name)
        except KeyError as e:
            raise CommandError(e.args[0]) from None

    if args.action == "list":
        name_w, kind_w = max(len(v.name) for v in VARIANTS), max(len(v.kind) for v in VARIANTS)
        for v in VARIANTS:
            print(f"{v.name:{name_w}} {v.kind:{kind_w}} {describe(v)}")
        return 0
    if args.action == "path":
        print(weights_path(pick(args.name), args.dir))
        return 0
    if args.action == "verify":
        chosen = [pick(n) for n in args.names] if args.names else list(VARIANTS)
        results = [check(v, args.dir) for v in chosen]
        for r in results:
            print(f"{r.variant.name:16} {r.message}")
        return 0 if all(r.ok for r in results) else 1
    v = pick(args.name)
    path = fetch(v, args.dir, _progress_printer())
    sys.stderr.write("\n")
    print(check(v, args.dir).message)
    return 0 if path.is_file() else 1
