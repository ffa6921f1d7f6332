"""The `lite` backend's detector sweep: which tiles of the frame it runs on, and which of those it can skip.

The detector looks for people nobody tracks by running on a few of its tiles per frame, sweeping the whole
frame over several frames (:func:`sweep_order`). A tile that looks as it did when the detector last ran on it
(the frame with the tracked people painted out, :class:`StillTiles`) would give the detector the same input
and so the same answer: nobody new can be there, and the run is skipped.
"""

from __future__ import annotations

import math

import cv2
import numpy as np


def sweep_order(count: int) -> np.ndarray:
    """A permutation of ``range(count)`` whose consecutive runs are spread over it (a golden-ratio stride).

    The detector's tiles are listed size by size, row by row; taking them in this order puts far-apart tiles
    of every size into each frame's share of the sweep.
    """
    if count <= 2:
        return np.arange(count)
    stride = max(1, round(count / ((1 + math.sqrt(5)) / 2)))
    while math.gcd(stride, count) != 1:
        stride += 1
    return (np.arange(count) * stride) % count


class StillTiles:
    """Each tile as the detector last saw it (a grey thumbnail), to skip the tiles that have not changed since.

    Args:
        change: a tile is run again when at least this fraction of its thumbnail's pixels moved by more than
            ``level`` grey levels since its last run; 0 runs every tile.
        level: grey levels (0-255) a thumbnail pixel must move by to count as changed (above the video's noise).
        max_skips: a tile skipped this many times in a row is run anyway; None: never (the detector gives the
            same answer on the same input, and a tile is compared with how it looked when it last ran, so
            changes too slow to show from one frame to the next add up until it runs).
        size: the thumbnail's side in pixels (an area average of the tile: noise cancels, a person does not).
    """

    def __init__(self, change: float, level: int, max_skips: int | None, size: int = 64) -> None:
        self.change = change
        self.level = level
        self.max_skips = max_skips
        self.size = size
        self._seen: dict[tuple[int, int, int], tuple[np.ndarray, int]] = {}

    def thumbnail(self, image_bgr: np.ndarray, tile: tuple[int, int, int]) -> np.ndarray:
        """``(size, size)`` int16 grey area average of the tile's part inside the frame."""
        height, width = image_bgr.shape[:2]
        x0, y0, side = tile
        part = image_bgr[max(y0, 0) : min(y0 + side, height), max(x0, 0) : min(x0 + side, width)]
        grey = cv2.cvtColor(np.ascontiguousarray(part), cv2.COLOR_BGR2GRAY)
        return cv2.resize(grey, (self.size, self.size), interpolation=cv2.INTER_AREA).astype(np.int16)

    def to_run(self, image_bgr: np.ndarray, tiles: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
        """The tiles of ``tiles`` the detector must run on in ``image_bgr`` (what it sees: people painted out);
        remembers those as seen now and counts a skip for the others."""
        if self.change <= 0:
            return list(tiles)
        out = []
        for tile in tiles:
            now = self.thumbnail(image_bgr, tile)
            before = self._seen.get(tile)
            if before is not None and (self.max_skips is None or before[1] < self.max_skips):
                moved = float(np.mean(np.abs(now - before[0]) > self.level))
                if moved < self.change:
                    self._seen[tile] = (before[0], before[1] + 1)
                    continue
            self._seen[tile] = (now, 0)
            out.append(tile)
        return out
