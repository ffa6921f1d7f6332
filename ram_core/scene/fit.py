"""Temporal body fit: each track's joint rotations and root, fitted over the whole clip. Numpy and scipy.

The offline replacement for the worker's causal One-Euro filter. Per track and run of consecutive frames,
Gauss-Newton on a sparse least-squares problem whose unknowns are every frame's 24 global joint rotations
and pelvis position, with the track's bone lengths (``scale * rest_joints``) fixed:

* reprojection: each joint the backend saw in 2D (``keypoints_2d``) lands on its pixel, weighted by its
  weight, robust (Huber), measured in metres at the joint's depth (``sigma_2d``);
* the 3D landmark directions as a prior: each bone points where the backend's 3D keypoints say
  (``keypoints_3d``, seen from straight in front of the person, turned onto their viewing ray; the records'
  own joints for a backend that keeps none), less the lean its model gives people seen from above
  (:func:`crop_lean`);
* the records' rotations and pelvis as a weak prior (twists no point shows, the depth the scene settled);
* an upright prior: the pelvis's up axis and the torso (pelvis -> neck, robust) near the solved floor's normal;
* a heading prior: a walking person's pelvis faces roughly where they walk (robust, only while they walk);
* anatomical limits (robust): elbows and knees bend about their hinge axis and the upper arm turns little about
  itself, so a forearm or shin stays in the plane its limb bends in; wrists and ankles bend little from their rest
  angle. Each turns the bone below the joint only (the bone above is held where its own observations put it);
* smoothness: the angular acceleration of every joint and the pelvis's acceleration, in rad/s^2 and m/s^2;
* feet: on frames where a foot is in contact (``ram_core.scene.contact.detect_contact`` on the solved floor)
  it stands at its planted height and does not slide; no joint goes below the floor. These are terms
  of the same fit, so the legs bend to hold a foot instead of the whole body being shifted.

Hidden frames filled by the backend or ``ram_core.scene.gaps`` (``predicted``) carry no observation: the fill
(a walker's own strides) is their prior and the motion terms join it to the frames around.
The Jacobian is analytic and sparse: a joint's position moves with the pelvis and with each ancestor's
rotation ``w`` (about the ancestor, ``dp = w x (child - ancestor)``), so each step is one sparse solve.

Frames: camera frame OpenCV (x right, y down, z forward), metres; rotations SMPL body frame -> camera.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ram_core.contract.results import Results, Track
from ram_core.contract.skeleton import (
    JOINT_NAMES,
    NUM_JOINTS,
    PARENTS,
    axis_angle_to_matrix,
    forward_kinematics,
    global_to_local,
    matrix_to_axis_angle,
    matrix_to_quaternion,
)
from ram_core.scene.banded import NormalEquations, solve_block_banded
from ram_core.scene.contact import ContactOptions, detect_contact, stored_contact
from ram_core.scene.depth import frame_runs
from ram_core.scene.heading import travel
from ram_core.scene.solve import FEET, rest_stature

MOTION = "temporal fit"
NOTE = "motion from the temporal body fit (offline)"
PARAMS = 3 * NUM_JOINTS + 3  # per frame: 24 rotation steps, then the pelvis's move
ROOT = 3 * NUM_JOINTS
UP = np.array([0.0, 1.0, 0.0])  # SMPL's body frame: y up
NECK = JOINT_NAMES.index("neck")
#: A limb's twist limit counts fully while the limb swings up to 120 degrees from hanging down (cos of half of it).
TWIST_FADE = 0.5
# The limbs' anatomical limits: each knee and elbow bends about one axis (SMPL's body frame; a positive turn about
# it bends the joint: the shin swings back about x, the left forearm forward about -y, the right about +y, the
# arms lying along x at rest), and the ball joint above it (hip, shoulder) turns little about its own bone
# against its reference (the pelvis; the thorax, spine3: the collars' own turn is poorly seen).
LIMBS = tuple(
    (group, JOINT_NAMES.index(hinge), np.array(axis), JOINT_NAMES.index(ball), JOINT_NAMES.index(reference))
    for group, hinge, axis, ball, reference in (
        ("leg", "left_knee", (1.0, 0.0, 0.0), "left_hip", "pelvis"),
        ("leg", "right_knee", (1.0, 0.0, 0.0), "right_hip", "pelvis"),
        ("arm", "left_elbow", (0.0, -1.0, 0.0), "left_shoulder", "spine3"),
        ("arm", "right_elbow", (0.0, 1.0, 0.0), "right_shoulder", "spine3"),
    )
)
# The limbs' ends: a wrist and an ankle bend little away from their rest angle (the hand along the forearm, the
# foot about square to the shin); the landmarks' hand (index and pinky knuckles) and foot (heel and toe tip)
# are their noisiest points.
ENDS = tuple(
    (group, JOINT_NAMES.index(joint))
    for group, joint in (
        ("ankle", "left_ankle"),
        ("ankle", "right_ankle"),
        ("wrist", "left_wrist"),
        ("wrist", "right_wrist"),
    )
)


@dataclass(frozen=True)
class FitOptions:
    """How much each term counts: each residual is divided by its sigma (metres, radians) or by its
    acceleration scale (m/s^2, rad/s^2).

    Attributes:
        sigma_2d: a 2D keypoint's error, in metres at the joint's depth. With each person's true bone lengths
            (``benchmarks/fit_proportions.py``) 0.03 / 0.04 / 0.06 gave PA-MPJPE 67.6 / 67.6 / 68.3 mm on all 9
            clips; with the true 2D keypoints too, 0.01 gave 55.8 against 62.9 at 0.04: the landmarks' 2D
            (about 3 px off) is what limits the limbs' depth, not this weight.
        huber_2d: 2D residuals beyond this many sigmas count linearly (1 rather than 2: PA-MPJPE 65.7 rather
            than 66.1 mm, root-relative 84.8 rather than 84.3 mm on the tuning clips; a landmark that jumps to
            the other leg for a frame pulls less).
        sigma_bone: a bone's end off the direction the 3D keypoints give (metres). On the suite's tuning clips
            (couple, pillar, toward_away, crouch; with ``still_gain`` 30 and ``huber_2d`` 1) 0.04 / 0.06 / 0.08 /
            0.1 gave PA-MPJPE 65.3 / 65.4 / 65.7 / 65.9 mm and root-relative MPJPE 86.8 / 85.4 / 84.8 / 84.6 mm:
            the landmark model's depth is the least reliable part of its 3D keypoints, and the 2D keypoints
            with the bones' exact lengths know the rest (the ground truth's 2D keypoints in their place: 60.2 mm at 0.04).
            With each person's true bone lengths (``benchmarks/fit_proportions.py``'s upper bound), 0.08 / 0.16 / 0.32
            gave 67.6 / 68.1 / 68.3 mm on all 9 clips: a weaker prior does not let the reprojection find the
            limbs' depth better, even with exact bones.
        weight_floor: the least weight an observed keypoint counts with.
        sigma_rotation: a joint's rotation off the record's (radians).
        sigma_root: the pelvis off the record's across its viewing ray (metres).
        sigma_depth: the pelvis off the record's along its viewing ray (metres).
        sigma_upright: the pelvis's up axis off the floor's normal (length of the difference).
        lean_gain: the landmark model's 3D keypoints lean away from a camera that looks down on the person by
            about ``lean_gain * e^2`` radians, ``e`` the viewing ray's angle below the horizon (radians): they
            come out nearer upright in its crop than the person is. Measured on the synthetic suite's raw
            landmarks, the torso's lean error against the ground truth's: 0.0146 deg per deg^2 at rays 21 deg
            (three_crossing) and 37 deg (enter_leave) below the horizon, 0.84 per radian; noise below 15 deg.
            Undone before the fit when the floor is known (:func:`crop_lean`).
        sigma_torso: the torso's direction (pelvis -> neck, unit length) off the floor's normal. On the suite's
            tuning clips (couple, pillar, toward_away) 0.3 / 0.15 / 0.1 / 0.08 gave lean 3.6 / 3.4 / 3.3 / 2.4
            degrees (without Huber at 0.08), PA-MPJPE 70.2 / 70.2 / 70.3 / 69.7 mm; 0.08 made couple lean more.
        huber_torso: torso residuals beyond this many sigmas count linearly, so a person bent well over keeps
            their bend (the prior's pull is bounded).
        accel_rotation: angular acceleration that costs one unit (rad/s^2).
        accel_root: the pelvis's acceleration that costs one unit (m/s^2).
        sigma_contact: a planted foot off its height or its last frame's place, and a joint below the floor (m).
        still_gain: a foot's slide across the floor counts with ``min(1, still_gain * p)``, ``p`` its contact
            probability, as well as fully where it is found planted: contact detection misses a third of the
            planted frames, and a foot that may be planted should not slide either. On the tuning clips (with
            ``sigma_bone`` 0.04, ``huber_2d`` 2) 4 / 10 / 30 gave foot skate 1.69 / 1.54 / 1.38 cm/frame during
            the ground truth's contact, PA-MPJPE 65.8 / 65.7 / 65.6 mm: a stepping foot still lifts (its
            probability falls to 0 within a frame or two).
        predicted_root_weight: how much a filled frame's pelvis counts as a prior (a straight line across the gap:
            little, so the motion terms bend it).
        predicted_weight: how much a frame filled while the person was hidden counts as a prior (its rotations;
            the pelvis: ``predicted_root_weight``). A fill keeps a
            walker's strides (``ram_core.scene.gaps``), which the motion terms alone would smooth toward a glide:
            with 1 s cut from each track on the tuning clips, 0.1 / 1 / 10 (the pelvis weighted alike) gave
            PA-MPJPE 75.5 / 73.4 / 72.0 mm, root-relative 93.1 / 93.1 / 96.1 mm, foot skate 1.58 / 1.56 / 1.61
            cm/frame, jitter 0.81 / 0.88 / 1.05 of the ground truth's; on the whole suite as it is PA-MPJPE
            71.0 / 70.8 / 70.6 mm, root-relative 98.5 / 98.7 / 99.3 mm, skate 1.42 / 1.45 / 1.49. With the pelvis
            at ``predicted_root_weight`` 0.1: 73.8 mm on the cut clips, 70.8 on the suite.
        sigma_support: on a filled frame, the lower foot off its planted height, and its slide while it stays the
            lower one (metres).
        sigma_heading: a walking person's pelvis front (SMPL z) off their travel direction along the floor (length
            of the difference; None: no heading prior). The travel direction is the slope of a line through the
            records' pelvis over ``walk_window_s``; the term counts with ``clip(speed / walk_speed - 1, 0, 1)``, so
            someone standing or stepping about is free to face anywhere. A body mostly covered by someone in front
            comes out of the landmark model turned sideways or round, and its 2D and 3D keypoints agree with
            that (``ram_core.scene.heading`` refills the records turned more than 110 degrees; this pulls the
            rest). On the suite (``--reuse`` of one capture, the refill in) None / 0.5 / 0.25 / 0.12 / 0.06 / 0.03 gave
            the tuning clips' PA-MPJPE (couple, pillar, toward_away; crouch unchanged) 75.8, 66.8, 72.2 / 75.6, 66.7,
            72.1 / 75.6, 66.6, 71.9 / 75.5, 66.4, 71.6 / 75.6, 65.8, 71.4 / 75.7, 65.7, 71.3 mm, all 9 clips 70.3 /
            70.2 / 70.1 / 70.0 / 70.0 / 70.1, root-relative MPJPE 96.3 / 95.9 / 95.4 / 94.5 / 93.8 / 93.2 mm; foot
            skate 1.14 / 1.13-1.14 cm/frame; cross_hidden 76.3 up to 76.5 at 0.06 and 77.2 at 0.03.
        huber_heading: heading residuals beyond this many sigmas count linearly (a bounded pull).
        walk_speed, walk_window_s: see ``sigma_heading`` (m/s, seconds).
        drop_covered: a 2D keypoint lying inside the box of a nearer person's record on its frame is not fitted to
            (:func:`covered_keypoints`; the hips are kept): the landmark model's point there is a guess at a
            hidden joint or the nearer person's own. On the suite (``--reuse`` of one capture) PA-MPJPE 70.0 ->
            69.5 mm (held out 72.2 -> 71.6), root-relative 93.8 -> 93.2, foot skate 1.14 -> 1.08 cm/frame; couple
            75.6 -> 74.6, cross_hidden 76.5 -> 73.8, three_crossing 75.1 -> 74.9, the other tuning clips the
            same. Dropping the hips too gave 69.5 but the absolute error of cross_hidden 577 -> 648 mm (the hips
            hold the pelvis across its viewing ray; kept: 611); dropping only the limbs 69.8.
        sigma_hinge_arm: an elbow's turn other than about its hinge axis (:data:`LIMBS`; the length of the
            hinge axis's move, about radians); None: free.
        sigma_twist_arm: an upper arm's turn about itself against the thorax, counted from the arm hanging down
            with the forearm bending forward (radians); None: free. Where set, the records' rotation of the upper
            arm is a prior on its swing only: its twist is the IK's guess from the wrist, which this replaces.
            Alone each of the two arm terms moves no joint (a turn about a bone's own axis moves nothing below
            it); together they keep the forearm in the plane an arm bends in, where the landmarks' depth of the
            wrist is the least reliable. On the suite's raw landmarks and the captures, the elbow's bend axis lay
            15-23 degrees (median; 43-56 at p90) off the body's left-right axis, the ground truth's 2; turned onto
            it after the fit, PA-MPJPE would be 69.6 -> 66.8 mm. Measured on the suite (``--reuse`` of one
            capture with ``--refine``; tuning clips couple, pillar, toward_away, crouch; PA-MPJPE / root-relative
            MPJPE mm): None, None 66.3 / 88.5 (all 9 clips 69.6 / 93.1, held out 71.6 / 96.0). With the records'
            full rotation as the prior: hinge 0.05 with twist 0.2 / 0.1 / 0.05: 65.8 / 65.5 / 65.4 (all 69.0 / 68.6 /
            68.5), root-relative 88.5 / 88.5 / 88.6; 0.1, 0.1: 65.6; 0.02, 0.1: 65.4; ``huber_limits`` 1 / 3 / 10 at
            0.05, 0.1: 65.8 / 65.5 / 65.4; the twist against the pelvis instead of the thorax 65.6; against the
            collar (itself poorly seen), the knees' hinge on too, all 9 clips 69.1 at best and 72.6 at 0.03, 0.05
            without a Huber bound (a prior that overrules the keypoints). With the swing-only prior: hinge 0.05
            with twist 0.2 / 0.1 / 0.05: 65.4 / 65.0 / 64.8, root-relative 88.1 / 87.9 / 87.9 (all 9 clips 68.5 /
            68.1 / 68.1, root-relative 92.7 / 92.5 / 92.5; held out 70.5 / 70.1 / 70.1); at 0.05, 0.1 ``huber_limits``
            1 / 10: 65.2 / 64.9, hinge 0.1: 65.1. toward_away alone got worse (71.4 -> 72.0 mm: people facing
            the camera, whose arms bend in a plane that holds the viewing ray, the hinge turned the upper arm to
            meet a forearm whose depth the image does not decide). So the hinge rows turn the forearm only, the
            upper arm held where it stands at each step (:func:`_axis_rows`): all 9 clips 68.4 -> 67.9 mm,
            root-relative 93.3 -> 92.7 (held out 70.5 -> 70.3, 96.7 -> 96.3), toward_away 72.0 -> 70.1, couple
            73.4 -> 71.5, fast_10fps 70.9 -> 71.5; with 6 iterations instead of 3, 68.4 and 67.8 (the same
            figures: not a matter of stopping early). With the wrists' and ankles' terms at 0.05 and 0.2 (the
            records' swing kept) and the knees' hinge at 0.2 (tuning clips 62.6 / 84.9, all 9 clips 66.8 / 91.2):
            hinge None / 0.1 / 0.05 / 0.02 gave 65.7 / 63.0 / 62.6 / 62.5 (root-relative 86.9 / 85.1 / 84.9 / 84.8);
            twist None / 0.1: 65.6 / 62.6; ``huber_limits`` 1 / 3 / 10: 63.4 / 62.6 / 62.6. With the terms as they are
            now (62.0 / 84.0), the records' forearm rotation as a prior on its bend only (about the hinge axis) gave
            61.9 / 83.9, all 9 clips 65.6 against 65.7: not in.
        sigma_hinge_leg, sigma_twist_leg: the same for knees (about x) and thighs (against the pelvis), None:
            free. Measured with the arms' terms on (twist 0.1, the records' full rotation as the prior): hinge 0.05
            with twist 0.2 PA-MPJPE 68.6 -> 67.8 mm (all 9 clips), crouch 47.8 -> 43.5, but root-relative MPJPE
            93.0 -> 94.9 (enter_leave 110.5 -> 114.4, three_crossing 101.7 -> 105.2) and foot skate 0.85 -> 0.88
            cm/frame; hinge only 67.7, root-relative 94.4; the thigh's prior on its swing only, 68.0 / 94.2 and
            67.9 / 94.8. With the arms' terms as they are now (all 9 clips 68.1 / 92.5, held out 70.1 / 95.4, skate
            0.86 / 0.89 cm/frame), the knees' hinge alone at 0.4 / 0.2 / 0.1: 67.9 / 67.6 / 67.4, root-relative
            92.8 / 93.1 / 93.6 (held out 95.8 / 96.4 / 96.9), skate 0.87 / 0.87 / 0.88 (held out 0.90 / 0.91 / 0.92),
            tuning clips 64.6 / 64.0 / 63.6 with root-relative 87.9 / 87.9 / 88.1; 0.2 with ``huber_limits`` 1: 67.8 /
            93.1; with the thigh's twist at 0.5: 67.5 / 93.2: the knees came out better shaped and worse placed
            in depth (the hinge turned the thigh, and with it the hips' depth). Turning the shin only (as the
            arms' hinge now does), with the wrists' and ankles' terms at 0.05 and 0.2 and the records' swing of
            hand and foot kept: the knees' hinge None / 0.4 / 0.2 / 0.1 gave the tuning clips 62.8 / 62.7 / 62.6 /
            62.6 mm, root-relative 85.0 / 85.0 / 84.9 / 84.8, foot skate 0.80 / 0.80 / 0.81 / 0.83 cm/frame (all 9
            clips 67.0 / 66.9 / 66.8 / 66.8 mm, root-relative 91.4 / 91.3 / 91.2 / 91.2, skate 0.90 / 0.90 / 0.91 /
            0.92); the thigh's twist at 0.5 on top 62.9 / 85.2. No longer worse placed, but with the terms as they
            are now the knees' hinge None / 0.4 / 0.2 gave 62.0 / 62.0 / 62.0 mm, root-relative 84.0 / 83.9 / 83.8,
            skate 0.79 / 0.79 / 0.81 (all 9 clips 65.7 / 65.7 / 65.7): off.
        sigma_hyperextension: a knee or elbow bent backwards past straight (radians, one-sided); None: free. The
            captures bend a limb the wrong way on 18 of the suite's 1462 person-frames (PA-MPJPE 126 mm on them);
            0.1 changed no figure by 0.1 mm (the fit's frames with a backwards bend are few, and are wrong
            by more than the bend): off.
        sigma_wrist: a hand's turn off its rest angle to the forearm (:data:`ENDS`; the rest skeleton holds it along
            the forearm; the length of the hand's direction's move, about radians); None: free. The landmarks'
            hand (the index and pinky knuckles' midpoint) is their noisiest point: on the suite's captures its
            direction lay 26 degrees (median) off the truth's, while the forearm's direction, taken for the hand's,
            lay 16 off (the suite's bodies hold the wrist 8 degrees bent; the captures' 15, p90 25). Turning only
            the hand (the forearm held, as :func:`_axis_rows` does), on the tuning clips None / 0.2 / 0.1 / 0.05 /
            0.02 gave PA-MPJPE 63.5 / 63.0 / 62.7 / 62.6 / 62.6 mm, root-relative 85.8 / 85.3 / 85.0 / 84.9 / 84.9
            (all 9 clips 67.5 / 67.1 / 66.9 / 66.8 / 66.8; ankles at 0.2, knees' hinge 0.2, the records' swing of
            hand and foot kept). The same rows turning the forearm too made all 9 clips worse (0.2 / 0.1 / 0.05:
            69.5 / 70.1 / 70.3 against 68.4 without, main's other terms): the forearm was turned to meet the noisy
            hand; not fitting the hand's keypoints at all, 68.9. Where set, the records' rotation of the wrist (and
            of the ankle, ``sigma_ankle``) is a prior on its twist only: its swing is the IK's fit to the same noisy
            points. With the ankles' at 0.2 and the knees' hinge at 0.2 that took the tuning clips 62.6 -> 62.0 mm,
            root-relative 84.9 -> 83.7 (all 9 clips 66.8 -> 66.0, 91.2 -> 89.9; the ankles' alone 66.0, the wrists'
            alone 66.8); then None / 0.1 / 0.05 / 0.02: 63.0 / 62.0 / 62.0 / 62.2 (root-relative 84.6 / 83.7 / 83.7
            / 84.0).
        sigma_ankle: a foot's turn off its rest angle to the shin (76 degrees in the rest skeleton), as
            ``sigma_wrist``. The landmarks' foot (three quarters of the way from the heel to the toe tip) points
            14-19 degrees (median) further down than the truth's in the captures and in the raw landmarks alike
            (46-53 in toward_away, whose people walk toward the camera), the truth's angle 83 (p10 55, p90 112).
            With the records' swing of the foot kept, on the tuning clips None / 0.4 / 0.2 / 0.1 gave 62.9 / 62.7 /
            62.6 / 62.6 mm, root-relative 85.7 / 85.4 / 84.9 / 84.4 (all 9 clips 67.1 / 66.9 / 66.8 / 66.9,
            root-relative 91.8 / 91.5 / 91.2 / 91.0). With only its twist kept (see ``sigma_wrist``; knees' hinge
            0.2): None / 0.6 / 0.4 / 0.3 / 0.2 / 0.1 / 0.05: 62.8 / 62.1 / 62.0 / 61.9 / 62.0 / 62.3 / 62.6 mm,
            root-relative 85.7 / 84.0 / 83.8 / 83.7 / 83.7 / 83.8 / 84.0, foot skate 0.81 / 0.80 / 0.81 / 0.81 /
            0.81 / 0.82 / 0.81 (all 9 clips 67.1 / 66.0 / 65.7 / 65.7 / 66.0 / 66.5 / 67.2). 0.2-0.4 are alike on
            the tuning clips; on the street clip (``tools/dev.py demo``'s capture) the pelvis's acceleration along
            the viewing ray, median over its 8 people against main's, is 1.02x at 0.2 and 0.99x at 0.4: 0.4.
        huber_limits: limit residuals beyond this many sigmas count linearly (a bounded pull).
        iterations: Gauss-Newton steps.
        damping: Levenberg-Marquardt damping, relative to the normal matrix's diagonal.
    """

    sigma_2d: float = 0.04
    huber_2d: float = 1.0
    sigma_bone: float = 0.08
    weight_floor: float = 0.05
    sigma_rotation: float = 0.2
    sigma_root: float = 0.15
    sigma_depth: float = 0.02
    sigma_upright: float = 0.5
    lean_gain: float = 0.84
    sigma_torso: float = 0.1
    huber_torso: float = 1.0
    accel_rotation: float = 20.0
    accel_root: float = 3.0
    sigma_contact: float = 0.002
    still_gain: float = 30.0
    predicted_weight: float = 1.0
    predicted_root_weight: float = 0.1
    sigma_support: float = 0.01
    iterations: int = 3
    damping: float = 1e-4
    sigma_heading: float | None = 0.06
    huber_heading: float = 1.0
    walk_speed: float = 0.5
    walk_window_s: float = 1.0
    drop_covered: bool = True
    sigma_hinge_arm: float | None = 0.05
    sigma_twist_arm: float | None = 0.05
    sigma_hinge_leg: float | None = None
    sigma_twist_leg: float | None = None
    sigma_hyperextension: float | None = None
    sigma_wrist: float | None = 0.05
    sigma_ankle: float | None = 0.4
    huber_limits: float = 3.0


def _skew(v: np.ndarray) -> np.ndarray:
    """``(..., 3, 3)`` cross-product matrices of ``v`` ``(..., 3)``."""
    z = np.zeros(v.shape[:-1])
    x, y, w = v[..., 0], v[..., 1], v[..., 2]
    return np.stack([np.stack([z, -w, y], -1), np.stack([w, z, -x], -1), np.stack([-y, x, z], -1)], -2)


def _chains() -> list[list[tuple[int, int]]]:
    """Per joint ``k``, the bones ``(parent, child)`` on the path from the pelvis to ``k``."""
    out: list[list[tuple[int, int]]] = [[]]
    for k in range(1, NUM_JOINTS):
        out.append([*out[PARENTS[k]], (PARENTS[k], k)])
    return out


CHAINS = _chains()
CHILD = {j: PARENTS.index(j) for j in range(NUM_JOINTS) if j in PARENTS}  # a joint's first child


def pose_joints(glob: np.ndarray, root: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """Joint positions ``(T, 24, 3)`` of global rotations ``glob`` ``(T, 24, 3, 3)``, pelvis ``root`` ``(T, 3)``
    and rest skeleton ``rest`` ``(24, 3)`` (its bone lengths are kept exactly)."""
    pos = np.empty((len(glob), NUM_JOINTS, 3))
    pos[:, 0] = root
    for c in range(1, NUM_JOINTS):
        q = PARENTS[c]
        pos[:, c] = pos[:, q] + glob[:, q] @ (rest[c] - rest[q])
    return pos


@dataclass(frozen=True)
class Observations:
    """What one run of consecutive frames is fitted to (``T`` frames).

    Attributes:
        pixels: ``(T, 24, 3)`` each joint's observed pixel and weight (0: unseen).
        relative: ``(T, 24, 4)`` each joint's observed position relative to the pelvis (camera axes) and weight.
        intrinsics: ``(3, 3)`` the camera matrix (pixels).
        floor: ``(4,)`` the floor ``n . x + d = 0`` in the camera frame, or None (no upright or feet terms).
        contact: ``(T, 2)`` bool, left and right foot planted.
        planted: the foot joint's height above the floor when planted (metres).
        still: ``(T, 2)`` how much each foot's slide across the floor counts, 0 to 1 (None: only on ``contact``
            frames; a planted foot always counts fully).
        prior: ``(T,)`` how much each frame's record counts as a prior (None: 1; ``FitOptions.predicted_weight``
            on frames filled while the person was hidden).
        root_prior: ``(T,)`` the same for the record's pelvis (None: ``prior``; less on filled frames, so the
            motion terms bend the fill's straight line).
        walk: ``(T, 3)`` the travel direction along the floor, its length how surely the person walks (0 to 1);
            None: no heading prior (``FitOptions.sigma_heading``).
    """

    pixels: np.ndarray
    relative: np.ndarray
    intrinsics: np.ndarray
    floor: np.ndarray | None = None
    contact: np.ndarray | None = None
    planted: float = 0.0
    prior: np.ndarray | None = None
    still: np.ndarray | None = None
    support: np.ndarray | None = None
    root_prior: np.ndarray | None = None
    walk: np.ndarray | None = None


def _bone_turns(pos: np.ndarray) -> np.ndarray:
    """``(n, 24, 3, 3)``: ``-[p_c - p_parent(c)]x`` per child joint ``c`` (zero for the pelvis): how the bone into
    ``c`` moves when its parent's rotation takes a small step ``w`` (``dp = -[bone]x w``)."""
    bones = pos - pos[:, [max(p, 0) for p in PARENTS]]
    return -_skew(bones)


def _joint_jacobian(a: np.ndarray, k: int, turns: np.ndarray) -> np.ndarray:
    """``(n, m, P)``: the Jacobian of ``a @ p_k`` (``a`` ``(n, m, 3)``; ``turns`` the frames' :func:`_bone_turns`):
    the pelvis's move and each ancestor's rotation step, which turns the bone below it."""
    out = np.zeros((*a.shape[:2], PARAMS))
    out[..., ROOT:] = a
    for q, c in CHAINS[k]:
        out[..., 3 * q : 3 * q + 3] = a @ turns[:, c]
    return out


def _plane_basis(n: np.ndarray) -> np.ndarray:
    """``(2, 3)`` two unit vectors across ``n``."""
    helper = np.array([1.0, 0.0, 0.0]) if abs(n[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    a = np.cross(n, helper)
    a /= np.linalg.norm(a)
    return np.stack([a, np.cross(n, a)])


def _terms(
    glob: np.ndarray,
    root: np.ndarray,
    rest: np.ndarray,
    prior_glob: np.ndarray,
    prior_root: np.ndarray,
    obs: Observations,
    fps: float,
    o: FitOptions,
) -> NormalEquations:
    """The normal equations at the current pose (see the module docstring)."""
    n = len(glob)
    pos = pose_joints(glob, root, rest)
    turns = _bone_turns(pos)
    frames = np.arange(n)
    eq = NormalEquations(n, PARAMS)
    eye = np.broadcast_to(np.eye(3), (n, 3, 3))

    # Reprojection, in metres at the joint's depth (unseen joints: weight 0).
    fx, fy, cx, cy = obs.intrinsics[0, 0], obs.intrinsics[1, 1], obs.intrinsics[0, 2], obs.intrinsics[1, 2]
    seen = np.flatnonzero(np.any(obs.pixels[:, :, 2] > 0, axis=0))
    if len(seen):
        p = pos[:, seen]
        z = np.maximum(p[..., 2], 1e-3)
        px = obs.pixels[:, seen]
        err = np.stack([(fx * p[..., 0] / z + cx - px[..., 0]) / fx, (fy * p[..., 1] / z + cy - px[..., 1]) / fy], -1)
        err *= z[..., None] / o.sigma_2d
        robust = np.minimum(1.0, o.huber_2d / np.maximum(np.linalg.norm(err, axis=-1), 1e-12))
        s = np.where(px[..., 2] > 0, np.sqrt(np.maximum(px[..., 2], o.weight_floor) * robust), 0.0) / o.sigma_2d
        zero = np.zeros_like(z)
        a = np.stack([np.stack([s, zero, -s * p[..., 0] / z], -1), np.stack([zero, s, -s * p[..., 1] / z], -1)], -2)
        res = s[..., None] * err * o.sigma_2d  # (T, J, 2): s already holds 1 / sigma
        for i, k in enumerate(seen.tolist()):  # joint by joint: each touches only its own chain's columns
            eq.dense([frames], res[:, i], [_joint_jacobian(a[:, i], k, turns)])

    # 3D landmark directions: each bone along the observed one, on its parent's rotation.
    for c in range(1, NUM_JOINTS):
        q = PARENTS[c]
        seen_vec = obs.relative[:, c, :3] - obs.relative[:, q, :3]
        length = np.linalg.norm(seen_vec, axis=-1)
        w = np.minimum(obs.relative[:, c, 3], obs.relative[:, q, 3])
        s = np.where((w > 0) & (length > 1e-6), np.sqrt(np.maximum(w, o.weight_floor)), 0.0) / o.sigma_bone
        bone = pos[:, c] - pos[:, q]
        target = seen_vec / np.maximum(length, 1e-6)[:, None] * np.linalg.norm(rest[c] - rest[q])
        eq.slot(frames, 3 * q, s[:, None] * (bone - target), -s[:, None, None] * _skew(bone))

    # Weak priors: the records' rotations and pelvis.
    weight = np.ones(n) if obs.prior is None else np.sqrt(obs.prior)
    off = matrix_to_axis_angle(glob @ np.swapaxes(prior_glob, -1, -2)) * (weight / o.sigma_rotation)[:, None, None]
    # A limb's turn about its own bone is the records' guess from the joint beyond (the IK twists the upper arm so
    # its forearm bends forward): where the twist limit holds it, the records' rotation keeps only the swing. A
    # hand's or foot's swing is the IK's fit to the landmarks' noisiest points (the foot's pitched down): where the
    # rest-angle limit holds it, the records' rotation keeps only the twist.
    swing_only, twist_only = _twist_limited(o), _bend_limited(o)
    for j in range(NUM_JOINTS):
        block = eye * (weight / o.sigma_rotation)[:, None, None]
        res = off[:, j]
        if j in swing_only or j in twist_only:
            bone = glob[:, j] @ ((rest[CHILD[j]] - rest[j]) / np.linalg.norm(rest[CHILD[j]] - rest[j]))
            along = bone[:, :, None] * bone[:, None, :]
            keep = along if j in twist_only else eye - along
            block, res = keep @ block, np.einsum("tij,tj->ti", keep, res)
        eq.slot(frames, 3 * j, res, block)
    # The pelvis: its distance (along its viewing ray) as the depth smoothing and scene solve settled it,
    # its place across the ray loosely (the 2D keypoints know it better).
    ray = prior_root / np.maximum(np.linalg.norm(prior_root, axis=-1, keepdims=True), 1e-9)
    across = (eye - ray[:, :, None] * ray[:, None, :]) / o.sigma_root
    root_weight = weight if obs.root_prior is None else np.sqrt(obs.root_prior)
    block = np.concatenate([ray[:, None, :] / o.sigma_depth, across], axis=1) * root_weight[:, None, None]  # (T,4,3)
    eq.slot(frames, ROOT, np.einsum("tij,tj->ti", block, root - prior_root), block)

    _limit_terms(eq, glob, rest, o)

    # Smoothness: angular acceleration of every joint, the pelvis's acceleration.
    if n >= 3:
        vel = matrix_to_axis_angle(glob[1:] @ np.swapaxes(glob[:-1], -1, -2))  # (T-1, 24, 3), camera frame
        k_rot = fps * fps / o.accel_rotation
        eq.acceleration(((vel[1:] - vel[:-1]) * k_rot).reshape(n - 2, -1), np.arange(ROOT), k_rot)
        k_root = fps * fps / o.accel_root
        eq.acceleration((root[2:] - 2 * root[1:-1] + root[:-2]) * k_root, np.arange(ROOT, PARAMS), k_root)

    if obs.floor is not None:
        normal, d = obs.floor[:3], float(obs.floor[3])
        up = glob[:, 0] @ UP
        eq.slot(frames, 0, (up - normal) / o.sigma_upright, -_skew(up) / o.sigma_upright)
        # The torso (pelvis -> neck) near the normal too: a person mostly stands upright.
        length = float(np.linalg.norm(pos[0, NECK] - pos[0, 0]))
        s_torso = 1.0 / (max(length, 1e-6) * o.sigma_torso)
        jac = _joint_jacobian(np.broadcast_to(s_torso * np.eye(3), (n, 3, 3)), NECK, turns)
        jac[..., ROOT:] = 0.0
        res = s_torso * (pos[:, NECK] - pos[:, 0] - length * normal)
        # Robust: a torso bent well over (picking something up) is pulled with a bounded force only.
        robust = np.sqrt(np.minimum(1.0, o.huber_torso / np.maximum(np.linalg.norm(res, axis=-1), 1e-12)))
        eq.dense([frames], robust[:, None] * res, [robust[:, None, None] * jac])
        height = pos @ normal + d  # (T, 24)
        # No joint below the floor: rows for the joints that are (an active set, renewed each step).
        s = np.where(height < 0, 1.0 / o.sigma_contact, 0.0)
        low = np.flatnonzero(np.any(s > 0, axis=0)).tolist()
        if low:
            jacs = np.concatenate([_joint_jacobian(s[:, k, None, None] * normal, k, turns) for k in low], axis=1)
            eq.dense([frames], s[:, low] * height[:, low], [jacs])
        if obs.walk is not None and o.sigma_heading is not None:
            # A walking person faces where they walk: the pelvis's front (SMPL z) near the travel direction,
            # weighted by how surely they walk, robust.
            front = glob[:, 0] @ np.array([0.0, 0.0, 1.0])
            w = np.linalg.norm(obs.walk, axis=-1)
            target = obs.walk / np.maximum(w, 1e-9)[:, None]
            res = (w / o.sigma_heading)[:, None] * (front - target)
            robust = np.sqrt(np.minimum(1.0, o.huber_heading / np.maximum(np.linalg.norm(res, axis=-1), 1e-12)))
            gain = (robust * w / o.sigma_heading)[:, None, None]
            eq.slot(frames, 0, robust[:, None] * res, -gain * _skew(front))
        if obs.support is not None and np.any(obs.support):
            _support_terms(eq, pos, turns, height, normal, obs, o)
        if obs.contact is not None:
            across = _plane_basis(normal)
            on = obs.contact.astype(np.float64) / o.sigma_contact  # (T, 2)
            feet = list(FEET)
            jacs = np.concatenate(
                [_joint_jacobian(on[:, i, None, None] * normal, k, turns) for i, k in enumerate(feet)], axis=1
            )
            eq.dense([frames], on * (height[:, feet] - obs.planted), [jacs])
            # Planted (or maybe planted: ``still``) on two frames running: the foot does not slide across the floor.
            still = obs.contact.astype(np.float64) if obs.still is None else np.maximum(obs.contact, obs.still)
            held = np.minimum(still[1:], still[:-1]) / o.sigma_contact  # (T-1, 2)
            if np.any(held > 0):
                res = np.concatenate(
                    [held[:, i, None] * ((pos[1:, k] - pos[:-1, k]) @ across.T) for i, k in enumerate(feet)], axis=1
                )
                later = [_joint_jacobian(held[:, i, None, None] * across, k, turns[1:]) for i, k in enumerate(feet)]
                earlier = [-_joint_jacobian(held[:, i, None, None] * across, k, turns[:-1]) for i, k in enumerate(feet)]
                eq.dense(
                    [frames[1:], frames[:-1]], res, [np.concatenate(later, axis=1), np.concatenate(earlier, axis=1)]
                )
    return eq


def _pair_rows(
    eq: NormalEquations, res: np.ndarray, child: int, jac_child: np.ndarray, parent: int, jac_parent: np.ndarray
) -> None:
    """Rows ``res`` ``(T, m)`` on one frame each, whose Jacobian is ``jac_child`` ``(T, m, 3)`` on ``child``'s
    rotation step and ``jac_parent`` on ``parent``'s."""
    jac = np.zeros((*res.shape, PARAMS))
    jac[..., 3 * child : 3 * child + 3] = jac_child
    jac[..., 3 * parent : 3 * parent + 3] = jac_parent
    eq.dense([np.arange(len(res))], res, [jac])


def _robust(res: np.ndarray, huber: float) -> np.ndarray:
    """``(T,)`` the factor that makes rows ``res`` ``(T, m)`` beyond ``huber`` (their norm) count linearly."""
    return np.sqrt(np.minimum(1.0, huber / np.maximum(np.linalg.norm(res, axis=-1), 1e-12)))


def _limit_terms(eq: NormalEquations, glob: np.ndarray, rest: np.ndarray, o: FitOptions) -> None:
    """The limbs' anatomical limits (:data:`LIMBS`; each robust, a bounded pull): knees and elbows turn about their
    hinge axis only (``sigma_hinge_leg``, ``sigma_hinge_arm``) and do not bend backwards past straight
    (``sigma_hyperextension``); hips and shoulders turn little about their own bone (``sigma_twist_leg``,
    ``sigma_twist_arm``); wrists and ankles (:data:`ENDS`) bend little from their rest angle (``sigma_wrist``,
    ``sigma_ankle``). Each only where its sigma is set; the hinges' and the ends' rows turn the bone below the joint
    only (:func:`_axis_rows`).

    Frames: ``glob`` ``(T, 24, 3, 3)`` body frame -> camera; the Jacobians are of left steps ``w`` on each
    global rotation (``exp(w) G``), as the other terms'."""
    for group, c, axis, ball, reference in LIMBS:
        hinge, twist = (
            (o.sigma_hinge_leg, o.sigma_twist_leg) if group == "leg" else (o.sigma_hinge_arm, o.sigma_twist_arm)
        )
        if hinge is not None:
            _axis_rows(eq, glob, c, axis, hinge, o.huber_limits)
        if o.sigma_hyperextension is not None:
            _straight_rows(eq, glob, rest, c, axis, o.sigma_hyperextension, o.huber_limits)
        if twist is not None:
            _twist_rows(eq, glob, rest, ball, reference, twist, o.huber_limits)
    for group, j in ENDS:
        sigma = o.sigma_wrist if group == "wrist" else o.sigma_ankle
        if sigma is not None:
            bone = rest[CHILD[j]] - rest[j]
            _axis_rows(eq, glob, j, bone / np.linalg.norm(bone), sigma, o.huber_limits)


def _twist_limited(o: FitOptions) -> set[int]:
    """The ball joints (:data:`LIMBS`) whose turn about their own bone a twist limit holds."""
    sigma = {"leg": o.sigma_twist_leg, "arm": o.sigma_twist_arm}
    return {ball for group, _, _, ball, _ in LIMBS if sigma[group] is not None}


def _bend_limited(o: FitOptions) -> set[int]:
    """The wrists and ankles (:data:`ENDS`) whose bend a rest-angle limit holds."""
    sigma = {"wrist": o.sigma_wrist, "ankle": o.sigma_ankle}
    return {j for group, j in ENDS if sigma[group] is not None}


def _axis_rows(eq: NormalEquations, glob: np.ndarray, c: int, axis: np.ndarray, sigma: float, huber: float) -> None:
    """Joint ``c``'s unit ``axis`` (body frame) where its parent's is: any turn of its local rotation other than
    about the axis moves it (a unit-vector difference, ``sigma``). A hinge's axis keeps the bone below in the plane
    the limb bends in; a bone's own rest direction keeps it at its rest angle to the bone above.

    Rows on joint ``c``'s rotation step only: the parent's rotation is the reference, taken where it stands at each
    step (a stop-gradient). So the limit turns the bone below into place, the one the image decides least (a
    forearm pointing along the viewing ray, a hand), instead of turning the better-seen bone above out of its
    place to meet it (see ``FitOptions.sigma_hinge_arm``)."""
    a, b = glob[:, c] @ axis, glob[:, PARENTS[c]] @ axis
    res = (a - b) / sigma
    robust = _robust(res, huber)
    eq.slot(np.arange(len(glob)), 3 * c, robust[:, None] * res, -(robust / sigma)[:, None, None] * _skew(a))


def _straight_rows(
    eq: NormalEquations, glob: np.ndarray, rest: np.ndarray, c: int, axis: np.ndarray, sigma: float, huber: float
) -> None:
    """Joint ``c`` bent about its hinge ``axis`` at least as far as straightens the limb (the rest skeleton may
    stand with it slightly bent): one-sided, radians (``sigma``). The bend is read from the child bone's rest
    direction across the axis."""
    q = PARENTS[c]
    bone = rest[CHILD[c]] - rest[c]
    u = bone - (bone @ axis) * axis
    u /= np.linalg.norm(u)
    above = rest[c] - rest[q]
    above = above - (above @ axis) * axis
    straight = -np.arctan2(np.cross(above, u) @ axis, above @ u)
    a, b, c_ = glob[:, c] @ u, glob[:, q] @ np.cross(axis, u), glob[:, q] @ u
    sin, cos = np.sum(a * b, -1), np.sum(a * c_, -1)
    over = np.minimum(np.arctan2(sin, cos) - straight, 0.0)[:, None] / sigma
    robust = _robust(over, huber)
    gain = np.where(over[:, 0] < 0, robust / sigma / np.maximum(sin**2 + cos**2, 1e-12), 0.0)[:, None]
    d_child = (cos[:, None] * np.cross(a, b) - sin[:, None] * np.cross(a, c_)) * gain
    d_parent = (cos[:, None] * np.cross(b, a) - sin[:, None] * np.cross(c_, a)) * gain
    _pair_rows(eq, robust[:, None] * over, c, d_child[:, None], q, d_parent[:, None])


def _twist_rows(
    eq: NormalEquations, glob: np.ndarray, rest: np.ndarray, j: int, q: int, sigma: float, huber: float
) -> None:
    """Joint ``j``'s turn about its own bone against joint ``q`` (radians, ``sigma``), counted from the limb
    hanging straight down (the arms lie along x at rest): the smallest turn ``N`` from the rest bone to straight
    down, then the swing from there to where the bone points; the twist is that of ``M = G_q^T G_j N^T``.

    The twist's weight fades from 1 at a swing of 120 degrees to 0 at 180 (``cos(swing / 2) / TWIST_FADE``): it is
    undefined for a limb pointing straight up, where noise would make a large false twist of an arm raised overhead (a walking pose with both arms
    raised straight up, noisy keypoints, 3 seeds: elbows and wrists 42.7 mm off without the limits, 61.6 with the
    twist unweighted, 43.8 weighted; arms raised 1.5 rad: 42.3, 55.7, 43.5)."""
    bone = (rest[CHILD[j]] - rest[j]) / np.linalg.norm(rest[CHILD[j]] - rest[j])
    neutral = _swing_matrix(bone, -UP)
    down = neutral @ bone
    quat = matrix_to_quaternion(np.swapaxes(glob[:, q], -1, -2) @ glob[:, j] @ neutral.T)
    w, v = quat[:, 0], quat[:, 1:]
    along = v @ down
    cos_half = np.maximum(np.sqrt(w**2 + along**2), 1e-12)  # cos(swing / 2)
    fade = cos_half < TWIST_FADE
    weight = np.where(fade, cos_half / TWIST_FADE, 1.0)
    twist = 2.0 * np.arctan2(along, w)
    res = (weight * twist / sigma)[:, None]
    robust = _robust(res, huber)
    # For a right step M exp(delta), delta = N G_j^T (w_j - w_q) for left steps w on G_j, G_q: dw = -v.delta / 2,
    # d along = (w down + down x v).delta / 2, so d twist and d cos_half follow.
    turn = w[:, None] * down + np.cross(down, v)
    d_twist = (w[:, None] * turn + along[:, None] * v) / (cos_half**2)[:, None]
    d_weight = (
        np.where(fade, 1.0 / TWIST_FADE, 0.0)[:, None]
        * 0.5
        * (along[:, None] * turn - w[:, None] * v)
        / cos_half[:, None]
    )
    grad = weight[:, None] * d_twist + twist[:, None] * d_weight
    d = np.einsum("tij,tj->ti", glob[:, j] @ neutral.T, grad) * (robust / sigma)[:, None]
    _pair_rows(eq, robust[:, None] * res, j, d[:, None], q, -d[:, None])


def _swing_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(3, 3)`` the smallest rotation taking unit ``a`` to unit ``b`` (not opposite)."""
    axis = np.cross(a, b)
    size = np.linalg.norm(axis)
    return axis_angle_to_matrix(axis / max(size, 1e-12) * np.arctan2(size, a @ b))


def _support_terms(
    eq: NormalEquations,
    pos: np.ndarray,
    turns: np.ndarray,
    height: np.ndarray,
    normal: np.ndarray,
    obs: Observations,
    o: FitOptions,
) -> None:
    """On ``obs.support`` frames (filled while the person was hidden) the lower foot stands on the floor and, while
    it stays the lower one, does not slide: a hidden person walks on the floor instead of floating or gliding."""
    assert obs.support is not None
    n = len(pos)
    frames = np.arange(n)
    feet = list(FEET)
    lower = np.argmin(height[:, feet], axis=1)
    on = np.stack([obs.support & (lower == i) for i in range(2)], axis=1).astype(np.float64) / o.sigma_support
    jacs = np.concatenate(
        [_joint_jacobian(on[:, i, None, None] * normal, k, turns) for i, k in enumerate(feet)], axis=1
    )
    eq.dense([frames], on * (height[:, feet] - obs.planted), [jacs])
    held = np.minimum(on[1:], on[:-1])
    if n >= 2 and np.any(held > 0):
        across = _plane_basis(normal)
        res = np.concatenate(
            [held[:, i, None] * ((pos[1:, k] - pos[:-1, k]) @ across.T) for i, k in enumerate(feet)], axis=1
        )
        later = [_joint_jacobian(held[:, i, None, None] * across, k, turns[1:]) for i, k in enumerate(feet)]
        earlier = [-_joint_jacobian(held[:, i, None, None] * across, k, turns[:-1]) for i, k in enumerate(feet)]
        eq.dense([frames[1:], frames[:-1]], res, [np.concatenate(later, axis=1), np.concatenate(earlier, axis=1)])


def fit_run(
    glob: np.ndarray,
    root: np.ndarray,
    rest: np.ndarray,
    obs: Observations,
    fps: float,
    options: FitOptions = FitOptions(),
) -> tuple[np.ndarray, np.ndarray]:
    """The fitted global rotations ``(T, 24, 3, 3)`` and pelvis ``(T, 3)`` of one run of consecutive frames.

    Args:
        glob: ``(T, 24, 3, 3)`` the records' global rotations (start and prior).
        root: ``(T, 3)`` the records' pelvis positions (camera frame, metres).
        rest: ``(24, 3)`` the track's rest skeleton (already scaled): its bone lengths are kept.
        obs: what the frames are fitted to.
        fps: frames per second (accelerations are per second squared).
    """
    prior_glob, prior_root = np.asarray(glob, dtype=np.float64), np.asarray(root, dtype=np.float64)
    glob, root = prior_glob.copy(), prior_root.copy()
    n = len(glob)
    eq = _terms(glob, root, rest, prior_glob, prior_root, obs, fps, options)
    cost = float(np.sum(eq.residuals() ** 2))
    damping = options.damping
    at = np.arange(PARAMS)
    for _ in range(options.iterations):
        diag = eq.band[0][:, at, at].copy()
        for _try in range(4):
            # Damped in place (no copy of the band), the diagonal put back after the solve.
            eq.band[0][:, at, at] += damping * np.maximum(diag, 1e-9) + 1e-12
            step = -solve_block_banded(eq.band, eq.grad.ravel()).reshape(n, PARAMS)
            eq.band[0][:, at, at] = diag
            new_glob = axis_angle_to_matrix(step[:, :ROOT].reshape(n, NUM_JOINTS, 3)) @ glob
            new_root = root + step[:, ROOT:]
            new_eq = _terms(new_glob, new_root, rest, prior_glob, prior_root, obs, fps, options)
            new_cost = float(np.sum(new_eq.residuals() ** 2))
            if new_cost < cost:
                glob, root, eq, cost = new_glob, new_root, new_eq, new_cost
                damping = max(damping / 3.0, 1e-9)
                break
            damping *= 10.0
        else:
            break
    return glob, root


def view_rotation(points: np.ndarray) -> np.ndarray:
    """``(T, 3, 3)`` rotations taking the optical axis (camera z) onto the viewing ray of ``points`` ``(T, 3)``
    (camera frame): from a view straight at each point to the camera's."""
    ray = points / np.maximum(np.linalg.norm(points, axis=-1, keepdims=True), 1e-9)
    axis = np.cross(np.array([0.0, 0.0, 1.0]), ray)
    sin = np.linalg.norm(axis, axis=-1)
    angle = np.arctan2(sin, ray[:, 2])
    return axis_angle_to_matrix(axis / np.maximum(sin, 1e-12)[:, None] * angle[:, None])


def crop_lean(points: np.ndarray, floor: np.ndarray, gain: float) -> np.ndarray:
    """``(T, 3, 3)`` rotations that undo the landmark model's lean for people at ``points`` ``(T, 3)`` (camera
    frame) above ``floor`` ``(4,)`` (camera frame, normal up): each turns what leans away from the camera by
    ``gain * e^2`` (``e`` the viewing ray's angle below the horizon, at most ``e``) back toward it, about the
    horizontal axis across the ray. Identity for rays at or above the horizon (see ``FitOptions.lean_gain``)."""
    normal = floor[:3] / np.linalg.norm(floor[:3])
    ray = points / np.maximum(np.linalg.norm(points, axis=-1, keepdims=True), 1e-9)
    below = np.arcsin(np.clip(-(ray @ normal), -1.0, 1.0))
    angle = np.where(below > 0, np.minimum(gain * below**2, below), 0.0)
    away = ray - (ray @ normal)[:, None] * normal  # the ray's horizontal direction
    axis = np.cross(away, normal)
    size = np.linalg.norm(axis, axis=-1, keepdims=True)
    return axis_angle_to_matrix(np.where(size > 1e-9, axis / np.maximum(size, 1e-12), 0.0) * angle[:, None])


KEPT_WHEN_COVERED = [JOINT_NAMES.index(n) for n in ("left_hip", "right_hip")]


def covered_keypoints(results: Results) -> dict[int, np.ndarray]:
    """Per track id ``(T, 24)`` True for each observed record's 2D keypoints that lie inside the box of another
    track's record on the same frame whose pelvis is nearer the camera, except the hips (:data:`KEPT_WHEN_COVERED`)."""
    on: dict[int, list[tuple[int, np.ndarray, float]]] = {}
    for t in results.tracks:
        for f, box, depth in zip(t.frame.tolist(), t.box.astype(np.float64), t.joints[:, 0, 2].astype(np.float64)):
            on.setdefault(f, []).append((t.track_id, box, float(depth)))
    keep = np.zeros(NUM_JOINTS, dtype=bool)
    keep[KEPT_WHEN_COVERED] = True
    out = {}
    for t in results.tracks:
        mask = np.zeros((len(t), NUM_JOINTS), dtype=bool)
        for i, f in enumerate(t.frame.tolist()):
            if t.predicted[i]:
                continue
            px = t.keypoints_2d[i, :, :2].astype(np.float64)
            for tid, box, depth in on[f]:
                if tid != t.track_id and depth < float(t.joints[i, 0, 2]):
                    mask[i] |= (px[:, 0] > box[0]) & (px[:, 0] < box[2]) & (px[:, 1] > box[1]) & (px[:, 1] < box[3])
        out[t.track_id] = mask & ~keep
    return out


def fit_track(
    track: Track,
    rest_joints: np.ndarray,
    intrinsics: np.ndarray,
    fps: float,
    world_from_camera: np.ndarray | None = None,
    floor: np.ndarray | None = None,
    options: FitOptions = FitOptions(),
    contact_options: ContactOptions | None = None,
    covered: np.ndarray | None = None,
) -> Track:
    """``track`` refitted (:func:`fit_run` per run of consecutive frames), with ``contact`` set when a floor is given.
    ``covered``: ``(T, 24)`` 2D keypoints not to fit to (:func:`covered_keypoints`).

    ``rest_joints`` ``(24, 3)`` unscaled (the track's ``scale`` applies); ``world_from_camera`` ``(4, 4)`` and
    ``floor`` ``(4,)`` the solved scene, or None."""
    if len(track) < 3:
        return track
    contact_options = contact_options or ContactOptions()
    scale = float(np.median(track.scale))
    rest = np.asarray(rest_joints, dtype=np.float64) * scale
    _, glob = forward_kinematics(track.global_orient.astype(np.float64), track.body_pose.astype(np.float64), rest)
    root = track.joints[:, 0].astype(np.float64)
    pixels = track.keypoints_2d.astype(np.float64)
    if covered is not None:
        pixels[..., 2] = np.where(covered, 0.0, pixels[..., 2])
    relative = track.keypoints_3d.astype(np.float64)
    if np.any(relative[..., 3] > 0):
        # The 3D keypoints (and the rotations fitted to them) are as seen from straight in front of the
        # person, the landmark model's crop: turned onto each person's own viewing ray they are the camera's.
        view = view_rotation(root)
        if floor is not None:
            view = crop_lean(root, floor, options.lean_gain) @ view
        relative[..., :3] = np.einsum("tij,tkj->tki", view, relative[..., :3])
        glob = view[:, None] @ glob
    else:
        # A backend that keeps no 3D keypoints: its own joints are the directions to keep near.
        own = track.joints.astype(np.float64) - root[:, None]
        relative = np.concatenate([own, np.where(track.predicted, 0.0, 1.0)[:, None, None].repeat(NUM_JOINTS, 1)], -1)
    contact, prob, planted = None, None, 0.0
    if world_from_camera is not None and floor is not None:
        planted = contact_options.foot_height * rest_stature(rest_joints) * scale
        world = track.joints.astype(np.float64) @ world_from_camera[:3, :3].T + world_from_camera[:3, 3]
        prob, contact = detect_contact(world[:, list(FEET)], track.frame, planted, fps, contact_options)
    walk = None
    if floor is not None and options.sigma_heading is not None:
        flat = np.eye(3) - np.outer(floor[:3], floor[:3])
        half = max(1, int(round(options.walk_window_s * fps / 2)))
        velocity = travel(track.frame.astype(np.int64), root, half) * fps @ flat
        speed = np.linalg.norm(velocity, axis=-1, keepdims=True)
        sure = np.clip((speed - options.walk_speed) / options.walk_speed, 0.0, 1.0)
        walk = velocity / np.maximum(speed, 1e-9) * sure
    out_glob, out_root = glob.copy(), root.copy()
    for run in frame_runs(track.frame):
        if run.stop - run.start < 3:
            continue
        obs = Observations(
            pixels[run],
            relative[run],
            intrinsics,
            floor,
            None if contact is None else contact[run],
            planted,
            np.where(track.predicted[run], options.predicted_weight, 1.0),
            None if prob is None else np.minimum(1.0, options.still_gain * prob[run]),
            None if contact is None else track.predicted[run].astype(bool),
            np.where(track.predicted[run], options.predicted_root_weight, 1.0),
            None if walk is None else walk[run],
        )
        out_glob[run], out_root[run] = fit_run(glob[run], root[run], rest, obs, fps, options)
    go, bp = global_to_local(out_glob)
    arrays = track.arrays()
    arrays["global_orient"] = go.astype(np.float32)
    arrays["body_pose"] = bp.astype(np.float32)
    arrays["joints"] = pose_joints(out_glob, out_root, rest).astype(np.float32)
    arrays["transl"] = (out_root - rest[0]).astype(np.float32)
    if contact is not None and prob is not None:
        arrays["contact"] = stored_contact(prob, contact)
    return type(track)(track.track_id, **arrays)


def fit_motion(
    results: Results, options: FitOptions = FitOptions(), skeletons: dict[int, np.ndarray] | None = None
) -> Results:
    """Every track of a whole capture refitted (see the module docstring); ``meta.motion`` says so.

    ``skeletons``: a rest skeleton ``(24, 3)`` (unscaled: the track's ``scale`` applies) per track id for the
    fit to keep instead of the capture's ``meta.rest_joints`` (``benchmarks/fit_proportions.py`` measures
    what one gives). Such tracks' ``joints`` are not the capture's skeleton posed by their rotations."""
    skeletons = skeletons or {}
    meta = results.meta
    world = None if meta.world_from_camera is None else np.asarray(meta.world_from_camera, dtype=np.float64)
    floor = None if meta.floor_cam is None else np.asarray(meta.floor_cam, dtype=np.float64)
    covered = covered_keypoints(results) if options.drop_covered else {}
    tracks = [
        fit_track(
            t,
            skeletons.get(t.track_id, meta.rest_joints),
            np.asarray(meta.intrinsics, dtype=np.float64),
            float(meta.fps),
            world,
            floor,
            options,
            covered=covered.get(t.track_id),
        )
        for t in results.tracks
    ]
    notes = "; ".join(n for n in (meta.notes, NOTE) if n)
    return Results(dataclasses.replace(meta, notes=notes, motion=MOTION), tracks)


__all__ = [
    "MOTION",
    "NOTE",
    "FitOptions",
    "Observations",
    "covered_keypoints",
    "crop_lean",
    "fit_motion",
    "fit_run",
    "fit_track",
    "pose_joints",
]
