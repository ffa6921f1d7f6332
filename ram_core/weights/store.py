"""Where weight files live, and checking them: presence, size, sha256."""

from __future__ import annotations

import hashlib
import os
import textwrap
from dataclasses import dataclass
from pathlib import Path

from ram_core.weights.variants import Variant

#: The weights folder when none is given (``ram-core weights --dir``, ``ram-core capture --weights-dir``).
WEIGHTS_DIR_ENV = "RAM_WEIGHTS_DIR"


class MissingWeightsError(FileNotFoundError):
    """A weight file the capture needs is absent or wrong; the message says how to get it."""


def weights_dir() -> Path:
    """``$RAM_WEIGHTS_DIR``, else ``~/.cache/ram-blender/weights``."""
    return Path(os.environ.get(WEIGHTS_DIR_ENV, Path.home() / ".cache" / "ram-blender" / "weights"))


def weights_path(v: Variant, directory: Path | None = None) -> Path:
    """Where ``v``'s file is expected."""
    return (directory or weights_dir()) / v.file_name


def _size(v: Variant) -> str:
    return f"{v.size:,} bytes" if v.size is not None else (v.approx_size or "size not published")


def _sha(v: Variant) -> str:
    if v.sha256:
        return f"sha256 {v.sha256}"
    if v.sha256_prefix:
        return f"sha256 {v.sha256_prefix}... (only its first {len(v.sha256_prefix)} hex digits are published)"
    return "sha256 not published"


def describe(v: Variant) -> str:
    """File name, size, checksum and source of a variant on one line, for error messages."""
    # Without a download address the source is itself the instruction ("register at ...", "train it ...").
    where = f"get it from {v.url} ({v.source}); or run `ram-core weights fetch {v.name}`" if v.url else v.source
    return f"{v.file_name} ({_size(v)}, {_sha(v)}, licence: {v.licence}); {where}"


def listing(v: Variant, width: int = 100) -> list[str]:
    """The facts of :func:`describe` as ``weights list`` shows them: the name, then labelled lines wrapped
    to ``width`` columns (an address or a file name is never broken, so one may run longer)."""
    rows = [
        ("kind", v.kind),
        ("file", v.file_name),
        ("size", _size(v).removeprefix("size ")),
        ("sha256", _sha(v).removeprefix("sha256 ")),
        ("licence", v.licence),
    ]
    if v.url:
        rows += [("source", v.source), ("get it from", v.url), ("or run", f"ram-core weights fetch {v.name}")]
    else:
        rows.append(("get it", v.source))  # the source is itself the instruction
    lines = [v.name]
    for label, text in rows:
        first = f"  {label:11}  "
        lines += textwrap.wrap(
            text,
            width,
            initial_indent=first,
            subsequent_indent=" " * len(first),
            break_long_words=False,
            break_on_hyphens=False,
        )
    return lines


def missing_weights(v: Variant, path: Path, problem: str = "missing") -> MissingWeightsError:
    """The error for ``v``'s file at ``path`` being absent or wrong: what it is and where to get it, one line."""
    return MissingWeightsError(f"{v.name} weights {problem}: {path}. Need {describe(v)}")


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class Check:
    """Result of checking one file.

    ``ok``: present, and no published size or sha256 differs (the file is usable). ``verified``: a
    published size or (partial) sha256 was compared and matched; False where the publisher gives
    none, so nothing vouches for the file's content.
    """

    variant: Variant
    path: Path
    ok: bool
    message: str
    sha256: str | None = None
    verified: bool = False


def check(v: Variant, directory: Path | None = None, hash_file: bool = True) -> Check:
    """Check ``v``'s file: present, size as published, sha256 as published (computed when asked).

    The message starts with ``ok:`` only for a file whose published size or checksum matched; a file
    with nothing published to compare is ``unverified:`` (still ``ok`` to use), a wrong one names
    what differs.
    """
    path = weights_path(v, directory)
    if not path.is_file():
        return Check(v, path, False, f"missing: {path}")
    size = path.stat().st_size
    if v.size is not None and size != v.size:
        return Check(v, path, False, f"{path}: {size:,} bytes, expected {v.size:,}")
    published = v.size is not None or v.sha256 is not None or v.sha256_prefix is not None
    if not hash_file:
        return Check(v, path, True, f"present: {path} ({size:,} bytes)", verified=v.size is not None)
    digest = sha256_file(path)
    if v.sha256 is not None and digest != v.sha256:
        return Check(v, path, False, f"{path}: sha256 {digest}, expected {v.sha256}", digest)
    if v.sha256_prefix is not None and not digest.startswith(v.sha256_prefix):
        return Check(v, path, False, f"{path}: sha256 {digest}, expected {v.sha256_prefix}...", digest)
    if not published:
        return Check(
            v,
            path,
            True,
            f"unverified: {path} ({size:,} bytes, sha256 {digest}; no size or checksum is published to compare)",
            digest,
        )
    what = "sha256 matches" if v.sha256 or v.sha256_prefix else "size matches; no sha256 published"
    return Check(v, path, True, f"ok: {path} ({size:,} bytes, sha256 {digest}, {what})", digest, verified=True)


def require(v: Variant, directory: Path | None = None) -> Path:
    """The path of ``v``'s file, or :class:`MissingWeightsError` saying what it is and where to get it.

    Checks presence and the published size only (hashing gigabytes at every capture is slow;
    ``ram-core weights verify`` hashes).
    """
    result = check(v, directory, hash_file=False)
    if not result.path.is_file():
        raise missing_weights(v, result.path)
    if not result.ok:
        raise missing_weights(v, result.path, f"wrong ({result.message})")
    return result.path
