"""The results file: per-person SMPL motion from one capture, as a versioned ``.npz``.

One ``.npz`` written and read with ``allow_pickle=False``. Track records are stored flat (all
tracks concatenated, ``track_offsets`` marking where each begins) so that the file is a handful of
dense arrays whatever the number of people. ``docs/results-format.md`` is the page for users.

Frames: ``transl`` and ``joints`` are in OpenCV's camera frame (x right, y down, z forward), metres.
``global_orient`` rotates SMPL's canonical body frame into the camera frame. ``box`` is in pixels.
From version 2 a record's ``scale`` says how much its person's skeleton was scaled (about the camera
centre) by the scene solve, and the metadata may carry the solved floor and camera extrinsics.
From version 3 a record's ``contact`` ``(2,)`` is each foot's (left, right) probability of being planted.
From version 4 a record keeps what the backend observed, for the temporal fit (``ram_core.scene.fit``):
``keypoints_2d`` ``(24, 3)`` each joint's pixel and weight, ``keypoints_3d`` ``(24, 4)`` each joint's
position relative to the pelvis (metres; axes of a camera looking straight at the person) and weight; weight 0
where not observed.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import os
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from ram_core import __version__
from ram_core.contract.skeleton import NUM_BETAS, NUM_BODY_JOINTS, NUM_JOINTS

FORMAT_VERSION = 4
FORMAT_NAME = "ram-results"

#: The words a ``scene_status`` starts with (``ram_core.scene.solve`` writes it; the Blender report reads it).
SCENE_SOLVED, SCENE_NO_FLOOR, SCENE_MOVING = "solved", "no floor", "moving camera suspected"
#: In a solved scene's status: the evidence leaves the floor free to tilt.
SCENE_UNCERTAIN = "floor uncertain"


class ResultsFormatError(ValueError):
    """A results file that is not one, is of another version, or has a malformed array."""


@dataclass(frozen=True)
class RecordField:
    """One per-record array of the file, declared once: writing, reading, validation and
    :class:`Track` all come from :data:`RECORD_FIELDS`.

    ``since`` is the format version the field appeared in; a file older than that gets ``default``
    broadcast to every record. ``finite`` means NaN and infinity are refused.
    """

    shape: tuple[int, ...]
    dtype: np.dtype
    since: int = 1
    default: float | int | bool | None = None
    finite: bool = True


# name -> field. To add a field: one line here with ``since=FORMAT_VERSION`` (after raising
# FORMAT_VERSION) and a ``default`` old files load with; then a row in docs/results-format.md.
RECORD_FIELDS: dict[str, RecordField] = {
    "frame": RecordField((), np.dtype(np.int32)),
    "global_orient": RecordField((3,), np.dtype(np.float32)),
    "body_pose": RecordField((NUM_BODY_JOINTS, 3), np.dtype(np.float32)),
    "betas": RecordField((NUM_BETAS,), np.dtype(np.float32)),
    "transl": RecordField((3,), np.dtype(np.float32)),
    "joints": RecordField((NUM_JOINTS, 3), np.dtype(np.float32)),
    "box": RecordField((4,), np.dtype(np.float32)),
    "confidence": RecordField((), np.dtype(np.float32)),
    "predicted": RecordField((), np.dtype(np.bool_)),
    "scale": RecordField((), np.dtype(np.float32), since=2, default=1.0),
    "contact": RecordField((2,), np.dtype(np.float32), since=3, default=0.0),
    "keypoints_2d": RecordField((NUM_JOINTS, 3), np.dtype(np.float32), since=4, default=0.0),
    "keypoints_3d": RecordField((NUM_JOINTS, 4), np.dtype(np.float32), since=4, default=0.0),
}

# Uncompressed bytes a file may declare per byte it holds: deflate cannot pack more than ~1032:1,
# so a header claiming more is a lie, refused before anything is allocated.
MAX_EXPANSION = 1100
MAX_EMPTY_TRACKS = 10_000  # tracks without records a file may hold beyond its record count


@dataclass(frozen=True)
class CaptureMeta:
    """What was captured and how.

    ``intrinsics`` is the 3x3 camera matrix the backend used (pixels); ``intrinsics_assumed``
    says it was guessed (from the frame size and a default field of view) rather than given.
    ``rest_joints`` ``(24, 3)`` is the skeleton (SMPL canonical frame, metres) the rotations refer to;
    ``rest_source`` names where it came from ("anny-cmu_mb" or "smpl:<file>").

    The scene (``ram_core.scene.solve``; none in version-1 files): ``world_from_camera`` ``(4, 4)`` maps
    camera-frame points (metres) into a world with Z up, the floor at z = 0 and the camera above it;
    ``floor_cam`` ``(4,)`` is that floor in the camera frame, ``n . x + d = 0`` (``n`` unit, pointing up,
    ``d`` the camera's height). Both None when no scene was solved; ``scene_status`` says why ("" when
    the solve never ran, else "solved ...", "no floor: ...", "moving camera suspected ...").

    ``motion`` (version 4): how the motion was made steady: "one-euro" (the causal per-frame filter of the
    worker's stream, as a live preview shows it) or "temporal fit" (``ram_core.scene.fit``, offline over
    the whole clip); "" in older files (they used the filter).

    ``skipped_frames``: video indices of damaged frames that could not be decoded (no records there; empty
    in older files). ``frame_times`` ``(frame_end - frame_start,)``: when the video shows each captured frame,
    seconds, for a variable-frame-rate video (:mod:`ram_core.contract.timing`); None when frame ``f`` is at
    ``f / fps`` (and in older files). ``video_rotation``: the video's rotation tag, degrees clockwise (0, 90,
    180, 270), which turned its stored frames upright (``width`` and ``height`` are the frames as shown; 0 in
    older files); Blender 4.2 shows such a movie as stored, and the importer turns its camera background.
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
    world_from_camera: np.ndarray | None = None
    floor_cam: np.ndarray | None = None
    scene_status: str = ""
    skipped_frames: tuple[int, ...] = ()
    frame_times: np.ndarray | None = None
    motion: str = ""
    video_rotation: int = 0

    def to_json(self) -> str:
        d = dataclasses.asdict(self)
        for name in ("intrinsics", "rest_joints", "frame_times", *_META_OPTIONAL_MATRICES):
            value = getattr(self, name)
            d[name] = None if value is None else np.asarray(value, dtype=float).tolist()
        d["skipped_frames"] = [int(f) for f in self.skipped_frames]
        return json.dumps(d)

    @classmethod
    def from_json(cls, text: str) -> CaptureMeta:
        try:
            d = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as e:
            raise ResultsFormatError(f"metadata is not valid JSON: {e}") from None
        if not isinstance(d, dict):
            raise ResultsFormatError("metadata is not a JSON object")
        names = {f.name for f in dataclasses.fields(cls)}
        missing = sorted(n for n in names if n not in d and _no_default(cls, n))
        if missing:
            raise ResultsFormatError(f"metadata lacks {', '.join(missing)}")
        d = {k: v for k, v in d.items() if k in names}
        for name, kind in _META_TYPES.items():
            if name in d and not _is(d[name], kind):
                raise ResultsFormatError(f"metadata {name} is {d[name]!r}, expected {kind.__name__}")
        d["fps"] = float(d["fps"])
        if not math.isfinite(d["fps"]) or d["fps"] <= 0:
            raise ResultsFormatError(f"metadata fps is {d['fps']!r}, expected a positive number")
        for name in ("width", "height", "frame_count", "frame_start"):
            if d[name] < 0:
                raise ResultsFormatError(f"metadata {name} is {d[name]}, expected 0 or more")
        if d["frame_end"] < d["frame_start"]:
            raise ResultsFormatError(f"metadata frame_end {d['frame_end']} is before frame_start {d['frame_start']}")
        d["intrinsics"] = _meta_matrix("intrinsics", d["intrinsics"], (3, 3))
        d["rest_joints"] = _meta_matrix("rest_joints", d["rest_joints"], (NUM_JOINTS, 3))
        for name, shape in _META_OPTIONAL_MATRICES.items():
            if d.get(name) is not None:
                d[name] = _meta_matrix(name, d[name], shape)
        if d.get("video_rotation", 0) not in (0, 90, 180, 270):
            raise ResultsFormatError(f"metadata video_rotation is {d['video_rotation']}, expected 0, 90, 180 or 270")
        if "skipped_frames" in d:
            d["skipped_frames"] = _meta_skipped(d["skipped_frames"], d["frame_start"], d["frame_end"])
        if d.get("frame_times") is not None:
            d["frame_times"] = _meta_matrix("frame_times", d["frame_times"], (d["frame_end"] - d["frame_start"],))
            if np.any(np.diff(d["frame_times"]) <= 0):
                raise ResultsFormatError("metadata frame_times do not increase from frame to frame")
        return cls(**d)


