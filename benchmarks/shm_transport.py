"""Bandwidth of the shared-memory record ring, as a ratio to a plain memcpy and to pickling over a pipe.

A producer process writes records (the worker's side) in chunks while this process drains them (the
client's side); the same bytes are then copied once with numpy (memcpy, the ceiling) and sent
chunk by chunk through a ``multiprocessing.Pipe`` (pickling, the usual alternative). Goal: the ring
moves records at >= 50% of memcpy's rate. Prints the best of a few runs; run it on an idle machine:

    PYTHONPATH=. python benchmarks/shm_transport.py [--records 100000] [--chunks 64 256 1024]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from ram_core.contract.ring import DEFAULT_CAPACITY, RECORD_DTYPE, Ring

ROOT = Path(__file__).resolve().parent.parent


def make_records(n: int) -> np.ndarray:
    rec = np.zeros(n, dtype=RECORD_DTYPE)
    raw = rec.view(np.uint8)
    raw[:] = np.random.default_rng(0).integers(0, 256, raw.shape, dtype=np.uint8)
    rec["frame"] = np.arange(n)
    return rec


# The ring's producer runs as the worker does: a separate Python started with subprocess (a
# multiprocessing child would share this process's resource tracker, which the worker never does).
_RING_PRODUCER = """
import sys
from benchmarks.shm_transport import make_records
from ram_core.contract.ring import Ring
ring = Ring.attach(sys.argv[1])
n, chunk = int(sys.argv[2]), int(sys.argv[3])
data = make_records(n)
print("ready", flush=True)
sys.stdin.readline()
for i in range(0, n, chunk):
    ring.write(data[i : i + chunk])
ring.close()
"""


def _pipe_producer(conn, n: int, chunk: int, ready, go) -> None:
    data = make_records(n)
    ready.set()
    go.wait()
    for i in range(0, n, chunk):
        conn.send(data[i : i + chunk])
    conn.send(None)
    conn.close()


def time_ring(n: int, chunk: int, capacity: int) -> float:
    ring = Ring.create(capacity)
    cmd = [sys.executable, "-c", _RING_PRODUCER, ring.name, str(n), str(chunk)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout.readline().strip() == "ready"
        got = 0
        t0 = time.perf_counter()
        proc.stdin.write("go\n")
        proc.stdin.flush()
        while got < n:
            k = len(ring.read())
            got += k
            if not k:
                time.sleep(1e-4)  # as a client polls: leave the core to the producer
        elapsed = time.perf_counter() - t0
        proc.wait()
    finally:
        ring.close()
        ring.unlink()
    return elapsed


def time_pipe(n: int, chunk: int) -> float:
    ctx = mp.get_context("spawn")
    ready, go = ctx.Event(), ctx.Event()
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_pipe_producer, args=(send, n, chunk, ready, go))
    proc.start()
    ready.wait()
    t0 = time.perf_counter()
    go.set()
    got = 0
    while (part := recv.recv()) is not None:
        got += len(part)
    elapsed = time.perf_counter() - t0
    proc.join()
    assert got == n
    return elapsed


def time_ring_one_process(n: int, chunk: int, capacity: int) -> float:
    """Write then read each chunk in this process: the ring's own copying cost, without scheduling."""
    data = make_records(n)
    ring = Ring.create(capacity)
    try:
        t0 = time.perf_counter()
        for i in range(0, n, chunk):
            ring.write(data[i : i + chunk])
            ring.read()
        return time.perf_counter() - t0
    finally:
        ring.close()
        ring.unlink()


def time_memcpy(n: int, repeats: int = 5) -> float:
    """Best time of one numpy copy of the records' bytes into a buffer already touched."""
    src = make_records(n).view(np.uint8)
    dst = np.empty_like(src)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=100_000)
    p.add_argument("--chunks", type=int, nargs="+", default=[64, 256, 1024], help="records per write")
    p.add_argument("--capacity", type=int, default=DEFAULT_CAPACITY)
    p.add_argument("--repeats", type=int, default=5, help="runs per transport; the best is printed")
    args = p.parse_args()
    n = args.records
    mb = n * RECORD_DTYPE.itemsize / 1e6
    t_copy = time_memcpy(n)
    print(f"{n} records of {RECORD_DTYPE.itemsize} bytes ({mb:.0f} MB), ring capacity {args.capacity} records")
    print(f"memcpy (numpy copyto of the bytes, best of 5): {n / t_copy:12,.0f} records/s {mb / t_copy:8.0f} MB/s")
    for chunk in args.chunks:
        t_ring = min(time_ring(n, chunk, args.capacity) for _ in range(args.repeats))
        t_pipe = min(time_pipe(n, chunk) for _ in range(args.repeats))
        t_one = min(time_ring_one_process(n, chunk, args.capacity) for _ in range(args.repeats))
        print(
            f"chunk {chunk:4d}: ring {n / t_ring:10,.0f} records/s {mb / t_ring:6.0f} MB/s "
            f"= {t_copy / t_ring:5.1%} of memcpy, {t_pipe / t_ring:4.1f}x pickle over a pipe "
            f"({mb / t_pipe:.0f} MB/s); in one process {t_copy / t_one:5.1%} of memcpy"
        )


if __name__ == "__main__":
    main()
