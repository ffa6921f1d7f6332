"""Test-made results files: random but valid SMPL motion for several people, with gaps and predictions."""

from __future__ import annotations

import numpy as np

from ram_core.contract.results import CaptureMeta, Results, make_track
from ram_core.contract.skeleton import NUM_BETAS, NUM_BODY_JOINTS, axis_angle_to_matrix, forward_kinematics

# A T-pose close to SMPL's mean body (canonical frame: y up, x to the left, z to the front; metres).
REST_JOINTS = np.array(
    [
        [0.00, 0.93, 0.00],
        [0.06, 0.84, 0.00],
        [-0.06, 0.84, 0.00],
        [0.00, 1.04, -0.01],
        [0.10, 0.46, 0.00],
        [-0.10, 0.46, 0.00],
        [0.00, 1.17, 0.00],
        [0.09, 0.06, -0.04],
        [-0.09, 0.06, -0.04],
        [0.00, 1.23, 0.02],
        [0.11, 0.00, 0.08],
        [-0.11, 0.00, 0.08],
        [0.00, 1.45, -0.01],
        [0.07, 1.37, 0.00],
        [-0.07, 1.37, 0.00],
        [0.00, 1.52, 0.04],
        [0.17, 1.40, -0.01],
        [-0.17, 1.40, -0.01],
        [0.43, 1.39, -0.03],
        [-0.43, 1.39, -0.03],
        [0.68, 1.40, -0.03],
        [-0.68, 1.40, -0.03],
        [0.76, 1.39, -0.04],
        [-0.76, 1.39, -0.04],
    ]
)


def make_meta(rest_joints: np.ndarray = REST_JOINTS, frame_count: int = 40, fps: float = 25.0) -> CaptureMeta:
    k = np.array([[800.0, 0, 320], [0, 800.0, 240], [0, 0, 1]])
    return CaptureMeta(
        video_path="synthetic.avi",
        fps=fps,
        width=640,
        height=480,
        frame_count=frame_count,
        frame_start=0,
        frame_end=frame_count,
        intrinsics=k,
        intrinsics_assumed=True,
        backend="test",
        rest_joints=rest_joints,
        rest_source="test",
    )


def make_random_track(rng: np.random.Generator, track_id: int, frames: np.ndarray, rest: np.ndarray):
    """A track at ``frames`` with random rotations (body up to ~1 rad), facing the camera roughly."""
    n = len(frames)
    flip = np.array([np.pi, 0.0, 0.0])
    go = np.stack([(axis_angle_to_matrix(flip) @ axis_angle_to_matrix(rng.normal(0, 0.6, 3))) for _ in range(n)])
    from ram_core.contract.skeleton import matrix_to_axis_angle

    global_orient = matrix_to_axis_angle(go)
    body_pose = rng.normal(0, 0.5, (n, NUM_BODY_JOINTS, 3))
    transl = np.column_stack([rng.uniform(-2, 2, n), rng.uniform(-0.5, 0.5, n), rng.uniform(3, 8, n)])
    joints, _ = forward_kinematics(global_orient, body_pose, rest, transl)
    predicted = rng.random(n) < 0.25
    return make_track(
        track_id,
        frame=frames,
        global_orient=global_orient,
        body_pose=body_pose,
        betas=np.tile(rng.normal(0, 1, NUM_BETAS), (n, 1)),
        transl=transl,
        joints=joints,
        box=np.tile([10.0, 10.0, 100.0, 300.0], (n, 1)),
        confidence=np.full(n, 0.9),
        predicted=predicted,
    )


def make_results(seed: int = 0, frame_count: int = 40) -> Results:
    """Three people: one on every frame, one with a gap, one that starts late."""
    rng = np.random.default_rng(seed)
    rest = REST_JOINTS + rng.normal(0, 0.005, REST_JOINTS.shape)
    all_frames = np.arange(frame_count)
    frames = [all_frames, np.concatenate([all_frames[:10], all_frames[18:]]), all_frames[frame_count // 2 :]]
    tracks = [make_random_track(rng, tid, f, rest) for tid, f in zip((1, 2, 5), frames)]
    return Results(make_meta(rest, frame_count), tracks)


def make_walking_results(gt_path) -> Results:
    """Results as the capture pipeline would give them for a committed synthetic clip (two people walking,
    feet planted): each person's ground-truth joints fitted by IK on the default skeleton, then the real
    scene solve (floor, camera, sizes) and contact detection."""
    import dataclasses

    from ram_core.body.ik import solve_rotations
    from ram_core.contract.smpl_model import default_rest_joints
    from ram_core.scene.contact import plant_feet
    from ram_core.scene.solve import solve_and_apply

    gt = np.load(gt_path)
    rest = default_rest_joints()
    width, height = (int(v) for v in gt["image_size"])
    meta = dataclasses.replace(
        make_meta(rest, int(gt["n_frames"]), float(gt["fps"])), intrinsics=gt["intrinsics"], width=width, height=height
    )
    tracks = []
    for p in range(len(gt["person_ids"])):
        frames = np.flatnonzero(gt["present"][p])
        targets = gt["joints_cam"][p, frames]
        global_orient, body_pose = solve_rotations(targets, rest)
        transl = targets[:, 0] - rest[0]
        joints, _ = forward_kinematics(global_orient, body_pose, rest, transl)
        n = len(frames)
        tracks.append(
            make_track(
                p + 1,
                frame=frames,
                global_orient=global_orient,
                body_pose=body_pose,
                betas=np.zeros((n, NUM_BETAS)),
                transl=transl,
                joints=joints,
                box=np.tile([10.0, 10.0, 100.0, 300.0], (n, 1)),
                confidence=np.full(n, 0.9),
                predicted=np.zeros(n, dtype=bool),
            )
        )
    return plant_feet(solve_and_apply(Results(meta, tracks)))
