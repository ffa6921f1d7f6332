"""Least squares over a sequence of frames whose unknowns couple only frames up to two apart. Numpy only.

The Gauss-Newton normal equations ``J^T J x = -J^T r`` of such a problem are block-banded: ``T`` blocks of
``P`` unknowns, each coupled with the frames one and two before it (an acceleration spans three frames).
:class:`NormalEquations` builds them term by term without ever forming ``J``; :func:`solve_block_banded` solves
them by block Cholesky in O(T P^3), where a general sparse solver would fill in (and numpy is all Blender's
Python has).
"""

from __future__ import annotations

import numpy as np


class NormalEquations:
    """The Gauss-Newton normal equations ``J^T J``, ``J^T r`` and the residuals, built term by term.

    ``J^T J`` is kept as its lower blocks ``band`` ``(3, T, P, P)`` (``[k, i]`` couples frame ``i`` with frame
    ``i - k``; nothing couples frames further apart), each term adding its own products: a row that touches one
    rotation or the pelvis adds a 3 x 3 block, a row on joint positions a frame's dense block, an acceleration
    its fixed pattern over three frames."""

    def __init__(self, frames: int, size: int) -> None:
        self.n = frames
        self.size = size
        self.band = np.zeros((3, frames, size, size))
        self.grad = np.zeros((frames, size))
        self.res: list[np.ndarray] = []

    def slot(self, frames: np.ndarray, col: int, res: np.ndarray, block: np.ndarray) -> None:
        """Rows ``res`` ``(n, m)`` at ``frames`` ``(n,)`` whose Jacobian ``block`` ``(n, m, 3)`` is on columns ``col:col+3``."""
        self.res.append(res.ravel())
        cols = slice(col, col + 3)
        self.band[0, frames, cols, cols] += np.einsum("nmi,nmj->nij", block, block)
        self.grad[frames, cols] += np.einsum("nmi,nm->ni", block, res)

    def dense(self, frames: list[np.ndarray], res: np.ndarray, jac: list[np.ndarray]) -> None:
        """Rows ``res`` ``(n, m)`` with Jacobians ``jac[s]`` ``(n, m, P)`` at frames ``frames[s]`` ``(n,)``
        (one or two frames per row: the later first, the earlier one frame before).

        Only the columns a Jacobian touches on some row enter the products (a joint's rows touch the pelvis and
        its ancestors' rotations, a fifth of the columns or less): the same sums, far fewer operations."""
        self.res.append(res.ravel())
        used = [np.flatnonzero(np.any(j != 0, axis=(0, 1))) for j in jac]
        parts = [j[..., c] for j, c in zip(jac, used, strict=True)]
        for f, j, c in zip(frames, parts, used, strict=True):  # each ``f`` lists a frame once
            jt = np.swapaxes(j, 1, 2)
            self.grad[f[:, None], c] += (jt @ res[..., None])[..., 0]
            self.band[0, f[:, None, None], c[:, None], c] += jt @ j
        if len(jac) == 2:
            later, earlier = used
            self.band[1, frames[0][:, None, None], later[:, None], earlier] += np.swapaxes(parts[0], 1, 2) @ parts[1]

    def acceleration(self, res: np.ndarray, cols: np.ndarray, k: float) -> None:
        """Rows ``res`` ``(T - 2, C)`` = ``k (x[t+1] - 2 x[t] + x[t-1])`` + const on columns ``cols`` ``(C,)``."""
        self.res.append(res.ravel())
        n = self.n
        kk = k * k
        for off, coef in ((0, 1.0), (1, -2.0), (2, 1.0)):  # frame t - 1 + off
            self.grad[off : n - 2 + off, cols] += coef * k * res
            self.band[0, off : n - 2 + off, cols, cols] += coef * coef * kk
        self.band[1, 1 : n - 1, cols, cols] += -2.0 * kk  # (t, t - 1)
        self.band[1, 2:n, cols, cols] += -2.0 * kk  # (t + 1, t)
        self.band[2, 2:n, cols, cols] += kk  # (t + 1, t - 1)

    def residuals(self) -> np.ndarray:
        return np.concatenate(self.res)


def solve_block_banded(band: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve the symmetric positive definite system given by its lower blocks ``band`` ``(K + 1, T, P, P)``
    (``[k, i]`` the block coupling frame ``i`` with ``i - k``; frames further apart are not coupled) and
    ``rhs`` ``(T * P,)``, by block Cholesky: O(T P^3), where a general sparse solver fills in."""
    bandwidth, n, size = band.shape[0] - 1, band.shape[1], band.shape[2]
    low = np.zeros_like(band)  # the Cholesky factor's blocks, same layout
    inv = np.zeros((n, size, size))  # inverses of its diagonal blocks: matrix products from here on
    # Off-diagonal bands that hold only diagonal blocks (an acceleration's coupling two frames apart): their
    # first product is a row scaling, the same numbers as the matrix product at a fraction of its cost.
    diagonals = {k: np.diagonal(band[k], axis1=1, axis2=2) for k in range(1, bandwidth + 1)}
    scaled = {k: d for k, d in diagonals.items() if np.count_nonzero(band[k]) == np.count_nonzero(d)}
    for i in range(n):
        for k in range(bandwidth, 0, -1):
            if i - k < 0:
                continue
            if k == bandwidth and k in scaled:  # nothing further out to subtract
                low[k, i] = scaled[k][i][:, None] * inv[i - k].T
                continue
            acc = band[k, i].copy()
            for m in range(k + 1, bandwidth + 1):
                if i - m >= 0:
                    acc -= low[m, i] @ low[m - k, i - k].T
            low[k, i] = acc @ inv[i - k].T
        diag = band[0, i] - sum(low[k, i] @ low[k, i].T for k in range(1, bandwidth + 1) if i - k >= 0)
        inv[i] = np.linalg.inv(np.linalg.cholesky(diag))
    b = rhs.reshape(n, size)
    y = np.zeros_like(b)
    for i in range(n):
        acc = b[i].copy()
        for k in range(1, min(i, bandwidth) + 1):
            acc -= low[k, i] @ y[i - k]
        y[i] = inv[i] @ acc
    x = np.zeros_like(b)
    for i in range(n - 1, -1, -1):
        acc = y[i].copy()
        for k in range(1, min(n - 1 - i, bandwidth) + 1):
            acc -= low[k, i + k].T @ x[i + k]
        x[i] = inv[i].T @ acc
    return x.ravel()


__all__ = ["NormalEquations", "solve_block_banded"]
