"""Foot contact from the solved floor, and planted feet enforced by moving the whole body. Numpy only.

Runs after the scene solve (``ram_core.scene.solve``), in its world (Z up, floor z = 0):

1. Detection, per track and foot: the foot joint's height above where it sits when planted (its height
   above the sole, ``foot_height`` of the stature, times the track's scale) and its horizontal speed
   (central differences over ``speed_window_s``) give a probability, the product of two logistic steps;
   the flag follows it with hysteresis (on above ``p_on``, off below ``p_off``) and runs shorter than
   ``min_frames`` are dropped. Heights are taken relative to the track's own low percentile of foot
   heights as well as to the floor (the larger of the two), so a person whose feet the solve left a few
   centimetres off the floor is still seen to step.
2. Enforcement, a root-motion correction (what animators do when they lock a foot through the pelvis):
   each contact run of a foot gets an anchor, its mean horizontal position over the run and planted
   height on the floor; on a contact frame the body's correction is the anchor minus the foot (the mean
   over the feet in contact), between runs it is interpolated linearly, before the first and after the
   last it is held. Then a lift keeps every joint above the floor. The correction is added to every
   joint and ``transl`` alike, so bone lengths and rotations are exact: the legs are never bent to
   reach a target. Double support with two anchors that disagree leaves each foot half the difference.
3. No flying: where the lower foot stays more than ``float_tolerance`` above its standing height for
   ``float_window_s`` either side of a frame (no contact pulls it down: a body placed too near, e.g. its
   landmarks on someone else's legs), the body is lowered along its pelvis's viewing ray by the lower
   foot's running minimum height there, eased in and out; a run's flight phase or a jump is shorter.

The feet are where their pixels put them (``ram_core.scene.solve.seen_feet``: on the ray through the pixel the
backend saw each at, at its posed distance), as the scene solve measured the floor on them: the backend's posed
feet miss their pixels by a few centimetres, which a lift or a pull along a ray 7-20 degrees below the horizon
turns into 3-8 times as much distance.

Frames: camera frame OpenCV (x right, y down, z forward) for the records, metres; corrections are made
in the world of ``meta.world_from_camera`` and rotated back. Without a solved floor ``contact`` stays 0 and planted
feet are only kept at one distance from the camera (``ram_core.scene.planted``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ram_core.contract.results import Results, Track
from ram_core.scene.depth import frame_runs, solve_pentadiagonal, true_runs
from ram_core.scene.planted import hold_planted
from ram_core.scene.solve import FEET, SceneOptions, rest_stature, seen_feet

NOTE = "feet planted by root-motion correction (offline)"


@dataclass(frozen=True)
class ContactOptions:
    """How feet are found planted and held (metres, seconds; probabilities in [0, 1]).

    Attributes:
        foot_height: the foot joint above the sole at scale 1, as a fraction of stature (the scene solve's).
        height_on: a foot this far above its planted height is half likely to be in contact.
        height_soft: the logistic step's width for height.
        speed_on: a foot moving this fast horizontally (m/s) is half likely to be in contact.
        speed_soft: the logistic step's width for speed.
        slower_by: a foot this much slower (m/s) than the other is half likely to be in contact whatever its speed.
        speed_window_s: the speed is measured over this long either side of a frame.
        low_percentile: the track's own floor for detection: this percentile of its foot heights.
        p_on, p_off: hysteresis on the probability (contact starts above ``p_on``, ends below ``p_off``).
        min_frames: contact runs shorter than this are dropped.
        lock_sigma: how far (m) the body's correction may miss a planted foot's exact target.
        free_sigma: the same between contacts, toward the interpolated correction.
        accel: the correction's acceleration (m/s^2) that costs as much as missing a target by its sigma:
            higher holds feet tighter, lower leaves a planted foot's own frame-to-frame noise on the foot
            instead of shaking the whole body with it.
        lift_window_s: the lift that keeps every joint above the floor is eased in and out over this long.
        lift_tolerance: how far (m) below the floor a joint (or a planted foot below its standing height) may dip
            before the body is lifted. The lift moves
            the body along its viewing ray, toward the camera, by the dip over the ray's slope (3-8 times the
            dip for rays 7-20 degrees below the horizon), so lifting out every last centimetre of landmark
            noise placed people too near; the temporal fit after it holds feet on the floor.
        float_tolerance: how far (m) above its standing height the lower foot may stay without a pull down.
        float_window_s: the lower foot must stay above that tolerance this long either side of a frame
            before the body is lowered (people do not fly: a run's flight phase lasts about 0.1 s, a 30 cm
            standing jump's 0.5 s, which the window's 2 x 0.25 s + 1 frame always catches a landing of).
        max_float_move: the pull down moves the body along its viewing ray by at most this fraction of its distance.
    """

    foot_height: float = SceneOptions().foot_height
    height_on: float = 0.15
    height_soft: float = 0.03
    speed_on: float = 0.5
    speed_soft: float = 0.12
    slower_by: float = 0.2
    speed_window_s: float = 0.15
    low_percentile: float = 5.0
    p_on: float = 0.6
    p_off: float = 0.4
    min_frames: int = 3
    lock_sigma: float = 0.005
    free_sigma: float = 0.2
    accel: float = 10.0
    lift_window_s: float = 0.1
    lift_tolerance: float = 0.03
    float_tolerance: float = 0.1
    float_window_s: float = 0.25
    max_float_move: float = 0.5


def _speed(xy: np.ndarray, fps: float, window: int) -> np.ndarray:
    """Horizontal speed ``(T, 2)`` (m/s) of feet ``xy`` ``(T, 2, 2)`` over one run: central differences ``window`` apart."""
    n = len(xy)
    if n < 2:
        return np.zeros(xy.shape[:2])
    i = np.arange(n)
    lo, hi = np.clip(i - window, 0, n - 1), np.clip(i + window, 0, n - 1)
    span = np.maximum(hi - lo, 1)[:, None]
    return np.linalg.norm(xy[hi] - xy[lo], axis=-1) * fps / span


def _hysteresis(p: np.ndarray, on: float, off: float, min_frames: int) -> np.ndarray:
    """Flags ``(T,)`` from probabilities ``p`` ``(T,)``: on above ``on``, off below ``off``, short runs dropped."""
    flag = np.zeros(len(p), dtype=bool)
    state = False
    for t, v in enumerate(p):
        state = v > on if not state else v >= off
        flag[t] = state
    for a, b in true_runs(flag):
        if b - a < min_frames:
            flag[a:b] = False
    return flag


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50)))


def detect_contact(
    feet_world: np.ndarray, frame: np.ndarray, planted: float, fps: float, options: ContactOptions = ContactOptions()
) -> tuple[np.ndarray, np.ndarray]:
    """Contact probability and flag ``(T, 2)`` (left, right) of feet ``feet_world`` ``(T, 2, 3)`` (world, metres).

    ``planted``: the foot joint's height above the floor when the foot is flat on it (metres);
    ``frame`` ``(T,)``: the records' frames (speeds and runs do not cross gaps)."""
    height = feet_world[..., 2] - planted
    own = float(np.percentile(height, options.low_percentile)) if len(height) else 0.0
    height = height - max(own, 0.0)  # a track floating above the floor still steps on its own floor
    window = max(1, round(options.speed_window_s * fps))
    speed = np.zeros(height.shape)
    for run in frame_runs(frame):
        speed[run] = _speed(feet_world[run, :, :2], fps, window)
    still = _sigmoid((options.speed_on - speed) / options.speed_soft)
    # Monocular depth noise moves both feet alike; the planted one is the slower of the two.
    slower = _sigmoid((speed[:, ::-1] - speed - options.slower_by) / options.speed_soft)
    p = _sigmoid((options.height_on - height) / options.height_soft) * np.maximum(still, slower)
    flag = np.zeros(p.shape, dtype=bool)
    for run in frame_runs(frame):
        for k in range(2):
            flag[run, k] = _hysteresis(p[run, k], options.p_on, options.p_off, options.min_frames)
    return p.astype(np.float32), flag


