"""`ram-core track`'s association against boxmot's trackers, each tuned alike, on simulated detections.

Detections are simulated from real pedestrian trajectories: the MOTChallenge ground truth that the
motmetrics 1.4.0 wheel ships (TUD-Campus, TUD-Stadtmitte; motmetrics itself is never imported). Per GT
box: a miss with probability p_miss, raised for boxes mostly covered by a nearer person (occlusion);
Gaussian jitter of centre and size relative to the box; a score drawn high for most true boxes and low
for a few; plus false positives of person-like size with low-to-middling scores. Every tracker sees the
same detections; all are scored by ram_core.eval.track (trackeval).

Trackers: `ram-core track` (ram_core.tracking.mot.track_detections, `MOT_TRACKER`) and boxmot 25.0.0's
ByteTrack, OC-SORT and BoT-SORT, the last without ReID weights (appearance off) and without camera-motion
compensation (the frames are blank). boxmot's Deep OC-SORT runs without weights too, but with appearance and
camera motion off it gave OC-SORT's numbers to the digit on every setting, so it is left out. Each tracker has
a grid of 12 settings of its main thresholds (`GRIDS`, its defaults among them) and each is tuned alike: the
setting with the best HOTA (then fewest ID switches) on the tuning seeds (``--tune-seeds``, default 0-2) of
both sequences is chosen, per variant, and printed; the results are reported on other seeds (``--seeds``,
default 10-19) per sequence and combined. Four variants:
``normal`` (every frame, 25 frames/s) and ``fast`` (every 3rd frame of the ground truth, 25/3 frames/s: the
same people move three times as far between frames; boxmot's frame rate is set to match and the gaps that
``+ interpolation`` fills are a third as long), and ``normal-cut`` and ``fast-cut``, the same with a real
detector's boxes of partly hidden people: cut to the part not hidden by a nearer person or by one of two
static objects over the walkers' legs, and missed under 30% visible (`CutConfig`; the same random draws, so
only those boxes differ; the ground truth keeps the full boxes). The goal (issue 12): on both variants, HOTA at least 3 points
above the best peer (by HOTA) and at most half its ID switches; the last lines say where it is met. Ours is an
offline command (a track's tentative first frames are written once it is confirmed), the peers are online;
'+ interp.' fills every tracker's gaps alike. Ours' fixed settings (`MOT_TRACKER`, `TrackerConfig`) were
chosen on the tuning seeds (TUD-Campus seeds 0-9 for the older ones, both sequences seeds 0-2 for
front_bonus, seeds 0-9 for direction_weight, max_height_ratio, agile's vertical and size velocity noise and the
offline re-link, `ram_core.tracking.relink`, which ours runs at the variant's frame rate; ``--no-relink`` leaves it
out; seeds 0-2 of all four variants for cut_edge and the swap repair, `ram_core.tracking.swaps`, ``--no-swaps``
leaves it out); seeds >= 10 were never used to tune anything.

Run it in its own environment (boxmot is AGPL-3.0: benchmark-only, never imported by ram_core):

    python3.11 -m venv /tmp/envs/trackbench
    /tmp/envs/trackbench/bin/pip install -r requirements/track-bench.txt
    pip download --no-deps motmetrics==1.4.0 -d /tmp/dl && unzip -o /tmp/dl/motmetrics-1.4.0-*.whl 'motmetrics/data/*' -d /tmp/dl/motm
    PYTHONPATH=. /tmp/envs/trackbench/bin/python benchmarks/track_vs_peers.py --data /tmp/dl/motm/motmetrics/data \\
        --cache /tmp/track_vs_peers_cache

``--cache DIR`` keeps each peer's output per setting, sequence, seed and variant (the peers' code does not
change between runs; ours is always rerun). A whole run takes about ten minutes on one core.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ram_core.eval.track import TrackScores, evaluate_sequences
from ram_core.tracking.association import with_association
from ram_core.tracking.boxes import intersection_matrix, xywh_to_xyxy, xyxy_to_xywh
from ram_core.tracking.kalman import KalmanConfig
from ram_core.tracking.mot import (
    MOT_RELINK,
    MOT_SWAPS,
    MOT_TRACKER,
    MotTable,
    interpolate_gaps,
    read_mot,
    track_detections,
)
from ram_core.tracking.tracker import TrackerConfig

IMAGE_SIZE = (480, 640)  # TUD sequences are 640x480
FPS = 25


@dataclass(frozen=True)
class SimConfig:
    """Detection noise. Stds are fractions of the box width/height; rates are per GT box or per frame."""

    p_miss: float = 0.10
    p_miss_occluded: float = 0.6
    occlusion_ioa: float = 0.5
    centre_std: float = 0.04
    size_std: float = 0.05
    p_low_score: float = 0.15
    fp_per_frame: float = 0.8


@dataclass(frozen=True)
class CutConfig:
    """How a detector sees a person partly hidden by a nearer person or object (the ``-cut`` variants): the box
    is cut to the part it sees, as real detectors do (a pedestrian's head and trunk above a parked car).

    ``objects`` static occluders per sequence and seed (a car, a hedge, a counter), each as wide as ``width``
    times a random ground-truth box and covering it from ``top`` of its height (a random fraction in that range)
    down to its feet: whoever walks there or further away is hidden below that line. The box is split into a
    grid of ``grid`` (rows, columns) cells, a cell hidden when it lies inside a nearer person's box (one whose
    feet are lower in the image) or an object's (whose bottom is lower). A row (column) is hidden when more than
    ``row_hidden`` of its cells are; the box keeps whichever keeps more visible cells of: its longest run of
    visible rows, then of those rows' visible columns, or its longest run of visible columns, then of those
    columns' visible rows. A box with less than ``min_visible`` of its cells visible is not detected."""

    objects: int = 2
    width: tuple[float, float] = (2.0, 5.0)
    top: tuple[float, float] = (0.35, 0.65)
    grid: tuple[int, int] = (20, 10)
    row_hidden: float = 0.5
    min_visible: float = 0.3


