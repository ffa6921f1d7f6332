"""The demo: capture a video with the `lite` backend through the add-on's headless path, then render.

Run by ``python3 tools/dev.py demo`` inside the Blender environment (the ``bpy`` module). Writes, in
the output folder: ``<video>.ram.npz`` (the raw capture), ``<video>.blend`` (one animated armature per
person, with the open body and the capture camera), exports, and ``preview.png``: the capture camera's
render laid over the video frame (left) beside an elevated view of the same moment (right).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bpy
from mathutils import Vector

import ram_blender
from ram_blender.cli import batch_capture, save_blend
from ram_blender.importer.build import ram_ground
from ram_blender.importer.plan import FRAME_OFFSET
from ram_core.contract.errors import one_line
from ram_core.contract.native_stderr import lines_dropped
from ram_core.contract.options import CaptureOptions
from ram_core.contract.reruns import OVERWRITE

# Writes one decoded frame as PNG; runs in the worker's Python, which has OpenCV (Blender's has not).
_GRAB_FRAME = """
import sys, cv2
cap = cv2.VideoCapture(sys.argv[1]); cap.set(cv2.CAP_PROP_POS_FRAMES, int(sys.argv[2]))
ok, img = cap.read()
sys.exit(0 if ok and cv2.imwrite(sys.argv[3], img) else 1)
"""


def busiest_frame(scene: bpy.types.Scene) -> int:
    """The Blender frame with the most people on screen (the earliest of ties)."""
    tracks = scene.ram.tracks
    frames = np.arange(scene.frame_start, scene.frame_end + 1)
    counts = sum(((frames >= t.frame_first) & (frames <= t.frame_last)).astype(int) for t in tracks)
    return int(frames[int(np.argmax(counts))]) if len(tracks) else scene.frame_start


def render(scene: bpy.types.Scene, camera: bpy.types.Object, path: Path) -> np.ndarray:
    """Render ``camera``'s view with Workbench (people in their colours) and return RGBA ``(H, W, 4)`` top row first."""
    scene.camera = camera
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.display.shading.light = "STUDIO"
    scene.display.shading.color_type = "MATERIAL"
    scene.display.shading.show_shadows = True
    scene.render.film_transparent = True
    scene.render.image_settings.file_format = "PNG"
    scene.render.image_settings.color_mode = "RGBA"
    scene.render.filepath = str(path)
    # A render without a display prints "EGL Error (0x3009): EGL_BAD_MATCH ..." while Blender picks a GPU
    # context, then renders fine: the lines read as if the demo had failed. Other EGL errors are kept.
    with lines_dropped(b"EGL Error (0x3009)"):
        bpy.ops.render.render(write_still=True)
    return read_png(path)


def read_png(path: Path) -> np.ndarray:
    img = bpy.data.images.load(str(path))
    try:
        w, h = img.size
        px = np.empty(w * h * img.channels, dtype=np.float32)
        img.pixels.foreach_get(px)
        px = px.reshape(h, w, img.channels)[::-1]
    finally:
        bpy.data.images.remove(img)
    if px.shape[2] == 3:
        px = np.concatenate([px, np.ones((*px.shape[:2], 1), np.float32)], axis=2)
    return px


def write_png(pixels: np.ndarray, path: Path) -> None:
    h, w = pixels.shape[:2]
    img = bpy.data.images.new("ram preview", w, h, alpha=True)
    try:
        img.pixels.foreach_set(np.ascontiguousarray(pixels[::-1], dtype=np.float32).reshape(-1))
        img.filepath_raw = str(path)
        img.file_format = "PNG"
        img.save()
    finally:
        bpy.data.images.remove(img)


def overview_camera(scene: bpy.types.Scene, people: list[bpy.types.Object]) -> bpy.types.Object:
    """An elevated camera beside the capture camera, aimed at the people's centre."""
    heads = [p.matrix_world @ p.pose.bones["pelvis"].head for p in people] or [Vector((0.0, 8.0, 0.0))]
    centre = sum(heads, Vector()) / len(heads)
    # A robust spread: one far-away person should not push the camera back for everyone else.
    spread = max(float(np.percentile([(h - centre).length for h in heads], 75)), 2.0)
    cam = bpy.data.objects.new("RAM overview camera", bpy.data.cameras.new("RAM overview camera"))
    cam.data.lens = 32.0
    cam.data.clip_end = 1000.0
    scene.collection.objects.link(cam)
    cam.location = centre + Vector((1.4 * spread + 3.0, -0.6 * spread - 3.0, 1.0 * spread + 3.0))
    cam.rotation_euler = (centre - cam.location).to_track_quat("-Z", "Y").to_euler()
    return cam