# Metadata matrices that may be null (JSON) / None: name -> shape.
_META_OPTIONAL_MATRICES: dict[str, tuple[int, ...]] = {"world_from_camera": (4, 4), "floor_cam": (4,)}


_META_TYPES: dict[str, type] = {
    "video_path": str,
    "fps": float,
    "width": int,
    "height": int,
    "frame_count": int,
    "frame_start": int,
    "frame_end": int,
    "intrinsics_assumed": bool,
    "backend": str,
    "rest_source": str,
    "betas_fitted": bool,
    "package_version": str,
    "format_version": int,
    "notes": str,
    "scene_status": str,
    "motion": str,
    "video_rotation": int,
}


def _is(value: object, kind: type) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, kind)


def _meta_matrix(name: str, value: object, shape: tuple[int, ...]) -> np.ndarray:
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ResultsFormatError(f"metadata {name} is not a {shape} array of numbers") from None
    _checked_array(f"meta.{name}", a, shape)
    if not np.all(np.isfinite(a)):
        raise ResultsFormatError(f"metadata {name} holds NaN or infinity")
    return a


def _meta_skipped(value: object, frame_start: int, frame_end: int) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(_is(f, int) for f in value):
        raise ResultsFormatError(f"metadata skipped_frames is {str(value)[:80]}, expected a list of frame numbers")
    if any(not frame_start <= f < frame_end for f in value) or any(b <= a for a, b in itertools.pairwise(value)):
        raise ResultsFormatError(
            f"metadata skipped_frames are not increasing frames within {frame_start}..{frame_end - 1}"
        )
    return tuple(value)


