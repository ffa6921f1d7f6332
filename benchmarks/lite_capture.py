"""Speed of ``capture --backend lite`` on vtest.avi (or a slice): frames/s and person-frames/s.

Runs the capture through the same worker path as ``ram-core capture`` and times it from the worker's
progress messages: the steady rate excludes the worker's start (Python imports, model loading), which is
printed apart, and with the CPU time the worker process used over the same frames (all its threads, from
``/proc`` where there is one): CPU time per frame hardly depends on what else runs on the machine, so it tells
whether the worker path does more work than the in-process runs below, whose CPU time is printed the same
way. Person-frames are observed records (one person on one frame; frames filled by
interpolation are not counted). Prints the rates as a ratio to the video's own frame rate (the goal is
1.0: real time with everybody tracked) and the machine's load average before and after, since other
programs on the machine slow it down. Then the client's whole-clip refinement of the same records, timed by
part (the steps of ``ram_core.scene.refine``: relink + unstack + gap filling + edges + depth + scene solve, the foot lock,
the temporal fit), as a fraction of the capture's wall time (the goal: scene solve and fit add at most 25%), and
the frame rate with it (issue 17's goal: the video's own rate, capture and refinement together).

Then, in this process on the same frames (decoded up front and timed apart): ``LiteBackend`` once per
interpreter thread count (``--threads``, one interpreter per model, the knob of ``lite_scaling.py``), with
its parts timed by wrapping them from here (detector, landmark model, association = appearance features +
tracker step, IK = rotations + translation solve + smoothing + records; the rest of ``process`` apart; the
fit = the refinement above per frame), and
MediaPipe's own single-person Pose solution (``mediapipe.solutions.pose.Pose``, CPU, video mode) on the same
frames: how many frames it finds a person on, and the lite backend's person-frames/s as a ratio to its own.

``--why`` adds, for the first thread count's run, the model work by reason: the detector's tiles due in the
sweep and run (the others were still), and the landmark crops by why they ran (a track seen on the frame before,
lost, lost for long, a detector box, looking back, and each of those again with the people found painted out)
with what each found: nobody (pose flag below ``min_pose_score``), a duplicate of a better pose (dropped), a
pose the tracker took for the crop's own track, another track, a new track or none, or (looking back) a pose,
which the search then checks:

    PYTHONPATH=. python benchmarks/lite_capture.py [--video ../shared/data/vtest.avi] [--start 0] [--end 200] [--why]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

import ram_core.backends.lite.backend as lite_module
from ram_core.backends.base import camera_intrinsics
from ram_core.backends.lite.backend import LiteBackend, LiteConfig, crop_reason
from ram_core.contract.client import CaptureClient
from ram_core.contract.options import CaptureOptions
from ram_core.perception.blazepose_detector import DetectorConfig
from ram_core.perception.landmarks import LandmarkConfig
from ram_core.scene.contact import plant_feet
from ram_core.scene.fit import fit_motion
from ram_core.scene.refine import solved
from ram_core.tracking.boxes import scale_boxes
from ram_core.video import iter_frames, open_video

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VIDEO = ROOT.parent / "shared" / "data" / "vtest.avi"


class StageClock:
    """Seconds and calls per named stage, gathered by wrapping callables."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.items: dict[str, int] = {}
        self.cpu_s = 0.0  # CPU time of the whole process (all threads) over the timed frames

    def wrap(self, name: str, function, count=None):
        self.seconds.setdefault(name, 0.0)
        self.items.setdefault(name, 0)

        def timed(*args, **kwargs):
            tic = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - tic
                if count is not None:
                    self.items[name] += count(*args, **kwargs)

        return timed


