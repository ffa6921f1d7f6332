"""Kill the worker or the client at random moments; count leaks and unloadable partial captures.

Each run starts a real capture of the test clip (``--backend`` default: the scripted test backend at
``--sleep`` seconds per frame, so kills land on every phase: start-up, mid-stream, the last frames).
Worker kills: SIGKILL the worker after a random delay; the client must report it, keep the frames
received, and a results file saved from them must load. Client kills: SIGKILL a client process after a
random delay; the worker must stop, and no shared-memory segment, worker log or path folder of that
client may remain. Both kills: SIGKILL the client, its resource tracker and the worker at the same moment
(nobody is left to clean up); the next capture's start must remove the segment and temporary files they
left. Exits 1 if any run leaked or lost its partial capture. (A killed client's Python resource tracker
may warn on stderr that the segment it registered is already gone: the worker removed it.)

    python benchmarks/kill_runs.py --runs 20
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ram_core.contract.client import CaptureClient
from ram_core.contract.options import CaptureOptions
from ram_core.contract.results import load_results, save_results

CLIP = REPO / "tests" / "data" / "vtest_clip.avi"
SCRIPTED = "tests.fixtures.scripted_backend:ScriptedBackend"

CLIENT = """
import sys, time
from ram_core.contract.client import CaptureClient
from ram_core.contract.options import CaptureOptions
c = CaptureClient(sys.executable, sys.argv[1], CaptureOptions(backend=sys.argv[2]), extra_env={"RAM_SCRIPTED_SLEEP": sys.argv[3]})
c.start()
print(c.shm_name, c.pid, c._res.log_path, c._res.path_dir, flush=True)
while not c.finished:
    c.poll()
    time.sleep(0.01)
"""


def segments() -> set[str]:
    return {p.name for p in Path("/dev/shm").glob("ram_*")} if Path("/dev/shm").is_dir() else set()


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def wait_until(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def kill_worker(rng: random.Random, backend: str, sleep: str, env: dict[str, str], out_dir: Path) -> str | None:
    """One worker kill; None if all held, else what failed."""
    delay = rng.uniform(0.0, 1.5)
    with CaptureClient(sys.executable, CLIP, CaptureOptions(backend=backend), extra_env=env) as c:
        c.start()
        t0 = time.monotonic()
        while time.monotonic() - t0 < delay and not c.finished:
            c.poll()
            time.sleep(0.005)
        if not c.finished and c.pid is not None:
            os.kill(c.pid, signal.SIGKILL)

        def settled() -> bool:
            c.poll()
            return c.finished

        if not wait_until(settled, 30):
            return "the client never saw the worker end"
        if c.meta is not None:
            partial = save_results(c.results(), out_dir / "partial.ram.npz")
            try:
                load_results(partial)
            except Exception as e:
                return f"partial capture does not load: {e}"
        temporary = [p for p in (c._res.log_path, c._res.path_dir) if p]
        name = c.shm_name
    if name in segments():  # only this capture's own segment: other processes may be capturing too
        return f"leaked segment {name}"
    left = [p for p in temporary if os.path.exists(p)]
    return f"left temporary files {left}" if left else None


def start_client(backend: str, sleep: str, env: dict[str, str]) -> tuple[subprocess.Popen, str, str, list[str]]:
    """A capture client running; it, its ring's name, its worker's pid and its temporary files' paths."""
    parent = subprocess.Popen(
        [sys.executable, "-c", CLIENT, str(CLIP), backend, sleep],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
        cwd=REPO,
    )
    name, pid, *temporary = parent.stdout.readline().split()
    return parent, name, pid, temporary


def kill_client(rng: random.Random, backend: str, sleep: str, env: dict[str, str]) -> str | None:
    """One client kill; None if all held, else what failed."""
    parent, name, pid, temporary = start_client(backend, sleep, env)
    time.sleep(rng.uniform(0.0, 1.5))
    parent.kill()
    parent.wait()
    if not wait_until(lambda: not alive(int(pid)), 30):
        return "the worker outlived its client by 30 s"
    if not wait_until(lambda: name not in segments(), 5):
        return f"leaked segment {name}"
    if not wait_until(lambda: not any(os.path.exists(p) for p in temporary), 5):
        return f"left temporary files {[p for p in temporary if os.path.exists(p)]}"
    return None


def children(pid: int) -> list[int]:
    """The processes ``pid`` started (Linux's /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def kill_both(rng: random.Random, backend: str, sleep: str, env: dict[str, str]) -> tuple[str | None, bool]:
    """One kill of the client, its resource tracker and its worker together, then a new capture's start;
    (None if nothing was left after that start, else what was; whether the kill itself left anything)."""
    parent, name, pid, temporary = start_client(backend, sleep, env)
    time.sleep(rng.uniform(0.0, 1.5))
    family = list(dict.fromkeys([parent.pid, int(pid), *children(parent.pid)]))  # with the resource tracker
    for member in family:
        with contextlib.suppress(ProcessLookupError):
            os.kill(member, signal.SIGKILL)
    parent.wait()
    wait_until(lambda: not any(alive(m) for m in family), 10)
    left = name in segments() or any(os.path.exists(p) for p in temporary)
    with CaptureClient(sys.executable, CLIP, CaptureOptions(backend=backend), extra_env=env) as c:
        c.start()
    if name in segments():
        return f"segment {name} still there after the next start", left
    still = [p for p in temporary if os.path.exists(p)]
    return (f"temporary files {still} still there after the next start" if still else None), left


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="runs of each kind (default 20)")
    parser.add_argument("--backend", default=SCRIPTED)
    parser.add_argument("--sleep", default="0.01", help="scripted backend: seconds per frame (default 0.01)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    env = {"PYTHONPATH": str(REPO), "RAM_SCRIPTED_SLEEP": args.sleep}
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            why = kill_worker(rng, args.backend, args.sleep, env, Path(tmp))
            failures += [f"worker kill {i}: {why}"] if why else []
        for i in range(args.runs):
            why = kill_client(rng, args.backend, args.sleep, env)
            failures += [f"client kill {i}: {why}"] if why else []
        left = 0
        for i in range(args.runs):
            why, leftover = kill_both(rng, args.backend, args.sleep, env)
            failures += [f"both kill {i}: {why}"] if why else []
            left += leftover
    for f in failures:
        print(f)
    print(
        f"{3 * args.runs} kills ({args.runs} of the worker, {args.runs} of the client, {args.runs} of both): "
        f"{3 * args.runs - len(failures)} held, {len(failures)} leaked or lost a partial capture "
        f"(killing both left a segment or files {left} times, each removed by the next capture's start)"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
