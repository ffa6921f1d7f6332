"""The shared-memory ring: layout, round trips with wrap-around, backpressure, records -> tracks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from multiprocessing import resource_tracker, shared_memory

import numpy as np
import pytest

from ram_core.contract.results import RECORD_FIELDS
from ram_core.contract.ring import (
    HEADER_BYTES,
    LAYOUT_VERSION,
    RECORD_DTYPE,
    VERSION_WORD,
    Ring,
    RingClosed,
    RingError,
    empty_records,
    records_to_tracks,
    sweep_stale,
)
from tests.conftest import REPO, SHM_DIR, ram_segments


def numbered(n: int, first: int = 0, track_id: int = 1) -> np.ndarray:
    rec = empty_records(n)
    rec["track_id"] = track_id
    rec["frame"] = np.arange(first, first + n)
    rec["transl"][:, 2] = np.arange(first, first + n) * 0.5
    rec["joints"] = np.arange(first, first + n)[:, None, None]
    return rec


@pytest.fixture
def ring(no_leaked_segments):
    r = Ring.create(capacity=7)
    yield r
    r.close()
    r.unlink()


def test_record_dtype_matches_the_results_table():
    assert RECORD_DTYPE.names == ("track_id", *RECORD_FIELDS)
    assert RECORD_DTYPE["track_id"] == np.dtype(np.int32)
    for name, f in RECORD_FIELDS.items():
        shape, dtype = f.shape, f.dtype
        assert RECORD_DTYPE[name].shape == shape
        assert RECORD_DTYPE[name].base == dtype
    assert HEADER_BYTES % 64 == 0


def test_a_record_whose_stamp_is_not_complete_waits_for_the_next_read(ring):
    # What a weakly ordered CPU may show the reader: the counter already moved, a slot's bytes not yet.
    ring.write(numbered(5))
    ring._stamps[2] = 2 * 2 + 1  # record 2 still "being written"
    got = ring.read()
    np.testing.assert_array_equal(got["frame"], [0, 1])
    assert ring.consumed == 2
    assert len(ring.read()) == 0  # still not complete: nothing past it is read either
    ring._stamps[2] = 2 * 2 + 2
    np.testing.assert_array_equal(ring.read()["frame"], [2, 3, 4])


def test_a_slot_stamped_for_another_lap_is_not_read(ring):
    ring.write(numbered(3))
    ring._stamps[1] = 2 * (1 + ring.capacity) + 2  # a stamp from the record one lap later
    np.testing.assert_array_equal(ring.read()["frame"], [0])


def test_round_trip_with_wrap_around(ring):
    sent = numbered(100)
    got = []
    i = 0
    # Chunk sizes that straddle the end of the 7-slot buffer in every phase.
    for size in [3, 5, 1, 7, 2, 6, 4] * 5:
        if i >= len(sent):
            break
        ring.write(sent[i : i + size])
        i += size
        got.append(ring.read(max_records=size - 1) if size > 1 else ring.read())
        got.append(ring.read())
    got.append(ring.read())
    received = np.concatenate(got)
    assert ring.written == ring.consumed == i
    np.testing.assert_array_equal(received, sent[:i])


def test_read_on_an_empty_ring_returns_nothing(ring):
    assert ring.read().shape == (0,)
    assert ring.read().dtype == RECORD_DTYPE


def test_a_full_ring_makes_the_writer_wait(ring):
    sent = numbered(60)
    seen_fill = []
    writer = threading.Thread(target=ring.write, args=(sent,))
    writer.start()
    got = []
    while writer.is_alive() or ring.written > ring.consumed:
        seen_fill.append(ring.written - ring.consumed)
        got.append(ring.read(max_records=2))
    writer.join()
    np.testing.assert_array_equal(np.concatenate(got), sent)
    assert max(seen_fill) <= ring.capacity


def test_a_stop_request_ends_a_wait_with_what_fitted_published(ring):
    with pytest.raises(RingClosed):
        ring.write(numbered(10), should_stop=lambda: True)
    assert ring.written == ring.capacity
    np.testing.assert_array_equal(ring.read(), numbered(7))


def test_writing_to_a_ring_the_reader_closed_fails(ring):
    ring.mark_closed()
    with pytest.raises(RingClosed):
        ring.write(numbered(1))


def test_wrong_dtype_is_refused(ring):
    with pytest.raises(TypeError):
        ring.write(np.zeros(3, dtype=np.float32))


def test_a_segment_that_is_not_a_ring_is_refused(no_leaked_segments):
    shm = shared_memory.SharedMemory(name="ram_test_not_a_ring", create=True, size=4096)
    try:
        with pytest.raises(RingError, match="not a RAM ring"):
            Ring(shm, owner=True)
    finally:
        shm.unlink()


def test_another_layout_version_is_refused(ring):
    ring._header[VERSION_WORD] = 99
    with pytest.raises(RingError, match="layout v99"):
        Ring(shared_memory.SharedMemory(name=ring.name), owner=False)
    ring._header[VERSION_WORD] = LAYOUT_VERSION


WRITER = """
import sys
import numpy as np
from ram_core.contract.ring import Ring, empty_records
ring = Ring.attach(sys.argv[1])
for start in range(0, 1000, 37):
    rec = empty_records(min(37, 1000 - start))
    rec["frame"] = np.arange(start, start + len(rec))
    ring.write(rec)
