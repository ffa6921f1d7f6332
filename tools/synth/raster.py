"""A numpy silhouette rasteriser: which pixel centres a projected triangle mesh covers (no depth test).

Used for the area a person would cover with nobody in front (the denominator of ``visible_fraction``),
which a render cannot give without a third pass per person.
"""

from __future__ import annotations

import numpy as np

SMALL = 4  # triangles spanning at most this many pixel centres per axis are tested in one vectorised pass


def _inside(tri: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Whether points ``(px, py)`` (``(T, K)``) lie in triangles ``tri`` ``(T, 3, 2)`` (either winding)."""
    e = []
    for a, b in ((0, 1), (1, 2), (2, 0)):
        ax, ay = tri[:, a, 0:1], tri[:, a, 1:2]
        bx, by = tri[:, b, 0:1], tri[:, b, 1:2]
        e.append((bx - ax) * (py - ay) - (by - ay) * (px - ax))
    e = np.stack(e)
    return np.all(e >= 0, axis=0) | np.all(e <= 0, axis=0)


def silhouette(uv: np.ndarray, faces: np.ndarray, width: int, height: int) -> np.ndarray:
    """``(H, W)`` bool: pixels whose centre lies in a triangle of ``faces`` ``(F, 3)`` over ``uv`` ``(V, 2)`` pixels."""
    mask = np.zeros((height, width), bool)
    tri = uv[faces]
    lo = np.ceil(tri.min(axis=1) - 0.5).astype(int)
    hi = np.floor(tri.max(axis=1) - 0.5).astype(int)
    n = hi - lo + 1
    keep = np.all(n > 0, axis=1) & (hi[:, 0] >= 0) & (hi[:, 1] >= 0) & (lo[:, 0] < width) & (lo[:, 1] < height)
    small = keep & np.all(n <= SMALL, axis=1)
    t, l0 = tri[small], lo[small]
    for dy in range(SMALL):
        for dx in range(SMALL):
            x, y = l0[:, 0] + dx, l0[:, 1] + dy
            hit = _inside(t, (x + 0.5)[:, None], (y + 0.5)[:, None])[:, 0]
            ok = hit & (x >= 0) & (x < width) & (y >= 0) & (y < height)
            mask[y[ok], x[ok]] = True
    for i in np.flatnonzero(keep & ~small):
        x0, y0 = np.maximum(lo[i], 0)
        x1, y1 = min(hi[i, 0], width - 1), min(hi[i, 1], height - 1)
        if x1 < x0 or y1 < y0:
            continue
        gx, gy = np.meshgrid(np.arange(x0, x1 + 1), np.arange(y0, y1 + 1))
        hit = _inside(tri[i : i + 1], gx.reshape(1, -1) + 0.5, gy.reshape(1, -1) + 0.5)[0]
        mask[gy.ravel()[hit], gx.ravel()[hit]] = True
    return mask
