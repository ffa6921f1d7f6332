"""Track people through MOTChallenge detections with SegFollow's association (Kalman, gated selection).

Reads detections as MOTChallenge text (frame,id,x,y,w,h,conf,...; frames from 1; id ignored) and writes
tracks in the same format. The whole file is tracked before writing, so a track's first (tentative)
frames are kept once it is confirmed, a track that continues one lost a moment before takes its id
(`ram_core.tracking.relink`, off with --no-relink), and with --fill-gaps N short gaps inside a track are
filled by linear interpolation (conf 0); --fill-gaps 0 writes only frames with an associated detection.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dets", required=True, type=Path, help="detections, MOTChallenge text")
    parser.add_argument("-o", "--output", required=True, type=Path, help="tracks to write, MOTChallenge text")
    parser.add_argument(
        "--fill-gaps", type=int, default=10, metavar="N", help="interpolate gaps of up to N frames (default 10)"
    )
    parser.add_argument(
        "--max-coast", type=int, default=None, metavar="F", help="end a track after F frames without an update"
    )
    parser.add_argument("--fps", type=float, default=25.0, help="frame rate of the detections (default 25)")
    parser.add_argument("--no-relink", action="store_true", help="keep tracklets apart (no offline re-linking)")


def run(args: argparse.Namespace) -> int:
    from ram_core.commands import CommandError
    from ram_core.tracking.association import with_association
    from ram_core.tracking.mot import MOT_RELINK, MOT_TRACKER, read_mot, track_detections, write_mot

    if not args.dets.is_file():
        raise CommandError(f"no such detection file: {args.dets}")
    if args.fill_gaps < 0:
        raise CommandError("--fill-gaps must be >= 0")
    if not args.fps > 0:
        raise CommandError("--fps must be > 0")
    if not args.output.parent.resolve().is_dir():
        raise CommandError(f"output folder does not exist: {args.output.parent}")
    cfg = MOT_TRACKER
    if args.max_coast is not None:
        cfg = with_association(cfg, max_coast_frames=args.max_coast)
    dets = read_mot(args.dets)
    relink = None if args.no_relink else MOT_RELINK
    tracks = track_detections(dets, cfg, fill_gaps=args.fill_gaps, relink=relink, fps=args.fps)
    tmp = args.output.with_name(args.output.name + ".part")
    write_mot(tmp, tracks)
    tmp.replace(args.output)
    n_frames = int(dets.frames.max()) if len(dets) else 0
    print(f"{len(set(tracks.ids.tolist()))} tracks, {len(tracks)} boxes over {n_frames} frames -> {args.output}")
    return 0
