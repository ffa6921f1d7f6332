"""Track people through MOTChallenge detections with SegFollow's association (Kalman, gated selection).

Reads detections as MOTChallenge text (frame,id,x,y,w,h,conf,...; frames from 1; id ignored) and writes
tracks in the same format. The whole file is tracked before writing, so a track's first (tentative)
frames are kept once it is confirmed, a track that continues one lost a moment before takes its id
(`ram_core.tracking.relink`, off with --no-relink), and with --fill-gaps N short gaps inside a track are
filled by linear interpolation (conf 0); --fill-gaps 0 writes only frames with an associated detection.
The re-link's gaps are in seconds: the frame rate is --fps, else the sequence's seqinfo.ini (MOTChallenge's
SEQ/seqinfo.ini beside SEQ/det/det.txt), else 25; the last line says which.
"""

from __future__ import annotations

import argparse
import math
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
    parser.add_argument(
        "--fps",
        type=float,
        default=None,
        help="frame rate of the detections (default: frameRate of the sequence's seqinfo.ini, beside the file "
        "or one folder up, else 25)",
    )
    parser.add_argument("--no-relink", action="store_true", help="keep tracklets apart (no offline re-linking)")


def run(args: argparse.Namespace) -> int:
    from ram_core.commands import CommandError
    from ram_core.tracking.association import with_association
    from ram_core.tracking.mot import (
        MOT_FPS,
        MOT_RELINK,
        MOT_TRACKER,
        read_mot,
        sequence_fps,
        track_detections,
        write_mot,
    )

    if not args.dets.is_file():
        raise CommandError(f"{args.dets}: no such file (--dets)")
    if args.fill_gaps < 0:
        raise CommandError("--fill-gaps must be >= 0")
    if args.max_coast is not None and args.max_coast < 0:
        raise CommandError("--max-coast must be >= 0")
    if args.fps is not None and not (math.isfinite(args.fps) and args.fps > 0):
        raise CommandError("--fps must be a number > 0")
    if args.output.is_dir():
        raise CommandError(f"{args.output}: is a folder, expected a file name")
    if not args.output.parent.resolve().is_dir():
        raise CommandError(f"{args.output.parent}: output folder does not exist")
    if args.fps is not None:
        fps, fps_from = args.fps, "--fps"
    elif found := sequence_fps(args.dets):
        fps, fps_from = found[0], str(found[1])
    else:
        fps, fps_from = MOT_FPS, "assumed: no seqinfo.ini; --fps to set it"
    cfg = MOT_TRACKER
    if args.max_coast is not None:
        cfg = with_association(cfg, max_coast_frames=args.max_coast)
    dets = read_mot(args.dets)
    relink = None if args.no_relink else MOT_RELINK
    tracks = track_detections(dets, cfg, fill_gaps=args.fill_gaps, relink=relink, fps=fps)
    tmp = args.output.with_name(args.output.name + ".part")
    try:
        write_mot(tmp, tracks)
        tmp.replace(args.output)
    finally:
        tmp.unlink(missing_ok=True)
    n_frames = int(dets.frames.max()) if len(dets) else 0
    print(
        f"{len(set(tracks.ids.tolist()))} tracks, {len(tracks)} boxes over {n_frames} frames at {fps:g} fps "
        f"({fps_from}) -> {args.output}"
    )
    return 0