def root_correction(feet_world: np.ndarray, flag: np.ndarray, planted: float) -> tuple[np.ndarray, np.ndarray]:
    """The world translation ``(T, 3)`` that would keep each contact run's foot exactly at its anchor, and where
    it is known ``(T,)`` (a foot in contact); interpolated linearly between, held before the first and after the last.

    ``feet_world`` ``(T, 2, 3)``, ``flag`` ``(T, 2)`` over one run of consecutive frames; zeros without contact."""
    n = len(feet_world)
    total = np.zeros((n, 3))
    count = np.zeros(n)
    for k in range(2):
        for a, b in true_runs(flag[:, k]):
            anchor = np.append(feet_world[a:b, k, :2].mean(axis=0), planted)
            total[a:b] += anchor - feet_world[a:b, k]
            count[a:b] += 1
    held = count > 0
    if not held.any():
        return np.zeros((n, 3)), held
    at = np.flatnonzero(held)
    known = total[at] / count[at, None]
    t = np.arange(n)
    return np.stack([np.interp(t, at, known[:, c]) for c in range(3)], axis=1), held


def smooth_correction(
    target: np.ndarray, held: np.ndarray, fps: float, options: ContactOptions = ContactOptions()
) -> np.ndarray:
    """The correction ``(T, 3)`` closest to ``target`` ``(T, 3)`` (within ``lock_sigma`` on ``held`` frames, loosely
    elsewhere) whose acceleration stays near ``accel``: a handover between anchors is eased in, never a jump."""
    if len(target) < 3 or options.accel <= 0:
        return target
    w = np.where(held, options.lock_sigma**-2, options.free_sigma**-2)
    rough = (fps * fps / options.accel) ** 2
    return np.stack([solve_pentadiagonal(w, rough, w * target[:, c]) for c in range(3)], axis=1)


