"""The capture worker: ``python -m ram_core.worker --video V --shm NAME --options JSON``.

Started by :class:`ram_core.contract.client.CaptureClient` (Blender, the CLI), never by hand. It decodes
the video, runs a backend frame by frame, streams the records into the client's shared-memory ring
and reports over its stdout (:mod:`ram_core.contract.messages`, one JSON line each): Started, Progress
per frame, Log for warnings, then Done, or Error with the traceback on any failure (exit code 1).

Its stdin carries Cancel (stop after the current frame, flush, send Done with ``cancelled``); end of
file on stdin means the client is gone: the worker stops at once and unlinks the segment itself.
Anything libraries print goes to stderr (the client keeps it in a log file): stdout is the protocol's.

Exit codes: 0 done (also when cancelled), 1 error (an Error message was sent), 2 bad arguments,
3 the client went away.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import shutil
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import closing
from typing import TextIO

try:
    import cv2
    import numpy as np
except ModuleNotFoundError as e:  # a Python without ram-core's packages (a base install, Blender's own)
    raise ModuleNotFoundError(
        f"{e.msg} in {sys.executable}, the worker's Python: install ram-core's packages there "
        "(pip install 'ram-core[lite]') or choose another Python",
        name=e.name,
    ) from None

from ram_core.backends.base import Backend, camera_intrinsics
from ram_core.backends.registry import BackendNotFound, create_backend
from ram_core.contract.messages import (
    Cancel,
    Done,
    Error,
    Log,
    Message,
    Progress,
    ProtocolError,
    Started,
    decode,
    encode,
)
from ram_core.contract.options import CaptureOptions, OptionsError
from ram_core.contract.results import CaptureMeta
from ram_core.contract.ring import Ring, RingClosed
from ram_core.contract.smpl_model import SmplModelError
from ram_core.contract.timing import off_grid
from ram_core.video import VideoError, VideoInfo, iter_frames, open_video, prefetch_frames
from ram_core.weights.store import MissingWeightsError

logger = logging.getLogger("ram_core.worker")

EXIT_ERROR = 1
EXIT_CLIENT_GONE = 3


class CaptureArgsError(ValueError):
    """A frame range or option that does not fit the video."""


class ClientGone(Exception):
    """The client closed our stdin or stdout: stop without reporting."""


# Errors whose message is clear by itself; any other exception is reported as "Kind: message".
_USER_ERRORS = (VideoError, BackendNotFound, CaptureArgsError, OptionsError, SmplModelError, MissingWeightsError)


class Channel:
    """Writes protocol messages to the real stdout, one line each, from any thread."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self.broken = threading.Event()

    def send(self, message: Message) -> None:
        if self.broken.is_set():
            return
        with self._lock:
            try:
                self._stream.write(encode(message))
                self._stream.flush()
            except (BrokenPipeError, OSError, ValueError):
                self.broken.set()


class Control:
    """Reads the client's messages from stdin in a thread: ``cancel`` on Cancel, ``gone`` at end of file."""

    def __init__(self, stream: TextIO) -> None:
        self.cancel = threading.Event()
        self.gone = threading.Event()
        self._stream = stream
        threading.Thread(target=self._read, name="ram-worker-control", daemon=True).start()

    def _read(self) -> None:
        try:
            for line in self._stream:
                try:
                    message = decode(line)
                except ProtocolError as e:
                    logger.warning("ignoring a line from the client: %s", e)
                    continue
                if isinstance(message, Cancel):
                    self.cancel.set()
        except (OSError, ValueError):
            pass
        self.gone.set()


class _ForwardWarnings(logging.Handler):
    """Sends warnings and errors logged in the worker to the client as :class:`Log` messages."""

    def __init__(self, channel: Channel) -> None:
        super().__init__(logging.WARNING)
        self._channel = channel

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:  # a failure: the Error message carries it, with the traceback
            return
        self._channel.send(Log(record.levelname, record.getMessage()))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m ram_core.worker", description=__doc__.splitlines()[0])
    p.add_argument("--video", required=True, help="video file to capture")
    p.add_argument("--shm", required=True, help="name of the shared-memory ring the client created")
    p.add_argument("--options", default="{}", help="the CaptureOptions as JSON (default: all defaults)")
    p.add_argument(
        "--client-temp",
        action="append",
        default=[],
        metavar="PATH",
        help="a temporary file or folder of the client's, removed if the client goes away (repeatable)",
    )
    return p.parse_args(argv)


