"""The armature plan: everything the builder needs, computed with numpy only (no bpy).

Frames and formulas. ``S = SMPL_TO_BLENDER`` maps SMPL's canonical body frame to Blender's world and
``(C, c)`` maps OpenCV's camera frame to Blender's world, ``x -> C @ x + c``: the solved scene's
``world_from_camera`` (the floor at z = 0, the camera above it looking down) or, without one, the
camera at the origin looking along +Y (``CAMERA_TO_BLENDER``, ``c = 0``); see
:func:`ram_core.contract.coords.blender_from_camera`. The armature object sits at the origin with an
identity matrix, so armature space is Blender's world. Each track's rest skeleton is the capture's
rest joints times the track's ``scale`` (its size from the scene solve; 1 without one).

* Rest heads: ``h_j = S @ rest_j`` (metres).
* Rest matrices: bone ``j``'s rest rotation ``B_j`` has its Y axis along the bone (towards its main
  child; leaf bones continue their parent's direction) and its Z axis the body's front (-Y in Blender),
  or Blender's up (+Z) for bones that point forwards (the feet), made orthogonal to Y.
* Posed, a bone's armature-space rotation must be ``C @ G_j @ S.T @ B_j`` where ``G_j`` is SMPL's
  global rotation of joint ``j`` (body frame -> camera frame). Blender composes
  ``pose_j = pose_p @ B_p.T @ B_j @ L_j`` (rotation part), which gives the local pose rotations::

      L_0 = B_0.T @ (C @ R_0 @ S.T) @ B_0          (pelvis, R_0 = R(global_orient))
      L_j = B_j.T @ (S @ R_j @ S.T) @ B_j          (others, R_j = R(body_pose[j-1]))

  i.e. SMPL's local rotations seen in the bone's own axes: a change of basis, nothing more.
* Pelvis location (in the pelvis bone's rest axes): the posed pelvis head must land at
  ``P = C @ (rest_0 + transl) + c``, so ``loc = B_0.T @ (P - S @ rest_0)``.
  Every other head then lands at ``C @ joints_j`` because ``pose_p`` carries ``h_j - h_p`` to
  ``C @ G_p @ (rest_j - rest_p)``, SMPL's forward kinematics mapped by ``C``.

Grounded (a solved scene, the floor at z = 0): a ``root`` bone, parent of the pelvis, lies on the floor
at the armature's origin pointing to the body's front; the rest skeleton is moved by ``g`` (the
pelvis's x, y and the lowest rest bone end's z, the toes' tips) so it stands on the root:
``h_j = S @ rest_j - g``. The object sits at ``o``, the pelvis's first position dropped to the floor.
Per frame the root carries ``d = (P - o)`` with z = 0 and the heading ``psi`` (where the pelvis faces,
:func:`heading`), ``Z = Rz(psi)``:

      root:   loc = B_r.T @ d,   L_r = B_r.T @ Z @ B_r
      pelvis: L_0 = B_0.T @ Z.T @ (C @ R_0 @ S.T) @ B_0,   loc = B_0.T @ (Z.T @ (P - o - d) - h_0)

Blender frame numbers are video frame indices plus :data:`FRAME_OFFSET`, so the timeline reads the
video's frames 1-based and a movie clip placed at frame 1 lines up. A variable-frame-rate capture (its
metadata has ``frame_times``) keys each frame where its time falls at the scene's rate instead
(:func:`frame_timeline`, :meth:`TrackPlan.at`), between whole frames where it falls between them; gaps,
holds and visibility are still worked out on the video's frame numbers.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np

from ram_core.contract.coords import CAMERA_TO_BLENDER, SMPL_TO_BLENDER, blender_from_camera
from ram_core.contract.results import CaptureMeta, Results, Track
from ram_core.contract.skeleton import (
    JOINT_NAMES,
    NUM_JOINTS,
    PARENTS,
    axis_angle_to_matrix,
    children,
    matrix_to_quaternion,
)

FRAME_OFFSET = 1

# The child a bone points at when it has several (the spine, not the hips or collars).
_MAIN_CHILD = {"pelvis": "spine1", "spine3": "neck"}
# Leaf bones continue their parent's direction with this length (metres).
_LEAF_LENGTH = {"head": 0.2, "left_foot": 0.08, "right_foot": 0.08, "left_hand": 0.08, "right_hand": 0.08}
_FRONT = SMPL_TO_BLENDER @ np.array([0.0, 0.0, 1.0])
_UP = np.array([0.0, 0.0, 1.0])

# The grounded armature's top bone: on the floor at the origin, pointing to the body's front (-Y), Z up.
ROOT = "root"
ROOT_LENGTH = 0.3
ROOT_REST = np.array([[-1.0, 0.0, 0.0, 0.0], [0.0, -1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]])


@dataclass(frozen=True)
class SkeletonPlan:
    """The rest armature in Blender space.

    ``heads``/``tails`` ``(24, 3)`` metres; ``rest_rotations`` ``(24, 3, 3)`` (columns are the bone's
    X, Y, Z axes in armature space; Y points from head to tail); ``rest_matrices`` ``(24, 4, 4)``.
    ``grounded``: a :data:`ROOT` bone (rest :data:`ROOT_REST`) is the pelvis's parent and the bones are
    moved by ``offset`` ``(3,)`` (``heads = S @ rest - offset``; zeros when not grounded).
    """

    names: tuple[str, ...]
    parents: tuple[int, ...]
    heads: np.ndarray
    tails: np.ndarray
    rest_rotations: np.ndarray
    grounded: bool = False
    offset: np.ndarray = field(default_factory=lambda: np.zeros(3))

    @property
    def rest_matrices(self) -> np.ndarray:
        m = np.zeros((NUM_JOINTS, 4, 4))
        m[:, :3, :3] = self.rest_rotations
        m[:, :3, 3] = self.heads
        m[:, 3, 3] = 1.0
        return m

    @property
    def lengths(self) -> np.ndarray:
        return np.linalg.norm(self.tails - self.heads, axis=-1)


@dataclass(frozen=True)
class TrackPlan:
    """One person's keys.

    ``frames`` ``(T,)`` Blender frame numbers; ``rotations`` ``(T, 24, 4)`` local pose quaternions
    (w, x, y, z), sign-continuous in time; ``location`` ``(T, 3)`` pelvis location in its rest axes
    (metres); ``predicted`` ``(T,)`` bool; ``contact`` ``(T, 2)`` left and right foot planted (0-1).
    Grounded: ``root_rotation`` ``(T, 4)`` and ``root_location`` ``(T, 3)`` the root bone's keys and
    ``origin`` ``(3,)`` the object's place (world, metres); without a root they are None and zeros.
    ``scale`` the track's size (:func:`track_rest_joints`), which a body mesh takes too. ``timeline``
    ``(2, N)`` for a variable-frame-rate capture: Blender frame numbers and where their keys go
    (:func:`frame_timeline`), None at a constant rate.
    """

    track_id: int
    name: str
    frames: np.ndarray
    rotations: np.ndarray
    location: np.ndarray
    predicted: np.ndarray
    betas: np.ndarray
    contact: np.ndarray
    root_rotation: np.ndarray | None = None
    root_location: np.ndarray | None = None
    origin: np.ndarray = field(default_factory=lambda: np.zeros(3))
    scale: float = 1.0
    timeline: np.ndarray | None = None

    def at(self, frames: np.ndarray) -> np.ndarray:
        """Where keys meant for Blender frame numbers ``frames`` ``(K,)`` go: the same frames at a constant rate,
        else at their video frame's time (one frame per frame before and after the captured ones)."""
        return retime(frames, self.timeline)