def occluders(gt: MotTable, cfg: CutConfig, rng: np.random.Generator) -> np.ndarray:
    """(cfg.objects, 4) xyxy static occluders placed over the legs of random ground-truth boxes."""
    out = []
    for _ in range(cfg.objects):
        x, y, w, h = gt.boxes[rng.integers(len(gt.boxes))]
        half = 0.5 * w * rng.uniform(*cfg.width)
        out.append([x + 0.5 * w - half, y + h * rng.uniform(*cfg.top), x + 0.5 * w + half, y + h + 1.0])
    return np.asarray(out, np.float64).reshape(-1, 4)


def _longest_run(mask: np.ndarray) -> tuple[int, int]:
    """(start, stop) of the longest run of True in a 1-D mask; (0, 0) when none."""
    best, start = (0, 0), None
    for i, v in enumerate([*mask.tolist(), False]):
        if v and start is None:
            start = i
        elif not v and start is not None:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    return best


def visible_part(xyxy: np.ndarray, cfg: CutConfig, objects: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 4) xyxy boxes cut to what a detector sees of each behind the nearer ones and the ``objects`` (M, 4)
    xyxy (a box with nothing hidden as it was) and (N,) the visible fraction of each box's cells."""
    rows, cols = cfg.grid
    out = xyxy.astype(np.float64).copy()
    visible = np.ones(len(xyxy))
    everything = np.concatenate([xyxy, objects])
    for i, (x1, y1, x2, y2) in enumerate(xyxy):
        nearer = everything[(everything[:, 3] > y2) & (np.arange(len(everything)) != i)]
        if not len(nearer):
            continue
        ys = y1 + (np.arange(rows) + 0.5) * (y2 - y1) / rows
        xs = x1 + (np.arange(cols) + 0.5) * (x2 - x1) / cols
        hidden = np.zeros((rows, cols), bool)
        for n in nearer:
            hidden |= ((ys >= n[1]) & (ys <= n[3]))[:, None] & ((xs >= n[0]) & (xs <= n[2]))[None, :]
        visible[i] = 1.0 - hidden.mean()
        if not hidden.any():
            continue
        r0, r1 = _longest_run(hidden.mean(axis=1) <= cfg.row_hidden)
        c0, c1 = _longest_run(hidden[r0:r1].sum(axis=0) <= cfg.row_hidden * (r1 - r0))
        across = _longest_run(hidden.mean(axis=0) <= cfg.row_hidden)
        down = _longest_run(hidden[:, across[0] : across[1]].sum(axis=1) <= cfg.row_hidden * (across[1] - across[0]))
        if (~hidden[down[0] : down[1], across[0] : across[1]]).sum() > (~hidden[r0:r1, c0:c1]).sum():
            (r0, r1), (c0, c1) = down, across
        h, w = (y2 - y1) / rows, (x2 - x1) / cols
        out[i] = [x1 + c0 * w, y1 + r0 * h, x1 + c1 * w, y1 + r1 * h]
    return out, visible


