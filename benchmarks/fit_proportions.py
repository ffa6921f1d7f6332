"""What per-person limb proportions give the temporal body fit, on the synthetic suite's kept captures.

The same refinement (``ram_core.scene.refine.settle``, then ``ram_core.scene.fit.fit_motion``) of each kept
capture's raw records, three times, the fit keeping a different skeleton per track:

* ``default``: the capture's rest skeleton times the track's size (what the refinement does);
* ``true``: the person's true bone lengths (the scenario's body template, ``tools/synth/bodies.npz``), along
  the capture's skeleton's bone directions and scaled to the track's solved height: the upper bound of what
  proportions can give;
* ``estimated``: ``ram_core.scene.proportions.estimate_proportions`` from the track's own keypoints;
* ``true+2D``: the true bone lengths and the ground truth's own pixels in place of the backend's 2D keypoints
  (their weights kept): how far exact bones and exact 2D take the fit, which the landmarks' 2D (about 3 px
  off, 30-50 mm at these people's distance) keeps it from.

It prints PA-MPJPE and root-relative MPJPE (mm) per clip beside the raw-landmark baseline on the same
person-frames (as ``benchmarks/synthetic_suite.py`` scores them), then the tuning clips', the held-out clips'
and all clips' figures, and how far each estimate is from the truth (rms of the bone-length factors)::

    PYTHONPATH=. python benchmarks/fit_proportions.py KEPT [--suite tests/data/synth] [--tuning a,b]

``KEPT`` is a ``benchmarks/synthetic_suite.py --keep`` folder (``KEPT/<clip>/raw.ram.npz`` and
``baseline.ram.npz``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ram_core.contract.results import Results, load_results
from ram_core.eval.capture import ClipParts, clip_parts, combine, dense_tracks, load_gt, match
from ram_core.scene.fit import fit_motion
from ram_core.scene.proportions import LIMB_PAIRS, bone_lengths, estimate_proportions, proportioned_skeleton
from ram_core.scene.refine import settle

BODIES = ROOT / "tools" / "synth" / "bodies.npz"
VARIANTS = ("default", "true", "estimated", "true+2D")
#: The templates' body frame (x to the body's right, y forward, z up) into SMPL's (x left, y up, z forward).
TEMPLATE_TO_SMPL = np.array([[-1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])


def person_of_track(gt: dict[str, np.ndarray], results: Results) -> dict[int, int]:
    """Track id -> the ground-truth person it was matched to on most frames (the capture scorer's matching)."""
    ids, _joints, boxes = dense_tracks(results, int(gt["present"].shape[1]))
    gt_boxes = np.where(gt["present"][..., None], gt["box_amodal"].astype(np.float64), np.nan)
    assign, _dup = match(gt_boxes, boxes)
    out: dict[int, int] = {}
    for k, track_id in enumerate(ids.tolist()):
        votes = np.count_nonzero(assign == k, axis=1)
        if votes.max() > 0:
            out[track_id] = int(np.argmax(votes))
    return out


def true_factors(clip: Path, person: int, rest_joints: np.ndarray) -> np.ndarray:
    """``(24,)`` the person's bone lengths over ``rest_joints``'s, both at the same standing height."""
    people = json.loads((clip / "scenario.json").read_text())["people"]
    with np.load(BODIES, allow_pickle=False) as z:
        names = [str(n) for n in z["names"]]
        template = z["rest_joints"][names.index(people[person]["body"])].astype(np.float64) @ TEMPLATE_TO_SMPL.T
    rest = np.asarray(rest_joints, dtype=np.float64)
    lengths = bone_lengths(template)
    own = bone_lengths(rest)
    skeleton = proportioned_skeleton(rest, np.where(own > 0, lengths / np.maximum(own, 1e-12), 1.0))
    return np.where(own > 0, bone_lengths(skeleton) / np.maximum(own, 1e-12), 1.0)


def with_true_pixels(gt: dict[str, np.ndarray], results: Results, owner: dict[int, int]) -> Results:
    """``results`` with each matched track's 2D keypoints moved onto its person's true pixels where present."""
    tracks = []
    for t in results.tracks:
        arrays = t.arrays()
        if t.track_id in owner:
            person = owner[t.track_id]
            present = gt["present"][person][t.frame]
            pixels = arrays["keypoints_2d"].copy()
            pixels[present, :, :2] = gt["joints_2d"][person][t.frame[present]]
            arrays["keypoints_2d"] = pixels
        tracks.append(type(t)(t.track_id, **arrays))
    return Results(results.meta, tracks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kept", type=Path)
    parser.add_argument("--suite", type=Path, default=ROOT / "tests" / "data" / "synth")
    parser.add_argument("--tuning", default="couple,pillar,toward_away,crouch")
    args = parser.parse_args(argv)
    tuning = [n for n in args.tuning.split(",") if n]
    clips = sorted(p for p in args.suite.iterdir() if (p / "gt.npz").is_file() and (args.kept / p.name).is_dir())
    parts: dict[str, dict[str, ClipParts]] = {}
    limbs = [k for pair in LIMB_PAIRS for k in pair]
    errors: list[np.ndarray] = []
    spread: list[np.ndarray] = []
    print("mm; per group: PA-MPJPE, its ratio to the baseline's, root-relative MPJPE")
    print(f"{'clip':15s} " + " ".join(f"{v + ' PA':>13s} {'RR':>6s}" for v in (*VARIANTS, "baseline")))
    for clip in clips:
        gt = load_gt(clip / "gt.npz")
        settled = settle(load_results(args.kept / clip.name / "raw.ram.npz"))
        meta = settled.meta
        owner = person_of_track(gt, settled)
        truth = {t: true_factors(clip, p, meta.rest_joints) for t, p in owner.items()}
        skeletons = {
            "default": {},
            "true": {t: proportioned_skeleton(meta.rest_joints, f) for t, f in truth.items()},
            "estimated": {},
        }
        for t in settled.tracks:
            factors = estimate_proportions(t, meta.rest_joints, np.asarray(meta.intrinsics))
            skeletons["estimated"][t.track_id] = proportioned_skeleton(meta.rest_joints, factors)
            if t.track_id in truth:
                errors.append(factors[limbs] - truth[t.track_id][limbs])
                spread.append(1.0 - truth[t.track_id][limbs])
        skeletons["true+2D"] = skeletons["true"]
        exact = with_true_pixels(gt, settled, owner)
        ours = {
            v: clip_parts(gt, fit_motion(exact if v == "true+2D" else settled, skeletons=skeletons[v]))
            for v in VARIANTS
        }
        base = clip_parts(gt, load_results(args.kept / clip.name / "baseline.ram.npz"), mask=ours["default"].matched)
        parts[clip.name] = {**ours, "baseline": base}
        cells = []
        for v in (*VARIANTS, "baseline"):
            s = combine([parts[clip.name][v]], per_person=False).overall
            cells.append(f"{s.pa_mpjpe_mm:13.1f} {s.mpjpe_mm:6.1f}")
        print(f"{clip.name:15s} " + " ".join(cells))
    groups = {
        "tuning": [n for n in parts if n in tuning],
        "held out": [n for n in parts if n not in tuning],
        "all": list(parts),
    }
    for label, names in groups.items():
        if not names:
            continue
        base = combine([parts[n]["baseline"] for n in names], per_person=False).overall
        cells = []
        for v in (*VARIANTS, "baseline"):
            s = combine([parts[n][v] for n in names], per_person=False).overall
            cells.append(f"{s.pa_mpjpe_mm:7.1f} {s.pa_mpjpe_mm / base.pa_mpjpe_mm:5.2f} {s.mpjpe_mm:6.1f}")
        print(f"{label:15s} " + " ".join(cells))
    if errors:
        e, d = np.array(errors), np.array(spread)
        print(
            f"limb bone factors off the truth (rms, {len(e)} tracks): estimated {np.sqrt(np.mean(e**2)):.3f}, "
            f"the capture's skeleton {np.sqrt(np.mean(d**2)):.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