def frame_range(info: VideoInfo, start: int, end: int | None) -> tuple[int, int]:
    """``[start, end)`` checked against the video (``end`` None: to the last frame, past it: clipped)."""
    if start < 0:
        raise CaptureArgsError(f"start frame {start} is negative")
    if start >= info.frame_count:
        raise CaptureArgsError(f"start frame {start} is past the end of {info.path} ({info.frame_count} frames)")
    if end is None or end > info.frame_count:
        end = info.frame_count
    if end <= start:
        raise CaptureArgsError(f"end frame {end} is not after start frame {start}")
    return start, end


def capture(args: argparse.Namespace, ring: Ring, channel: Channel, control: Control) -> Done:
    """Run the whole capture; raises :class:`ClientGone` if the client goes away."""

    def check_client() -> None:
        if control.gone.is_set() or channel.broken.is_set():
            raise ClientGone

    def write(records: np.ndarray) -> None:
        try:
            ring.write(records, should_stop=lambda: control.gone.is_set() or channel.broken.is_set())
        except RingClosed:
            raise ClientGone from None

    options = CaptureOptions.from_json(args.options)
    info = open_video(args.video)
    start, end = frame_range(info, options.start, options.end)
    intrinsics, assumed = camera_intrinsics(info.width, info.height, options.focal_for(info.width, info.height))
    scale = working_scale(info.width, info.height)
    work_info, work_intrinsics = scaled_camera(info, intrinsics, scale)
    backend: Backend = create_backend(options.backend, options)
    try:
        backend.open(work_info, work_intrinsics, assumed)
        meta = CaptureMeta(
            video_path=os.path.abspath(info.path),
            fps=info.fps,
            width=info.width,
            height=info.height,
            frame_count=info.frame_count,
            frame_start=start,
            frame_end=end,
            intrinsics=intrinsics,
            intrinsics_assumed=assumed,
            backend=backend.name,
            rest_joints=np.asarray(backend.rest_joints, dtype=np.float64),
            rest_source=backend.rest_source,
            betas_fitted=bool(backend.betas_fitted),
            video_rotation=info.rotation,
        )
        total = end - start
        channel.send(Started(meta.to_json(), total))
        done = people = 0
        last = start - 1
        skipped: list[int] = []
        times: dict[int, float] = {}
        rate = RateWatch(info)
        # The next frame decodes (and shrinks to the working size) in a thread while the backend works on this
        # one, so frames wait in the queue at the working size; closing stops that thread.
        decoded = iter_frames(info.path, start, end, skipped, times)
        with closing(prefetch_frames(at_working_size(decoded, work_info, scale))) as frames:
            for index, image in frames:
                check_client()
                if control.cancel.is_set():
                    break
                records = to_video_pixels(backend.process(index, image), scale)
                write(records)
                done += 1
                last = index
                if len(records):  # people on the newest frame reported (an offline backend reports frames late)
                    newest = records["frame"] == records["frame"].max()
                    people = len(np.unique(records["track_id"][newest]))
                time_s = times.get(index)
                rate.check(index, time_s)
                channel.send(Progress(index, done, total, people, time_s))
        check_client()
        write(to_video_pixels(backend.finish(), scale))
        # Frames read ahead of a cancel are not the capture's: only damage before the last frame processed.
        return Done(done, ring.written, control.cancel.is_set(), [i for i in skipped if i < last])
    finally:
        backend.close()


class RateWatch:
    """Warns once, in one line, when a frame's time shows that the video's frame rate is not constant."""

    def __init__(self, info: VideoInfo) -> None:
        self.info = info
        self.first: tuple[int, float] | None = None
        self.warned = False

    def check(self, index: int, time_s: float | None) -> None:
        if time_s is None or self.warned:
            return
        if self.first is None:
            self.first = (index, time_s)
            return
        if off_grid(np.array([index]), np.array([time_s]), self.info.fps, *self.first)[0]:
            self.warned = True
            expected = self.first[1] + (index - self.first[0]) / self.info.fps
            logger.warning(
                "%s: variable frame rate: frame %d is shown at %.3f s, not at %.3f s as a constant %g fps "
                "would; the results keep each frame's time",
                self.info.path,
                index,
                time_s,
                expected,
                self.info.fps,
            )


