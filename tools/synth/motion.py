"""Procedural motion in numpy: gait with planted stance feet, standing with weight shift, crouching.

A person follows a list of segments (``walk``/``run`` to a point, ``stand`` or ``crouch`` for some
seconds). The pelvis moves at a steady speed along its heading; each foot is either planted (its toe
joint does not move: the heel lifts about it late in stance) or swinging from where it lifted off to a
footprint planned ahead of the hip; the legs reach their feet by IK, and the pelvis is lowered where a
leg could not reach. So the ground truth has no foot sliding by construction. World
frame: Z up, floor z=0, metres; heading 0 faces +Y. Rotations are local, relative to the rest pose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ram_core.contract.skeleton import JOINT_INDEX
from tools.synth.bodies import Body, forward_kinematics

J = JOINT_INDEX
LEGS = (("left_hip", "left_knee", "left_ankle"), ("right_hip", "right_knee", "right_ankle"))
TOES = ("left_foot", "right_foot")
ARMS = (("left_shoulder", "left_elbow", "left_wrist"), ("right_shoulder", "right_elbow", "right_wrist"))
SIM_RATE = 60.0  # Hz: motion is integrated at this rate and sampled at the clip's frame rate


@dataclass(frozen=True)
class Gait:
    """A gait: speed (m/s), cadence (cycles/s), stance share of a cycle, swing lift (m), pelvis drop (m),
    heel lift at toe-off (rad), forward lean, elbow bend and arm swing (rad), turn rate (rad/s)."""

    speed: float
    cadence: float
    stance: float
    lift: float
    drop: float
    heel: float
    lean: float
    elbow: float
    arm_swing: float
    turn_rate: float


WALK = Gait(speed=1.2, cadence=0.95, stance=0.58, lift=0.09, drop=0.02, heel=0.5, lean=0.04, elbow=0.3,
            arm_swing=0.3, turn_rate=1.6)  # fmt: skip
RUN = Gait(speed=3.0, cadence=1.4, stance=0.36, lift=0.22, drop=0.07, heel=0.7, lean=0.2, elbow=1.4,
           arm_swing=0.6, turn_rate=1.3)  # fmt: skip


def rot(axis: str, a: float | np.ndarray) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` about body axis ``x``, ``y`` or ``z`` by ``a`` radians."""
    a = np.asarray(a, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    m = {
        "x": [[o, z, z], [z, c, -s], [z, s, c]],
        "y": [[c, z, s], [z, o, z], [-s, z, c]],
        "z": [[c, -s, z], [s, c, z], [z, z, o]],
    }[axis]
    return np.moveaxis(np.array(m), (0, 1), (-2, -1))


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation ``(3, 3)`` taking direction ``a`` to direction ``b``."""
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    v, c = np.cross(a, b), float(a @ b)
    k = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + k + k @ k / (1 + c)


class Poser:
    """Local rotations for one body: arms hanging from anny's A-pose, upper body, legs by IK."""

    def __init__(self, body: Body):
        self.body = body
        r = body.rest_joints
        self.arm_down, self.elbow_axis, self.elbow_rest = [], [], []
        for side, (s, e, w) in zip((-1.0, 1.0), ARMS):  # the body's left is -x
            upper = r[J[e]] - r[J[s]]
            down = np.array([0.12 * side, 0.02, -1.0])
            self.arm_down.append(rotation_between(upper, down))
            fore = self.arm_down[-1] @ (r[J[w]] - r[J[e]])
            axis = np.cross(down, [0.0, 1.0, 0.0])
            self.elbow_axis.append(axis / np.linalg.norm(axis))
            self.elbow_rest.append(np.arctan2(np.cross(down, fore) @ self.elbow_axis[-1], down @ fore))
        self.ankle_height = float(r[J["left_ankle"], 2])
        self.toe_from_ankle = r[J["left_foot"]] - r[J["left_ankle"]]
        self.toe_from_ankle_r = r[J["right_foot"]] - r[J["right_ankle"]]
        self.leg_length = 0.995 * min(
            np.linalg.norm(r[J[k]] - r[J[h]]) + np.linalg.norm(r[J[a]] - r[J[k]]) for h, k, a in LEGS
        )
        self.q = np.zeros((2, 3))  # warm start of the leg IK: hip pitch, hip roll, knee

    @staticmethod
    def _axis_rot(axis: np.ndarray, a: float) -> np.ndarray:
        k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
        return np.eye(3) + np.sin(a) * k + (1 - np.cos(a)) * k @ k

    def arms(self, local: np.ndarray, swing: tuple[float, float], elbow: float, raise_fwd: float = 0.0) -> None:
        """Arms down, swung forward by ``swing`` (left, right) radians, elbows bent ``elbow``."""
        for i, (s, e, _) in enumerate(ARMS):
            local[J[s]] = rot("x", swing[i] + raise_fwd) @ self.arm_down[i]
            # the elbow's parent frame is the upper arm's: its flexion axis there is arm_down^T axis
            axis = self.arm_down[i].T @ self.elbow_axis[i]
            local[J[e]] = self._axis_rot(axis, elbow - self.elbow_rest[i])

    def upper_body(self, phase: float, amp: float, g: Gait) -> np.ndarray:
        """Local rotations ``(24, 3, 3)`` above the legs at gait ``phase`` with amplitude ``amp``."""
        local = np.tile(np.eye(3), (24, 1, 1))
        c = np.sin(2 * np.pi * phase)
        local[J["pelvis"]] = rot("z", amp * 0.1 * c)
        local[J["spine1"]] = rot("z", -amp * 0.08 * c) @ rot("x", -amp * g.lean)
        self.arms(local, (amp * g.arm_swing * c, -amp * g.arm_swing * c), 0.25 + amp * (g.elbow - 0.25))
        return local

    def hips_world(self, local: np.ndarray, root_rot: np.ndarray, root_pos: np.ndarray) -> np.ndarray:
        r = self.body.rest_joints
        g0 = root_rot @ local[0]
        return np.array([root_pos + g0 @ (r[J[h]] - r[0]) for h, _, _ in LEGS])

    def reach_cap(self, local: np.ndarray, root_rot: np.ndarray, root_pos: np.ndarray, ankles: np.ndarray) -> float:
        """The highest pelvis z at which both legs reach ``ankles`` ``(2, 3)``."""
        hips = self.hips_world(local, root_rot, root_pos)
        cap = np.inf
        for k in range(2):
            dh = np.linalg.norm(hips[k, :2] - ankles[k, :2])
            dz = np.sqrt(max(self.leg_length**2 - dh**2, 0.01))
            cap = min(cap, ankles[k, 2] + dz + (root_pos[2] - hips[k, 2]))
        return cap

    def leg_ik(
        self,
        local: np.ndarray,
        root_rot: np.ndarray,
        root_pos: np.ndarray,
        ankles: np.ndarray,
        feet: np.ndarray,
        toe_bend: np.ndarray | None = None,
    ) -> None:
        """Set hip, knee, ankle and toe rotations in ``local``: ankles at world ``ankles`` ``(2, 3)``, feet
        oriented by world rotations ``feet`` ``(2, 3, 3)``, toes bent up by ``toe_bend`` ``(2,)`` radians.
        Newton steps on (hip pitch, hip roll, knee)."""
        r = self.body.rest_joints
        g0 = root_rot @ local[0]
        hips = self.hips_world(local, root_rot, root_pos)
        for k, (h, kn, an) in enumerate(LEGS):
            thigh, shank = r[J[kn]] - r[J[h]], r[J[an]] - r[J[kn]]

            def chain(q: np.ndarray, hip=hips[k], thigh=thigh, shank=shank) -> np.ndarray:
                gh = g0 @ rot("y", q[1]) @ rot("x", q[0])
                return hip + gh @ thigh + gh @ rot("x", -q[2]) @ shank

            x = self.q[k].copy()
            for _ in range(10):
                f = chain(x) - ankles[k]
                if np.linalg.norm(f) < 1e-6:
                    break
                jac = np.stack([(chain(x + 1e-5 * e) - chain(x)) / 1e-5 for e in np.eye(3)], axis=1)
                x = x - np.linalg.lstsq(jac, f, rcond=None)[0]
                x[2] = max(x[2], 0.0)
            self.q[k] = x
            local[J[h]] = rot("y", x[1]) @ rot("x", x[0])
            local[J[kn]] = rot("x", -x[2])
            g_knee = g0 @ local[J[h]] @ local[J[kn]]
            local[J[an]] = g_knee.T @ feet[k]
            local[J[TOES[k]]] = rot("x", toe_bend[k]) if toe_bend is not None else np.eye(3)


@dataclass
class Foot:
    """One foot in the world: its ankle, its rotation, and (while swinging) where it lifted off and goes."""

    ankle: np.ndarray
    rot: np.ndarray
    planted: bool = True
    toe: np.ndarray | None = None
    lift_ankle: np.ndarray | None = None
    lift_pitch: float = 0.0
    toe_bend: float = 0.0  # toes bent up against the heel lift, so they stay on the floor
    lift_yaw: float = 0.0
    yaw: float = 0.0


def _wrap(a: float) -> float:
    return (a + np.pi) % (2 * np.pi) - np.pi


def _forward(heading: float) -> np.ndarray:
    return np.array([-np.sin(heading), np.cos(heading)])


def _smooth(u: float) -> float:
    u = min(max(u, 0.0), 1.0)
    return u * u * (3 - 2 * u)


def _smoother(u: float) -> float:
    """Quintic ease: zero speed and acceleration at both ends (the foot meets the floor slowly)."""
    u = min(max(u, 0.0), 1.0)
    return u * u * u * (u * (6 * u - 15) + 10)


class Person:
    """One person's motion state, stepped at ``SIM_RATE``."""

    def __init__(self, body: Body, start: tuple[float, float], heading_deg: float):
        self.body = body
        self.poser = Poser(body)
        r = body.rest_joints
        self.heading = np.radians(heading_deg)
        self.base = np.array([start[0], start[1], r[0, 2]])  # pelvis target (xy) and rest height (z)
        self.phase, self.amp, self.gait = 0.0, 0.0, WALK
        rr = rot("z", self.heading)
        self.feet = [Foot(self.base + rr @ (r[J[a]] - r[0]), rr.copy(), yaw=self.heading) for _, _, a in LEGS]
        for f, toe in zip(self.feet, (self.poser.toe_from_ankle, self.poser.toe_from_ankle_r)):
            f.toe = f.ankle + f.rot @ toe
        self.toe_offsets = (self.poser.toe_from_ankle, self.poser.toe_from_ankle_r)

    def _foot_pose(self, k: int, yaw: float, pitch: float, toe: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ankle and rotation of foot ``k`` pitched ``pitch`` (heel up > 0) about a fixed ``toe``."""
        rf = rot("z", yaw) @ rot("x", -pitch)
        return toe - rf @ self.toe_offsets[k], rf

    def step_gait(self, dt: float, target: np.ndarray | None, g: Gait) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Advance walking/running by ``dt``; returns local rotations, root rotation, root position."""
        p_old = self.phase
        if target is not None:
            d = target - self.base[:2]
            want = np.arctan2(-d[0], d[1])
            self.heading += float(np.clip(_wrap(want - self.heading), -g.turn_rate * dt, g.turn_rate * dt))
            self.amp = min(1.0, self.amp + dt / 0.6)
        else:
            self.amp = max(0.0, self.amp - dt / 0.6)
        v = self.amp * g.speed
        self.base[:2] += v * _forward(self.heading) * dt
        self.phase += g.cadence * dt
        rr = rot("z", self.heading)
        local = self.poser.upper_body(self.phase, self.amp, g)
        r = self.body.rest_joints
        ts = g.stance / g.cadence
        ankles, rots = np.zeros((2, 3)), np.zeros((2, 3, 3))
        for k, f in enumerate(self.feet):
            p, p0 = (self.phase + 0.5 * k) % 1.0, (p_old + 0.5 * k) % 1.0
            swinging = p >= g.stance
            if swinging and (f.planted or p0 < g.stance):  # lift off
                f.planted = False
                f.lift_ankle, f.lift_pitch, f.lift_yaw = f.ankle.copy(), g.heel * self.amp, f.yaw
            if not swinging and not f.planted:  # touch down
                f.planted, f.yaw = True, float(self.heading)
                f.ankle, f.rot = self._foot_pose(k, f.yaw, 0.0, f.ankle + f.rot @ self.toe_offsets[k])
                f.ankle[2] = self.poser.ankle_height
                f.toe = f.ankle + f.rot @ self.toe_offsets[k]
            if f.planted:
                s = p / g.stance
                pitch = g.heel * self.amp * _smooth((s - 0.55) / 0.45)
                f.ankle, f.rot = self._foot_pose(k, f.yaw, pitch, f.toe)
                f.toe_bend = pitch
            else:
                s = (p - g.stance) / (1 - g.stance)
                left = (1 - p) / g.cadence  # time to touch down
                hip_rest = rr @ (r[J[LEGS[k][2]]] - r[0])
                land = self.base[:2] + v * _forward(self.heading) * left + hip_rest[:2]
                land = land + _forward(self.heading) * v * ts / 2
                u = _smoother(s)
                xy = (1 - u) * f.lift_ankle[:2] + u * land
                z = (1 - u) * f.lift_ankle[2] + u * self.poser.ankle_height + self.amp * g.lift * np.sin(np.pi * s)
                yaw = f.lift_yaw + _wrap(self.heading - f.lift_yaw) * u
                f.toe_bend = f.lift_pitch * (1 - _smooth(s / 0.5))
                pitch = f.toe_bend - 0.25 * self.amp * np.sin(np.pi * s) ** 2
                f.yaw = yaw
                f.rot = rot("z", yaw) @ rot("x", -pitch)
                f.ankle = np.array([xy[0], xy[1], z])
            ankles[k], rots[k] = f.ankle, f.rot
        drop = self.amp * g.drop * (1 + 0.5 * np.cos(4 * np.pi * self.phase))
        root = np.array([self.base[0], self.base[1], self.base[2] - drop])
        root[2] = min(root[2], self.poser.reach_cap(local, rr, root, ankles))
        self.poser.leg_ik(local, rr, root, ankles, rots, np.array([f.toe_bend for f in self.feet]))
        return local, rr, root

    def step_still(self, dt: float, t: float, seg: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Stand (weight shift) or crouch with both feet where they are; ``t`` seconds into ``seg``."""
        rr = rot("z", self.heading)
        local = np.tile(np.eye(3), (24, 1, 1))
        if seg["action"] == "crouch":
            dur = float(seg["seconds"])
            u = _smooth(min(t, dur - t) / min(1.0, dur / 3))
            depth = float(seg.get("depth", 0.3))
            root = self.base + rr @ np.array([0.0, -0.3 * depth * self.body.height * u, -depth * self.body.height * u])
            local[J["spine1"]] = rot("x", -1.2 * depth * u)
            local[J["spine2"]] = rot("x", -0.5 * depth * u)
            self.poser.arms(local, (0.0, 0.0), 0.3 + 0.8 * u, raise_fwd=0.8 * u)
        else:
            ramp = min(1.0, t / 1.0)
            sway = 0.035 * ramp * np.sin(2 * np.pi * 0.3 * t)
            root = self.base + rr @ np.array([sway, 0.0, -0.012 * ramp * (1 - np.cos(4 * np.pi * 0.3 * t))])
            local[J["pelvis"]] = rot("y", -1.2 * sway)
            local[J["spine1"]] = rot("y", 1.8 * sway)
            self.poser.arms(local, (0.05 * np.sin(1.3 * t), 0.05 * np.sin(1.3 * t + 1)), 0.25)
        ankles = np.array([f.ankle for f in self.feet])
        rots = np.array([f.rot for f in self.feet])
        root[2] = min(root[2], self.poser.reach_cap(local, rr, root, ankles))
        self.poser.leg_ik(local, rr, root, ankles, rots)
        return local, rr, root


def simulate(
    body: Body, start: tuple[float, float], heading_deg: float, segments: list[dict], fps: float, n_frames: int
) -> tuple[np.ndarray, np.ndarray]:
    """World joint rotations ``(F, 24, 3, 3)`` and positions ``(F, 24, 3)`` of one person.

    ``segments``: ``{"action": "walk"|"run", "to": [x, y]}``, ``{"action": "stand", "seconds": s}``,
    ``{"action": "crouch", "seconds": s, "depth": fraction of height}``; after the last one the person
    stands. ``start`` is the floor point under the pelvis, ``heading_deg`` 0 faces +Y, 90 faces -X.
    """
    person = Person(body, start, heading_deg)
    sub = max(1, int(np.ceil(SIM_RATE / fps)))
    dt = 1.0 / (fps * sub)
    seg_i, seg_t = 0, 0.0
    out_rot = np.zeros((n_frames, 24, 3, 3))
    out_pos = np.zeros((n_frames, 24, 3))
    gait = WALK
    for step in range(n_frames * sub):
        seg = segments[seg_i] if seg_i < len(segments) else {"action": "stand", "seconds": 1e9}
        if seg["action"] in ("walk", "run"):
            g = RUN if seg["action"] == "run" else WALK
            if "speed" in seg:
                g = Gait(**{**g.__dict__, "speed": float(seg["speed"])})
            gait = g
            target = np.asarray(seg["to"], float)
            local, rr, root = person.step_gait(dt, target, g)
            if np.linalg.norm(target - person.base[:2]) < 0.3:
                seg_i, seg_t = seg_i + 1, 0.0
        elif person.amp > 0 or not all(f.planted for f in person.feet):
            local, rr, root = person.step_gait(dt, None, gait)  # winding down until both feet are down
        else:
            seg_t += dt
            local, rr, root = person.step_still(dt, seg_t, seg)
            if seg_t >= float(seg["seconds"]):
                seg_i, seg_t = seg_i + 1, 0.0
        glob, pos = forward_kinematics(local, rr, root, body.rest_joints)
        if step % sub == sub - 1:
            out_rot[step // sub], out_pos[step // sub] = glob, pos
    return out_rot, out_pos
