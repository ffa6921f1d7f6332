"""The retargeted feet at the person's heights: the whole body raised or lowered a little each frame.

Retargeting copies bone directions exactly, so a character whose legs have other proportions than the
person's (Rigify's metarig, most game rigs) lifts its ankles a little more or less than the person's
scaled: a few centimetres on legs bent a radian at every joint. Moving the body vertically puts the
foot that carries the weight where it belongs without turning any bone; the other foot keeps its leg's
own shape (Pin Feet, in :mod:`foot_pin`, places both). A foot's height here is its ankle's lift above
where it stands at rest, so a character with higher ankles stands with its soles on the floor.

Which foot carries the weight: the lower one (the person's feet; a soft choice within
:data:`LOWER_FOOT`), or while the capture marks feet in contact, those, eased over :data:`CONTACT_EASE`
so the body does not pop when the contact changes. Numpy only.
"""

from __future__ import annotations

import numpy as np

LOWER_FOOT = 0.02  # metres (the person's): one foot this much lower carries about three quarters
CONTACT_EASE = 0.08  # seconds: the spread (one standard deviation) of the ease between contact changes


def _eased(values: np.ndarray, sigma: float) -> np.ndarray:
    """``values`` ``(T, K)`` smoothed along time by a Gaussian of ``sigma`` frames (edges held)."""
    if sigma <= 0.0 or len(values) < 2:
        return values
    radius = int(np.ceil(3.0 * sigma))
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(values, ((radius, radius), (0, 0)), mode="edge")
    return np.stack([np.convolve(padded[:, k], kernel, mode="valid") for k in range(values.shape[1])], axis=1)


def support(lift: np.ndarray, contact: np.ndarray | None, fps: float) -> np.ndarray:
    """How much each foot carries the body ``(T, 2)`` (rows sum to 1) from the person's feet' lifts above
    standing ``(T, 2)`` (metres) and their contact ``(T, 2)`` (0 to 1; None: not captured)."""
    lower = np.exp(-(lift - lift.min(axis=1, keepdims=True)) / LOWER_FOOT)
    if contact is not None:
        # a foot in contact outweighs one that is not, unless it is far higher; no contact: the lower foot
        lower = lower * (_eased(contact.astype(np.float64), CONTACT_EASE * fps) + 1e-3)
    return lower / lower.sum(axis=1, keepdims=True)


def correction(ankle_z: np.ndarray, goal_z: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """The vertical move ``(T,)`` (metres) that brings the ankles' heights ``(T, 2)`` to their goals
    ``(T, 2)`` as far as the feet carry the body (``weight`` ``(T, 2)`` from :func:`support`)."""
    return np.sum(weight * (goal_z - ankle_z), axis=1)