# How far the ground plane reaches past the outermost joint seen (metres): room for contact shadows.
GROUND_MARGIN = 1.5


@dataclass(frozen=True)
class GroundPlan:
    """The solved floor under a capture: ``corners`` ``(4, 3)`` of a rectangle at z = 0 (Blender's world,
    metres, counter-clockwise seen from above) covering every joint's path plus :data:`GROUND_MARGIN`."""

    corners: np.ndarray


@dataclass(frozen=True)
class ScenePlan:
    """Scene settings from the video: ``fps`` as Blender wants it (integer ``fps`` and ``fps_base``)."""

    fps: int
    fps_base: float
    frame_start: int
    frame_end: int


def plan_skeleton(rest_joints: np.ndarray, grounded: bool = False) -> SkeletonPlan:
    """Rest bones in Blender space from SMPL rest joints ``(24, 3)`` (canonical frame, metres);
    ``grounded``: moved to stand on the origin, which is under the rest pelvis at the height of the
    lowest rest bone end (the toes' tips), so the rest body's lowest point is on the root's floor."""
    heads = np.asarray(rest_joints, dtype=np.float64) @ SMPL_TO_BLENDER.T
    tails = np.empty_like(heads)
    for j, name in enumerate(JOINT_NAMES):
        kids = children(j)
        if kids:
            target = JOINT_NAMES.index(_MAIN_CHILD[name]) if name in _MAIN_CHILD else kids[0]
            tails[j] = heads[target]
        else:
            p = PARENTS[j]
            d = heads[j] - heads[p]
            tails[j] = heads[j] + d / np.linalg.norm(d) * _LEAF_LENGTH.get(name, 0.08)
    offset = np.zeros(3)
    if grounded:
        offset = np.array([heads[0, 0], heads[0, 1], min(heads[:, 2].min(), tails[:, 2].min())])
        heads, tails = heads - offset, tails - offset
    y = tails - heads
    y /= np.linalg.norm(y, axis=-1, keepdims=True)
    ref = np.where(np.abs(y @ _FRONT)[:, None] > 0.7, _UP, _FRONT)
    z = ref - np.sum(ref * y, axis=-1, keepdims=True) * y
    z /= np.linalg.norm(z, axis=-1, keepdims=True)
    x = np.cross(y, z)
    rest_rot = np.stack([x, y, z], axis=-1)
    return SkeletonPlan(JOINT_NAMES, PARENTS, heads, tails, rest_rot, grounded, offset)


