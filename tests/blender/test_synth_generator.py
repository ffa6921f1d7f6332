"""The synthetic generator (tools/synth) renders a tiny clip whose ground truth lands on the rendered people.

Checked on pixels: each person's 2D joints must fall on that person's own ID-pass pixels, read back from
the ID render, not recomputed from the projection.
"""

from __future__ import annotations

import numpy as np
import pytest

from tools.synth.gt_format import load_gt

SCENARIO = {
    "name": "tiny", "fps": 25, "width": 96, "height": 72, "n_frames": 3,
    "camera": {"height": 2.0, "pitch_deg": 10, "focal_px": 90},
    "people": [
        {"body": "female_avg", "height": 1.8, "start": [-0.9, 4.5], "heading_deg": -90,
         "segments": [{"action": "walk", "to": [3, 4.5]}]},
        {"body": "male_slim", "height": 1.55, "start": [0.9, 5.5], "heading_deg": 180,
         "segments": [{"action": "stand", "seconds": 5}]},
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    from tools.synth.generate import generate

    out = tmp_path_factory.mktemp("tiny")
    frames = out / "frames"
    generate(SCENARIO, out / "clip", samples=1, keep_frames=frames)
    return out / "clip", frames


def test_the_clip_and_a_checked_ground_truth_are_written(tiny_clip):
    clip, _ = tiny_clip
    gt = load_gt(clip / "gt.npz")  # load_gt runs check_gt
    assert (clip / "clip.mp4").stat().st_size > 0 and (clip / "scenario.json").exists()
    assert gt["present"].all() and np.all(gt["visible_fraction"] > 0.9)
    assert np.allclose(gt["heights"], [1.8, 1.55], atol=1e-3)


def test_ground_truth_joints_land_on_their_persons_id_pixels(tiny_clip):
    from tools.synth.render import read_id

    clip, frames = tiny_clip
    gt = load_gt(clip / "gt.npz")
    torso = [0, 3, 6, 9, 12]  # pelvis, spines, neck: inside the silhouette from any side
    for t in range(int(gt["n_frames"])):
        ids = read_id(frames / f"id{t:04d}.png")
        for i in range(2):
            px = np.floor(gt["joints_2d"][i, t]).astype(int)
            on = ids[px[:, 1], px[:, 0]] == i
            near = [
                (ids[max(y - 1, 0) : y + 2, max(x - 1, 0) : x + 2] == i).any() for x, y in px
            ]  # within a pixel: limbs are 1-2 px wide at this size
            assert on[torso].all(), (t, i, on)
            assert np.mean(near) >= 0.9, (t, i, near)
            box = gt["box_visible"][i, t]
            ys, xs = np.nonzero(ids == i)
            assert np.allclose(box, [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
