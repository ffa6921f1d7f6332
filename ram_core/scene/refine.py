"""The whole-clip refinement a capture's records go through on the client's side, in one place. Numpy/scipy.

Tracklets re-linked first (one person, one track: ``ram_core.scene.relink``), a short tracklet only ever seen on
top of a longer track dropped (``ram_core.scene.doubles``), a track that followed the
person in front of its own for a few frames let go of them there (``ram_core.scene.stacked``), gaps of up to
2 s filled where nobody else was seen (``ram_core.scene.gaps``; flagged predicted, so the fit shapes them by
its motion terms), tracks entering or leaving the picture extended while part of their person shows, and those lost
inside it within 1 s of the clip's end carried to it (``ram_core.scene.edges``), then each person's distance
smoothed (``ram_core.scene.depth``; the floor is found better from feet that do not jitter), records whose body
faces against the person's walk (a mostly covered body turned round) filled like a gap
(``ram_core.scene.heading``), then the floor, the camera and each person's size (``ram_core.scene.solve``;
where no floor is found, planted feet are only kept at one distance: ``ram_core.scene.planted``), then the
motion made steady on that floor:

* ``"temporal fit"`` (:data:`FIT`): the offline body fit over the whole clip (``ram_core.scene.fit``), which
  also finds each foot's contact and holds planted feet in the fit itself. It starts from the records with
  planted feet put on the floor by moving each body along its pelvis's viewing ray (``ram_core.scene.contact``):
  the distance that gives is the fit's prior on depth, which 2D keypoints barely see (on the suite's tuning
  clips depth error 3.7% without it, 2.6% with it);
* ``"one-euro"`` (:data:`FILTER`): the worker's causal filter as streamed (what a live preview shows), with
  planted feet held by moving the whole body (``ram_core.scene.contact``).

``meta.motion`` says which one a capture used.
"""

from __future__ import annotations

import dataclasses

from ram_core.contract.results import Results
from ram_core.scene.contact import plant_feet
from ram_core.scene.depth import smooth_depth
from ram_core.scene.doubles import drop_doubles
from ram_core.scene.edges import extend_at_edges
from ram_core.scene.fit import MOTION as FIT
from ram_core.scene.fit import fit_motion
from ram_core.scene.gaps import fill_track_gaps
from ram_core.scene.heading import refill_turned
from ram_core.scene.relink import relink_tracks
from ram_core.scene.solve import solve_and_apply
from ram_core.scene.stacked import unstack_tracks

FILTER = "one-euro"
MOTIONS = (FIT, FILTER)
DEFAULT_MOTION = FIT


def unsolved(raw: Results) -> Results:
    """``raw`` re-linked, rid of doubles, unstacked, its gaps filled, its tracks carried through the picture's edges, its depth
    smoothed and its turned-round records refilled: what the scene solve starts from."""
    unstacked, behind = unstack_tracks(drop_doubles(relink_tracks(raw)))
    smoothed = smooth_depth(extend_at_edges(fill_track_gaps(unstacked, behind=behind)))
    return refill_turned(smoothed, behind=behind)


def solved(raw: Results) -> Results:
    """:func:`unsolved` with its scene solved (see the module docstring)."""
    return solve_and_apply(unsolved(raw))


def settle(raw: Results) -> Results:
    """:func:`solved` with its planted feet put on the floor: what either motion starts from (see the module
    docstring)."""
    return plant_feet(solved(raw))


def refine(raw: Results, motion: str = DEFAULT_MOTION) -> Results:
    """``raw`` (a capture's records as the backend sent them) refined over the whole clip; see the module docstring."""
    if motion not in MOTIONS:
        raise ValueError(f"motion is {motion!r}; expected one of {', '.join(MOTIONS)}")
    planted = settle(raw)
    if motion == FIT:
        return fit_motion(planted)
    return Results(dataclasses.replace(planted.meta, motion=FILTER), planted.tracks)


__all__ = ["DEFAULT_MOTION", "FILTER", "FIT", "MOTIONS", "refine", "settle", "solved", "unsolved"]
