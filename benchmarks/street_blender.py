"""The street clip as Blender shows it: feet on the floor, steady depth, planted feet, walking speeds.

Opens a .blend made by ``python3 tools/dev.py demo`` (default ``out/demo/vtest_clip.blend``), steps
the scene through its frames (``frame_set``: what Blender shows, the NLA and constraints included) and
reads, per person, the world positions of the pelvis and the two foot joints (SMPL's ``left_foot`` /
``right_foot``, the ball of the foot), the contact curves on the armature data (``ram_contact_left`` /
``ram_contact_right``, at least 0.5 is contact) and ``ram_predicted``. Only observed frames count (in
the track's range, not predicted). Per person, against the goals of issue 11:

* floor: the lower foot joint's height (world z) each frame, p5, within +-5 cm of z = 0;
* depth: the pelvis's acceleration along the capture camera's viewing ray (second difference of
  three consecutive observed frames at the scene's fps, projected on the ray from the camera's
  centre to the pelvis), median of its size, under 4 m/s^2;
* foot slide: horizontal displacement of each foot joint between consecutive frames both in contact,
  median over both feet, under 3 cm/frame;
* walking speed: the pelvis's horizontal displacement over 1 s (both ends observed) divided by the
  time (over 1 s so that per-frame jitter does not count as walking), median over the spans where the
  person moves (at least ``MOVING`` m/s), 0.8-1.8 m/s. Someone moving on under a quarter of their spans
  is listed as standing, with their speed, and not judged on it.

Also printed, not goals: the lower foot's p50 and p95 height and the share of observed frames with
it more than ``FLOATING`` above the floor (a person placed too near the camera floats: p5 alone does
not show it), the lean (median angle of the pelvis-to-neck line from the vertical), each person's colour (as in the pictures) and the 90th percentile of the foot slide.

People with fewer than ``--min-frames`` observed frames are listed but not judged. ``--render DIR``
writes ``street_side.png`` (a Workbench render from the side: a camera perpendicular to the capture
camera's view, looking at the people at the busiest frame, the ground plane in view) and
``street_paths.png`` (the pelvis paths from above, drawn with numpy: 1 m grid, the capture camera as a
black wedge, observed frames in the person's colour, predicted ones pale, planted feet as dots, each
path's start a ringed dot with the person's number)::

    PYTHONPATH=. $(python3 tools/dev.py env blender) benchmarks/street_blender.py [BLEND] [--render DIR]
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import bpy
from mathutils import Vector

import ram_blender
from ram_blender.importer.build import CONTACT_PROPS, PREDICTED_PROP, ram_ground
from ram_core.contract.native_stderr import lines_dropped

FLOOR_CM = 5.0
DEPTH_ACC = 4.0  # m/s^2
SLIDE_CM = 3.0  # cm/frame
SPEED = (0.8, 1.8)  # m/s
MOVING = 0.3  # m/s over 1 s: walking, not standing
FLOATING = 0.15  # m
JOINTS = ("pelvis", "neck", "left_foot", "right_foot")


@dataclass
class Person:
    """One armature's samples over the scene's frames ``(F,)``: world positions ``(F, 3)`` per joint,
    ``observed`` and ``contact`` ``(F, 2)`` flags."""

    name: str
    obj: bpy.types.Object
    color: tuple[float, float, float]
    pos: dict[str, np.ndarray]
    observed: np.ndarray
    contact: np.ndarray


def sample(scene: bpy.types.Scene) -> tuple[np.ndarray, list[Person]]:
    """Every RAM person's joints, observed frames and contact at each frame of ``scene``."""
    frames = np.arange(scene.frame_start, scene.frame_end + 1)
    tracks = [t for t in scene.ram.tracks if t.object is not None and t.object.type == "ARMATURE"]
    n = len(frames)
    people = [
        Person(
            t.label or t.object.name,
            t.object,
            tuple(t.object.color[:3]),
            {j: np.full((n, 3), np.nan) for j in JOINTS},
            np.zeros(n, bool),
            np.zeros((n, 2), bool),
        )
        for t in tracks
    ]
    for i, f in enumerate(frames):
        scene.frame_set(int(f))
        for t, p in zip(tracks, people):
            obj = t.object
            if not t.frame_first <= f <= t.frame_last:
                continue
            p.observed[i] = float(obj.get(PREDICTED_PROP, 0.0)) < 0.5 and not obj.hide_viewport
            p.contact[i] = [float(obj.data.get(prop, 0.0)) >= 0.5 for prop in CONTACT_PROPS]
            world = obj.matrix_world
            for j in JOINTS:
                p.pos[j][i] = tuple(world @ obj.pose.bones[j].head)
    return frames, people


