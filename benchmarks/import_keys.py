"""Import speed and memory: 10 people x 10,000 frames, bulk keys against per-key ``keyframe_insert``.

Run with a Python that has ``bpy``: ``PYTHONPATH=. python benchmarks/import_keys.py [--people 10]
[--frames 10000] [--per-key-frames 1000]``. The bulk path is the real importer (armatures, 24
quaternion bones, pelvis location, predicted flag, visibility) with the light tube proxy as the body,
so the keys dominate; the default open body's own cost per person is printed on its own line. Per-key ``keyframe_insert`` is too
slow to run at full size (it grows faster than linearly: about 1.7, 5.8 and 57 ms per frame at 250,
1,000 and 4,000 frames of one person on the development machine), so it is measured on one person
for ``--per-key-frames`` frames and compared two ways: against the bulk import of the same person and
frames (a measured ratio), and extrapolated linearly to the full size (a lower bound on the real
time, hence on the ratio). Memory is the process's peak resident size (``resource.getrusage``)
before and after the full bulk import.
"""

from __future__ import annotations

import argparse
import atexit
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "blender"))
if "BLENDER_USER_RESOURCES" not in os.environ:  # a Blender user folder of its own, removed at exit
    os.environ["BLENDER_USER_RESOURCES"] = tempfile.mkdtemp(prefix="ram-bench-")
    atexit.register(shutil.rmtree, os.environ["BLENDER_USER_RESOURCES"], ignore_errors=True)

import bpy
from synth import REST_JOINTS, make_meta, make_random_track

from ram_blender.importer.build import BuildOptions, build_armature, build_results
from ram_blender.importer.plan import plan_skeleton, plan_track
from ram_core.contract.results import Results
from ram_core.contract.skeleton import JOINT_NAMES


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def per_key_seconds(results: Results, frames: int) -> float:
    """Time ``keyframe_insert`` per bone per frame for the first ``frames`` frames of one person."""
    track = results.tracks[0]
    skeleton = plan_skeleton(results.meta.rest_joints)
    plan = plan_track(skeleton, results.meta.rest_joints, track)
    col = bpy.data.collections.new("per-key")
    bpy.context.scene.collection.children.link(col)
    obj = build_armature("per-key", skeleton, col)
    bones = [obj.pose.bones[n] for n in JOINT_NAMES]
    t0 = time.perf_counter()
    for i in range(frames):
        f = float(plan.frames[i])
        for j, pb in enumerate(bones):
            pb.rotation_quaternion = plan.rotations[i, j]
            pb.keyframe_insert("rotation_quaternion", frame=f)
        bones[0].location = plan.location[i]
        bones[0].keyframe_insert("location", frame=f)
        obj["ram_predicted"] = float(plan.predicted[i])
        obj.keyframe_insert('["ram_predicted"]', frame=f)
    return time.perf_counter() - t0


def bulk_seconds(results: Results, body: str = "proxy") -> float:
    """The real import of ``results``; the light proxy body by default, so the keys dominate."""
    col = bpy.data.collections.new("bulk")
    bpy.context.scene.collection.children.link(col)
    t0 = time.perf_counter()
    build_results(results, col, bpy.context.scene, BuildOptions(body=body))
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10)
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--per-key-frames", type=int, default=1000)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    frames = np.arange(args.frames)
    tracks = [make_random_track(rng, tid, frames, REST_JOINTS) for tid in range(1, args.people + 1)]
    results = Results(make_meta(REST_JOINTS, args.frames, fps=30.0), tracks)
    channels = 24 * 4 + 3 + 1
    keys = args.people * args.frames * channels

    bpy.ops.wm.read_homefile(use_empty=True)
    rss0 = peak_rss_mib()
    bulk = bulk_seconds(results)
    rss1 = peak_rss_mib()

    n = args.per_key_frames
    small = Results(results.meta, [tracks[0].select(np.arange(args.frames) < n)])
    bpy.ops.wm.read_homefile(use_empty=True)
    bulk_small = bulk_seconds(small)
    bpy.ops.wm.read_homefile(use_empty=True)
    bulk_small_open = bulk_seconds(small, "open")  # the open body's data is read and grouped once per process
    bpy.ops.wm.read_homefile(use_empty=True)
    bulk_small_open = min(bulk_small_open, bulk_seconds(small, "open"))
    bpy.ops.wm.read_homefile(use_empty=True)
    per_key_small = per_key_seconds(small, n)
    per_key_full = per_key_small * (args.frames / n) * args.people

    print(f"bpy {bpy.app.version_string}, {args.people} people x {args.frames} frames = {keys:,} keys")
    print(
        f"bulk import (keyframe_points.add + foreach_set, armatures included): {bulk:.2f} s "
        f"({keys / bulk / 1e6:.1f} M keys/s)"
    )
    print(
        f"1 person x {n} frames ({n * channels:,} keys): per-key keyframe_insert {per_key_small:.2f} s, "
        f"bulk {bulk_small:.3f} s: ratio {per_key_small / bulk_small:.0f}x (measured)"
    )
    print(
        f"full size, per-key extrapolated linearly from {n} frames: >= {per_key_full:.0f} s; "
        f"ratio >= {per_key_full / bulk:.0f}x (lower bound; goal >= 100x)"
    )
    print(
        f"the open body instead of the proxy adds {1000 * (bulk_small_open - bulk_small):.0f} ms per person "
        f"(its mesh, vertex groups and material; the default body)"
    )
    print(
        f"peak resident memory: {rss0:.0f} MiB before, {rss1:.0f} MiB after the full import "
        f"(+{rss1 - rss0:.0f} MiB, {(rss1 - rss0) * 2**20 / keys:.0f} bytes per key)"
    )


if __name__ == "__main__":
    main()