def _lift(lowest: np.ndarray, radius: int) -> np.ndarray:
    """How far ``(T,)`` to raise the body so that its lowest joint ``lowest`` ``(T,)`` (height, m) is not below 0:
    the need's running maximum over ``radius`` frames either side, then its running mean over as many, which
    is smooth and nowhere less than the need (every maximum in the mean's window covers the frame)."""
    need = np.clip(-lowest, 0.0, None)
    n = len(need)
    if radius <= 0 or n < 2:
        return need
    i = np.arange(n)
    pad = np.concatenate([np.zeros(radius), need, np.zeros(radius)])
    peak = np.max(np.stack([pad[i + k] for k in range(2 * radius + 1)]), axis=0)
    pad = np.concatenate([np.full(radius, peak[0]), peak, np.full(radius, peak[-1])])
    return np.mean(np.stack([pad[i + k] for k in range(2 * radius + 1)]), axis=0)


def _sink(lower: np.ndarray, radius: int, tolerance: float) -> np.ndarray:
    """How far ``(T,)`` to lower a body whose lower foot stands ``lower`` ``(T,)`` (m) above its standing height:
    its running minimum over ``radius`` frames either side (the window cut at the run's ends), where that is
    above ``tolerance`` (a short flight or a jump gives none), then its running mean over as many."""
    n = len(lower)
    if radius <= 0 or n < 2 * radius + 1:
        return np.zeros(n)
    i = np.arange(n)
    pad = np.concatenate([np.full(radius, np.inf), lower, np.full(radius, np.inf)])
    low = np.min(np.stack([pad[i + k] for k in range(2 * radius + 1)]), axis=0)
    low = np.where(low > tolerance, low, 0.0)
    pad = np.concatenate([np.full(radius, low[0]), low, np.full(radius, low[-1])])
    return np.mean(np.stack([pad[i + k] for k in range(2 * radius + 1)]), axis=0)


