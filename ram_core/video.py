"""Reading video: what a file holds (:func:`open_video`) and its frames (:func:`iter_frames`), with OpenCV.

Every bad input becomes one :class:`VideoError` whose message says what is wrong: a missing file,
a file that is not a video, a video with no frames, an MP4 cut off or without a video track (read from
its boxes), a codec OpenCV cannot decode. A truncated file (fewer decodable frames than its header
claims) is read up to its last good frame with a warning; a damaged frame with good ones after it is
skipped and counted. Each frame's time (the container's timestamp) can be collected beside it.
"""

from __future__ import annotations

import logging
import math
import os
import queue
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

logger = logging.getLogger(__name__)

DEFAULT_FPS = 25.0

# Leading bytes of container formats: a file that starts like this is a video we could not decode.
_CONTAINER_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (8, b"AVI ", "AVI"),
    (4, b"ftyp", "MP4/MOV"),
    (0, b"\x1aE\xdf\xa3", "Matroska/WebM"),
    (0, b"OggS", "Ogg"),
    (0, b"FLV", "FLV"),
    (0, b"\x00\x00\x01\xba", "MPEG-PS"),
    (0, b"\x30\x26\xb2\x75", "ASF/WMV"),
)


# Files that are not videos at all, but which OpenCV may open as a single frame or an empty stream.
_NOT_VIDEO_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "an image (PNG), not a video"),
    (0, b"\xff\xd8\xff", "an image (JPEG), not a video"),
    (0, b"BM", "an image (BMP), not a video"),
    (0, b"II*\0", "an image (TIFF), not a video"),
    (0, b"MM\0*", "an image (TIFF), not a video"),
    (8, b"WEBP", "an image (WebP), not a video"),
    (8, b"WAVE", "audio (WAV), not a video"),
    (0, b"ID3", "audio (MP3), not a video"),
    (0, b"fLaC", "audio (FLAC), not a video"),
)


