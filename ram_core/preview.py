"""Drawing results over the video: a preview .mp4 and a contact sheet .png.

Each track is drawn in its colour (:func:`ram_core.contract.colors.track_color_bgr8`, the same as its
armature in Blender): its box, its id, and its skeleton (``joints`` projected with the capture's
intrinsics, bones from the SMPL hierarchy). Frames filled by prediction are drawn dashed, with
hollow joints. Files are written to a temporary name and renamed, so a failure leaves none.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

from ram_core.contract.colors import track_color_bgr8
from ram_core.contract.results import Results, Track
from ram_core.contract.skeleton import PARENTS
from ram_core.video import iter_frames

_DASH_PX = 7
# What the two files can be: OpenCV's mp4v writer and its image writers (another name wrote a broken file or
# failed with a traceback after the whole capture).
PREVIEW_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi")
SHEET_SUFFIXES = (".png", ".jpg", ".jpeg")


def check_names(preview: str | None, contact_sheet: str | None) -> None:
    """ValueError, one line, for a preview not named as a video or a contact sheet not named as an image."""
    if preview and Path(preview).suffix.lower() not in PREVIEW_SUFFIXES:
        raise ValueError(f"--preview {preview}: give a video file name ending {', '.join(PREVIEW_SUFFIXES)}")
    if contact_sheet and Path(contact_sheet).suffix.lower() not in SHEET_SUFFIXES:
        raise ValueError(f"--contact-sheet {contact_sheet}: give an image file name ending {', '.join(SHEET_SUFFIXES)}")


def _dashed_line(image: np.ndarray, p: np.ndarray, q: np.ndarray, color: tuple[int, int, int], thickness: int) -> None:
    length = float(np.hypot(*(q - p)))
    steps = max(1, int(length // _DASH_PX))
    for i in range(0, steps, 2):
        a = p + (q - p) * (i / steps)
        b = p + (q - p) * (min(i + 1, steps) / steps)
        cv2.line(image, _pt(a), _pt(b), color, thickness, cv2.LINE_AA)


def _pt(p: np.ndarray) -> tuple[int, int]:
    return round(float(p[0])), round(float(p[1]))


def _line(image, p, q, color, thickness, dashed: bool) -> None:
    if dashed:
        _dashed_line(image, p, q, color, thickness)
    else:
        cv2.line(image, _pt(p), _pt(q), color, thickness, cv2.LINE_AA)


def project(points: np.ndarray, intrinsics: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixel positions ``(N, 2)`` of camera-frame points ``(N, 3)`` (metres), and which are in front."""
    pts = np.asarray(points, dtype=np.float64)
    in_front = pts[:, 2] > 1e-3
    uvw = pts @ np.asarray(intrinsics, dtype=np.float64).T
    uv = uvw[:, :2] / np.where(in_front, uvw[:, 2], 1.0)[:, None]
    return uv, in_front


def draw_record(image: np.ndarray, track: Track, row: int, intrinsics: np.ndarray) -> None:
    """Draw record ``row`` of ``track`` (box, id, skeleton) onto ``image`` (BGR, in place)."""
    color = track_color_bgr8(track.track_id)
    dashed = bool(track.predicted[row])
    thick = max(1, round(image.shape[0] / 300))
    x1, y1, x2, y2 = (float(v) for v in track.box[row])
    corners = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]])
    for k in range(4):
        _line(image, corners[k], corners[(k + 1) % 4], color, thick, dashed)
    uv, ok = project(track.joints[row], intrinsics)
    for j, parent in enumerate(PARENTS):
        if parent >= 0 and ok[j] and ok[parent]:
            _line(image, uv[parent], uv[j], color, thick + 1, dashed)
    for j in np.flatnonzero(ok):
        cv2.circle(image, _pt(uv[j]), thick + 1, color, thick if dashed else -1, cv2.LINE_AA)
    label = f"{track.track_id}" + ("?" if dashed else "")
    scale = 0.45 * thick
    (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    top = max(int(y1) - th - base - 2, 0)
    cv2.rectangle(image, (int(x1), top), (int(x1) + tw + 4, top + th + base + 2), color, -1)
    cv2.putText(
        image, label, (int(x1) + 2, top + th + 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick, cv2.LINE_AA
    )


def _by_frame(results: Results) -> dict[int, list[tuple[Track, int]]]:
    index: dict[int, list[tuple[Track, int]]] = defaultdict(list)
    for t in results.tracks:
        for row, f in enumerate(t.frame.tolist()):
            index[f].append((t, row))
    return index


def draw_frame(image: np.ndarray, entries: list[tuple[Track, int]], intrinsics: np.ndarray, frame: int) -> np.ndarray:
    """A copy of ``image`` with the given records and the frame number drawn."""
    out = image.copy()
    for track, row in entries:
        draw_record(out, track, row, intrinsics)
    cv2.putText(out, f"{frame}", (8, out.shape[0] - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2, cv2.LINE_AA)
    return out


def _temp_beside(path: Path) -> Path:
    return path.with_name(f".{path.stem}.tmp{path.suffix}")


def write_preview(results: Results, path: str | os.PathLike, video: str | None = None) -> Path:
    """Write the captured frame range of the video with every track drawn, as an .mp4 (mp4v)."""
    path = Path(path)
    meta = results.meta
    index = _by_frame(results)
    tmp = _temp_beside(path)
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), meta.fps, (meta.width, meta.height))
    if not writer.isOpened():
        raise OSError(f"{path}: cannot open a video writer (mp4v)")
    try:
        for f, image in iter_frames(video or meta.video_path, meta.frame_start, meta.frame_end):
            writer.write(draw_frame(image, index.get(f, []), meta.intrinsics, f))
        writer.release()
        os.replace(tmp, path)
    finally:
        writer.release()
        if tmp.exists():
            tmp.unlink()
    return path


def write_contact_sheet(
    results: Results,
    path: str | os.PathLike,
    video: str | None = None,
    count: int = 12,
    columns: int = 4,
    tile_width: int = 480,
) -> Path:
    """Write a grid of ``count`` frames spread evenly over the captured range, tracks drawn, as a PNG."""
    path = Path(path)
    meta = results.meta
    index = _by_frame(results)
    count = max(1, min(count, meta.frame_end - meta.frame_start))
    wanted = set(np.linspace(meta.frame_start, meta.frame_end - 1, count).round().astype(int).tolist())
    tile_h = round(tile_width * meta.height / meta.width)
    tiles = []
    for f, image in iter_frames(video or meta.video_path, meta.frame_start, max(wanted) + 1):
        if f in wanted:
            drawn = draw_frame(image, index.get(f, []), meta.intrinsics, f)
            tiles.append(cv2.resize(drawn, (tile_width, tile_h), interpolation=cv2.INTER_AREA))
    if not tiles:
        raise OSError(f"{path}: no frames could be read from {video or meta.video_path}")
    columns = min(columns, len(tiles))
    rows = math.ceil(len(tiles) / columns)
    sheet = np.zeros((rows * tile_h, columns * tile_width, 3), dtype=np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        sheet[r * tile_h : (r + 1) * tile_h, c * tile_width : (c + 1) * tile_width] = tile
    tmp = _temp_beside(path)
    if not cv2.imwrite(str(tmp), sheet):
        raise OSError(f"{path}: cannot write the image")
    os.replace(tmp, path)
    return path