def local_rotations(
    skeleton: SkeletonPlan,
    global_orient: np.ndarray,
    body_pose: np.ndarray,
    camera_to_world: np.ndarray = CAMERA_TO_BLENDER,
) -> np.ndarray:
    """Local pose rotation matrices ``(T, 24, 3, 3)`` from SMPL axis-angles (see the module docstring).

    Args:
        global_orient: ``(T, 3)`` axis-angle, body frame -> camera frame.
        body_pose: ``(T, 23, 3)`` axis-angle, SMPL local rotations.
        camera_to_world: ``C``, the rotation from the camera frame to Blender's world.
    """
    rots = axis_angle_to_matrix(np.concatenate([global_orient[:, None], body_pose], axis=1))
    # Frame of each joint's rotation: the root acts from body to camera axes, the rest in body axes.
    outer = np.broadcast_to(SMPL_TO_BLENDER, (NUM_JOINTS, 3, 3)).copy()
    outer[0] = camera_to_world
    b = skeleton.rest_rotations
    left = np.swapaxes(b, -1, -2) @ outer  # (24, 3, 3): B_j.T @ (C or S)
    right = SMPL_TO_BLENDER.T @ b  # (24, 3, 3): S.T @ B_j
    return left[None] @ rots @ right[None]


def track_scale(track: Track) -> float:
    """One track's size from the scene solve: the median of its records' ``scale`` (1 if it has none)."""
    return float(np.median(track.scale)) if len(track) else 1.0


def track_rest_joints(rest_joints: np.ndarray, track: Track) -> np.ndarray:
    """The rest skeleton ``(24, 3)`` of one track: the capture's, times the track's size (:func:`track_scale`)."""
    return np.asarray(rest_joints, dtype=np.float64) * track_scale(track)


def continuous_quaternions(quat: np.ndarray) -> np.ndarray:
    """Flip signs along axis 0 of ``(T, ..., 4)`` so consecutive quaternions have a non-negative dot."""
    q = np.array(quat, dtype=np.float64)
    if len(q) < 2:
        return q
    dots = np.sum(q[1:] * q[:-1], axis=-1)
    flips = np.cumprod(np.where(dots < 0, -1.0, 1.0), axis=0)
    q[1:] *= flips[..., None]
    return q


def rotation_z(angle: np.ndarray) -> np.ndarray:
    """``(T, 3, 3)`` rotations by ``angle`` ``(T,)`` radians about Blender's Z (up)."""
    c, s = np.cos(angle), np.sin(angle)
    out = np.zeros((len(angle), 3, 3))
    out[:, 0, 0], out[:, 0, 1], out[:, 1, 0], out[:, 1, 1], out[:, 2, 2] = c, -s, s, c, 1.0
    return out


