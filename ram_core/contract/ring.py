"""A single-producer, single-consumer ring of per-frame, per-track records in shared memory.

The client (Blender or the CLI) creates the segment and drains it; the worker attaches by name and
writes. Numpy and the standard library only, so Blender's Python can use it.

Layout of the segment (native byte order)::

    header, 24 uint64 words (192 bytes): word 0 magic, 1 layout version, 2 record itemsize,
        3 capacity, 4 closed flag; word 8 the write counter; word 16 the read counter
        (each counter on its own 64-byte cache line, so writer and reader do not contend)
    capacity uint64 slot stamps
    capacity * RECORD_DTYPE.itemsize bytes of records

The counters only grow (records ever written / ever read); slot ``i % capacity`` holds record ``i``.
The writer copies records in and then publishes them by advancing the write counter; the reader
copies them out and then frees the slots by advancing the read counter. Each counter has a single
writer, so no lock is needed.

Plain stores are ordered on x86 but not on ARM64 (Apple silicon), where the reader could see the
counter move before the record bytes land. So each slot also carries a stamp, a per-slot sequence
lock: the writer stamps record ``i``'s slot ``2i + 1`` (being written), copies the bytes, then stamps
``2i + 2`` (complete). The reader keeps a record only if the slot's stamp reads ``2i + 2`` both before
and after its copy; the first record that fails stays unread and is read again on the next call.

A segment is named ``ram_<pid>_<16 hex digits>`` after the process that created it. The creator unlinks
it when the capture ends, and its resource tracker does if the creator dies; if the creator and its
tracker are killed together the segment would stay until reboot, so :meth:`Ring.create` first removes
the rings whose creator is gone (:func:`sweep_stale`).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing import resource_tracker, shared_memory
from pathlib import Path

import numpy as np

from ram_core.contract.results import RECORD_FIELDS, CaptureMeta, Results, Track, make_track

logger = logging.getLogger(__name__)

LAYOUT_VERSION = 5  # 3: records gained scale (results format 2); 4: contact (3); 5: keypoints (4)
MAGIC = int.from_bytes(b"RAMRING\0", "little")
SEGMENT_PREFIX = "ram_"
# A ring's full name: the prefix, its creator's process id, a random token (see sweep_stale).
SEGMENT_NAME = re.compile(rf"{SEGMENT_PREFIX}(\d+)_[0-9a-f]{{16}}")
# Where Linux shows POSIX shared memory as files (macOS has no listing; Windows frees a segment with its
# last handle, so nothing is left there to sweep).
SHM_DIR = Path("/dev/shm")
DEFAULT_CAPACITY = 4096  # records; about 2.7 MB

RECORD_DTYPE = np.dtype([("track_id", np.int32)] + [(name, f.dtype, f.shape) for name, f in RECORD_FIELDS.items()])
"""One record: one person (``track_id``) on one video frame, with every field of the results file."""

# Header word indices (uint64 words).
MAGIC_WORD, VERSION_WORD, ITEMSIZE_WORD, CAPACITY_WORD, CLOSED_WORD, WRITE_WORD, READ_WORD = 0, 1, 2, 3, 4, 8, 16
HEADER_WORDS = 24
HEADER_BYTES = HEADER_WORDS * 8
STAMP_DTYPE = np.dtype(np.uint64)


def segment_size(capacity: int) -> int:
    """Bytes of a ring holding ``capacity`` records: header, stamps, records."""
    return HEADER_BYTES + capacity * (STAMP_DTYPE.itemsize + RECORD_DTYPE.itemsize)


def _tracker_name(shm: shared_memory.SharedMemory) -> str:
    # The resource tracker knows segments by their private (slash-prefixed) name.
    return shm._name  # type: ignore[attr-defined]


class RingError(RuntimeError):
    """A segment that is not a RAM ring, or of another layout version."""


class RingClosed(RingError):
    """The other side closed the ring, or the writer was told to stop while waiting for room."""


def empty_records(n: int = 0) -> np.ndarray:
    """``n`` records of :data:`RECORD_DTYPE`: zeros, or each field's default where it has one (``scale`` 1)."""
    out = np.zeros(n, dtype=RECORD_DTYPE)
    for name, f in RECORD_FIELDS.items():
        if f.default is not None:
            out[name] = f.default
    return out