def _no_default(cls: type, name: str) -> bool:
    f = {f.name: f for f in dataclasses.fields(cls)}[name]
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


class _TrackMethods:
    """One person's motion: ``T`` records, sorted by frame, every array's first axis ``T``.

    Its fields are ``track_id`` and one array per :data:`RECORD_FIELDS` entry, shapes ``(T, *shape)``:
    frame int32 video frame index; global_orient ``(T, 3)``; body_pose ``(T, 23, 3)`` axis-angle
    radians; betas ``(T, 10)``; transl ``(T, 3)`` metres (camera frame); joints ``(T, 24, 3)`` metres
    (camera frame, transl included); box ``(T, 4)`` x1, y1, x2, y2 pixels; confidence ``(T,)`` in
    [0, 1]; predicted ``(T,)`` True where the frame was filled by prediction; scale ``(T,)`` the factor
    the scene solve scaled the person by about the camera centre (their skeleton is ``scale *
    rest_joints``; 1.0 when unsolved or in version-1 files); contact ``(T, 2)`` left and right foot's
    probability of being planted on the floor, planted where ``>= 0.5`` (0 when unsolved or before version 3);
    keypoints_2d ``(T, 24, 3)`` each joint's observed pixel (x, y) and weight, keypoints_3d ``(T, 24, 4)`` its
    observed position relative to the pelvis (metres; axes of a camera looking straight at the person, as a
    landmark model's crop sees them) and weight (weight 0: not observed,
    and everywhere before version 4), what the backend saw before any smoothing.
    """

    track_id: int
    frame: np.ndarray

    def __len__(self) -> int:
        return int(self.frame.shape[0])

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in RECORD_FIELDS}

    def select(self, mask: np.ndarray) -> Track:
        """The records where ``mask`` ``(T,)`` is True, as a new track with the same id."""
        return Track(self.track_id, **{k: v[mask] for k, v in self.arrays().items()})