def heading(pelvis_world: np.ndarray) -> np.ndarray:
    """``(T,)`` radians about Z, unwrapped: where the pelvis faces on the floor (``pelvis_world`` ``(T, 3, 3)``,
    rest to posed in Blender's world), 0 facing -Y as at rest.

    The front's and the hip line's floor directions are summed (the hip line turned a quarter to face
    front), so bending forward (the front points down) or leaning sideways still has a heading.
    """
    front = pelvis_world @ _FRONT
    left = pelvis_world @ np.array([1.0, 0.0, 0.0])  # SMPL's +x, the body's left, is Blender's +X at rest
    x = front[:, 0] + left[:, 1]
    y = front[:, 1] - left[:, 0]
    return np.unwrap(np.arctan2(x, -y))


def frame_timeline(meta: CaptureMeta) -> np.ndarray | None:
    """``(2, N)``: the Blender frame number of each captured video frame and where its time falls at the
    scene's rate (``meta.fps``), for a variable-frame-rate capture; None when frame ``f`` is at ``f / fps``."""
    if meta.frame_times is None or not len(meta.frame_times):
        return None
    t = np.asarray(meta.frame_times, dtype=np.float64)
    first = meta.frame_start + FRAME_OFFSET
    return np.stack([first + np.arange(len(t), dtype=np.float64), first + (t - t[0]) * meta.fps])


def retime(frames: np.ndarray, timeline: np.ndarray | None) -> np.ndarray:
    """Blender frame numbers ``frames`` ``(K,)`` moved along ``timeline`` (:func:`frame_timeline`; None: unmoved),
    interpolated between captured frames and one frame per frame beyond them; order is kept."""
    f = np.asarray(frames, dtype=np.float64)
    if timeline is None:
        return f
    xs, ys = timeline
    out = np.interp(f, xs, ys)
    out[f < xs[0]] = ys[0] + (f[f < xs[0]] - xs[0])
    out[f > xs[-1]] = ys[-1] + (f[f > xs[-1]] - xs[-1])
    return out


def video_frame_at(blender_frame: int, timeline: np.ndarray | None) -> int:
    """The first video frame keyed at or after ``blender_frame`` (an edit "from this frame on" starts there):
    ``blender_frame - FRAME_OFFSET`` at a constant rate; ``timeline`` is :func:`frame_timeline`'s."""
    if timeline is None:
        return int(blender_frame) - FRAME_OFFSET
    at = float(retime(np.array([blender_frame]), timeline[::-1])[0])  # the timeline read backwards
    return int(np.ceil(at - 1e-6)) - FRAME_OFFSET


def plan_track(
    skeleton: SkeletonPlan,
    rest_joints: np.ndarray,
    track: Track,
    name: str = "",
    world: np.ndarray | None = None,
    origin: np.ndarray | None = None,
    timeline: np.ndarray | None = None,
) -> TrackPlan:
    """Keys for one track: quaternions per bone, pelvis location, Blender frame numbers; grounded
    (``skeleton.grounded``) also the root's keys and the object's place.

    ``skeleton`` and ``rest_joints`` are the track's own (:func:`track_rest_joints`); ``world`` the
    ``(4, 4)`` camera-to-Blender transform (None: the camera at the origin); ``origin`` ``(3,)`` where
    the object stands (None: the pelvis's first position on the floor); ``timeline`` the capture's
    :func:`frame_timeline`.
    """
    world = blender_from_camera(None) if world is None else world
    go = track.global_orient.astype(np.float64)
    bp = track.body_pose.astype(np.float64)
    rots = local_rotations(skeleton, go, bp, world[:3, :3])
    pelvis = (np.asarray(rest_joints[0], dtype=np.float64) + track.transl) @ world[:3, :3].T + world[:3, 3]
    root_rotation = root_location = None
    place = np.zeros(3)
    if skeleton.grounded and len(track):
        b0 = skeleton.rest_rotations[0]
        z = rotation_z(heading(b0 @ rots[:, 0] @ b0.T))
        rots[:, 0] = b0.T @ np.swapaxes(z, 1, 2) @ b0 @ rots[:, 0]
        place = np.array([pelvis[0, 0], pelvis[0, 1], 0.0]) if origin is None else np.asarray(origin, np.float64)
        d = pelvis - place
        d[:, 2] = 0.0
        br = ROOT_REST[:3, :3]
        root_location = d @ br
        root_rotation = continuous_quaternions(matrix_to_quaternion(br.T @ z @ br))
        loc = (np.einsum("tji,tj->ti", z, pelvis - place - d) - skeleton.heads[0]) @ b0
    else:
        loc = (pelvis - skeleton.heads[0]) @ skeleton.rest_rotations[0]
    betas = track.betas.mean(axis=0) if len(track) else np.zeros(track.betas.shape[1:])
    return TrackPlan(
        track_id=track.track_id,
        name=name or f"RAM person {track.track_id}",
        frames=track.frame.astype(np.int64) + FRAME_OFFSET,
        rotations=continuous_quaternions(matrix_to_quaternion(rots)),
        location=loc,
        predicted=track.predicted.astype(bool),
        betas=betas.astype(np.float64),
        contact=track.contact.astype(np.float64),
        root_rotation=root_rotation,
        root_location=root_location,
        origin=place,
        scale=track_scale(track),
        timeline=timeline,
    )