class CropLedger:
    """Why each landmark crop and detector tile of a ``LiteBackend`` ran, and what each crop found.

    Listens to the backend's ``on_crops`` (each crop's reason, box and pose) and wraps its ``_sweep_regions``
    (tiles due), the detector (tiles run), the tracker's ``peek_predictions`` and ``step`` and the backend's
    ``appearance_features`` (the poses kept on the frame) from outside; counts from the second frame on.
    """

    OUTCOMES = ("nobody", "duplicate", "own track", "other track", "new track", "not associated", "a pose")

    def __init__(self, backend: LiteBackend) -> None:
        self.backend = backend
        self.frames = 0
        self.tiles = {"due": 0, "run": 0}
        self.crops: dict[str, dict[str, int]] = {}
        self._calls: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._views: list = []
        self._kept = np.zeros((0, 33, 2))

    def attach(self, features):
        """Wrap the backend's parts; returns the wrapped ``appearance_features`` for the caller to install."""
        backend, tracker, detector = self.backend, self.backend._tracker, self.backend._detector
        assert detector is not None
        sweep, detect = backend._sweep_regions, detector.detect_all
        peek, step = tracker.peek_predictions, tracker.step

        def counted_crops(why, boxes, out):
            self._calls.append((np.asarray(why), np.asarray(boxes, np.float64), out.image, out.score))

        def counted_sweep(everything):
            regions = sweep(everything)
            self.tiles["due"] += len(regions)
            return regions

        def counted_detect(image, regions=None):
            self.tiles["run"] += len(regions) if regions is not None else 0
            return detect(image, regions)

        def peeked(frame_index):
            self._views = peek(frame_index)
            return self._views

        def kept_features(image, points, *args):
            self._kept = np.asarray(points)
            return features(image, points, *args)

        def stepped(*args, **kwargs):
            views = step(*args, **kwargs)
            self._tally(views)
            return views

        backend.on_crops = counted_crops
        backend._sweep_regions = counted_sweep  # type: ignore[method-assign]
        detector.detect_all = counted_detect  # type: ignore[method-assign]
        tracker.peek_predictions = peeked  # type: ignore[method-assign]
        tracker.step = stepped  # type: ignore[method-assign]
        return kept_features

    def _tally(self, views) -> None:
        """Count the frame's crops by reason and outcome (a look-back's crops count on the frame it ran)."""
        self.frames += 1
        by_detection = {v.detection_index: v for v in views if v.detection_index >= 0}
        predicted = [(v.track_id, scale_boxes(v.box[None], self.backend.cfg.roi_scale)[0]) for v in self._views]
        min_score = self.backend.cfg.min_pose_score
        for why, boxes, points, scores in self._calls:
            for k, reason in enumerate(map(crop_reason, why)):
                row = self.crops.setdefault(reason, {})
                row["crops"] = row.get("crops", 0) + 1
                kept = [i for i in range(len(self._kept)) if np.array_equal(self._kept[i], points[k])]
                if scores[k] < min_score:
                    outcome = "nobody"
                elif reason == "look back":
                    outcome = "a pose"
                elif not kept:
                    outcome = "duplicate"
                elif (view := by_detection.get(kept[0])) is None:
                    outcome = "not associated"
                elif "track" in reason:
                    own = [t for t, box in predicted if np.allclose(box, boxes[k])]
                    outcome = "own track" if view.track_id in own else "other track"
                else:
                    outcome = "new track" if view.age == 0 else "other track"
                row[outcome] = row.get(outcome, 0) + 1
        self._calls = []

    def report(self) -> list[str]:
        """Lines: tiles and crops per frame, then each reason's crops per frame and outcomes."""
        per = max(self.frames, 1)
        total = sum(row["crops"] for row in self.crops.values())
        lines = [
            f"    model work by reason ({self.frames} frames): detector tiles {self.tiles['due'] / per:.2f} due, "
            f"{self.tiles['run'] / per:.2f} run/frame (the rest still); landmark crops {total / per:.2f}/frame",
        ]
        for reason in sorted(self.crops, key=lambda r: -self.crops[r]["crops"]):
            row = self.crops[reason]
            found = ", ".join(f"{name} {row[name]}" for name in self.OUTCOMES if row.get(name))
            lines.append(f"      {reason:24s} {row['crops'] / per:5.2f} crops/frame ({row['crops']}): {found}")
        return lines