ring.close()
"""


def test_a_writer_in_another_process(no_leaked_segments):
    ring = Ring.create(capacity=64)
    try:
        proc = subprocess.Popen([sys.executable, "-c", WRITER, ring.name], cwd=REPO, stderr=subprocess.PIPE, text=True)
        got = []
        while proc.poll() is None or ring.written > ring.consumed:
            got.append(ring.read())
        frames = np.concatenate(got)["frame"]
        np.testing.assert_array_equal(frames, np.arange(1000))
        assert proc.returncode == 0
        # The attached worker must not register the segment: no tracker warning, no early unlink.
        assert "resource_tracker" not in proc.stderr.read()
        assert ring.name in ram_segments()
    finally:
        ring.close()
        ring.unlink()
    assert ring.name not in ram_segments()


# A client killed together with its resource tracker (the pkill of a whole process tree): nobody unlinks.
KILLED_CLIENT = """
import os, signal
from multiprocessing import resource_tracker
from ram_core.contract.ring import Ring
ring = Ring.create(capacity=4)
print(ring.name, flush=True)
os.kill(resource_tracker._resource_tracker._pid, signal.SIGKILL)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _untracked_segment(name: str, first: bytes) -> None:
    shm = shared_memory.SharedMemory(name=name, create=True, size=4096)
    shm.buf[: len(first)] = first
    resource_tracker.unregister(shm._name, "shared_memory")  # type: ignore[attr-defined]
    shm.close()


@pytest.mark.skipif(not SHM_DIR.is_dir(), reason="needs /dev/shm (Linux)")
def test_a_new_ring_sweeps_rings_whose_creator_is_gone_and_nothing_else(no_leaked_segments):
    proc = subprocess.run([sys.executable, "-c", KILLED_CLIENT], cwd=REPO, capture_output=True, text=True, check=False)
    stale = proc.stdout.strip()
    assert proc.returncode == -signal.SIGKILL and stale in ram_segments()  # left behind, as before the sweep
    dead = int(stale.split("_")[1])
    magic = (SHM_DIR / stale).read_bytes()[:8]
    others = [f"ram_{dead}_{'0' * 16}", "ram_0123456789abcdef", f"ram_{dead}_x"]  # not a ring; old-style; no token
    for name in others:
        _untracked_segment(name, magic if name != others[0] else b"not ours")
    live = Ring.create(capacity=4)
    try:
        assert stale not in ram_segments()
        assert live.name in ram_segments() and live.name.startswith(f"ram_{os.getpid()}_")
        assert set(others) <= ram_segments()
        assert sweep_stale() == []  # a live creator's ring (this process's) is kept
        assert live.name in ram_segments()
    finally:
        live.close()
        live.unlink()
        for name in others:
            (SHM_DIR / name).unlink()


def test_records_become_tracks():
    a = numbered(5, first=10, track_id=4)
    b = numbered(6, first=0, track_id=2)
    b["predicted"][[2, 4, 5]] = True  # a gap (kept) and two trailing coasted frames (dropped)
    refined = numbered(1, first=12, track_id=4)
    refined["confidence"] = 0.75
    ghost = numbered(3, first=0, track_id=9)
    ghost["predicted"] = True  # never observed: dropped
    records = np.concatenate([b[::-1], a, ghost, refined])
    tracks = records_to_tracks(records)
    assert [t.track_id for t in tracks] == [2, 4]
    t2, t4 = tracks
    np.testing.assert_array_equal(t2.frame, [0, 1, 2, 3])
    np.testing.assert_array_equal(t2.predicted, [False, False, True, False])
    np.testing.assert_array_equal(t4.frame, np.arange(10, 15))
    np.testing.assert_allclose(t4.confidence, [0, 0, 0.75, 0, 0])
    np.testing.assert_allclose(t4.joints[:, 0, 0], np.arange(10, 15))


def test_no_records_no_tracks():
    assert records_to_tracks(empty_records()) == []
