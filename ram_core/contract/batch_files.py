"""A batch's files: which inputs are videos, and what a batch writes into its output folder.

``ram-core batch`` (the capture stage) and ``blender -b -c ram_capture --from-results`` (the scene
stage) agree on these names, so either can run on its own machines. Standard library only.

For a video ``clip.mp4`` the output folder holds ``clip.ram.npz`` (the results) and
``clip.ram.json`` (the input's checksum and the options it was captured with: a rerun skips the
video when both files are complete and still match), plus ``batch_summary.csv`` and ``.json``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg"})
RESULTS_SUFFIX = ".ram.npz"
RECORD_SUFFIX = ".ram.json"
SUMMARY_NAME = "batch_summary"
# What the scene stage exports for each person (``ram_blender.export`` writes them).
EXPORT_FORMATS = ("fbx", "bvh", "npz")


def find_videos(inputs: list[str]) -> list[Path]:
    """Videos named in ``inputs``: files as given, folders expanded to their videos (sorted; not hidden files,
    such as the ``._clip.mp4`` macOS writes beside ``clip.mp4`` on FAT drives); a file named twice
    (``clip.mp4 ./clip.mp4``, a folder and a video in it) once, as first named."""
    videos: dict[Path, Path] = {}
    for item in inputs:
        p = Path(item)
        for video in sorted(_videos_in(p)) if p.is_dir() else [p]:
            videos.setdefault(Path(os.path.abspath(video)), video)  # not resolve(): a link is a name of its own
    return list(videos.values())


def _videos_in(folder: Path) -> list[Path]:
    return [f for f in folder.iterdir() if f.suffix.lower() in VIDEO_SUFFIXES and not f.name.startswith(".")]


def no_videos(inputs: list[str]) -> str:
    """The line for inputs in which :func:`find_videos` found nothing: which files count as videos, or, when
    the videos are one folder down (folders are not searched within), which subfolders to name instead."""
    folders = [Path(item) for item in inputs if Path(item).is_dir()]
    below = sorted(str(sub) for folder in folders for sub in folder.iterdir() if sub.is_dir() and _videos_in(sub))
    if below:
        more = f" and {len(below) - 3} more" if len(below) > 3 else ""
        return f"no videos found in {' '.join(inputs)}; subfolders are not searched: give {' '.join(below[:3])}{more}"
    return f"no videos found in {' '.join(inputs)} (videos are files ending {', '.join(sorted(VIDEO_SUFFIXES))})"


def clashing_names(videos: list[Path], exports: bool = False) -> str | None:
    """The line refusing two of ``videos`` that would write the same files (``a/clip.mp4`` and ``b/clip.mp4``;
    with ``exports``, also ``my clip.mp4`` and ``my_clip.mp4``, whose exports share :func:`export_stem`), or None.
    Names are compared ignoring case: on macOS and Windows ``Clip.ram.npz`` and ``clip.ram.npz`` are one file."""
    return _first_clash([(v, v.stem, v.stem + RESULTS_SUFFIX) for v in videos], exports, "capture")


def clashing_scenes(results: list[Path], exports: bool = False) -> str | None:
    """As :func:`clashing_names`, for the scenes built from ``results`` files: ``<stem>.blend`` and, with
    ``exports``, the exports (``my clip.ram.npz`` and ``my_clip.ram.npz`` both export ``my_clip_person1.fbx``)."""
    return _first_clash([(r, stem_of_results(r), stem_of_results(r) + ".blend") for r in results], exports, "build")


def _first_clash(items: list[tuple[Path, str, str]], exports: bool, verb: str) -> str | None:
    """``items``: (input, its stem, the file named for it); the first two inputs that would write one file."""
    seen: dict[str, Path] = {}
    for path, stem, own in items:
        for name in [own] + ([f"{export_stem(stem)}_person<N> exports"] if exports else []):
            key = name.casefold()
            if key in seen and seen[key] != path:
                return f"{seen[key]} and {path} would both write {name}; rename one or {verb} them in two runs"
            seen[key] = path
    return None


def make_output_folder(out: Path) -> Path:
    """``out``, made if it is not there; ValueError, one line, if it is a file or cannot be made (not
    "out: File exists" or "/proc/out: No such file or directory", which read as if it should be there)."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out}: is a file; give a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ValueError(f"{out}: cannot make the output folder ({e.strerror or e})") from None
    return out


def results_path(out_dir: str | Path, video: str | Path) -> Path:
    """Where ``video``'s results go in ``out_dir``: ``<stem>.ram.npz``."""
    return Path(out_dir) / (Path(video).stem + RESULTS_SUFFIX)


def record_path(out_dir: str | Path, video: str | Path) -> Path:
    """The file beside the results that says what they were captured from: ``<stem>.ram.json``."""
    return Path(out_dir) / (Path(video).stem + RECORD_SUFFIX)


def find_results(out_dir: str | Path) -> list[Path]:
    """The results files in ``out_dir`` (sorted); hidden files (a write in progress) are not results."""
    return sorted(p for p in Path(out_dir).glob("*" + RESULTS_SUFFIX) if not p.name.startswith("."))


def export_stem(stem: str) -> str:
    """The name a video's per-person exports start with (``<export_stem>_person<N>.fbx``): ``stem`` with each run
    of characters other than letters, digits, ``_``, ``.`` and ``-`` made one ``_`` (``street walk`` ->
    ``street_walk``), so the names survive any tool the files go to."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("_") or "person"


def stem_of_results(path: str | Path) -> str:
    """``clip`` for ``.../clip.ram.npz`` (``clip.raw`` for any other ``clip.raw.npz``): the name the scene stage
    gives the .blend and the exports."""
    name = Path(path).name
    return name.removesuffix(RESULTS_SUFFIX) if name.endswith(RESULTS_SUFFIX) else Path(name).stem