# Backends see frames at most this many pixels on the longer side: a 4K or 8K video is captured from
# frames scaled down to this size (people in it are still hundreds of pixels tall), so memory and
# time per frame stay those of a 1080p video. The camera matrix is scaled to match, so 3D results
# are unchanged; boxes are scaled back to the video's pixels.
WORKING_MAX_SIDE = 1920


def working_scale(width: int, height: int) -> float:
    """The factor (<= 1) that brings a ``width`` x ``height`` frame within :data:`WORKING_MAX_SIDE`."""
    return min(1.0, WORKING_MAX_SIDE / max(width, height, 1))


def scaled_camera(info: VideoInfo, intrinsics: np.ndarray, scale: float) -> tuple[VideoInfo, np.ndarray]:
    """The video and camera matrix as a backend sees them at ``scale``. Pixel coordinates are continuous
    (pixel ``i`` spans ``[i, i + 1)``, the principal point of a centred camera is ``width / 2``), as
    ``cv2.resize`` samples them, so scaling is a plain multiplication."""
    if scale >= 1.0:
        return info, intrinsics
    width, height = round(info.width * scale), round(info.height * scale)
    k = np.array(intrinsics, dtype=np.float64)
    k[:2, :] *= scale
    return dataclasses.replace(info, width=width, height=height), k


def at_working_size(
    frames: Iterator[tuple[int, np.ndarray]], work: VideoInfo, scale: float
) -> Iterator[tuple[int, np.ndarray]]:
    """``frames`` scaled down to ``work``'s size when ``scale`` < 1 (area averaging), else as they are."""
    try:
        for index, image in frames:
            if scale < 1.0:
                image = cv2.resize(image, (work.width, work.height), interpolation=cv2.INTER_AREA)
            yield index, image
    finally:
        close = getattr(frames, "close", None)
        if close is not None:
            close()


def to_video_pixels(records: np.ndarray, scale: float) -> np.ndarray:
    """``records``' boxes and 2D keypoints from working-frame pixels back to the video's."""
    if scale < 1.0 and len(records):
        records = records.copy()
        records["box"] = records["box"] / scale
        records["keypoints_2d"][..., :2] = records["keypoints_2d"][..., :2] / scale
    return records


def _error_message(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    first = text[0] if text else ""
    if isinstance(e, _USER_ERRORS):
        return first or type(e).__name__
    return f"{type(e).__name__}: {first}" if first else type(e).__name__


def _remove_quietly(paths: list[str]) -> None:
    for path in paths:
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
        except OSError as e:
            logger.warning("could not remove the client's temporary %s: %s", path, e)


def _take_stdout() -> TextIO:
    """Keep the real stdout for the protocol and send everything else printed (also by C code) to stderr."""
    sys.stdout.flush()
    protocol_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(protocol_fd, "w", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    channel = Channel(_take_stdout())
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().addHandler(_ForwardWarnings(channel))
    control = Control(sys.stdin)
    ring: Ring | None = None
    try:
        ring = Ring.attach(args.shm)
        # Unlink as soon as the client is gone, even if the main thread is busy in a long backend call.
        attached = ring
        threading.Thread(target=lambda: (control.gone.wait(), attached.unlink()), daemon=True).start()
        channel.send(capture(args, ring, channel, control))
        return 0
    except ClientGone:
        logger.info("the client went away; stopping")
        return EXIT_CLIENT_GONE
    except Exception as e:
        logger.exception("capture failed")
        channel.send(Error(_error_message(e), traceback.format_exc(), type(e).__name__))
        return EXIT_ERROR
    finally:
        # The client is gone if its end of stdin closed or its end of stdout broke, whichever came first.
        client_gone = control.gone.is_set() or channel.broken.is_set()
        if ring is not None:
            ring.close()
            if client_gone:
                ring.unlink()
        if client_gone:  # a client killed outright cannot remove its temporary files
            _remove_quietly(args.client_temp)


if __name__ == "__main__":
    sys.exit(main())
