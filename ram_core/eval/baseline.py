"""The raw-landmark baseline: BlazePose's world landmarks on the ground truth's boxes, as a results file.

What the landmark model alone gives, with detection and tracking taken out: for every person and frame
where the ground truth shows them (``visible_mask``), the lite backend's landmark model
(``PoseLandmarker``: a square crop ``crop_scale`` times the longer side of the person's *visible* box,
256x256) estimates the 33 world landmarks (metres, hip-centred, camera-oriented axes), which
``smpl_targets`` maps onto SMPL's 24 joints as the lite backend's IK targets are made. No IK, no smoothing,
no translation solve: the joints are the targets themselves.

The landmarks carry no position, so each person-frame's joints are placed with their pelvis at the ground
truth's pelvis (camera frame). Absolute MPJPE and depth error of the baseline are therefore meaningless;
the scorer reports them n/a for results whose ``meta.backend`` is ``ROOT_FROM_GT_BACKEND``. The tracks are
the ground truth's people (one track per person, id = person id) with its amodal boxes, so the baseline's
identity figures are perfect by construction and no ratio to them is taken. Rotations are not fitted:
``global_orient`` and ``body_pose`` are zeros, ``transl`` is the pelvis.

The landmark model runs once per frame on all of that frame's people, in batches of the landmarker's
``max_batch`` (the batch size measured fastest on 2 cores).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ram_core.contract.results import CaptureMeta, Results, make_track
from ram_core.contract.skeleton import JOINT_NAMES, NUM_BETAS, NUM_BODY_JOINTS
from ram_core.eval.capture import PELVIS, ROOT_FROM_GT_BACKEND, CaptureEvalError, check_same_clip, visible_mask

NOTES = (
    "baseline: BlazePose world landmarks on the ground truth's visible boxes mapped onto the 24 joints, "
    "pelvis placed at the ground truth's; rotations not fitted (zeros)"
)


class Landmarks(Protocol):
    """What the baseline reads of a ``LandmarkBatch`` (N people)."""

    world: np.ndarray  # (N, 33, 3) metres, hip-centred, camera-oriented axes
    visibility: np.ndarray  # (N, 33) in [0, 1]
    score: np.ndarray  # (N,) pose-present flag in [0, 1]


class Landmarker(Protocol):
    """What the baseline needs of a ``PoseLandmarker``."""

    def estimate(self, image_bgr: np.ndarray, boxes: np.ndarray) -> Landmarks: ...


@dataclass(frozen=True)
class BaselineSamples:
    """The landmark model's output on every visible person-frame.

    Attributes:
        person: ``(N,)`` person index (row of the ground truth's arrays, not its id).
        frame: ``(N,)`` frame index.
        joints: ``(N, 24, 3)`` SMPL joint targets from the world landmarks, metres, hip-centred.
        score: ``(N,)`` the model's pose-present flag.
    """

    person: np.ndarray
    frame: np.ndarray
    joints: np.ndarray
    score: np.ndarray


def run_landmarks(
    frames: Iterable[tuple[int, np.ndarray]], gt: dict[str, np.ndarray], landmarker: Landmarker, rest_joints: np.ndarray
) -> BaselineSamples:
    """The landmark model on the visible box of each visible person of each frame of ``frames``.

    Args:
        frames: ``(index, (H, W, 3) uint8 BGR image)`` in any order (``iter_frames``).
        gt: ground truth (``load_gt``).
        landmarker: the landmark model (``PoseLandmarker``); one call per frame with all its people.
        rest_joints: ``(24, 3)`` the skeleton whose offsets place the pelvis, hips and spine (``smpl_targets``).
    """
    from ram_core.body.blazepose import smpl_targets

    vis = visible_mask(gt)
    boxes = np.asarray(gt["box_visible"], dtype=np.float64)
    person, frame, joints, score = [], [], [], []
    for t, image in frames:
        if t >= vis.shape[1]:
            break
        who = np.flatnonzero(vis[:, t])
        if not who.size:
            continue
        batch = landmarker.estimate(image, boxes[who, t])
        targets = smpl_targets(batch.world, batch.visibility, rest_joints)
        person.append(who)
        frame.append(np.full(who.size, t))
        joints.append(targets.joints)
        score.append(np.asarray(batch.score, dtype=np.float64))
    if not person:
        raise CaptureEvalError("no visible person-frame in the video's frames")
    return BaselineSamples(np.concatenate(person), np.concatenate(frame), np.concatenate(joints), np.concatenate(score))


def baseline_results(
    gt: dict[str, np.ndarray], samples: BaselineSamples, rest_joints: np.ndarray, rest_source: str, video: str
) -> Results:
    """A results file of the baseline: one track per person, joints moved so the pelvis is the ground truth's."""
    n_people, n_frames = gt["present"].shape
    size = np.asarray(gt["image_size"]).astype(int) if "image_size" in gt else np.array([0, 0])
    meta = CaptureMeta(
        video_path=video,
        fps=float(gt["fps"]),
        width=int(size[0]),
        height=int(size[1]),
        frame_count=n_frames,
        frame_start=0,
        frame_end=n_frames,
        intrinsics=np.asarray(gt["intrinsics"], dtype=np.float64) if "intrinsics" in gt else np.eye(3),
        intrinsics_assumed=False,
        backend=ROOT_FROM_GT_BACKEND,
        rest_joints=np.asarray(rest_joints, dtype=np.float64),
        rest_source=rest_source,
        notes=NOTES,
    )
    ids = gt["person_ids"] if "person_ids" in gt else np.arange(n_people)
    tracks = []
    for i in range(n_people):
        mine = np.flatnonzero(samples.person == i)
        mine = mine[np.argsort(samples.frame[mine], kind="stable")]
        t = samples.frame[mine]
        pelvis = np.asarray(gt["joints_cam"][i, t, PELVIS], dtype=np.float64)
        joints = samples.joints[mine] - samples.joints[mine, PELVIS : PELVIS + 1] + pelvis[:, None]
        n = len(mine)
        tracks.append(
            make_track(
                int(ids[i]),
                frame=t,
                global_orient=np.zeros((n, 3)),
                body_pose=np.zeros((n, NUM_BODY_JOINTS, 3)),
                betas=np.zeros((n, NUM_BETAS)),
                transl=pelvis,
                joints=joints.reshape(n, len(JOINT_NAMES), 3),
                box=np.asarray(gt["box_amodal"][i, t], dtype=np.float64),
                confidence=np.clip(samples.score[mine], 0, 1),
                predicted=np.zeros(n, bool),
            )
        )
    return Results(meta, [tr for tr in tracks if len(tr)])


def compute_baseline(gt: dict[str, np.ndarray], video: str | Path, landmarker: Landmarker | None = None) -> Results:
    """The baseline of a clip: ``video`` decoded in order, the landmark model (default the lite backend's)."""
    from ram_core.backends.records import rest_skeleton
    from ram_core.perception.landmarks import PoseLandmarker
    from ram_core.video import iter_frames, open_video

    info = open_video(video)  # another clip's video would give boxes on the wrong people: refused
    check_same_clip(gt, info.width, info.height, info.fps, str(video))
    skeleton = rest_skeleton(None)
    model = PoseLandmarker() if landmarker is None else landmarker
    samples = run_landmarks(iter_frames(video, 0, int(gt["present"].shape[1])), gt, model, skeleton.joints)
    return baseline_results(gt, samples, skeleton.joints, skeleton.source, str(video))


__all__ = ["BaselineSamples", "baseline_results", "compute_baseline", "run_landmarks"]