def plant_track(
    track: Track,
    world_from_camera: np.ndarray,
    planted: float,
    fps: float,
    options: ContactOptions = ContactOptions(),
    intrinsics: np.ndarray | None = None,
) -> Track:
    """``track`` with ``contact`` set and its body moved so that planted feet hold still on the floor.

    With ``intrinsics`` the feet are where their pixels put them (:func:`ram_core.scene.solve.seen_feet`, as the
    scene solve measured the floor on them), else the posed feet."""
    rot, shift = world_from_camera[:3, :3], world_from_camera[:3, 3]
    joints = track.joints.astype(np.float64)
    world = joints @ rot.T + shift
    if intrinsics is not None:
        world[:, list(FEET)] = seen_feet(track, intrinsics) @ rot.T + shift
    feet = world[:, list(FEET)]
    prob, flag = detect_contact(feet, track.frame, planted, fps, options)
    move = np.zeros((len(track), 3))
    radius = max(0, round(options.lift_window_s * fps))
    # The body moves only along its pelvis's viewing ray, where the monocular error lies: the pelvis keeps
    # its pixel, so the capture still lines up with the video (a sideways move would slide it off the person).
    ray = joints[:, 0] @ rot.T
    ray /= np.maximum(np.linalg.norm(ray, axis=1, keepdims=True), 1e-9)
    for run in frame_runs(track.frame):
        target, held = root_correction(feet[run], flag[run], planted)
        wanted = smooth_correction(target, held, fps, options)
        # The move along the ray closest (least squares) to the one that puts the planted foot on its anchor
        # at its standing height: a wrong distance displaces it along the ray, in ground position and height.
        along = np.sum(wanted * ray[run], axis=1)
        steep = ray[run, 2] < -0.05
        # People do not fly: a lower foot held far above the floor (no contact pulls it down, e.g. landmarks
        # on someone else's legs made the body too near) is lowered along the ray, away from the camera.
        feet_z = world[run][:, list(FEET), 2] + along[:, None] * ray[run, None, 2]
        sink = _sink(feet_z.min(axis=1) - planted, round(options.float_window_s * fps), options.float_tolerance)
        deeper = np.where(steep, -sink / np.where(steep, ray[run, 2], -1.0), 0.0)
        distance = np.linalg.norm(joints[run, 0], axis=1)
        along = along + np.minimum(deeper, options.max_float_move * distance)
        z = world[run, :, 2] + along[:, None] * ray[run, None, 2]
        lowest = z.min(axis=1)
        # A planted foot counts as low as it is below its standing height, so the lift stands it on the floor.
        foot_z = np.where(flag[run], z[:, list(FEET)] - planted, np.inf).min(axis=1)
        lowest = np.minimum(lowest, foot_z)
        # Landmark noise dips a joint below the floor by a few centimetres; lifting it out moves the body along its
        # ray by several times as much, so only a dip beyond ``lift_tolerance`` is lifted.
        # Metres up; along a ray that dips below the horizon, toward the camera.
        lift = _lift(lowest + options.lift_tolerance, radius)
        along = along + np.where(steep, lift / np.where(steep, ray[run, 2], -1.0), 0.0)
        move[run] = along[:, None] * ray[run]
    delta = move @ rot  # world -> camera: the inverse rotation
    arrays = track.arrays()
    arrays["joints"] = (joints + delta[:, None]).astype(track.joints.dtype)
    arrays["transl"] = (track.transl.astype(np.float64) + delta).astype(track.transl.dtype)
    arrays["contact"] = stored_contact(prob, flag)
    return type(track)(track.track_id, **arrays)


def stored_contact(prob: np.ndarray, flag: np.ndarray) -> np.ndarray:
    """The results' ``contact`` ``(T, 2)``: the probability made to agree with the flag (planted is ``>= 0.5``)."""
    return np.where(flag, np.maximum(prob, 0.5), np.minimum(prob, 0.49)).astype(np.float32)


def plant_feet(results: Results, options: ContactOptions = ContactOptions()) -> Results:
    """Every track of ``results`` with its contact found and enforced; where no floor was found, planted feet
    only kept at one distance (``ram_core.scene.planted``), and nothing for a camera suspected of moving."""
    meta = results.meta
    if meta.world_from_camera is None or meta.floor_cam is None:
        return hold_planted(results)
    world = np.asarray(meta.world_from_camera, dtype=np.float64)
    stature = rest_stature(meta.rest_joints)
    tracks = []
    for t in results.tracks:
        if len(t) == 0:
            tracks.append(t)
            continue
        planted = options.foot_height * stature * float(np.median(t.scale))
        tracks.append(plant_track(t, world, planted, meta.fps, options, meta.intrinsics))
    notes = "; ".join(n for n in (meta.notes, NOTE) if n)
    return Results(dataclasses.replace(meta, notes=notes), tracks)


__all__ = [
    "NOTE",
    "ContactOptions",
    "detect_contact",
    "plant_feet",
    "plant_track",
    "root_correction",
    "smooth_correction",
    "stored_contact",
]