class Ring:
    """One end of the ring. Use :meth:`create` (client) or :meth:`attach` (worker)."""

    def __init__(self, shm: shared_memory.SharedMemory, owner: bool) -> None:
        self._shm = shm
        self.owner = owner
        self._unlinked = False
        self._unlink_lock = threading.Lock()
        self._header: np.ndarray | None = np.ndarray((HEADER_WORDS,), dtype=np.uint64, buffer=shm.buf, offset=0)
        if int(self._header[MAGIC_WORD]) != MAGIC:
            self._release()
            raise RingError(f"shared memory {shm.name!r} is not a RAM ring")
        version, itemsize = int(self._header[VERSION_WORD]), int(self._header[ITEMSIZE_WORD])
        if version != LAYOUT_VERSION or itemsize != RECORD_DTYPE.itemsize:
            self._release()
            raise RingError(
                f"ring {shm.name!r} has layout v{version} with {itemsize}-byte records; this ram_core "
                f"uses v{LAYOUT_VERSION} with {RECORD_DTYPE.itemsize}-byte records"
            )
        self.capacity = int(self._header[CAPACITY_WORD])
        self._stamps: np.ndarray | None = np.ndarray(
            (self.capacity,), dtype=STAMP_DTYPE, buffer=shm.buf, offset=HEADER_BYTES
        )
        # Records are copied as raw bytes: numpy copies structured arrays field by field, 10x slower.
        self._slots: np.ndarray | None = np.ndarray(
            (self.capacity, RECORD_DTYPE.itemsize),
            dtype=np.uint8,
            buffer=shm.buf,
            offset=HEADER_BYTES + self.capacity * STAMP_DTYPE.itemsize,
        )

    @property
    def name(self) -> str:
        """The segment's name (without the leading slash), to pass to the worker."""
        return self._shm.name

    @classmethod
    def create(cls, capacity: int = DEFAULT_CAPACITY) -> Ring:
        """Create a new segment named ``ram_<pid>_<random>`` holding ``capacity`` records (the client side),
        after removing rings whose creator is gone (:func:`sweep_stale`)."""
        if capacity < 1:
            raise ValueError(f"capacity must be positive, got {capacity}")
        sweep_stale()
        size = segment_size(capacity)
        name = f"{SEGMENT_PREFIX}{os.getpid()}_{secrets.token_hex(8)}"
        shm = shared_memory.SharedMemory(name=name, create=True, size=size)
        np.ndarray((size,), dtype=np.uint8, buffer=shm.buf)[:] = 0
        header: np.ndarray = np.ndarray((HEADER_WORDS,), dtype=np.uint64, buffer=shm.buf)
        header[[MAGIC_WORD, VERSION_WORD, ITEMSIZE_WORD, CAPACITY_WORD]] = (
            MAGIC,
            LAYOUT_VERSION,
            RECORD_DTYPE.itemsize,
            capacity,
        )
        del header
        return cls(shm, owner=True)

    @classmethod
    def attach(cls, name: str) -> Ring:
        """Attach to the segment ``name`` created by the client (the worker side).

        The segment is not registered with this process's resource tracker: the client owns it, and
        a tracker here would unlink it (and warn) when the worker exits.
        """
        if sys.version_info >= (3, 13):
            shm = shared_memory.SharedMemory(name=name, track=False)
        else:
            shm = shared_memory.SharedMemory(name=name)
            resource_tracker.unregister(_tracker_name(shm), "shared_memory")
        return cls(shm, owner=False)

    # -- state -----------------------------------------------------------------------------------------

    def _views(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._header is None or self._stamps is None or self._slots is None:
            raise RingClosed(f"ring {self.name} is closed on this side")
        return self._header, self._stamps, self._slots

    @property
    def written(self) -> int:
        """Records ever written."""
        return int(self._views()[0][WRITE_WORD])

    @property
    def consumed(self) -> int:
        """Records ever read."""
        return int(self._views()[0][READ_WORD])

    @property
    def is_open(self) -> bool:
        """Whether this side still maps the segment (:meth:`close` not called)."""
        return self._slots is not None

    @property
    def closed(self) -> bool:
        """Whether either side marked the ring closed (:meth:`mark_closed`)."""
        return bool(self._views()[0][CLOSED_WORD])

    def mark_closed(self) -> None:
        """Tell the other side that this one will neither write nor read any more."""
        self._views()[0][CLOSED_WORD] = 1

    # -- writer ----------------------------------------------------------------------------------------

    def write(
        self,
        records: np.ndarray,
        should_stop: Callable[[], bool] | None = None,
        wait_s: float = 0.005,
    ) -> None:
        """Append ``records`` (:data:`RECORD_DTYPE`), waiting while the ring is full (backpressure).

        While full, sleeps between checks of ``should_stop`` and of the closed flag (from 50 us,
        doubling up to ``wait_s``: a reader that drains fast is not kept waiting, an idle one costs
        nothing); raises :class:`RingClosed` if either says stop, with the records written so far
        published.
        """
        records = np.asarray(records)
        if records.dtype != RECORD_DTYPE:
            raise TypeError(f"records have dtype {records.dtype}, expected RECORD_DTYPE")
        records = np.ascontiguousarray(records.reshape(-1)).view(np.uint8).reshape(-1, RECORD_DTYPE.itemsize)
        header, stamps, slots = self._views()
        done = 0
        pause = 5e-5
        while done < len(records):
            if self.closed:
                raise RingClosed(f"ring {self.name} was closed by the reader")
            w = self.written
            free = self.capacity - (w - self.consumed)
            if free == 0:
                if should_stop is not None and should_stop():
                    raise RingClosed(f"stopped while waiting for room in ring {self.name}")
                time.sleep(pause)
                pause = min(2 * pause, wait_s)
                continue
            pause = 5e-5
            n = min(free, len(records) - done)
            stamp = 2 * np.arange(w, w + n, dtype=np.uint64)
            for ring_part, part in self._spans(w, n):
                stamps[ring_part] = stamp[part] + 1  # being written
                slots[ring_part] = records[done : done + n][part]
                stamps[ring_part] = stamp[part] + 2  # complete
            header[WRITE_WORD] = w + n  # publish only after the copy
            done += n

    # -- reader ----------------------------------------------------------------------------------------

    def read(self, max_records: int | None = None) -> np.ndarray:
        """Copy out the records available now (never waits); an empty array if there are none."""
        header, stamps, slots = self._views()
        r = self.consumed
        n = self.written - r
        if max_records is not None:
            n = min(n, max_records)
        out: np.ndarray = np.empty(n, dtype=RECORD_DTYPE)
        raw = out.view(np.uint8).reshape(n, RECORD_DTYPE.itemsize)
        before, after = np.empty(n, STAMP_DTYPE), np.empty(n, STAMP_DTYPE)
        spans = self._spans(r, n)
        for ring_part, part in spans:
            before[part] = stamps[ring_part]
        for ring_part, part in spans:
            raw[part] = slots[ring_part]
        for ring_part, part in spans:
            after[part] = stamps[ring_part]
        complete = (before == 2 * np.arange(r, r + n, dtype=np.uint64) + 2) & (after == before)
        if not complete.all():
            n = int(np.argmin(complete))  # stop at the first record not yet complete
            out = out[:n]
        header[READ_WORD] = r + n  # free the slots only after the copy
        return out

    def _spans(self, first: int, n: int) -> list[tuple[slice, slice]]:
        """Records ``first .. first + n``: (slots, positions in the batch) pieces, split where the ring wraps."""
        start = first % self.capacity
        head = min(n, self.capacity - start)
        spans = [(slice(start, start + head), slice(0, head))]
        if n > head:
            spans.append((slice(0, n - head), slice(head, n)))
        return spans

    # -- lifetime --------------------------------------------------------------------------------------

    def _release(self) -> None:
        # numpy views pin the buffer: drop them before closing the mapping.
        self._header = None
        self._stamps = None
        self._slots = None
        self._shm.close()

    def close(self) -> None:
        """Unmap the segment (idempotent). The owner should also :meth:`unlink`."""
        if self.is_open:
            self._release()

    def unlink(self) -> None:
        """Remove the segment's name from the system (idempotent; a missing segment is fine)."""
        with self._unlink_lock:
            if self._unlinked:
                return
            self._unlinked = True
        # The creator registered the segment with its resource tracker; an attached worker did not.
        # unlink() unregisters (before 3.13 always, from 3.13 when tracked), so keep the pairs balanced.
        untracked_old_python = not self.owner and sys.version_info < (3, 13)
        try:
            if untracked_old_python:
                resource_tracker.register(_tracker_name(self._shm), "shared_memory")
            self._shm.unlink()
        except FileNotFoundError:
            if self.owner or untracked_old_python:
                resource_tracker.unregister(_tracker_name(self._shm), "shared_memory")


def process_exists(pid: int) -> bool:
    """Whether process ``pid`` exists (one of another user counts: it cannot be signalled, but it is there)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(shm_dir: Path = SHM_DIR) -> list[str]:
    """Remove the RAM rings left by creators that are gone; returns their names.

    Only a segment named as :meth:`Ring.create` names them (``ram_<pid>_<16 hex>``), whose creator
    ``pid`` no longer exists and whose first word is a ring's magic, is removed: a live capture's ring,
    another program's segment and a ring named by an older version (no pid) are never touched. A pid
    reused by another process keeps its dead ring until that process ends too (kept, never wrongly
    removed). Rings of another PID namespace sharing ``/dev/shm`` (a container given the host's IPC)
    would look dead: RAM's client and worker run in one namespace.
    """
    if not shm_dir.is_dir():
        return []
    removed = []
    for path in shm_dir.iterdir():
        match = SEGMENT_NAME.fullmatch(path.name)
        if match is None or process_exists(int(match.group(1))):
            continue
        try:
            with path.open("rb") as f:
                if f.read(8) != MAGIC.to_bytes(8, sys.byteorder):
                    continue
            path.unlink()
        except OSError:  # gone meanwhile, or not ours to remove
            continue
        removed.append(path.name)
        logger.info("removed shared memory %s left by process %s, which is gone", path.name, match.group(1))
    return removed


# -- records <-> results -------------------------------------------------------------------------------


def records_to_tracks(records: np.ndarray) -> list[Track]:
    """Group records into tracks, as the results file stores them.

    Per track: sorted by frame; of several records for one (track, frame) the last one received wins
    (a backend may refine earlier frames); trailing predicted records are dropped, so a track that
    coasted after its person left ends at the last observed frame. A track with no observed record
    is dropped.
    """
    records = np.asarray(records, dtype=RECORD_DTYPE).reshape(-1)
    tracks = []
    for tid in np.unique(records["track_id"]).tolist():
        rec = records[records["track_id"] == tid]
        # Stable sort by frame keeps arrival order among duplicates; keep the last of each frame.
        rec = rec[np.argsort(rec["frame"], kind="stable")]
        last_of_frame = np.append(rec["frame"][1:] != rec["frame"][:-1], True)
        rec = rec[last_of_frame]
        observed = np.flatnonzero(~rec["predicted"])
        if observed.size == 0:
            continue
        rec = rec[: observed[-1] + 1]
        tracks.append(make_track(tid, **{name: rec[name] for name in RECORD_FIELDS}))
    return tracks


def records_to_results(meta: CaptureMeta, records: np.ndarray) -> Results:
    """:class:`Results` from ``meta`` and the records received (see :func:`records_to_tracks`)."""
    return Results(meta, records_to_tracks(records))