def lower_foot(p: Person) -> np.ndarray:
    """The lower foot joint's height (m) on each observed frame."""
    return np.minimum(p.pos["left_foot"][:, 2], p.pos["right_foot"][:, 2])[p.observed]


def lean(p: Person) -> float:
    """Median angle (degrees) of the pelvis-to-neck line from the vertical over observed frames."""
    spine = (p.pos["neck"] - p.pos["pelvis"])[p.observed]
    cos = spine[:, 2] / np.linalg.norm(spine, axis=1)
    return float(np.degrees(np.median(np.arccos(np.clip(cos, -1, 1))))) if len(spine) else math.nan


def depth_acc(p: Person, camera: np.ndarray, fps: float) -> float:
    """Median |pelvis acceleration along the viewing ray| (m/s^2) over runs of three observed frames."""
    x = p.pos["pelvis"]
    ok = p.observed[:-2] & p.observed[1:-1] & p.observed[2:]
    acc = (x[2:] - 2 * x[1:-1] + x[:-2]) * fps**2
    ray = x[1:-1] - camera
    ray /= np.linalg.norm(ray, axis=1, keepdims=True)
    along = np.abs(np.sum(acc * ray, axis=1))[ok]
    return float(np.median(along)) if along.size else math.nan


def slides(p: Person) -> np.ndarray:
    """Each foot joint's horizontal step (cm) between consecutive observed frames both in contact."""
    out = []
    for k, joint in enumerate(("left_foot", "right_foot")):
        both = p.contact[1:, k] & p.contact[:-1, k] & p.observed[1:] & p.observed[:-1]
        step = np.linalg.norm(np.diff(p.pos[joint][:, :2], axis=0), axis=1)
        out.append(100 * step[both])
    return np.concatenate(out)


def speeds(p: Person, fps: float) -> np.ndarray:
    """Horizontal pelvis speed (m/s) over each 1 s span with both ends observed."""
    k = max(1, round(fps))
    xy = p.pos["pelvis"][:, :2]
    ok = p.observed[k:] & p.observed[:-k]
    return np.linalg.norm(xy[k:] - xy[:-k], axis=1)[ok] * fps / k