def staged_capture(
    video: Path, frames: list[tuple[int, np.ndarray]], threads: int, why: bool = False
) -> tuple[int, float, StageClock, CropLedger | None]:
    """Observed person-frames, frames/s after the first frame, the stage times (first frame excluded), and
    with ``why`` the model work by reason (``CropLedger``)."""
    info = open_video(video)
    intrinsics, assumed = camera_intrinsics(info.width, info.height, None)
    cfg = LiteConfig(detector=DetectorConfig(num_threads=threads), landmarks=LandmarkConfig(num_threads=threads))
    backend = LiteBackend(cfg=cfg)
    backend.open(info, intrinsics, assumed)
    records = [backend.process(*frames[0])]
    clock = StageClock()
    detector, landmarker, tracker = backend._detector, backend._landmarker, backend._tracker
    assert detector is not None and landmarker is not None
    regions = lambda image, regions=None: len(regions) if regions is not None else 0  # noqa: E731
    detector.detect_all = clock.wrap("detector", detector.detect_all, regions)  # type: ignore[method-assign]
    crops = lambda image, boxes: len(boxes)  # noqa: E731
    landmarker.estimate = clock.wrap("landmarks", landmarker.estimate, crops)  # type: ignore[method-assign]
    tracker.step = clock.wrap("association", tracker.step)  # type: ignore[method-assign]
    backend._observed_records = clock.wrap("IK", backend._observed_records)  # type: ignore[method-assign]
    features = lite_module.appearance_features
    ledger = CropLedger(backend) if why else None
    timed_features = clock.wrap("association", features)
    lite_module.appearance_features = ledger.attach(timed_features) if ledger else timed_features  # type: ignore[assignment]
    process = clock.wrap("whole process()", backend.process)
    try:
        begin, cpu = time.perf_counter(), time.process_time()
        records += [process(index, image) for index, image in frames[1:]]
        fps = (len(frames) - 1) / (time.perf_counter() - begin)
        clock.cpu_s = time.process_time() - cpu
    finally:
        lite_module.appearance_features = features  # type: ignore[assignment]
    records.append(backend.finish())
    backend.close()
    every = np.concatenate(records)
    return int(np.sum(~every["predicted"])), fps, clock, ledger


