"""What every backend builds its records from: the rest skeleton the user chose, and posed people.

A backend picks its skeleton once (:func:`rest_skeleton`: the user's SMPL model, or the default
skeleton) and turns each frame's people into records (:func:`pose_records`): SMPL rotations and
``transl`` in, joints by forward kinematics about the rest joints plus ``transl`` (camera frame,
metres), as :data:`ram_core.contract.ring.RECORD_DTYPE` wants them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ram_core.contract.ring import empty_records
from ram_core.contract.skeleton import forward_kinematics
from ram_core.contract.smpl_model import DEFAULT_REST_SOURCE, SmplModel, default_rest_joints, smpl_rest_joints


@dataclass(frozen=True, eq=False)
class RestSkeleton:
    """The skeleton a backend's rotations refer to.

    Attributes:
        joints: ``(24, 3)`` rest joint positions (SMPL canonical frame, metres; the model's mean shape).
        source: where they come from: ``"smpl:<file>"`` or :data:`DEFAULT_REST_SOURCE`.
        model: the user's SMPL model, or None for the default skeleton.
    """

    joints: np.ndarray
    source: str
    model: SmplModel | None


def rest_skeleton(smpl_model: str | None) -> RestSkeleton:
    """The user's SMPL model file (``.npz`` or ``.pkl``) as a skeleton; None (or ""): the default skeleton."""
    if smpl_model:
        from ram_core.body.smpl_convert import load_smpl_file

        model = load_smpl_file(smpl_model)
        return RestSkeleton(smpl_rest_joints(model), f"smpl:{smpl_model}", model)
    return RestSkeleton(default_rest_joints(), DEFAULT_REST_SOURCE, None)


def pose_records(
    frame: np.ndarray | int,
    track_id: np.ndarray | int,
    global_orient: np.ndarray,
    body_pose: np.ndarray,
    transl: np.ndarray,
    rest_joints: np.ndarray,
    box: np.ndarray,
    confidence: np.ndarray | float,
    predicted: np.ndarray | bool = False,
    betas: np.ndarray | None = None,
) -> np.ndarray:
    """``N`` records of posed people, their joints by forward kinematics.

    Args:
        frame, track_id: ``(N,)`` or one value for all.
        global_orient: ``(N, 3)`` axis-angle (radians), body frame -> camera frame.
        body_pose: ``(N, 23, 3)`` local axis-angle.
        transl: ``(N, 3)`` metres, camera frame.
        rest_joints: ``(24, 3)`` for every record, or ``(N, 24, 3)`` one per record (shaped bodies).
        box: ``(N, 4)`` xyxy pixels.
        confidence: ``(N,)`` or one value in [0, 1].
        predicted: ``(N,)`` or one flag.
        betas: ``(N, 10)`` shape, or None to leave zeros.

    Returns:
        ``(N,)`` :data:`~ram_core.contract.ring.RECORD_DTYPE` records; ``joints`` = forward kinematics
        of the rotations about ``rest_joints``, plus ``transl``.
    """
    go = np.asarray(global_orient, dtype=np.float64).reshape(-1, 3)
    bp = np.asarray(body_pose, dtype=np.float64)
    tr = np.asarray(transl, dtype=np.float64)
    out = empty_records(len(go))
    if not len(go):
        return out
    rest = np.asarray(rest_joints, dtype=np.float64)
    if rest.ndim == 3:
        joints = np.concatenate(
            [forward_kinematics(go[i : i + 1], bp[i : i + 1], rest[i], tr[i : i + 1])[0] for i in range(len(go))]
        )
    else:
        joints, _ = forward_kinematics(go, bp, rest, tr)
    out["frame"] = frame
    out["track_id"] = track_id
    out["global_orient"] = go
    out["body_pose"] = bp
    out["transl"] = tr
    out["joints"] = joints
    out["box"] = box
    out["confidence"] = confidence
    out["predicted"] = predicted
    if betas is not None:
        out["betas"] = betas
    return out