def simulate(
    gt: MotTable, cfg: SimConfig, rng: np.random.Generator, cut: CutConfig | None = None, objects: np.ndarray = None
) -> MotTable:
    """Noisy detections (id -1) from ground-truth boxes; with ``cut``, the boxes of people partly hidden (by
    nearer people or the ``objects``, (M, 4) xyxy) are cut to their visible part (the random draws are the same
    as without, so only those boxes differ)."""
    frames, boxes, conf = [], [], []
    sizes = gt.boxes[:, 2:]
    last = int(gt.frames.max())
    for f in range(1, last + 1):
        g = gt.boxes[gt.frames == f]
        if len(g):
            xyxy = xywh_to_xyxy(g)
            # A box is occluded when a person whose feet are lower in the image (nearer) covers most of it.
            inter = intersection_matrix(xyxy, xyxy)
            np.fill_diagonal(inter, 0)
            area = g[:, 2] * g[:, 3]
            nearer = xyxy[None, :, 3] > xyxy[:, None, 3]
            occluded = ((inter / area[:, None]) * nearer).max(axis=1) > cfg.occlusion_ioa
            p = np.where(occluded, cfg.p_miss_occluded, cfg.p_miss)
            keep = rng.random(len(g)) >= p
            seen = np.ones(len(g), bool)
            if cut is not None:
                part, visible = visible_part(xyxy, cut, np.zeros((0, 4)) if objects is None else objects)
                g, seen = xyxy_to_xywh(part), visible >= cut.min_visible
            for b, shown in zip(g[keep], seen[keep]):
                c = b[:2] + b[2:] / 2 + rng.normal(0, cfg.centre_std, 2) * b[2:]
                s = b[2:] * np.exp(rng.normal(0, cfg.size_std, 2))
                low = rng.random() < cfg.p_low_score
                score = rng.uniform(0.15, 0.5) if low else rng.uniform(0.55, 0.98)
                if not shown:
                    continue
                frames.append(f)
                boxes.append(np.concatenate([c - s / 2, s]))
                conf.append(score)
        for _ in range(rng.poisson(cfg.fp_per_frame)):
            s = sizes[rng.integers(len(sizes))] * rng.uniform(0.6, 1.2)
            xy = rng.uniform([0, 0], [IMAGE_SIZE[1] - s[0], IMAGE_SIZE[0] - s[1]])
            frames.append(f)
            boxes.append(np.concatenate([xy, s]))
            conf.append(rng.uniform(0.1, 0.65))
    n = len(frames)
    return MotTable(np.asarray(frames, np.int64), -np.ones(n, np.int64), np.asarray(boxes), np.asarray(conf)).sorted()


@dataclass(frozen=True)
class Variant:
    """Every ``step``-th frame of the ground truth (frames renumbered from 1), at FPS / step frames/s; with
    ``cut``, partly hidden people's boxes cut to their visible part (`CutConfig`)."""

    name: str
    step: int
    cut: bool = False

    @property
    def fps(self) -> float:
        return FPS / self.step


VARIANTS = (Variant("normal", 1), Variant("fast", 3), Variant("normal-cut", 1, True), Variant("fast-cut", 3, True))
OURS = "ram-core track"


def _grid(**axes: tuple) -> list[dict]:
    return [dict(zip(axes, values)) for values in itertools.product(*axes.values())]