def ground_plane(scene: bpy.types.Scene, results_path: str) -> bpy.types.Object:
    """A grey ground for the overview of a capture without a solved scene (one with a solve has the
    importer's ``RAM ground`` at z = 0): a plane fitted (least squares) through every captured foot position."""
    from ram_core.contract.coords import blender_from_camera
    from ram_core.contract.results import load_results
    from ram_core.contract.skeleton import JOINT_INDEX

    results = load_results(bpy.path.abspath(results_path))
    world = blender_from_camera(results.meta.world_from_camera)
    feet = [JOINT_INDEX["left_foot"], JOINT_INDEX["right_foot"]]
    cam_points = np.concatenate([t.joints[:, feet].reshape(-1, 3) for t in results.tracks]).astype(np.float64)
    points = cam_points @ world[:3, :3].T + world[:3, 3]
    centre = np.median(points, axis=0)
    _, _, vt = np.linalg.svd(points - centre, full_matrices=False)
    normal = vt[2] if vt[2][2] > 0 else -vt[2]
    u = np.cross(normal, [1.0, 0.0, 0.0])
    u /= np.linalg.norm(u)
    v = np.cross(normal, u)
    size = float(np.percentile(np.abs((points - centre) @ np.stack([u, v]).T), 95)) + 3.0
    corners = [centre + size * (a * u + b * v) for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
    mesh = bpy.data.meshes.new("RAM fitted ground")
    mesh.from_pydata([c.tolist() for c in corners], [], [(0, 1, 2, 3)])
    obj = bpy.data.objects.new(mesh.name, mesh)
    scene.collection.objects.link(obj)
    mat = bpy.data.materials.new("RAM fitted ground")
    mat.diffuse_color = (0.55, 0.56, 0.58, 1.0)
    mesh.materials.append(mat)
    return obj


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--worker-python", required=True)
    args = parser.parse_args()
    out = Path(args.out)
    video = Path(args.video)

    ram_blender.register()
    options = CaptureOptions(backend="lite")
    # A rerun redoes the demo; its earlier files (maybe a .blend the user played with) move to out/replaced/.
    # batch_capture makes the output folder, and removes it again if the capture failed.
    try:
        code = batch_capture(
            [str(video)], str(out), options, exports=("fbx", "npz"), python=args.worker_python, existing=OVERWRITE
        )
    except (OSError, ValueError) as e:  # an output folder that cannot be made or written: one line
        print(f"demo: {one_line(e)}", file=sys.stderr)
        return 2
    if code != 0:
        print("demo: the capture failed (see above)", file=sys.stderr)
        return code

    blend = out / f"{video.stem}.blend"
    if not blend.is_file():  # nobody was found in the video: batch_capture said so and wrote nothing
        print(f"demo: nobody was found in {video.name}; no scene or preview to make", file=sys.stderr)
        return 1
    bpy.ops.wm.open_mainfile(filepath=str(blend))
    scene = bpy.context.scene
    frame = busiest_frame(scene)
    scene.frame_set(frame)
    people = [t.object for t in scene.ram.tracks if t.object is not None and t.frame_first <= frame <= t.frame_last]
    capture_camera = scene.camera
    # The importer's floor (a solved scene) shows in the elevated view only: the overlay stays the people.
    ground = ram_ground(scene.ram.collection)
    shown = ground is not None and not ground.hide_render
    if ground is not None:
        ground.hide_render = True
    transparent = scene.render.film_transparent  # the renders below are laid over the video; F12 in the file is not
    with tempfile.TemporaryDirectory(prefix="ram-demo-") as tmp:
        tmp = Path(tmp)
        overlay = render(scene, capture_camera, tmp / "camera.png")
        background = tmp / "frame.png"
        subprocess.run(
            [args.worker_python, "-c", _GRAB_FRAME, str(video), str(frame - FRAME_OFFSET), str(background)], check=True
        )
        video_px = read_png(background)
        alpha = overlay[..., 3:4]
        left = overlay * alpha + video_px * (1.0 - alpha)
        if ground is None:
            ground = ground_plane(scene, scene.ram.results_path)
            shown = False  # the demo's own plane stays out of renders from the saved file
        ground.hide_render = False
        right = render(scene, overview_camera(scene, people), tmp / "overview.png")
        ground.hide_render = not shown
        right = right * right[..., 3:4] + np.array([0.85, 0.86, 0.88, 1.0]) * (1.0 - right[..., 3:4])
    left[..., 3] = right[..., 3] = 1.0
    preview = out / "preview.png"
    write_png(np.concatenate([left, right], axis=1), preview)
    scene.camera = capture_camera
    scene.render.film_transparent = transparent
    scene.render.filepath = "//render/"
    save_blend(blend)
    print(
        f"demo: {len(scene.ram.tracks)} people captured from {video.name} "
        f"(frames {scene.frame_start}-{scene.frame_end}); preview of frame {frame} with {len(people)} people"
    )
    print(f"demo: wrote {blend}")
    print(f"demo: wrote {preview}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the capture stopped its worker; an earlier run's files were not moved
        print("demo: stopped by Ctrl-C", file=sys.stderr)
        sys.exit(130)