@dataclass(frozen=True)
class StepKeys:
    """Keys of a stepped (CONSTANT) channel: ``frames`` ``(K,)`` Blender frames, ``values`` ``(K,)`` or
    ``(K, C)`` for ``C`` channels."""

    frames: np.ndarray
    values: np.ndarray


def plan_ground(results: Results) -> GroundPlan | None:
    """The floor rectangle under everyone's paths, for a capture with a scene solve (None without one,
    or without any record: then there is no floor to show)."""
    if results.meta.world_from_camera is None:
        return None
    joints = [t.joints.reshape(-1, 3) for t in results.tracks if len(t)]
    if not joints:
        return None
    world = blender_from_camera(results.meta.world_from_camera)
    points = np.concatenate(joints).astype(np.float64) @ world[:3, :3].T + world[:3, 3]
    (x0, y0), (x1, y1) = points[:, :2].min(axis=0) - GROUND_MARGIN, points[:, :2].max(axis=0) + GROUND_MARGIN
    return GroundPlan(np.array([[x0, y0, 0.0], [x1, y0, 0.0], [x1, y1, 0.0], [x0, y1, 0.0]]))


def gap_starts(frames: np.ndarray) -> np.ndarray:
    """Indices ``i`` into ``frames`` ``(T,)`` (sorted) after which at least one frame is missing."""
    return np.flatnonzero(np.diff(frames) > 1)


def visibility_keys(frames: np.ndarray) -> StepKeys:
    """Hidden (1) before the first frame, during every gap and after the last; shown (0) on the track's frames.

    A gap's pose is a hold of its last frame (see :func:`hold_before_gaps`), so nothing of it may show.
    """
    frames = np.asarray(frames, dtype=np.float64)
    gaps = gap_starts(frames)
    keys = [(frames[0] - 1, 1.0), (frames[0], 0.0)]
    for i in gaps:
        keys += [(frames[i] + 1, 1.0), (frames[i + 1], 0.0)]
    keys.append((frames[-1] + 1, 1.0))
    out = np.array(keys)
    return StepKeys(out[:, 0], out[:, 1])


def predicted_keys(frames: np.ndarray, predicted: np.ndarray) -> StepKeys:
    """``ram_predicted`` per frame (1: not observed) with the frames of every gap flagged 1 as well."""
    return gap_filled_keys(frames, np.asarray(predicted, dtype=np.float64), 1.0)


