"""RAM core: markerless multi-person motion capture from video.

The numpy-only contract (results file, shared-memory ring, control messages) lives in
``ram_core.contract`` and is what Blender imports. Everything heavier (OpenCV, MediaPipe,
torch) is imported only by the backends, the worker and the CLI.
"""

__version__ = "0.1.0"