def verdict(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def report(people: list[Person], camera: np.ndarray, fps: float, min_frames: int) -> bool:
    """Print each person's numbers against the goals; True when every judged person meets every goal."""
    print(
        f"{'person':<10} {'colour':<7} {'obs':>3} | {'feet p5 cm':>10} {'p50':>5} {'p95':>5} {'float':>5} | "
        f"{'lean':>4} | {'ray acc m/s2':>12} | {'slide cm/fr':>11} {'p90':>5} {'steps':>5} | {'walk m/s':>8} {'moving':>6}"
    )
    fails: dict[str, list[str]] = {"floor": [], "depth": [], "slide": [], "speed": []}
    judged = dict.fromkeys(fails, 0)
    for p in people:
        obs = int(p.observed.sum())
        counted = obs >= min_frames
        low = 100 * lower_foot(p)
        fl = np.percentile(low, [5, 50, 95]) if low.size else np.full(3, math.nan)
        floating = float(np.mean(low > 100 * FLOATING)) if low.size else math.nan
        acc = depth_acc(p, camera, fps)
        sl = slides(p)
        sl_med, sl_p90 = np.percentile(sl, [50, 90]) if sl.size else (math.nan, math.nan)
        sp = speeds(p, fps)
        moving = sp >= MOVING
        walking = sp.size > 0 and moving.mean() >= 0.25
        walk = float(np.median(sp[moving])) if walking else float(np.median(sp)) if sp.size else math.nan
        checks = {
            "floor": abs(fl[0]) <= FLOOR_CM,
            "depth": acc < DEPTH_ACC,
            "slide": sl_med < SLIDE_CM if sl.size else None,
            "speed": SPEED[0] <= walk <= SPEED[1] if walking else None,
        }
        mark = {k: ("" if not counted or v is None else verdict(v)) for k, v in checks.items()}
        colour = "#" + "".join(f"{round(255 * c):02x}" for c in p.color)
        print(
            f"{p.name:<10} {colour:<7} {obs:3d} | {fl[0]:5.1f} {mark['floor']:>4} {fl[1]:5.1f} {fl[2]:5.1f} "
            f"{100 * floating:4.0f}% | {lean(p):3.0f}d | {acc:7.2f} {mark['depth']:>4} | {sl_med:6.2f} {mark['slide']:>4} {sl_p90:5.2f} "
            f"{sl.size:5d} | {walk:4.2f} {mark['speed'] or ('stand' if counted else ''):>4} {100 * moving.mean() if sp.size else 0:5.0f}%"
            + ("" if counted else f"  (under {min_frames} observed frames: not judged)")
        )
        if counted:
            for key, ok in checks.items():
                if ok is not None:
                    judged[key] += 1
                    if not ok:
                        fails[key].append(p.name)
    goals = {
        "floor": f"feet p5 within +-{FLOOR_CM:g} cm of z = 0",
        "depth": f"pelvis acceleration along the viewing ray under {DEPTH_ACC:g} m/s^2 (median)",
        "slide": f"foot slide in contact under {SLIDE_CM:g} cm/frame (median)",
        "speed": f"walking speed {SPEED[0]:g}-{SPEED[1]:g} m/s (median over the 1 s spans moving at least {MOVING:g} m/s)",
    }
    for key, text in goals.items():
        names = fails[key]
        print(
            f"{verdict(not names)}: {text}: {judged[key] - len(names)} of {judged[key]} people"
            + (f" (not: {', '.join(names)})" if names else "")
        )
    ok = not any(fails.values())
    print(f"overall: {verdict(ok)}")
    return ok


def busiest_frame(frames: np.ndarray, people: list[Person]) -> int:
    counts = sum(p.observed.astype(int) for p in people)
    return int(frames[int(np.argmax(counts))])


def side_render(
    scene: bpy.types.Scene, people: list[Person], frames: np.ndarray, camera: np.ndarray, path: Path
) -> None:
    """A Workbench render from a camera at the side of the capture camera's view, looking at the people."""
    frame = busiest_frame(frames, people)
    i = int(np.flatnonzero(frames == frame)[0])
    pelvis = np.array([p.pos["pelvis"][i] for p in people if p.observed[i]])
    centre = np.median(pelvis, axis=0)
    view = centre - camera
    view[2] = 0.0
    view /= np.linalg.norm(view)
    side = np.array([view[1], -view[0], 0.0])  # perpendicular to the capture camera's view, horizontal
    # Far enough that everyone (their spread along the capture camera's view, and 2 m tall) fits in.
    depth_spread = float(np.ptp(pelvis @ view)) if len(pelvis) > 1 else 2.0
    dist = 1.3 * max(depth_spread, 4.0) / (2 * math.tan(math.radians(20))) + 2.0
    cam = bpy.data.objects.new("street side camera", bpy.data.cameras.new("street side camera"))
    cam.data.lens = 50.0
    cam.data.sensor_width = 36.0
    cam.data.clip_end = 1000.0
    scene.collection.objects.link(cam)
    target = Vector((centre[0], centre[1], 0.8))
    cam.location = target + Vector(tuple(side * dist)) + Vector((0.0, 0.0, dist * math.tan(math.radians(8))))
    cam.rotation_euler = (target - cam.location).to_track_quat("-Z", "Y").to_euler()
    ground = ram_ground(scene.ram.collection) if scene.ram.collection else None
    if ground is not None:
        ground.hide_render = False
    scene.frame_set(frame)
    scene.camera = cam
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.display.shading.light = "STUDIO"
    scene.display.shading.color_type = "OBJECT"
    scene.display.shading.show_shadows = True
    scene.render.film_transparent = False
    if scene.world is None:
        scene.world = bpy.data.worlds.new("street side world")
    scene.world.color = (0.8, 0.82, 0.85)  # Workbench's background (this file is not saved)
    scene.render.resolution_x, scene.render.resolution_y = 800, 400
    scene.render.resolution_percentage = 100
    scene.render.image_settings.file_format = "PNG"
    scene.render.image_settings.color_mode = "RGB"
    scene.render.image_settings.compression = 100
    scene.render.filepath = str(path)
    with lines_dropped(b"EGL Error (0x3009)"):  # a render without a display picks its GPU context, then renders
        bpy.ops.render.render(write_still=True)
    print(f"wrote {path} (frame {frame}, from the side, {dist:.1f} m from the people's centre)")


def _line(img: np.ndarray, a: np.ndarray, b: np.ndarray, rgb: np.ndarray, width: float) -> None:
    """Draw a thick segment from pixel ``a`` to ``b`` (x, y) onto ``img`` ``(H, W, 3)``."""
    lo = np.floor(np.minimum(a, b) - width).astype(int)
    hi = np.ceil(np.maximum(a, b) + width).astype(int) + 1
    lo = np.clip(lo, 0, [img.shape[1], img.shape[0]])
    hi = np.clip(hi, 0, [img.shape[1], img.shape[0]])
    if (hi <= lo).any():
        return
    ys, xs = np.mgrid[lo[1] : hi[1], lo[0] : hi[0]]
    pts = np.stack([xs, ys], -1).astype(np.float64)
    d = b - a
    t = np.clip(((pts - a) @ d) / max(float(d @ d), 1e-9), 0.0, 1.0)
    dist = np.linalg.norm(pts - (a + t[..., None] * d), axis=-1)
    mask = dist <= width / 2
    img[lo[1] : hi[1], lo[0] : hi[0]][mask] = rgb


# 3x5 pixel digits for the people's numbers on the plot (no font library in Blender's Python).
_DIGITS = (
    "111101101101111",
    "010110010010111",
    "111001111100111",
    "111001111001111",
    "101101111001001",
    "111100111001111",
    "111100111101111",
    "111001001001001",
    "111101111101111",
    "111101111001111",
)


def _label(img: np.ndarray, at: np.ndarray, text: str, rgb: np.ndarray, cell: int = 3) -> None:
    """Write the digits of ``text`` with their top-left corner at pixel ``at`` (x, y), ``cell`` pixels a dot."""
    x0, y0 = int(at[0]), int(at[1])
    for ch in text:
        if ch.isdigit():
            dots = np.array([int(c) for c in _DIGITS[int(ch)]], bool).reshape(5, 3)
            block = np.kron(dots, np.ones((cell, cell), bool))
            ys, xs = np.nonzero(block)
            ys, xs = ys + y0, xs + x0
            ok = (ys >= 0) & (ys < img.shape[0]) & (xs >= 0) & (xs < img.shape[1])
            img[ys[ok], xs[ok]] = rgb
        x0 += 4 * cell


def paths_plot(people: list[Person], camera: np.ndarray, heading: np.ndarray, path: Path) -> None:
    """The pelvis paths from above (x right, y up the image), 1 m grid, written as PNG through bpy."""
    pts = np.concatenate([p.pos["pelvis"][p.observed, :2] for p in people] + [camera[None, :2]])
    lo, hi = pts.min(axis=0) - 1.0, pts.max(axis=0) + 1.0
    px_per_m = min(900 / (hi - lo).max(), 80.0)
    size = np.ceil((hi - lo) * px_per_m).astype(int) + 1
    img = np.ones((size[1], size[0], 3))

    def to_px(xy: np.ndarray) -> np.ndarray:
        out = (xy - lo) * px_per_m
        return np.stack([out[..., 0], size[1] - 1 - out[..., 1]], -1)

    grey = np.array([0.85, 0.85, 0.85])
    for gx in np.arange(math.ceil(lo[0]), hi[0]):
        _line(img, to_px(np.array([gx, lo[1]])), to_px(np.array([gx, hi[1]])), grey, 1.0)
    for gy in np.arange(math.ceil(lo[1]), hi[1]):
        _line(img, to_px(np.array([lo[0], gy])), to_px(np.array([hi[0], gy])), grey, 1.0)
    # The capture camera: a wedge along its heading.
    h = heading[:2] / np.linalg.norm(heading[:2])
    for ang in (-0.35, 0.35):
        c, s = math.cos(ang), math.sin(ang)
        ray = np.array([c * h[0] - s * h[1], s * h[0] + c * h[1]])
        _line(img, to_px(camera[:2]), to_px(camera[:2] + 1.5 * ray), np.zeros(3), 3.0)
    for p in people:
        rgb = np.array(p.color)
        pale = 0.35 * rgb + 0.65
        xy = p.pos["pelvis"][:, :2]
        present = np.isfinite(xy[:, 0])
        for i in range(len(xy) - 1):
            if present[i] and present[i + 1]:
                both = p.observed[i] and p.observed[i + 1]
                _line(img, to_px(xy[i]), to_px(xy[i + 1]), rgb if both else pale, 3.0 if both else 2.0)
        for k, joint in enumerate(("left_foot", "right_foot")):
            planted = p.contact[:, k] & p.observed
            for q in p.pos[joint][planted, :2]:
                c = to_px(q)
                _line(img, c, c, 0.6 * rgb, 4.0)
        first = np.flatnonzero(p.observed)
        if first.size:
            c = to_px(xy[first[0]])
            _line(img, c, c, np.zeros(3), 9.0)
            _line(img, c, c, rgb, 6.0)
            _label(img, c + np.array([7.0, -7.0]), "".join(ch for ch in p.name if ch.isdigit()), 0.6 * rgb)
    h_px, w_px = img.shape[:2]
    out = bpy.data.images.new("street paths", w_px, h_px, alpha=False)
    try:
        rgba = np.concatenate([img, np.ones((h_px, w_px, 1))], axis=2)[::-1]
        out.pixels.foreach_set(np.ascontiguousarray(rgba, dtype=np.float32).reshape(-1))
        out.filepath_raw = str(path)
        out.file_format = "PNG"
        out.save()
    finally:
        bpy.data.images.remove(out)
    print(f"wrote {path} ({w_px}x{h_px}, {px_per_m:.0f} px per metre, grid 1 m)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("blend", nargs="?", default=str(ROOT / "out" / "demo" / "vtest_clip.blend"))
    ap.add_argument("--render", metavar="DIR", help="write street_side.png and street_paths.png here")
    ap.add_argument("--min-frames", type=int, default=20, help="people observed on fewer frames are not judged")
    args = ap.parse_args(argv)
    if not Path(args.blend).is_file():
        print(f"no such .blend: {args.blend} (make it with: python3 tools/dev.py demo)", file=sys.stderr)
        return 2
    ram_blender.register()
    bpy.ops.wm.open_mainfile(filepath=str(Path(args.blend).resolve()))
    scene = bpy.context.scene
    if scene.camera is None:
        print("the .blend has no scene camera (the capture camera)", file=sys.stderr)
        return 2
    fps = scene.render.fps / scene.render.fps_base
    camera = np.array(scene.camera.matrix_world.translation)
    heading = -np.array(scene.camera.matrix_world.col[2][:3])
    frames, people = sample(scene)
    print(
        f"{Path(args.blend).name}: {len(people)} people, frames {frames[0]}-{frames[-1]} at {fps:g} fps; "
        f"capture camera at z = {camera[2]:.2f} m"
    )
    ok = report(people, camera, fps, args.min_frames)
    if args.render:
        out = Path(args.render)
        out.mkdir(parents=True, exist_ok=True)
        paths_plot(people, camera, heading, out / "street_paths.png")
        side_render(scene, people, frames, camera, out / "street_side.png")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
