"""Downloading weights with urllib: resumable (HTTP Range), with progress, checksum, atomic rename."""

from __future__ import annotations

import logging
import os
import shutil
import tarfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from ram_core.weights.store import MissingWeightsError, sha256_file, weights_path
from ram_core.weights.variants import Variant

log = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]  # (bytes so far, total bytes or None)
CHUNK = 1 << 20


class DownloadError(OSError):
    """A download that failed, was cut short or does not match its published checksum."""


def download(
    url: str,
    dest: Path,
    sha256: str | None = None,
    size: int | None = None,
    progress: Progress | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``dest``, resuming from ``dest.partial`` when it exists.

    The bytes go to ``<dest>.partial``; a server that honours ``Range`` (206) continues it, any
    other answer restarts it. Once complete (and matching ``size`` and ``sha256`` where given) the
    partial file is renamed onto ``dest`` in one step, so ``dest`` is never half-written.

    Raises:
        DownloadError: network failure (the partial file stays for the next try), short download,
            or size/checksum mismatch (the partial file is deleted).
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    have = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    total = size
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            resumed = have > 0 and getattr(response, "status", None) == 206
            if not resumed:
                have = 0
            length = response.headers.get("Content-Length")
            total = have + int(length) if length is not None else size
            with open(partial, "ab" if resumed else "wb") as out:
                done = have
                while block := response.read(CHUNK):
                    out.write(block)
                    done += len(block)
                    if progress:
                        progress(done, total)
    except urllib.error.HTTPError as e:
        if e.code != 416 or not have:  # 416: the partial file already holds every byte
            raise DownloadError(f"download of {url} failed ({e}); run the command again to resume") from None
    except OSError as e:
        raise DownloadError(f"download of {url} failed ({e}); run the command again to resume") from None
    got = partial.stat().st_size
    if (total is not None and got != total) or (size is not None and got != size):
        partial.unlink()
        raise DownloadError(f"{url}: got {got:,} bytes, expected {size or total:,}")
    if sha256 is not None:
        digest = sha256_file(partial)
        if digest != sha256:
            partial.unlink()
            raise DownloadError(f"{url}: sha256 {digest}, expected {sha256}")
    os.replace(partial, dest)
    return dest


def extract_member(archive: Path, member: str, dest: Path) -> Path:
    """Copy one member of a .tar(.gz) to ``dest`` (streamed, atomic); nothing else is extracted."""
    tmp = dest.with_name(dest.name + ".partial")
    with tarfile.open(archive, "r:*") as tar:
        try:
            info = tar.getmember(member)
        except KeyError:
            raise DownloadError(f"{archive} has no member {member}") from None
        source = tar.extractfile(info) if info.isfile() else None
        if source is None:
            raise DownloadError(f"{archive}: {member} is not a regular file")
        with source, open(tmp, "wb") as out:
            shutil.copyfileobj(source, out, CHUNK)
    os.replace(tmp, dest)
    return dest


def fetch(v: Variant, directory: Path | None = None, progress: Progress | None = None) -> Path:
    """Download ``v`` into the weights folder (resumable); extract it when it ships in an archive.

    Raises:
        MissingWeightsError: ``v`` has no download URL (a manual download, e.g. SMPL's licence).
        DownloadError: see :func:`download`.
    """
    dest = weights_path(v, directory)
    if v.url is None:
        raise MissingWeightsError(f"{v.name} cannot be downloaded automatically: {v.source}; save it as {dest}")
    if v.archive_member is None:
        return download(v.url, dest, v.sha256, v.size, progress)
    archive = dest.with_name(v.url.rsplit("/", 1)[-1])
    download(v.url, archive, None, None, progress)
    extract_member(archive, v.archive_member, dest)
    if v.sha256 is not None and sha256_file(dest) != v.sha256:
        dest.unlink()
        raise DownloadError(f"{dest}: sha256 does not match {v.sha256}")
    archive.unlink()
    log.info("extracted %s from %s", v.archive_member, archive.name)
    return dest