if TYPE_CHECKING:
    # What the type checker sees; tests/unit/test_results.py checks these names against RECORD_FIELDS.
    @dataclass
    class Track(_TrackMethods):
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
        scale: np.ndarray
        contact: np.ndarray
        keypoints_2d: np.ndarray
        keypoints_3d: np.ndarray

else:
    # Generated from RECORD_FIELDS, so the record and the file's arrays cannot drift apart.
    Track = dataclasses.make_dataclass(
        "Track",
        [("track_id", int)] + [(name, np.ndarray) for name in RECORD_FIELDS],
        bases=(_TrackMethods,),
        namespace={"__doc__": _TrackMethods.__doc__, "__module__": __name__},
    )


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
    """Build a :class:`Track`, casting to the file's dtypes and checking every shape.

    A field with a ``default`` may be left out: every record gets the default.
    """
    missing = sorted(name for name, f in RECORD_FIELDS.items() if name not in arrays and f.default is None)
    if missing:
        raise ResultsFormatError(f"track {track_id} lacks {', '.join(missing)}")
    n = np.asarray(arrays["frame"]).shape[0]
    out = {}
    for name, f in RECORD_FIELDS.items():
        given = arrays[name] if name in arrays else np.full((n, *f.shape), f.default)
        a = np.asarray(given).astype(f.dtype, copy=False)
        out[name] = _checked_array(f"track {track_id} {name}", a, (n, *f.shape))
    return Track(int(track_id), **out)