class VideoError(ValueError):
    """A video that cannot be read; the message names the file and the problem."""


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video. ``frame_count`` is the header's count (may be too high
    for a truncated file); ``fps`` falls back to :data:`DEFAULT_FPS` when the file gives none. ``width`` and
    ``height`` are the frames as shown: a phone's portrait video stored landscape with a rotation tag is
    decoded upright (OpenCV applies the tag), and ``rotation`` is that tag (0, 90, 180 or 270 degrees clockwise)."""

    path: str
    fps: float
    width: int
    height: int
    frame_count: int
    rotation: int = 0


def _signature(path: Path, table: tuple[tuple[int, bytes, str], ...]) -> str | None:
    with open(path, "rb") as f:
        head = f.read(16)
    for offset, magic, name in table:
        if head[offset : offset + len(magic)] == magic:
            return name
    return None


def _capture(path: str | os.PathLike) -> tuple[Path, cv2.VideoCapture]:
    p = Path(path)
    if not p.exists():
        raise VideoError(f"{p}: no such file")
    if not p.is_file():
        raise VideoError(f"{p}: not a file")
    if not os.access(p, os.R_OK):
        raise VideoError(f"{p}: not readable (permission denied)")
    if p.stat().st_size == 0:
        raise VideoError(f"{p}: empty file")
    not_video = _signature(p, _NOT_VIDEO_SIGNATURES)
    if not_video:
        raise VideoError(f"{p}: {not_video} (capture needs a video file)")
    cap = cv2.VideoCapture(str(p))
    if not cap.isOpened():
        cap.release()
        container = _signature(p, _CONTAINER_SIGNATURES)
        if container is None:
            raise VideoError(f"{p}: not a video file (OpenCV cannot open it)")
        problem = _mp4_problem(p) if container == "MP4/MOV" else None
        if problem:
            raise VideoError(f"{p}: {problem}")
        raise VideoError(
            f"{p}: {container} file OpenCV cannot open: damaged or truncated, without a video track, "
            "or in a codec it cannot decode"
        )
    return p, cap


def _mp4_problem(p: Path) -> str | None:
    """What is wrong with an MP4/MOV that OpenCV cannot open, read from its boxes, or None if they do not tell.

    A recording cut off before it finished has no index (``moov`` box); a sound-only file has no track
    whose handler is ``vide``; an empty one has a video track with no samples (``stsz``).
    """
    size = p.stat().st_size
    with open(p, "rb") as f:
        offset = 0
        while offset + 8 <= size:
            f.seek(offset)
            head = f.read(16)
            length, kind = struct.unpack(">I4s", head[:8])
            header = 8
            if length == 1 and len(head) == 16:
                length, header = struct.unpack(">Q", head[8:16])[0], 16
            elif length == 0:
                length = size - offset
            if length < header:
                return None  # not boxes we understand
            if kind == b"moov":
                if offset + length > size:
                    return "truncated MP4/MOV file: its index (moov box) is cut off"
                f.seek(offset + header)
                moov = f.read(min(length - header, 64 << 20))
                break
            offset += length
        else:
            return "truncated MP4/MOV file: it has no index (moov box), as when a recording is cut off"
    tracks = moov.split(b"trak")[1:]
    if not tracks:
        return "the video has no frames (its MP4/MOV file holds no tracks)"
    video = [t for t in tracks if _third_word(t, b"hdlr") == b"vide"]
    if not video:
        return "MP4/MOV file without a video track (sound or other data only)"
    if b"mvex" not in moov and all(_third_word(t, b"stsz") == bytes(4) for t in video):  # not fragmented
        return "the video has no frames"
    return None


def _third_word(box: bytes, kind: bytes) -> bytes | None:
    """The 4 bytes after the version/flags and the next 4-byte field of the first ``kind`` box in ``box``:
    ``hdlr``'s handler type, ``stsz``'s sample count."""
    i = box.find(kind)
    return None if i < 0 else box[i + 12 : i + 16]


def open_video(path: str | os.PathLike) -> VideoInfo:
    """Check that ``path`` is a video with at least one decodable frame and describe it."""
    p, cap = _capture(path)
    try:
        frame_count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = float(cap.get(cv2.CAP_PROP_FPS))
        rotation = _quarter_turns(cap.get(cv2.CAP_PROP_ORIENTATION_META))
        if frame_count <= 0:
            raise VideoError(f"{p}: the video has no frames")
        ok, frame = cap.read()
        if not ok or frame is None:
            raise VideoError(f"{p}: cannot decode the first frame (unsupported codec or damaged file)")
    finally:
        cap.release()
    if not (math.isfinite(fps) and fps > 0):
        logger.warning("%s gives no frame rate; assuming %g fps", p, DEFAULT_FPS)
        fps = DEFAULT_FPS
    height, width = frame.shape[:2]
    return VideoInfo(str(p), fps, int(width), int(height), frame_count, rotation)


def _quarter_turns(degrees: float) -> int:
    """A rotation tag in degrees as 0, 90, 180 or 270 (0 for none, or an angle that is not a quarter turn)."""
    if not math.isfinite(degrees):
        return 0
    turn = int(round(degrees)) % 360
    return turn if turn % 90 == 0 else 0


# A run of this many undecodable frames in a row is taken as the end of the file (truncated), not damage.
MAX_CONSECUTIVE_BAD_FRAMES = 16


def iter_frames(
    path: str | os.PathLike,
    start: int = 0,
    end: int | None = None,
    skipped: list[int] | None = None,
    times: dict[int, float] | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(index, image)`` for frames ``start <= index < end`` (``end`` None: to the last frame).

    ``image`` is ``(H, W, 3)`` uint8 BGR. Frames are decoded in order from the first (seeking is not
    frame-exact for every codec). A frame that fails to decode while later ones still do is skipped (not
    invented): its index is appended to ``skipped`` when given, and a warning counts them. If the file
    ends (:data:`MAX_CONSECUTIVE_BAD_FRAMES` failures in a row, or the last frames fail) before ``end``
    while the header promised more, iteration stops after the last good frame. ``times``, when given, gets
    each yielded frame's presentation time in seconds (the container's timestamp), before it is yielded.
    """
    p, cap = _capture(path)
    header_count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    stop = header_count if end is None else min(end, header_count)
    bad: list[int] = []  # undecodable frames since the last good one
    damaged: list[int] = []  # undecodable frames with good ones after them
    try:
        index = 0
        while index < start:
            if not cap.grab():
                logger.warning("%s: truncated: it ends at frame %d, before the start frame %d", p, index, start)
                return
            index += 1
        while index < stop:
            ok, image = cap.read()
            if not ok or image is None:
                bad.append(index)
                index += 1
                if len(bad) >= MAX_CONSECUTIVE_BAD_FRAMES:
                    break
                continue
            damaged.extend(bad)
            if skipped is not None:
                skipped.extend(bad)
            bad = []
            if times is not None:
                times[index] = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            yield index, image
            index += 1
        if bad:
            # INFO, not WARNING: the client turns this into the capture's one error, or a note if allowed.
            logger.info(
                "%s: truncated or damaged: frames %d..%d could not be read (the header says %d frames)",
                p,
                bad[0],
                stop - 1,
                header_count,
            )
    finally:
        cap.release()
        if damaged:
            logger.warning(
                "%s: %d damaged frame(s) skipped, left missing: %s",
                p,
                len(damaged),
                ", ".join(map(str, damaged[:20])) + (" ..." if len(damaged) > 20 else ""),
            )


def prefetch_frames(frames: Iterator[tuple[int, np.ndarray]], depth: int = 2) -> Iterator[tuple[int, np.ndarray]]:
    """``frames`` decoded ahead in a background thread, at most ``depth`` frames ahead; the same items in order.

    OpenCV releases the GIL while it decodes, so the next frame is decoded while the caller works on this
    one. An exception raised by ``frames`` is raised here, at the item where it happened. Closing this
    generator (``contextlib.closing``, or leaving a ``for`` loop over it and dropping it) stops the thread,
    closes ``frames`` in that thread and waits for it: nothing is left running.
    """
    items: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in frames:
                if not put(("item", item)):
                    return
            put(("end", None))
        except BaseException as e:  # handed to the consumer, raised there
            put(("error", e))
        finally:
            close = getattr(frames, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="ram-frame-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = items.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        thread.join()
