"""Render one scenario into ``clip.mp4`` and ``gt.npz`` (and a copy of ``scenario.json``).

Run in the bpy env: ``$(python3 tools/dev.py env blender) tools/synth/generate.py SCENARIO.json OUT_DIR``.
Motion and skinning are numpy (``motion.py``, ``bodies.py``); ``render.py`` holds every bpy call.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from ram_core.contract.skeleton import JOINT_INDEX, JOINT_NAMES
from tools.synth.bodies import Body, load_body, skin
from tools.synth.gt_format import VERSION, save_gt
from tools.synth.motion import simulate
from tools.synth.raster import silhouette
from tools.synth.scenario import camera_of, load_scenario

log = logging.getLogger(__name__)
CONTACT_HEIGHT = 0.025  # m above the foot joint's own rest height
CONTACT_SPEED = 0.2  # m/s, horizontal
JOINT_RADIUS = 2  # px: a joint is visible when its person's ID pixels lie within this square radius


def face_parts(body: Body, sleeves: str = "short") -> np.ndarray:
    """Per face, an index into ``render.PARTS`` (skin, hair, shirt, trousers, shoes) from the skinning."""
    j = body.skin_index[:, 0]
    name = np.array(JOINT_NAMES)[j]
    v = body.rest_vertices
    r = body.rest_joints
    part = np.full(len(v), 2)  # shirt
    part[np.isin(name, ["left_hip", "right_hip", "left_knee", "right_knee"])] = 3
    part[(name == "pelvis") & (v[:, 2] < r[JOINT_INDEX["pelvis"], 2] + 0.04)] = 3
    part[np.isin(name, ["left_ankle", "right_ankle", "left_foot", "right_foot"])] = 4
    skin = ["head", "neck", "left_wrist", "right_wrist", "left_hand", "right_hand"]
    if sleeves == "short":
        skin += ["left_elbow", "right_elbow"]
    part[np.isin(name, skin)] = 0
    head = r[JOINT_INDEX["head"]]
    hair = (name == "head") & ((v[:, 2] > head[2] + 0.075) | ((v[:, 2] > head[2] - 0.03) & (v[:, 1] < head[1] - 0.04)))
    part[hair] = 1
    return part[body.faces[:, 0]]


def contact_labels(joints_world: np.ndarray, rest: np.ndarray, fps: float) -> np.ndarray:
    """``(F, 2)`` bool: left, right foot on the floor from the ankle and toe joints' height and speed."""
    out = np.zeros(joints_world.shape[:1] + (2,), bool)
    for k, (ankle, toe) in enumerate((("left_ankle", "left_foot"), ("right_ankle", "right_foot"))):
        for name in (ankle, toe):
            x = joints_world[:, JOINT_INDEX[name]]
            speed = np.linalg.norm(np.gradient(x[:, :2], axis=0), axis=-1) * fps
            out[:, k] |= (x[:, 2] < rest[JOINT_INDEX[name], 2] + CONTACT_HEIGHT) & (speed < CONTACT_SPEED)
    return out


def project(points_cam: np.ndarray, k: np.ndarray) -> np.ndarray:
    z = np.maximum(points_cam[..., 2:], 1e-6)
    return points_cam[..., :2] / z * k[[0, 1], [0, 1]] + k[:2, 2]


