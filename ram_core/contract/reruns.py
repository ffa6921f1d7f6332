"""What a rerun does with the outputs of an earlier run: ``ram-core batch``, ``blender -b -c ram_capture`` and
``ram-core capture`` (for its one video's files) agree on it. Standard library only.

By default a run whose videos (or results files) already have outputs in the folder is refused before
any work, in one line that names them and the two flags: ``--skip-existing`` does only the videos with
none (a stopped batch resumes), ``--overwrite`` does them all again and moves each video's earlier
outputs together into ``OUT/replaced/<date>_<time>/`` at the moment the new ones replace them (a failed
or cancelled video keeps its files where they were). A .blend and its results file move together, so the
.blend, which names its results by a path relative to itself, still opens with its own capture and edits.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from ram_core.contract.batch_files import EXPORT_FORMATS, RECORD_SUFFIX, RESULTS_SUFFIX, export_stem

REFUSE, SKIP, OVERWRITE = "refuse", "skip", "overwrite"
REPLACED = "replaced"


def add_arguments(parser: argparse.ArgumentParser, skip_help: str = "", overwrite_help: str = "") -> None:
    """``--skip-existing`` and ``--overwrite`` (one or neither), as ``existing``; the help says what they do
    for a folder of videos unless a command of one output file gives its own."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--skip-existing",
        dest="existing",
        action="store_const",
        const=SKIP,
        default=REFUSE,
        help=skip_help or "keep the outputs of an earlier run and do only the videos that have none (resume)",
    )
    group.add_argument(
        "--overwrite",
        dest="existing",
        action="store_const",
        const=OVERWRITE,
        help=overwrite_help
        or f"do every video again; earlier outputs move to OUT_DIR/{REPLACED}/<date>_<time>/ as they are replaced",
    )


def scene_outputs(out_dir: str | Path, stem: str) -> list[Path]:
    """The files of ``stem``'s scene in ``out_dir`` that exist: ``<stem>.blend`` (and Blender's ``.blend1``
    backup beside it) and each person's exports ``<export stem>_person<N>.fbx|bvh|npz`` (``batch_files.export_stem``:
    ``street walk.blend``'s are ``street_walk_person1.fbx``)."""
    out = Path(out_dir)
    name = export_stem(stem)
    export = re.compile(rf"{re.escape(name)}(_person\d+\.(?:{'|'.join(EXPORT_FORMATS)}))", re.IGNORECASE)
    found = [p for p in (out / f"{stem}.blend", out / f"{stem}.blend1") if p.is_file()]
    if out.is_dir():
        found += sorted(p for p in out.iterdir() if p.is_file() and _written_over(p, out / name, export))
    return found


def _written_over(path: Path, base: Path, export: re.Pattern[str]) -> bool:
    """Whether the export ``base`` + ``_person<N>.<fmt>`` that ``path``'s name matches writes over ``path``: by
    its very name, or by another case on a file system that ignores case (macOS, Windows: one file)."""
    m = export.fullmatch(path.name)
    if m is None:
        return False
    written = base.with_name(base.name + m.group(1).lower())  # the writer's names are lower case past the stem
    return path.name == written.name or (written.exists() and os.path.samefile(path, written))


def video_outputs(out_dir: str | Path, stem: str) -> list[Path]:
    """Every file a run writes for the video ``stem`` that exists in ``out_dir``: its results
    (``<stem>.ram.npz``), their record (``<stem>.ram.json``) and its scene (:func:`scene_outputs`)."""
    out = Path(out_dir)
    capture = [p for p in (out / f"{stem}{RESULTS_SUFFIX}", out / f"{stem}{RECORD_SUFFIX}") if p.is_file()]
    return capture + scene_outputs(out, stem)


def refusal(existing: dict[str, list[Path]], total: int, what: str = "videos") -> str:
    """The one line that refuses a run over ``existing`` (stem -> its earlier files) of ``total`` ``what``."""
    files = [p for paths in existing.values() for p in paths]
    more = f" and {len(files) - 1} more file(s)" if len(files) > 1 else ""
    folder = files[0].parent / REPLACED
    return (
        f"{files[0]}{more} from an earlier run would be replaced ({len(existing)} of {total} {what}); "
        f"give --skip-existing to keep them and do only the others, or --overwrite to redo them "
        f"(the earlier files move to {folder}/<date>_<time>/)"
    )


def replaced_folder(out_dir: str | Path) -> Path:
    """A new folder name for this run's replaced files, ``OUT/replaced/<date>_<time>[-N]`` (made when
    the first file moves there; an earlier run's folder is never reused)."""
    base = Path(out_dir).resolve() / REPLACED / time.strftime("%Y-%m-%d_%H-%M-%S")
    folder, n = base, 2
    while folder.exists():
        folder = base.with_name(f"{base.name}-{n}")
        n += 1
    return folder


def set_aside(files: list[Path], folder: str | Path, keep_copy: Path | None = None) -> None:
    """Move ``files`` into ``folder`` (made if needed), never over a file there; with ``keep_copy`` (the
    results a scene was built from, which stay where they are) a copy of it goes there too, so a moved
    .blend still finds its results beside it."""
    if not files:
        return
    target = Path(folder)
    moves = [(p, target / p.name) for p in files]
    taken = [dst for _, dst in moves if dst.exists()]
    if taken:  # checked before anything moves: a video's files stay together
        raise FileExistsError(f"{taken[0]}: exists; the earlier files stay where they are")
    target.mkdir(parents=True, exist_ok=True)
    if keep_copy is not None and not (target / keep_copy.name).exists():
        shutil.copy2(keep_copy, target / keep_copy.name)
    for src, dst in moves:
        os.replace(src, dst)


def put_back(
    out_dir: str | Path,
    stem: str,
    replaced: Path | None,
    outputs: Callable[[Path, str], list[Path]],
    copy: Path | None = None,
) -> None:
    """Undo ``stem``'s unfinished run (stopped or failed after its outputs began to change): remove what
    ``outputs(out_dir, stem)`` finds now (this run's, the earlier ones having moved to ``replaced``, or there
    having been none) and move back the earlier files :func:`set_aside` put in ``replaced``; ``copy``'s name
    there (the results a scene was built from, copied beside it) is removed, and so is ``replaced`` when empty.
    A half-written set of exports is never left to look like a finished video to ``--skip-existing``."""
    out = Path(out_dir)
    for path in outputs(out, stem):
        path.unlink(missing_ok=True)
    if replaced is None or not Path(replaced).is_dir():
        return
    aside = Path(replaced)
    for path in outputs(aside, stem):
        if not (out / path.name).exists():  # never over a file
            os.replace(path, out / path.name)
    if copy is not None and copy.is_file():  # the results stayed where they are (in out_dir or elsewhere)
        (aside / copy.name).unlink(missing_ok=True)
    for folder in (aside, aside.parent):  # this run's folder, then replaced/ itself, when nothing is in them
        try:
            folder.rmdir()
        except OSError:
            break