#: 12 settings per tracker over its main thresholds, its defaults among them. Ours: how many matched frames
#: confirm a track (its first frames are written once it is), the Kalman noise (`KalmanConfig` or its `agile`
#: variant) and how long a track coasts (`MOT_TRACKER` otherwise).
#: OC-SORT's min_hits: it reports a track only after that many consecutive matched frames, so at 3 every missed
#: detection hides the person for 3 frames more (its default; 1 reports every matched frame, as the others do).
GRIDS: dict[str, list[dict]] = {
    OURS: _grid(confirm_hits=(2, 3), kalman=("default", "agile"), max_coast_frames=(15, 30, 60)),
    "ByteTrack": _grid(track_thresh=(0.45, 0.6), match_thresh=(0.7, 0.8, 0.9), track_buffer=(25, 50)),
    "OcSort": _grid(det_thresh=(0.3, 0.5), iou_threshold=(0.2, 0.3, 0.4), min_hits=(1, 3)),
    "BotSort": _grid(track_high_thresh=(0.5, 0.6), match_thresh=(0.7, 0.8, 0.9), track_buffer=(30, 60)),
}


def subsample(gt: MotTable, step: int) -> MotTable:
    """Ground truth on frames 1, 1 + step, 1 + 2 step, ..., renumbered 1, 2, 3, ..."""
    keep = (gt.frames - 1) % step == 0
    return MotTable((gt.frames[keep] - 1) // step + 1, gt.ids[keep], gt.boxes[keep], gt.conf[keep])


def ours_config(params: dict, base: TrackerConfig = MOT_TRACKER) -> TrackerConfig:
    """`TrackerConfig` (``base``) with one grid setting applied."""
    kalman = KalmanConfig.agile() if params["kalman"] == "agile" else KalmanConfig()
    cfg = replace(base, confirm_hits=params["confirm_hits"])
    return with_association(cfg, kalman=kalman, max_coast_frames=params["max_coast_frames"])


def make_peer(name: str, params: dict, fps: float) -> Any:
    """A boxmot tracker with one grid setting; appearance and camera-motion compensation off where it has them."""
    import boxmot

    rate = max(1, round(fps))
    if name == "ByteTrack":
        return boxmot.ByteTrack(frame_rate=rate, **params)
    if name == "OcSort":
        return boxmot.OcSort(**params)
    if name == "BotSort":
        return boxmot.BotSort(use_embeddings=False, use_cmc=False, frame_rate=rate, **params)
    raise ValueError(f"unknown peer {name}")


def run_peer(name: str, params: dict, dets: MotTable, last: int, fps: float) -> MotTable:
    """Run a boxmot tracker frame by frame over frames 1..last."""
    tracker = make_peer(name, params, fps)
    image = np.zeros((*IMAGE_SIZE, 3), np.uint8)
    starts = np.searchsorted(dets.frames, np.arange(1, last + 2))
    frames, ids, boxes, conf = [], [], [], []
    for f in range(1, last + 1):
        sl = slice(starts[f - 1], starts[f])
        n = sl.stop - sl.start
        d = np.concatenate([xywh_to_xyxy(dets.boxes[sl]), dets.conf[sl, None], np.zeros((n, 1))], axis=1)
        out = np.asarray(tracker.update(d.reshape(-1, 6), image)).reshape(-1, 8)
        frames += [f] * len(out)
        ids += out[:, 4].astype(int).tolist()
        boxes += list(out[:, :4])
        conf += out[:, 5].tolist()
    if not frames:
        return MotTable.empty()
    return MotTable(
        np.asarray(frames, np.int64), np.asarray(ids, np.int64), xyxy_to_xywh(np.stack(boxes)), np.asarray(conf)
    )


class Runner:
    """Simulated detections and tracker outputs, kept in memory and (for peers) in an optional cache folder."""

    def __init__(
        self,
        data: Path,
        sim: SimConfig,
        cache: Path | None,
        relink: bool = True,
        ours: TrackerConfig = MOT_TRACKER,
        swaps: bool = True,
    ) -> None:
        self.sim = sim
        self.cut = CutConfig()
        self.ours = ours
        self.cache = cache
        self.relink = MOT_RELINK if relink else None
        self.swaps = MOT_SWAPS if swaps else None
        self.gt = {s: read_mot(data / s / "gt.txt") for s in ("TUD-Campus", "TUD-Stadtmitte")}
        self._dets: dict[tuple, tuple[MotTable, MotTable, int]] = {}
        self.seconds: dict[str, float] = {}
        self.frames: dict[str, int] = {}
        if cache is not None:
            cache.mkdir(parents=True, exist_ok=True)

    def detections(self, seq: str, seed: int, variant: Variant) -> tuple[MotTable, MotTable, int]:
        """(ground truth, detections, last frame) of one sequence, seed and variant."""
        key = (seq, seed, variant.step, variant.cut)
        if key not in self._dets:
            gt = subsample(self.gt[seq], variant.step)
            cut = self.cut if variant.cut else None
            objects = occluders(self.gt[seq], self.cut, np.random.default_rng([seed, 1])) if cut else None
            dets = simulate(gt, self.sim, np.random.default_rng(seed), cut, objects)
            self._dets[key] = (gt, dets, int(gt.frames.max()))
        return self._dets[key]

    def track(self, tracker: str, params: dict, seq: str, seed: int, variant: Variant) -> MotTable:
        _, dets, last = self.detections(seq, seed, variant)
        path = None
        if tracker != OURS and self.cache is not None:
            import boxmot

            sim = repr(self.sim) + (repr(self.cut) if variant.cut else "")
            key = json.dumps([tracker, params, seq, seed, variant.step, sim, boxmot.__version__])
            path = self.cache / f"{hashlib.sha1(key.encode()).hexdigest()}.npz"
            if path.is_file():
                with np.load(path) as z:
                    return MotTable(z["frames"], z["ids"], z["boxes"], z["conf"])
        t0 = time.perf_counter()
        if tracker == OURS:
            cfg = ours_config(params, self.ours)
            pred = track_detections(dets, cfg, relink=self.relink, fps=variant.fps, swaps=self.swaps)
        else:
            pred = run_peer(tracker, params, dets, last, variant.fps)
        self.seconds[tracker] = self.seconds.get(tracker, 0.0) + time.perf_counter() - t0
        self.frames[tracker] = self.frames.get(tracker, 0) + last
        if path is not None:
            np.savez(path, frames=pred.frames, ids=pred.ids, boxes=pred.boxes, conf=pred.conf)
        return pred

    def score(
        self, tracker: str, params: dict, seqs: list[str], seeds: list[int], variant: Variant, fill: int = 0
    ) -> TrackScores:
        runs = []
        for seq in seqs:
            for seed in seeds:
                gt, _, last = self.detections(seq, seed, variant)
                pred = self.track(tracker, params, seq, seed, variant)
                runs.append((gt, interpolate_gaps(pred, fill), last))
        return evaluate_sequences(runs)


def tune(runner: Runner, tracker: str, seqs: list[str], seeds: list[int], variant: Variant) -> tuple[dict, TrackScores]:
    """The grid setting with the best HOTA (then fewest ID switches) on the tuning seeds, and its scores."""
    scored = [(p, runner.score(tracker, p, seqs, seeds, variant)) for p in GRIDS[tracker]]
    return max(scored, key=lambda ps: (round(ps[1].hota, 6), -ps[1].idsw))


def _params(p: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in p.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="motmetrics/data folder holding TUD-*/gt.txt")
    parser.add_argument("--sequences", nargs="+", default=["TUD-Campus", "TUD-Stadtmitte"])
    parser.add_argument("--seeds", nargs="+", type=int, default=list(range(10, 20)), help="seeds reported")
    parser.add_argument("--tune-seeds", nargs="+", type=int, default=[0, 1, 2], help="seeds the grids are scored on")
    parser.add_argument("--peers", nargs="*", default=["ByteTrack", "OcSort", "BotSort"])
    parser.add_argument("--variants", nargs="+", default=[v.name for v in VARIANTS], choices=[v.name for v in VARIANTS])
    parser.add_argument("--fill-gaps", type=int, default=10, help="gap length (frames at 25/s) for '+ interpolation'")
    parser.add_argument("--cache", type=Path, default=None, help="folder keeping the peers' outputs between runs")
    parser.add_argument("--no-relink", action="store_true", help="ours without its offline re-linking (to measure it)")
    parser.add_argument("--no-swaps", action="store_true", help="ours without its offline swap repair (to measure it)")
    parser.add_argument(
        "--max-height-ratio", type=float, default=None, help="ours with this height gate (inf: off; to measure it)"
    )
    parser.add_argument("--cut-edge", type=float, default=None, help="ours with this cut_edge (0: off; to measure it)")
    args = parser.parse_args()
    if set(args.tune_seeds) & set(args.seeds):
        parser.error("the reported seeds must differ from the tuning seeds")
    logging.disable(logging.WARNING)
    try:
        from loguru import logger

        logger.remove()
    except ImportError:
        pass

    ours = MOT_TRACKER
    if args.max_height_ratio is not None:
        ours = replace(ours, max_height_ratio=args.max_height_ratio)
    if args.cut_edge is not None:
        ours = replace(ours, cut_edge=args.cut_edge)
    runner = Runner(args.data, SimConfig(), args.cache, relink=not args.no_relink, ours=ours, swaps=not args.no_swaps)
    trackers = [OURS, *args.peers]
    print(f"simulated detections: {runner.sim}; '-cut' variants: {runner.cut}")
    print(f"ours: max_height_ratio {ours.max_height_ratio}, cut_edge {ours.cut_edge}")
    print(f"tuning seeds {args.tune_seeds} ({', '.join(args.sequences)}); reported seeds {args.seeds}")
    print("each row combines all its seeds (trackeval combine_sequences); '+ interp.': gaps filled linearly\n")
    verdicts: list[str] = []
    for variant in (v for v in VARIANTS if v.name in args.variants):
        fill = round(args.fill_gaps / variant.step)
        print(f"=== {variant.name}: every {variant.step} frame(s), {variant.fps:.1f} frames/s, interpolation {fill}")
        chosen: dict[str, dict] = {}
        for t in trackers:
            chosen[t], s = tune(runner, t, args.sequences, args.tune_seeds, variant)
            print(f"  tuned {t:14s} {_params(chosen[t]):58s} HOTA {s.hota:6.2f} IDSW {s.idsw:4d}")
        for seq in [*args.sequences, "all"]:
            seqs = args.sequences if seq == "all" else [seq]
            print(f"  -- {seq}, seeds {args.seeds[0]}-{args.seeds[-1]}")
            for f, suffix in ((0, ""), (fill, " + interp.")):
                scores = {t: runner.score(t, chosen[t], seqs, args.seeds, variant, f) for t in trackers}
                for t in trackers:
                    print(f"    {t + suffix:26s} {scores[t].format()}")
                if not args.peers:
                    continue
                best = max(args.peers, key=lambda p: scores[p].hota)
                fewest = min(scores[p].idsw for p in args.peers)
                ours = scores[OURS]
                dh = ours.hota - scores[best].hota
                ratio = ours.idsw / max(scores[best].idsw, 1)
                met = "met" if dh >= 3.0 and ratio <= 0.5 else "NOT met"
                line = (
                    f"{variant.name:6s} {seq:14s}{suffix:10s} vs {best:9s} HOTA {dh:+5.2f}, "
                    f"IDSW {ours.idsw}/{scores[best].idsw} = {ratio:.2f}x: {met} (fewest IDSW of any peer {fewest})"
                )
                print(f"    {line}")
                verdicts.append(line)
        print()
    print("goal: HOTA >= the best peer's (by HOTA) + 3 points and IDSW <= 0.5x that peer's:")
    for line in verdicts:
        print(f"  {line}")
    per_frame = ", ".join(
        f"{t} {1000 * runner.seconds[t] / runner.frames[t]:.2f}" for t in trackers if runner.frames.get(t)
    )
    print(f"\ntime per frame (ms, tracking only, runs not read from the cache): {per_frame}")


if __name__ == "__main__":
    main()