def generate(
    scenario: dict, out_dir: Path, samples: int = 4, denoise: bool = False, keep_frames: Path | None = None
) -> dict[str, float]:
    """Render ``scenario`` into ``out_dir``; returns timings (seconds). ``keep_frames``: keep the PNGs there."""
    from tools.synth import render

    t0 = time.time()
    sc = load_scenario(scenario)
    out_dir.mkdir(parents=True, exist_ok=True)
    w, h, fps, n = int(sc["width"]), int(sc["height"]), float(sc["fps"]), int(sc["n_frames"])
    cam = camera_of(sc)
    wfc = cam.world_from_camera()
    k = cam.intrinsics(w, h)
    cfw = np.linalg.inv(wfc)
    bodies, joints_w, rots = [], [], []
    for p in sc["people"]:
        b = load_body(p["body"], p.get("height"))
        r, pos = simulate(b, tuple(p["start"]), float(p["heading_deg"]), p["segments"], fps, n)
        bodies.append(b)
        rots.append(r)
        joints_w.append(pos)
    t_motion = time.time() - t0
    scene = render.Scene(
        w,
        h,
        wfc,
        cam.focal_px,
        render.RenderSettings(samples=samples, denoise=denoise),
        sc["floor"],
        tuple(sc["background"]),
    )
    for i, (p, b) in enumerate(zip(sc["people"], bodies)):
        scene.add_person(i, b.rest_vertices, b.faces, face_parts(b, p.get("sleeves", "short")), p["colours"])
    for o in sc["occluders"]:
        scene.add_box(tuple(o["centre"]), tuple(o["size"]), tuple(o.get("colour", (0.5, 0.5, 0.55))))
    n_p = len(bodies)
    jw = np.array(joints_w)  # (P, F, 24, 3)
    jc = jw @ cfw[:3, :3].T + cfw[:3, 3]
    j2 = project(jc, k)
    present = np.zeros((n_p, n), bool)
    box_a = np.full((n_p, n, 4), np.nan)
    box_v = np.full((n_p, n, 4), np.nan)
    vis_frac = np.zeros((n_p, n))
    jvis = np.zeros((n_p, n, 24), bool)
    frames = []
    with tempfile.TemporaryDirectory(prefix="synth-") as tmp:
        tmp = Path(keep_frames or tmp)
        tmp.mkdir(parents=True, exist_ok=True)
        for t in range(n):
            alone_masks = [None] * n_p
            for i, b in enumerate(bodies):
                verts = skin(b, rots[i][t], joints_w[i][t])
                scene.set_vertices(i, verts)
                vc = verts @ cfw[:3, :3].T + cfw[:3, 3]
                front = vc[:, 2] > 0.05
                if front.any():
                    uv = project(vc[front], k)
                    box_a[i, t] = [*uv.min(axis=0), *uv.max(axis=0)]
                    inside = (uv[:, 0] >= 0) & (uv[:, 0] < w) & (uv[:, 1] >= 0) & (uv[:, 1] < h)
                    present[i, t] = bool(inside.any())
                    if front.all():
                        alone_masks[i] = silhouette(project(vc, k), b.faces, w, h)
            frames.append(tmp / f"c{t:04d}.png")
            ids = scene.render(frames[-1], tmp / f"id{t:04d}.png")
            for i in range(n_p):
                mask = ids == i
                cnt = int(mask.sum())
                if cnt:
                    ys, xs = np.nonzero(mask)
                    box_v[i, t] = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
                alone = int(alone_masks[i].sum()) if alone_masks[i] is not None else cnt
                # the rasterised silhouette and the render differ by a few edge pixels: never above 1
                vis_frac[i, t] = min(1.0, cnt / alone) if alone else 0.0
                u = np.round(j2[i, t] - 0.5).astype(int)  # pixel index of each joint
                pad = np.pad(mask, JOINT_RADIUS)
                for jj in range(24):
                    x, y = u[jj]
                    if 0 <= x < w and 0 <= y < h:
                        jvis[i, t, jj] = pad[y : y + 2 * JOINT_RADIUS + 1, x : x + 2 * JOINT_RADIUS + 1].any()
            log.info("frame %d/%d", t + 1, n)
        t_render = time.time() - t0 - t_motion
        render.encode_mp4(frames, fps, out_dir / "clip.mp4")
    contact = np.array([contact_labels(jw[i], bodies[i].rest_joints, fps) for i in range(n_p)])
    n_c = wfc[:3, :3].T @ np.array([0.0, 0.0, 1.0])
    floor = np.array([*n_c, float(wfc[2, 3])])  # n.x + d = 0 with d = camera height above the floor
    text = json.dumps(scenario if isinstance(scenario, dict) else json.loads(Path(scenario).read_text()), indent=1)
    (out_dir / "scenario.json").write_text(text + "\n")
    save_gt(out_dir / "gt.npz", {
        "version": VERSION, "fps": fps, "image_size": np.array([w, h]), "n_frames": n, "intrinsics": k,
        "world_from_camera": wfc, "floor_cam": floor, "person_ids": np.arange(n_p),
        "heights": np.array([b.height for b in bodies]), "present": present, "joints_cam": jc, "joints_world": jw,
        "joints_2d": j2, "joint_visible": jvis & present[..., None], "box_amodal": box_a, "box_visible": box_v,
        "visible_fraction": vis_frac, "contact": contact, "joint_names": np.array(JOINT_NAMES), "scenario": text,
    })  # fmt: skip
    return {"motion_s": t_motion, "render_s": t_render, "total_s": time.time() - t0, "frames": n}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--keep-frames", type=Path, help="keep the rendered PNGs in this folder")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    times = generate(
        json.loads(args.scenario.read_text()), args.out, samples=args.samples, keep_frames=args.keep_frames
    )
    print(json.dumps(times))


if __name__ == "__main__":
    main()