def concatenate_records(tracks: list[Track]) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Flatten tracks into ``(ids (K,), offsets (K+1,), {field: (R, ...)})``."""
    ids = np.array([t.track_id for t in tracks], dtype=np.int32)
    offsets = np.zeros(len(tracks) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(t) for t in tracks])
    flat = {}
    for name, f in RECORD_FIELDS.items():
        parts = [getattr(t, name) for t in tracks]
        flat[name] = np.concatenate(parts).astype(f.dtype) if parts else np.zeros((0, *f.shape), f.dtype)
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
    write_atomically(path, lambda f: np.savez_compressed(f, **payload))  # type: ignore[arg-type]
    return path


def write_atomically(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Call ``write`` on a temporary file beside ``path``, then rename it into place.

    A crash or a full disk leaves either the previous file or none, never a truncated one; the file
    gets the user's usual mode (not mkstemp's 0600).
    """
    # The temporary name is kept short: a legal long file name must not make it too long.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:64]}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def load_results(path: str | os.PathLike) -> Results:
    """Read and validate a results file; :class:`ResultsFormatError` names what is wrong."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with zipfile.ZipFile(path) as zf:
            _check_declared_sizes(zf, size, str(path))
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise
    except ResultsFormatError:
        raise
    except ValueError as e:  # object arrays refused by allow_pickle=False land here
        raise ResultsFormatError(f"{path}: not a RAM results file ({e})") from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, MemoryError) as e:
        raise ResultsFormatError(f"{path}: not a RAM results file (unreadable .npz: {type(e).__name__}: {e})") from None
    return results_from_arrays(data, source=str(path))


_NPY_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _check_declared_sizes(zf: zipfile.ZipFile, file_size: int, source: str) -> None:
    """Refuse arrays whose headers declare more data than ``file_size`` bytes can hold."""
    limit = MAX_EXPANSION * file_size + (1 << 20)
    total = 0
    for info in zf.infolist():
        if info.file_size > limit:
            raise ResultsFormatError(
                f"{source}: member {info.filename} declares {info.file_size} bytes; the file is damaged"
            )
        with zf.open(info) as f:
            try:
                version = np.lib.format.read_magic(f)
                shape, _, dtype = _NPY_HEADER_READERS[version](f)  # the header only, nothing allocated
            except (ValueError, KeyError) as e:
                raise ResultsFormatError(f"{source}: {info.filename} is not a .npy array ({e})") from None
        total += math.prod(shape) * dtype.itemsize
        if total > limit:
            raise ResultsFormatError(
                f"{source}: {info.filename} declares shape {shape}, more than a {file_size}-byte file can hold"
            )


def results_from_arrays(data: dict[str, np.ndarray], source: str = "results") -> Results:
    """Validate the arrays of a results file of any version and build :class:`Results` from them."""
    for key in ("format_name", "format_version", "meta_json", "track_ids", "track_offsets"):
        if key not in data:
            raise ResultsFormatError(f"{source}: missing array '{key}'; not a RAM results file")
    if data["format_name"].shape != () or str(data["format_name"]) != FORMAT_NAME:
        raise ResultsFormatError(f"{source}: format_name is {str(data['format_name'])!r}, expected {FORMAT_NAME!r}")
    if data["format_version"].shape != () or data["format_version"].dtype.kind not in "iu":
        raise ResultsFormatError(f"{source}: format_version is not an integer")
    version = int(data["format_version"])
    if not 1 <= version <= FORMAT_VERSION:
        raise ResultsFormatError(
            f"{source}: format version {version}; this ram_core ({__version__}) reads versions 1 to {FORMAT_VERSION}"
        )
    if data["meta_json"].shape != () or data["meta_json"].dtype.kind != "U":
        raise ResultsFormatError(f"{source}: meta_json is not a text string")
    meta = CaptureMeta.from_json(str(data["meta_json"]))
    ids = _checked_dtype(source + " track_ids", data["track_ids"], np.int32, 1)
    offsets = _checked_dtype(source + " track_offsets", data["track_offsets"], np.int64, 1)
    if offsets.shape[0] != ids.shape[0] + 1 or offsets[0] != 0 or np.any(np.diff(offsets) < 0):
        raise ResultsFormatError(f"{source}: track_offsets {offsets.shape} do not partition {ids.shape[0]} tracks")
    total = int(offsets[-1])
    if ids.shape[0] > total + MAX_EMPTY_TRACKS:
        raise ResultsFormatError(f"{source}: {ids.shape[0]} tracks declared for {total} records; the file is damaged")
    if np.unique(ids).shape[0] != ids.shape[0]:
        raise ResultsFormatError(f"{source}: duplicate track ids")
    flat = {name: _record_array(source, data, name, f, version, total) for name, f in RECORD_FIELDS.items()}
    steps = np.diff(flat["frame"].astype(np.int64))
    starts = offsets[1:-1]
    inside = np.ones(steps.shape[0], dtype=bool)
    inside[starts[(starts > 0) & (starts <= steps.shape[0])] - 1] = False
    bad = np.flatnonzero(inside & (steps <= 0))
    if bad.size:
        k = int(np.searchsorted(offsets, bad[0], side="right")) - 1
        raise ResultsFormatError(f"{source}: track {int(ids[k])} frames are not strictly increasing")
    tracks = []
    for i, tid in enumerate(ids.tolist()):
        sl = slice(int(offsets[i]), int(offsets[i + 1]))
        tracks.append(Track(int(tid), **{k: v[sl] for k, v in flat.items()}))
    return Results(meta, tracks)


def _record_array(source: str, data: dict, name: str, f: RecordField, version: int, total: int) -> np.ndarray:
    """Field ``name`` of a file of ``version``: checked, or filled with its default if older."""
    if name not in data:
        if version < f.since:
            return np.full((total, *f.shape), f.default, dtype=f.dtype)
        raise ResultsFormatError(f"{source}: missing array '{name}'")
    a = data[name]
    if a.dtype != f.dtype:
        raise ResultsFormatError(f"{source}: '{name}' has dtype {a.dtype}, expected {f.dtype}")
    _checked_array(f"{source} {name}", a, (total, *f.shape))
    if f.finite and a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        raise ResultsFormatError(f"{source}: '{name}' holds NaN or infinity")
    return a


def _checked_dtype(what: str, a: np.ndarray, dtype: type, ndim: int) -> np.ndarray:
    if a.dtype != np.dtype(dtype) or a.ndim != ndim:
        raise ResultsFormatError(f"{what}: expected {ndim}-d {np.dtype(dtype)}, got {a.ndim}-d {a.dtype}")
    return a


def _checked_array(what: str, a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if a.shape != shape:
        raise ResultsFormatError(f"{what}: shape {a.shape}, expected {shape}")
    return a


def summary(results: Results, heights: Mapping[int, float] | None = None) -> str:
    """A few human-readable lines: metadata and one line per track (used by ``ram-core info``), with each
    track's standing height (metres) where ``heights`` names it."""
    m = results.meta
    heights = heights or {}
    if m.motion:
        motion = m.motion
    elif m.format_version >= 4:  # the refinement always names its motion since version 4
        motion = "not refined: the records as the backend sent them ('ram-core capture --raw')"
    else:
        motion = "one-euro (a file from before the temporal fit)"
    lines = [
        f"backend {m.backend}, format v{m.format_version}, ram_core {m.package_version}",
        f"video {m.video_path}: {m.width}x{m.height} at {m.fps:g} fps, {m.frame_count} frames "
        f"(captured {m.frame_start}..{m.frame_end - 1})",
        f"focal {m.intrinsics[0, 0]:.1f} px ({'assumed' if m.intrinsics_assumed else 'given'}), "
        f"skeleton {m.rest_source}, betas {'fitted' if m.betas_fitted else 'zero (not fitted)'}",
        f"scene: {m.scene_status or 'not solved'}",
        f"motion: {motion}",
    ]
    if m.skipped_frames:
        shown = ", ".join(map(str, m.skipped_frames[:20])) + (" ..." if len(m.skipped_frames) > 20 else "")
        lines.append(f"{len(m.skipped_frames)} damaged frame(s) skipped, left missing: {shown}")
    if m.frame_times is not None:
        span = float(m.frame_times[-1] - m.frame_times[0])
        rate = (len(m.frame_times) - 1) / span if span > 0 else 0.0
        lines.append(
            f"variable frame rate: each frame's time kept ({m.frame_times[0]:.3f}..{m.frame_times[-1]:.3f} s, "
            f"{rate:.3g} fps on average)"
        )
    lines.append(f"{len(results.tracks)} track(s)")
    for t in results.tracks:
        if len(t):
            pred = 100.0 * float(np.mean(t.predicted))
            height = f", {heights[t.track_id]:.2f} m tall" if t.track_id in heights else ""
            lines.append(
                f"  track {t.track_id:3d}: frames {int(t.frame[0])}..{int(t.frame[-1])} "
                f"({len(t)} records, {pred:.0f}% predicted, mean confidence {float(np.mean(t.confidence)):.2f}"
                f"{height})"
            )
        else:
            lines.append(f"  track {t.track_id:3d}: empty")
    return "\n".join(lines)
