"""The rotation helpers of ``ram_core.contract.skeleton`` against their plain formulations, to the last bit."""

from __future__ import annotations

import numpy as np

from ram_core.contract.skeleton import axis_angle_to_matrix, quaternion_multiply


def reference_axis_angle_to_matrix(rotvec: np.ndarray) -> np.ndarray:
    angle = np.linalg.norm(rotvec, axis=-1, keepdims=True)
    axis = rotvec / np.where(angle > 1e-12, angle, 1.0)
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    zero = np.zeros_like(x)
    k = np.stack([zero, -z, y, z, zero, -x, -y, x, zero], axis=-1).reshape(*rotvec.shape[:-1], 3, 3)
    s, c = np.sin(angle)[..., None], np.cos(angle)[..., None]
    return np.broadcast_to(np.eye(3), k.shape) + s * k + (1.0 - c) * (k @ k)


def reference_quaternion_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )


def test_axis_angle_to_matrix_is_rodrigues_to_the_last_bit() -> None:
    rotvec = np.random.default_rng(0).normal(size=(6, 24, 3))
    rotvec[0, 0] = 0.0
    assert np.array_equal(axis_angle_to_matrix(rotvec), reference_axis_angle_to_matrix(rotvec))
    assert axis_angle_to_matrix(rotvec[0, 0]).shape == (3, 3)


def test_quaternion_multiply_is_hamiltons_product_to_the_last_bit() -> None:
    a, b = np.random.default_rng(1).normal(size=(2, 5, 24, 4))
    assert np.array_equal(quaternion_multiply(a, b), reference_quaternion_multiply(a, b))
    assert np.array_equal(quaternion_multiply(a[0], b[0, 0]), reference_quaternion_multiply(a[0], b[0, 0]))
    assert quaternion_multiply(a.astype(np.float32), b.astype(np.float32)).dtype == np.float32
