"""Render every scenario of ``tools/synth/suite/`` into ``tests/data/synth/<name>/`` (clip.mp4, gt.npz, scenario.json).

Run in the bpy env: ``$(python3 tools/dev.py env blender) tools/synth/make_suite.py [NAME ...]``.
``--preview DIR`` renders at a quarter of the size with one sample into DIR (for checking a scenario's
occlusions quickly); each clip's render time goes to ``tests/data/synth/<name>/render_time.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tools.synth.generate import generate

SUITE = Path(__file__).resolve().parent / "suite"
OUT = ROOT / "tests" / "data" / "synth"


def preview(scenario: dict, scale: float = 0.25) -> dict:
    """``scenario`` at ``scale`` of its size (focal length scaled too), so the geometry is unchanged."""
    cam = {**scenario.get("camera", {})}
    cam["focal_px"] = float(cam.get("focal_px", 600.0)) * scale
    return {**scenario, "width": round(scenario["width"] * scale), "height": round(scenario["height"] * scale),
            "camera": cam}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="scenario names (default: all)")
    ap.add_argument("--preview", type=Path, help="quarter-size, one-sample renders into this folder")
    ap.add_argument("--samples", type=int, default=4)
    args = ap.parse_args()
    files = sorted(SUITE.glob("*.json"))
    if args.names:
        files = [f for f in files if f.stem in args.names]
    for f in files:
        sc = json.loads(f.read_text())
        if args.preview:
            t = generate(preview(sc), args.preview / f.stem, samples=1)
        else:
            t = generate(sc, OUT / f.stem, samples=args.samples)
            (OUT / f.stem / "render_time.json").write_text(json.dumps({k: round(v, 1) for k, v in t.items()}) + "\n")
        print(f.stem, json.dumps({k: round(v, 1) for k, v in t.items()}), flush=True)


if __name__ == "__main__":
    main()
