"""Videos per hour of ``ram-core batch`` with 1 and 2 local workers, and the Ray path's cost over the local pool.

Cuts ``--clips`` clips of ``--frames`` frames each from a video, then in one run captures them all three ways
(``--overwrite``, fresh output folders): the local pool with 1 worker, with 2 workers, and Ray tasks on a
local Ray runtime started here with this machine's CPUs (its start-up time printed apart). Prints
videos/hour for each, the ratio 2 workers / 1 worker, the ratio Ray / local pool at the same number of
captures at once, and whether every way gave identical results:

    PYTHONPATH=. python benchmarks/batch_scaling.py [--backend lite] [--clips 4] [--frames 24]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ram_core.batch.driver import make_jobs, run_batch
from ram_core.batch.schedulers import LocalScheduler, RayScheduler, task_resources
from ram_core.batch.task import DONE
from ram_core.contract.batch_files import results_path
from ram_core.contract.options import CaptureOptions
from ram_core.contract.results import load_results
from tests.fixtures.clips import cut_clips

DEFAULT_VIDEO = ROOT / "tests" / "data" / "vtest_clip.avi"


def arrays(path: Path) -> list[np.ndarray]:
    results = load_results(path)
    return [a for t in results.tracks for a in t.arrays().values()]


def timed(videos: list[Path], out: Path, options: CaptureOptions, scheduler) -> tuple[float, list[Path]]:
    jobs = make_jobs(videos, out, options, max_retries=0)
    begin = time.perf_counter()
    outcomes = run_batch(jobs, scheduler, skip_existing=False)
    seconds = time.perf_counter() - begin
    failed = [f"{o.video}: {o.message}" for o in outcomes if o.status != DONE]
    if failed:
        raise SystemExit("a capture failed: " + "; ".join(failed))
    return seconds, [results_path(out, v) for v in videos]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--backend", default="lite")
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--frames", type=int, default=24)
    args = parser.parse_args()
    options = CaptureOptions(backend=args.backend)
    cpus = os.cpu_count() or 1
    per_task = int(task_resources(options)["num_cpus"])
    print(
        f"{args.clips} clips of {args.frames} frames from {args.video.name}, backend {args.backend} "
        f"({per_task} CPU(s) per capture); os.cpu_count() {cpus}; load {os.getloadavg()[0]:.2f}"
    )
    with tempfile.TemporaryDirectory(prefix="batch_scaling_") as tmp:
        folder = Path(tmp)
        try:
            videos = cut_clips(args.video, folder, args.clips, args.frames)
        except ValueError as e:
            raise SystemExit(f"{e}; pass fewer --clips or --frames") from None
        rates: dict[str, float] = {}
        outputs: dict[str, list[Path]] = {}
        for workers in (1, 2):
            name = f"local x{workers}"
            seconds, outputs[name] = timed(videos, folder / f"local{workers}", options, LocalScheduler(workers))
            rates[name] = args.clips / seconds * 3600
            print(f"{name}: {seconds:6.1f} s, {rates[name]:7.0f} videos/hour (load {os.getloadavg()[0]:.2f})")

        import ray

        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
        begin = time.perf_counter()
        ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False, object_store_memory=100 * 2**20)
        started = time.perf_counter() - begin
        try:
            seconds, outputs["ray"] = timed(videos, folder / "ray", options, RayScheduler())
        finally:
            ray.shutdown()
        rates["ray"] = args.clips / seconds * 3600
        at_once = max(1, min(2, cpus // per_task))
        print(
            f"ray ({cpus} CPUs, {at_once} capture(s) at once): {seconds:6.1f} s, {rates['ray']:7.0f} videos/hour "
            f"(plus {started:.1f} s to start Ray; load {os.getloadavg()[0]:.2f})"
        )
        reference = [arrays(p) for p in outputs["local x1"]]
        same = all(
            len(a) == len(r) and all(np.array_equal(x, y) for x, y in zip(a, r))
            for paths in outputs.values()
            for a, r in zip((arrays(p) for p in paths), reference)
        )
    local = f"local x{at_once}"
    print(f"2 workers / 1 worker: {rates['local x2'] / rates['local x1']:.2f}x videos/hour")
    print(f"Ray / {local}: {rates[local] / rates['ray']:.2f}x the time per video (1.00 = no overhead)")
    print("results identical in every way" if same else "RESULTS DIFFER between the ways")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
