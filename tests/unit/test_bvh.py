"""The BVH writer (numpy only): Euler decomposition, Y-up axes, one root with six channels."""

from __future__ import annotations

import numpy as np

from ram_blender.bvh import BLENDER_TO_Y_UP, BvhMotion, write_bvh, zxy_euler_degrees
from ram_core.contract.skeleton import axis_angle_to_matrix


def rz(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


def rx(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[1.0, 0, 0], [0, c, -s], [0, s, c]])


def ry(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1.0, 0], [-s, 0, c]])


def test_zxy_euler_rebuilds_the_rotation():
    rots = axis_angle_to_matrix(np.random.default_rng(0).normal(0, 1.0, (50, 3)))
    z, x, y = np.radians(zxy_euler_degrees(rots)).T
    rebuilt = np.stack([rz(a) @ rx(b) @ ry(c) for a, b, c in zip(z, x, y)])
    np.testing.assert_allclose(rebuilt, rots, atol=1e-9)


def test_blender_up_is_the_files_y():
    np.testing.assert_allclose(BLENDER_TO_Y_UP @ [0, 0, 1.0], [0, 1.0, 0])
    np.testing.assert_allclose(BLENDER_TO_Y_UP @ [0, 1.0, 0], [0, 0, -1.0])
    assert np.linalg.det(BLENDER_TO_Y_UP) == 1.0


def test_a_two_joint_file(tmp_path):
    motion = BvhMotion(
        names=("hips", "spine"),
        parents=(-1, 0),
        rest_heads=np.array([[0, 0, 1.0], [0, 0, 1.5]]),
        end_sites=np.array([[0, 0, 0.0], [0, 0, 0.2]]),
        rotations=np.tile(np.eye(3), (3, 2, 1, 1)),
        root_positions=np.array([[0, 0, 1.0], [1.0, 0, 1.0], [2.0, 0, 1.0]]),
        frame_time=0.04,
    )
    text = write_bvh(tmp_path / "two.bvh", motion).read_text()
    assert "ROOT hips" in text and "JOINT spine" in text and "Frames: 3" in text
    assert "OFFSET 0.000000 1.000000 -0.000000" in text or "OFFSET 0.000000 1.000000 0.000000" in text
    assert "CHANNELS 6 Xposition" in text and "CHANNELS 3 Zrotation Xrotation Yrotation" in text
    last = text.strip().splitlines()[-1].split()
    assert [float(v) for v in last] == [2.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
