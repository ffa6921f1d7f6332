"""MediaPipe BlazePose's 33 landmarks -> targets for SMPL's 24 joints and the points that fix twists.

Input: BlazePose *world* landmarks ``(T, 33, 3)``: metres, origin at the hip centre, axes oriented as
the camera's (x right, y down, z away from the camera), so the SMPL rotations fitted to these
targets are already body frame -> camera frame. ``visibility`` ``(T, 33)`` in [0, 1].

BlazePose has no spine, neck or pelvis points, and its hips and shoulders sit on the body's outline,
so the torso joints are built from two frames measured on the landmarks and the rest skeleton's own
geometry:

* the pelvis frame: x = right hip -> left hip, y = hip centre -> shoulder centre (made
  orthogonal), z = x cross y (the body's front), measured on the landmarks and on the rest skeleton.
  ``pelvis``, ``left/right_hip`` and ``spine1`` are the rest skeleton's offsets from its hip centre,
  turned by the rotation between the two frames and placed at the landmarks' hip centre. So the hips
  sit inward of BlazePose's hip points as SMPL's do, and the root's rotation is that rotation.
* the thorax frame: x = right shoulder -> left shoulder, y as above. ``spine3``, ``neck`` and the
  collars are the rest skeleton's offsets from its shoulder centre, turned likewise and placed at the
  landmarks' shoulder centre; ``spine2`` is interpolated between ``spine1`` and ``spine3``.
* ``head``: 4 cm below the ears' midpoint along the head's up axis (ears and nose give its frame).
* limbs: shoulders, elbows, wrists, knees, ankles are the landmarks; ``hand`` = midpoint of the index
  and pinky knuckles; ``foot`` (SMPL's ball of the foot) = 75% of the way from heel to toe tip.

Twists come from :func:`make_hints` (hint points are the 33 landmarks themselves): the ankle for the
hip and the wrist for the shoulder (knee and elbow bend about their own axes), the toe for the hip and
knee, the heel for the ankle, index/pinky for the wrist, nose and ears for the neck and head, and the
shoulders for spine3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ram_core.body.ik import Hint, IkOptions, solve_rotations, unit_vectors
from ram_core.contract.skeleton import JOINT_INDEX, NUM_JOINTS

LANDMARK_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)
LM: dict[str, int] = {name: i for i, name in enumerate(LANDMARK_NAMES)}
NUM_LANDMARKS = len(LANDMARK_NAMES)

# The head joint sits this far below the ears' midpoint, and these are where the ears and nose lie
# from it in the rest pose (SMPL body frame, metres; a typical adult head).
HEAD_BELOW_EARS = 0.04
REST_FROM_HEAD = {"left_ear": (0.075, 0.04, 0.0), "right_ear": (-0.075, 0.04, 0.0), "nose": (0.0, 0.04, 0.10)}
FOOT_ALONG_SOLE = 0.75  # ball of the foot, as a fraction from heel to toe tip
REST_HEEL_FROM_ANKLE = (0.0, -0.06, -0.05)  # where the heel lies from the ankle in the rest pose

# BlazePose observes no spine points: spread the pelvis-to-thorax rotation over spine1/2/3.
LANDMARK_IK_OPTIONS = IkOptions(spine_split=True)

# Directly observed SMPL joints: SMPL name -> landmark name.
DIRECT = {
    "left_shoulder": "left_shoulder",
    "right_shoulder": "right_shoulder",
    "left_elbow": "left_elbow",
    "right_elbow": "right_elbow",
    "left_wrist": "left_wrist",
    "right_wrist": "right_wrist",
    "left_knee": "left_knee",
    "right_knee": "right_knee",
    "left_ankle": "left_ankle",
    "right_ankle": "right_ankle",
}


@dataclass(frozen=True)
class BodyTargets:
    """What :func:`smpl_targets` gives the IK (all in the landmarks' frame, metres).

    Attributes:
        joints: ``(T, 24, 3)`` target positions of SMPL's joints.
        weights: ``(T, 24)`` confidence per joint in [0, 1] (from the landmarks' visibility).
        hint_points: ``(T, 33, 3)`` the landmarks, used by :func:`make_hints`'s hints.
        hint_weights: ``(T, 33)`` their visibility.
    """

    joints: np.ndarray
    weights: np.ndarray
    hint_points: np.ndarray
    hint_weights: np.ndarray


def _frame(x_dir: np.ndarray, y_hint: np.ndarray) -> np.ndarray:
    """``(T, 3, 3)`` rotations whose columns are x (along ``x_dir``), y (``y_hint`` made orthogonal), z = x cross y."""
    x, _ = unit_vectors(x_dir)
    y, _ = unit_vectors(y_hint - np.einsum("ti,ti->t", y_hint, x)[:, None] * x)
    z = np.cross(x, y)
    return np.stack([x, y, z], axis=-1)


def smpl_targets(world: np.ndarray, visibility: np.ndarray, rest_joints: np.ndarray) -> BodyTargets:
    """Targets for SMPL's 24 joints from BlazePose world landmarks.

    Args:
        world: ``(T, 33, 3)`` world landmarks (metres, hip-centred, camera-oriented axes).
        visibility: ``(T, 33)`` landmark visibility in [0, 1].
        rest_joints: ``(24, 3)`` the rest skeleton the rotations will refer to (SMPL body frame).

    Returns:
        :class:`BodyTargets` in the landmarks' frame.
    """
    world = np.asarray(world, dtype=np.float64)
    vis = np.clip(np.asarray(visibility, dtype=np.float64), 0.0, 1.0)
    rest = np.asarray(rest_joints, dtype=np.float64)
    n = world.shape[0]
    p = {name: world[:, i] for name, i in LM.items()}
    v = {name: vis[:, i] for name, i in LM.items()}
    joints = np.zeros((n, NUM_JOINTS, 3))
    weights = np.zeros((n, NUM_JOINTS))

    def put(name: str, pos: np.ndarray, weight: np.ndarray) -> None:
        joints[:, JOINT_INDEX[name]] = pos
        weights[:, JOINT_INDEX[name]] = weight

    hip_mid = 0.5 * (p["left_hip"] + p["right_hip"])
    sho_mid = 0.5 * (p["left_shoulder"] + p["right_shoulder"])
    up = sho_mid - hip_mid
    pelvis_frame = _frame(p["left_hip"] - p["right_hip"], up)
    thorax_frame = _frame(p["left_shoulder"] - p["right_shoulder"], up)
    w_hips = np.minimum(v["left_hip"], v["right_hip"])
    w_shoulders = np.minimum(v["left_shoulder"], v["right_shoulder"])
    w_torso = np.minimum(w_hips, w_shoulders)

    # The same frames measured on the rest skeleton (its hip joints stand in for the hip landmarks),
    # so that a body standing as the rest pose gets exactly the rest offsets back.
    r = {name: rest[JOINT_INDEX[name]] for name in ("left_hip", "right_hip", "left_shoulder", "right_shoulder")}
    rest_hip_mid = 0.5 * (r["left_hip"] + r["right_hip"])
    rest_sho_mid = 0.5 * (r["left_shoulder"] + r["right_shoulder"])
    rest_up = (rest_sho_mid - rest_hip_mid)[None]
    rest_pelvis = _frame((r["left_hip"] - r["right_hip"])[None], rest_up)[0]
    rest_thorax = _frame((r["left_shoulder"] - r["right_shoulder"])[None], rest_up)[0]
    pelvis_rot = pelvis_frame @ rest_pelvis.T
    thorax_rot = thorax_frame @ rest_thorax.T
    for name in ("pelvis", "left_hip", "right_hip", "spine1"):
        put(name, hip_mid + np.einsum("tij,j->ti", pelvis_rot, rest[JOINT_INDEX[name]] - rest_hip_mid), w_torso)
    for name in ("spine3", "neck", "left_collar", "right_collar"):
        put(name, sho_mid + np.einsum("tij,j->ti", thorax_rot, rest[JOINT_INDEX[name]] - rest_sho_mid), w_torso)
    s1, s2, s3 = (rest[JOINT_INDEX[k]] for k in ("spine1", "spine2", "spine3"))
    frac = np.linalg.norm(s2 - s1) / max(np.linalg.norm(s2 - s1) + np.linalg.norm(s3 - s2), 1e-9)
    j1, j3 = joints[:, JOINT_INDEX["spine1"]], joints[:, JOINT_INDEX["spine3"]]
    put("spine2", j1 + frac * (j3 - j1), w_torso)

    ear_mid = 0.5 * (p["left_ear"] + p["right_ear"])
    head_frame = _frame(p["left_ear"] - p["right_ear"], np.cross(p["nose"] - ear_mid, p["left_ear"] - p["right_ear"]))
    put("head", ear_mid - HEAD_BELOW_EARS * head_frame[:, :, 1], np.minimum(v["left_ear"], v["right_ear"]))

    for smpl_name, lm_name in DIRECT.items():
        put(smpl_name, p[lm_name], v[lm_name])
    for side in ("left", "right"):
        put(
            f"{side}_hand",
            0.5 * (p[f"{side}_index"] + p[f"{side}_pinky"]),
            np.minimum(v[f"{side}_index"], v[f"{side}_pinky"]),
        )
        heel, toe = p[f"{side}_heel"], p[f"{side}_foot_index"]
        put(
            f"{side}_foot",
            heel + FOOT_ALONG_SOLE * (toe - heel),
            np.minimum(v[f"{side}_heel"], v[f"{side}_foot_index"]),
        )
    return BodyTargets(joints=joints, weights=weights, hint_points=world, hint_weights=vis)


def smpl_pixels(image: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Pixels and weights ``(T, 24, 3)`` of the SMPL joints BlazePose's 2D landmarks show (weight 0 for the rest).

    The joints :data:`DIRECT` names, the hips (SMPL's, as :func:`skeleton_landmarks` equates them), the hands
    (midpoint of index and pinky) and the feet (:data:`FOOT_ALONG_SOLE` from heel to toe tip), made as
    :func:`smpl_targets` makes them in 3D; torso, neck and head joints are not points BlazePose marks.

    Args:
        image: ``(T, 33, 2)`` landmark pixels.
        weight: ``(T, 33)`` how much each landmark counts (visibility times presence), 0 to 1.
    """
    image = np.asarray(image, dtype=np.float64)
    weight = np.clip(np.asarray(weight, dtype=np.float64), 0.0, 1.0)
    out = np.zeros((image.shape[0], NUM_JOINTS, 3))

    def put(name: str, pixel: np.ndarray, w: np.ndarray) -> None:
        out[:, JOINT_INDEX[name], :2] = pixel
        out[:, JOINT_INDEX[name], 2] = w

    for smpl_name, lm_name in {**DIRECT, "left_hip": "left_hip", "right_hip": "right_hip"}.items():
        put(smpl_name, image[:, LM[lm_name]], weight[:, LM[lm_name]])
    for side in ("left", "right"):
        index, pinky = LM[f"{side}_index"], LM[f"{side}_pinky"]
        put(f"{side}_hand", 0.5 * (image[:, index] + image[:, pinky]), np.minimum(weight[:, index], weight[:, pinky]))
        heel, toe = LM[f"{side}_heel"], LM[f"{side}_foot_index"]
        put(
            f"{side}_foot",
            image[:, heel] + FOOT_ALONG_SOLE * (image[:, toe] - image[:, heel]),
            np.minimum(weight[:, heel], weight[:, toe]),
        )
    return np.where(np.isfinite(out), out, 0.0)


def rest_heel_and_toe(rest_joints: np.ndarray, side: str) -> tuple[np.ndarray, np.ndarray]:
    """Rest positions ``(3,)`` of one foot's heel and toe tip (SMPL body frame, metres): the heel
    :data:`REST_HEEL_FROM_ANKLE` from the ankle, the toe tip on the line from it through the foot joint,
    which lies :data:`FOOT_ALONG_SOLE` of the way along (as :func:`smpl_targets` places it)."""
    rest = np.asarray(rest_joints, dtype=np.float64)
    heel = rest[JOINT_INDEX[f"{side}_ankle"]] + np.asarray(REST_HEEL_FROM_ANKLE)
    return heel, heel + (rest[JOINT_INDEX[f"{side}_foot"]] - heel) / FOOT_ALONG_SOLE


def skeleton_landmarks(joints: np.ndarray, rotations: np.ndarray, rest_joints: np.ndarray) -> np.ndarray:
    """Where BlazePose's landmarks lie on a posed SMPL skeleton: the inverse of :func:`smpl_targets`.

    The joints :data:`DIRECT` names are themselves; the hip landmarks are SMPL's hip joints (on the synthetic
    suite BlazePose's sit about 2 cm further in, its knees and feet 3-5 cm behind: docs/evaluation.md); ears
    and nose are :data:`REST_FROM_HEAD` from the head, heel and toe tip :data:`REST_HEEL_FROM_ANKLE` and the
    line through the foot joint from the ankle, each carried by its joint's rotation. Eyes, mouth and fingers
    have no counterpart and are NaN.

    Args:
        joints: ``(T, 24, 3)`` posed joint positions (any frame, metres), as :func:`forward_kinematics`.
        rotations: ``(T, 24, 3, 3)`` global joint rotations (SMPL body frame -> that frame).
        rest_joints: ``(24, 3)`` the rest skeleton the pose refers to.

    Returns:
        ``(T, 33, 3)`` landmark positions in the joints' frame, NaN where the skeleton defines none.
    """
    pos = np.asarray(joints, dtype=np.float64)
    rot = np.asarray(rotations, dtype=np.float64)
    rest = np.asarray(rest_joints, dtype=np.float64)
    out = np.full((pos.shape[0], NUM_LANDMARKS, 3), np.nan)

    def carried(landmark: str, joint: str, rest_point: np.ndarray) -> None:
        j = JOINT_INDEX[joint]
        out[:, LM[landmark]] = pos[:, j] + np.einsum("tij,j->ti", rot[:, j], rest_point - rest[j])

    for smpl_name, lm_name in DIRECT.items():
        out[:, LM[lm_name]] = pos[:, JOINT_INDEX[smpl_name]]
    for name, offset in REST_FROM_HEAD.items():
        carried(name, "head", rest[JOINT_INDEX["head"]] + np.asarray(offset))
    for side in ("left", "right"):
        out[:, LM[f"{side}_hip"]] = pos[:, JOINT_INDEX[f"{side}_hip"]]
        heel, toe = rest_heel_and_toe(rest, side)
        carried(f"{side}_heel", f"{side}_ankle", heel)
        carried(f"{side}_foot_index", f"{side}_ankle", toe)
    return out


def make_hints(rest_joints: np.ndarray) -> tuple[Hint, ...]:
    """The twist hints for :func:`smpl_targets`' output (hint points = the 33 landmarks).

    Rest directions are in SMPL's body frame for the T-pose (arms along +-x, palms down): a knee
    bends its ankle backwards (-z), an elbow its wrist forwards (+z), thumbs point forwards (+z).
    The rest heel is :data:`REST_HEEL_FROM_ANKLE` from the ankle and the rest toe tip lies on the line
    from it through the rest foot joint, as :func:`smpl_targets` assumes.
    """
    rest = np.asarray(rest_joints, dtype=np.float64)
    J = JOINT_INDEX
    hints: list[Hint] = []
    for side in ("left", "right"):
        _, toe = rest_heel_and_toe(rest, side)
        hints += [
            Hint(J[f"{side}_hip"], LM[f"{side}_ankle"], (0.0, 0.0, -1.0)),
            Hint(J[f"{side}_hip"], LM[f"{side}_foot_index"], tuple(toe - rest[J[f"{side}_hip"]]), scale=0.3),
            Hint(J[f"{side}_knee"], LM[f"{side}_foot_index"], tuple(toe - rest[J[f"{side}_knee"]])),
            Hint(J[f"{side}_ankle"], LM[f"{side}_heel"], REST_HEEL_FROM_ANKLE),
            Hint(J[f"{side}_shoulder"], LM[f"{side}_wrist"], (0.0, 0.0, 1.0)),
            Hint(J[f"{side}_wrist"], LM[f"{side}_index"], (0.0, 0.0, 1.0)),
            Hint(J[f"{side}_wrist"], LM[f"{side}_pinky"], (0.0, 0.0, -1.0)),
            Hint(J["spine3"], LM[f"{side}_shoulder"], tuple(rest[J[f"{side}_shoulder"]] - rest[J["spine3"]])),
        ]
    hints.append(Hint(J["neck"], LM["nose"], (0.0, 0.0, 1.0)))
    hints += [Hint(J["head"], LM[name], offset) for name, offset in REST_FROM_HEAD.items()]
    return tuple(hints)


def landmarks_to_rotations(
    world: np.ndarray,
    visibility: np.ndarray,
    rest_joints: np.ndarray,
    options: IkOptions = LANDMARK_IK_OPTIONS,
) -> tuple[np.ndarray, np.ndarray, BodyTargets]:
    """SMPL rotations fitted to BlazePose world landmarks.

    Returns:
        ``global_orient`` ``(T, 3)`` (body frame -> camera-oriented frame), ``body_pose``
        ``(T, 23, 3)`` (axis-angle, radians) and the :class:`BodyTargets` they were fitted to.
    """
    targets = smpl_targets(world, visibility, rest_joints)
    global_orient, body_pose = solve_rotations(
        targets.joints,
        rest_joints,
        targets.weights,
        targets.hint_points,
        targets.hint_weights,
        make_hints(rest_joints),
        options,
    )
    return global_orient, body_pose, targets