def gap_filled_keys(frames: np.ndarray, values: np.ndarray, gap_value: float) -> StepKeys:
    """Keys of ``values`` ``(T, ...)`` at ``frames`` ``(T,)`` plus ``gap_value`` on the first frame of every gap."""
    frames = np.asarray(frames, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    gaps = gap_starts(frames)
    f = np.concatenate([frames, frames[gaps] + 1])
    v = np.concatenate([values, np.full((len(gaps), *values.shape[1:]), gap_value)])
    order = np.argsort(f, kind="stable")
    return StepKeys(f[order], v[order])


def hold_before_gaps(frames: np.ndarray) -> np.ndarray:
    """``(T,)`` bool: keys whose interpolation must be CONSTANT so the pose holds through the gap after
    them instead of gliding (metres, for a person re-found elsewhere) to the far side."""
    hold = np.zeros(len(frames), dtype=bool)
    hold[gap_starts(np.asarray(frames))] = True
    return hold


def track_digest(track: Track, rest_joints: np.ndarray, *extra: object) -> str:
    """A fingerprint of everything a track's armature is built from, so a rebuild re-keys only what changed."""
    h = hashlib.sha1()
    for a in (rest_joints, *track.arrays().values()):
        arr = np.ascontiguousarray(a)
        h.update(f"{arr.dtype}{arr.shape}".encode())
        h.update(arr.tobytes())
    h.update(repr(extra).encode())
    return h.hexdigest()


@dataclass(frozen=True)
class CameraPlan:
    """Blender's camera for the capture's pixel camera.

    ``matrix_world`` ``(4, 4)`` places it: where the solved scene puts it (above the floor, looking
    down), else at the origin looking along +Y with +Z up. ``lens_mm`` on a ``sensor_width_mm``
    sensor fitted horizontally gives the focal length ``fx`` pixels of a ``width``-pixel image; the
    shifts place the principal point (fractions of the larger image side, as Blender measures them).
    ``video_rotation``: the video's rotation tag (``CaptureMeta.video_rotation``), for its background.
    """

    matrix_world: np.ndarray
    lens_mm: float
    sensor_width_mm: float
    shift_x: float
    shift_y: float
    width: int
    height: int
    video_rotation: int = 0


def plan_camera(meta: CaptureMeta, sensor_width_mm: float = 36.0) -> CameraPlan:
    """The capture camera (assumed or given intrinsics) as a Blender camera; square pixels assumed."""
    k = np.asarray(meta.intrinsics, dtype=np.float64)
    side = float(max(meta.width, meta.height))
    # A Blender camera looks along its local -Z with +Y up: OpenCV's axes are its x, -y, -z.
    matrix = blender_from_camera(meta.world_from_camera) @ np.diag([1.0, -1.0, -1.0, 1.0])
    return CameraPlan(
        matrix_world=matrix,
        lens_mm=float(k[0, 0]) * sensor_width_mm / float(meta.width),
        sensor_width_mm=sensor_width_mm,
        shift_x=(meta.width / 2.0 - float(k[0, 2])) / side,
        shift_y=(float(k[1, 2]) - meta.height / 2.0) / side,
        width=int(meta.width),
        height=int(meta.height),
        video_rotation=int(meta.video_rotation),
    )


def background_turn(clip_size: tuple[int, int], plan: CameraPlan) -> tuple[float, float]:
    """The camera background's ``rotation`` (radians, clockwise) and ``scale`` that show a movie of
    ``clip_size`` (width, height, as Blender reads it) as the capture saw it: a video stored turned by its
    rotation tag (a phone's portrait video stored landscape) that Blender reads as stored (4.2 does; 5.x
    applies the tag) is turned by the tag, and scaled to fill the frame (the ``FIT`` frame method fits the
    unturned movie to the frame first). (0, 1) for a movie Blender reads upright."""
    w, h = int(clip_size[0]), int(clip_size[1])
    if plan.video_rotation in (90, 270) and (w, h) == (plan.height, plan.width) and w != h:
        return math.radians(plan.video_rotation), max(w, h) / min(w, h)
    return 0.0, 1.0


def plan_scene(meta: CaptureMeta) -> ScenePlan:
    """Frame rate and range for the scene; fractional rates (29.97) become ``fps / fps_base``; the range
    reaches the last key of a variable-frame-rate capture."""
    fps = max(1, int(round(meta.fps)))
    base = fps / meta.fps if meta.fps > 0 else 1.0
    end = max(meta.frame_end - 1, meta.frame_start) + FRAME_OFFSET
    timeline = frame_timeline(meta)
    if timeline is not None:
        end = int(np.ceil(timeline[1, -1]))
    return ScenePlan(fps, base, meta.frame_start + FRAME_OFFSET, end)