def process_cpu_s(pid: int | None) -> float | None:
    """CPU seconds (user + system, all threads) process ``pid`` has used so far; None where there is no ``/proc``."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mediapipe_pose(frames: list[tuple[int, np.ndarray]]) -> tuple[int, float]:
    """Frames MediaPipe's single-person Pose finds a person on, and its frames/s (its first frame excluded)."""
    import cv2
    import mediapipe as mp

    found = 0
    with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1) as pose:
        for k, (_, image) in enumerate(frames):
            if k == 1:
                begin = time.perf_counter()
            result = pose.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
            found += result.pose_landmarks is not None
    return found, (len(frames) - 1) / (time.perf_counter() - begin)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--end", type=int, default=200, help="end frame (exclusive); -1 for the whole video")
    parser.add_argument("--python", default=sys.executable, help="the Python that runs the worker")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4], help="interpreter threads, one run each")
    parser.add_argument("--why", action="store_true", help="model work by reason (first thread count's run)")
    args = parser.parse_args()
    if not args.video.is_file():
        print(f"{args.video}: not found (pass --video)", file=sys.stderr)
        return 2

    stamps: list[tuple[float, int, float | None]] = []
    load_before = os.getloadavg()
    begin = time.perf_counter()
    options = CaptureOptions(backend="lite", start=args.start, end=None if args.end < 0 else args.end)
    with CaptureClient(args.python, args.video, options) as client:
        client.start()
        while not client.finished:
            client.poll()
            done = client.progress[0]
            # From the first frame done on: the worker's start (imports, loading the models) is not its rate.
            if done and (not stamps or done != stamps[-1][1]):
                stamps.append((time.perf_counter(), done, process_cpu_s(client.pid)))
            time.sleep(0.05)
        client.poll()
        if client.error is not None:
            print(f"capture failed: {client.error.message}", file=sys.stderr)
            return 1
        results = client.raw_results()
    total_s = time.perf_counter() - begin
    parts = {}
    tic = time.perf_counter()
    scene = solved(results)
    parts["relink + unstack + gaps + edges + depth + scene solve"] = time.perf_counter() - tic
    tic = time.perf_counter()
    planted = plant_feet(scene)
    parts["foot lock (the fit's depth prior)"] = time.perf_counter() - tic
    tic = time.perf_counter()
    fit_motion(planted)
    parts["temporal fit"] = time.perf_counter() - tic
    load_after = os.getloadavg()

    meta = results.meta
    frames = meta.frame_end - meta.frame_start
    observed = sum(int(np.sum(~t.predicted)) for t in results.tracks)
    if len(stamps) < 2:
        print("too few progress messages to time (a longer slice?)", file=sys.stderr)
        return 1
    (t0, d0, cpu0), (t1, d1, cpu1) = stamps[0], stamps[-1]
    steady_s = t1 - t0
    fps = (d1 - d0) / steady_s
    # Observed records per frame over the whole capture, times the steady frame rate.
    person_fps = observed / frames * fps
    start_s = total_s - steady_s
    print(f"video {args.video.name}: frames {meta.frame_start}..{meta.frame_end - 1} ({frames}), {meta.fps:g} frames/s")
    print(f"machine: {os.cpu_count()} cores, load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    print(f"tracks {len(results.tracks)}, observed person-frames {observed} ({observed / frames:.1f} people per frame)")
    print(f"worker start + first frame {start_s:.1f} s; steady {steady_s:.1f} s for {d1 - d0} frames")
    print(f"frames/s {fps:.2f}  (ratio to the video's {meta.fps:g} frames/s: {fps / meta.fps:.2f})")
    if cpu0 is not None and cpu1 is not None:
        print(f"worker CPU time (all its threads): {1000 * (cpu1 - cpu0) / (d1 - d0):.0f} ms/frame")
    print(f"person-frames/s {person_fps:.1f}")
    print(f"end to end incl. start: {frames / total_s:.2f} frames/s (ratio {frames / total_s / meta.fps:.2f})")
    for name, seconds in parts.items():
        print(f"refinement: {name} {seconds:.2f} s ({100 * seconds / total_s:.1f}% of the capture's {total_s:.1f} s)")
    added = sum(parts.values())
    print(
        f"refinement in all: {added:.2f} s, {100 * added / total_s:.1f}% added to the capture's wall time (goal: <= 25%)"
    )
    with_fit = (d1 - d0) / (steady_s + added * (d1 - d0) / frames)
    print(
        f"frames/s with the refinement (steady capture + refinement, per frame): {with_fit:.2f} "
        f"(ratio to the video's {meta.fps:g} frames/s: {with_fit / meta.fps:.2f}; goal >= 1.0)"
    )

    tic = time.perf_counter()
    frames_in = list(iter_frames(args.video, meta.frame_start, meta.frame_end))
    decode_s = time.perf_counter() - tic
    count = len(frames_in) - 1  # the staged runs and MediaPipe skip the first frame
    print(f"in process, {len(frames_in)} frames decoded up front (rates exclude the first frame):")
    print(f"  stage decode: {1000 * decode_s / len(frames_in):.1f} ms/frame")
    rates = {}
    for threads in args.threads:
        load = os.getloadavg()[0]
        person_frames, rate, clock, ledger = staged_capture(args.video, frames_in, threads, args.why and not rates)
        rates[threads] = (person_frames, rate)
        print(
            f"  1 interpreter x {threads} thread(s): {rate:.2f} frames/s, {person_frames} observed person-frames, "
            f"CPU time {1000 * clock.cpu_s / count:.0f} ms/frame; load average {load:.2f} before, {os.getloadavg()[0]:.2f} after"
        )
        whole = clock.seconds.pop("whole process()")
        for name, seconds in clock.seconds.items():
            calls = clock.items[name]
            extra = f", {calls / count:.1f} {'tiles' if name == 'detector' else 'crops'}/frame" if calls else ""
            print(f"    stage {name}: {1000 * seconds / count:.1f} ms/frame{extra}")
        rest = whole - sum(clock.seconds.values())
        print(f"    stage other (painting out, boxes, gap fill): {1000 * rest / count:.1f} ms/frame")
        print(f"    stage fit (the refinement above, per frame): {1000 * added / frames:.1f} ms/frame")
        print(
            f"    whole process(): {1000 * whole / count:.1f} ms/frame, with the fit {1000 * (whole / count + added / frames):.1f}"
        )
        if ledger is not None:
            print("\n".join(ledger.report()))
    load = os.getloadavg()[0]
    mp_found, mp_rate = mediapipe_pose(frames_in)
    mp_person_fps = mp_found / len(frames_in) * mp_rate
    print(
        f"  MediaPipe Pose (single person): {mp_rate:.2f} frames/s, a person on {mp_found} of {len(frames_in)} frames, "
        f"{mp_person_fps:.1f} person-frames/s; load average {load:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    for threads, (person_frames, rate) in rates.items():
        lite_person_fps = person_frames / len(frames_in) * rate
        ratio = f"{lite_person_fps / mp_person_fps:.2f}" if mp_person_fps > 0 else "n/a (MediaPipe found nobody)"
        print(
            f"  lite at {threads} thread(s): {lite_person_fps:.1f} person-frames/s, "
            f"ratio to MediaPipe Pose {ratio} (frames/s ratio {rate / mp_rate:.2f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
