"""The raw-landmark baseline's plumbing, with a stand-in landmark model: crops asked for, joints placed, scored."""

from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from ram_core.body.blazepose import NUM_LANDMARKS, smpl_targets
from ram_core.contract.results import load_results, save_results
from ram_core.contract.smpl_model import default_rest_joints
from ram_core.eval.baseline import baseline_results, run_landmarks

pytest.importorskip("trackeval")
from ram_core.eval.capture import ROOT_FROM_GT_BACKEND, score_capture
from tests.fixtures.capture_gt import make_gt

F = 6


class FakeLandmarker:
    """Fixed random world landmarks for every box; remembers the boxes of each call."""

    def __init__(self) -> None:
        self.world = np.random.default_rng(3).normal(0, 0.3, (NUM_LANDMARKS, 3))
        self.calls: list[np.ndarray] = []

    def estimate(self, image_bgr, boxes):
        assert image_bgr.shape == (480, 640, 3)
        self.calls.append(np.asarray(boxes))
        n = len(boxes)
        return SimpleNamespace(
            world=np.repeat(self.world[None], n, axis=0),
            visibility=np.ones((n, NUM_LANDMARKS)),
            score=np.full(n, 0.9),
        )


def frames(n: int = F):
    for t in range(n):
        yield t, np.zeros((480, 640, 3), np.uint8)


def test_baseline_places_the_landmark_joints_at_the_ground_truth_pelvis(tmp_path):
    gt = make_gt(f=F)
    gt["image_size"], gt["intrinsics"] = np.array([640, 480]), np.eye(3)
    gt["box_visible"][1, 2:4] = np.nan  # person 1 hidden in frames 2 and 3
    gt["visible_fraction"][1, 2:4] = 0
    rest = default_rest_joints()
    fake = FakeLandmarker()
    samples = run_landmarks(frames(), gt, fake, rest)
    assert [len(c) for c in fake.calls] == [2, 2, 1, 1, 2, 2]  # one call per frame, its visible people batched
    np.testing.assert_allclose(fake.calls[2], gt["box_visible"][:1, 2])
    results = load_results(save_results(baseline_results(gt, samples, rest, "test", "clip.mp4"), tmp_path / "b.npz"))
    assert results.meta.backend == ROOT_FROM_GT_BACKEND
    assert [len(t) for t in results.tracks] == [F, F - 2]
    target = smpl_targets(fake.world[None], np.ones((1, NUM_LANDMARKS)), rest).joints[0]
    track = results.tracks[1]
    np.testing.assert_allclose(track.joints[:, 0], gt["joints_cam"][1, track.frame, 0], atol=1e-6)
    np.testing.assert_allclose(
        track.joints - track.joints[:, :1], np.broadcast_to(target - target[0], (4, 24, 3)), atol=1e-5
    )
    scores = score_capture(gt, results)
    assert scores.root_from_gt and scores.overall.abs_mpjpe_mm is None and scores.overall.frames == 2 * F - 2
    assert scores.overall.consistency == 1.0 and scores.overall.pa_mpjpe_mm > 0


def test_baseline_reads_a_video(tmp_path):
    from ram_core.eval.baseline import compute_baseline

    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (640, 480))
    for _ in range(F):
        writer.write(np.full((480, 640, 3), 90, np.uint8))
    writer.release()
    gt = make_gt(f=F)
    results = compute_baseline(gt, path, FakeLandmarker())
    assert [len(t) for t in results.tracks] == [F, F]
