"""One colour per track id, shared by the preview video and Blender's armatures."""

from __future__ import annotations

import colorsys

_GOLDEN = 0.618033988749895


def track_color(track_id: int) -> tuple[float, float, float]:
    """A saturated RGB colour in [0, 1] for ``track_id``; neighbouring ids get distant hues."""
    hue = (0.11 + track_id * _GOLDEN) % 1.0
    return colorsys.hsv_to_rgb(hue, 0.75, 0.95)


def track_color_bgr8(track_id: int) -> tuple[int, int, int]:
    """The same colour as 8-bit B, G, R (OpenCV's order) for drawing on frames."""
    r, g, b = track_color(track_id)
    return int(round(b * 255)), int(round(g * 255)), int(round(r * 255))
