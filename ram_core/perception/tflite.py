"""Locate and load the BlazePose .tflite models that MediaPipe 0.10.14's wheel ships.

Only the files are used: they are found through ``importlib.util.find_spec`` (which does not import
MediaPipe's runtime) and run with ``ai_edge_litert``, so this also works on Pythons MediaPipe has no
wheel for, given a folder holding the two files.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ram_core.contract import native_stderr

if TYPE_CHECKING:
    from ai_edge_litert.interpreter import Interpreter

logger = logging.getLogger(__name__)

INSTALL_HINT = 'pip install mediapipe==0.10.14 (or pip install "ram-core[lite]")'


@dataclass(frozen=True)
class ModelFile:
    """One BlazePose model file: where it sits inside the mediapipe package, its size and sha256."""

    name: str
    package_dir: str
    size_bytes: int
    sha256: str
    licence: str = "Apache-2.0"


#: The models, as shipped in mediapipe 0.10.14 (cp311 wheel).
POSE_DETECTION = ModelFile(
    "pose_detection.tflite",
    "modules/pose_detection",
    2_959_046,
    "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
)
POSE_LANDMARK_FULL = ModelFile(
    "pose_landmark_full.tflite",
    "modules/pose_landmark",
    6_440_512,
    "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
)


class ModelNotFoundError(FileNotFoundError):
    """A .tflite model file is missing; the message names the file and how to get it."""


def mediapipe_dir() -> Path | None:
    """The installed ``mediapipe`` package folder, found without importing it; None when not installed."""
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def model_path(model: ModelFile, folder: str | Path | None = None) -> Path:
    """Path of a model file.

    Args:
        model: which model (``POSE_DETECTION`` or ``POSE_LANDMARK_FULL``).
        folder: a folder holding the file directly; None looks inside the installed mediapipe package.

    Raises:
        ModelNotFoundError: the file is not there.
    """
    if folder is not None:
        path = Path(folder) / model.name
        if not path.is_file():
            raise ModelNotFoundError(f"{path}: no such file")
        return path
    root = mediapipe_dir()
    if root is None:
        raise ModelNotFoundError(f"{model.name} ships with MediaPipe, which is not installed: {INSTALL_HINT}")
    path = root / model.package_dir / model.name
    if not path.is_file():
        raise ModelNotFoundError(
            f"{path}: no such file; only MediaPipe 0.10.14's wheel ships {model.name}; {INSTALL_HINT}"
        )
    return path


def native_info_dropped() -> AbstractContextManager[None]:
    """Within: native code's ``INFO: ...`` lines on file descriptor 2 are dropped, everything else is kept.

    LiteRT prints ``INFO: Created TensorFlow Lite XNNPACK delegate for CPU.`` from C++ when an interpreter
    first allocates its tensors, past Python's ``sys.stderr`` (:func:`native_stderr.lines_dropped`).
    """
    return native_stderr.lines_dropped(b"INFO: ")


def load_interpreter(model: ModelFile, folder: str | Path | None = None, num_threads: int = 2) -> Interpreter:
    """A LiteRT interpreter for a model, tensors allocated for the model's own input shape.

    Args:
        model: which model.
        folder: see ``model_path``.
        num_threads: CPU threads for the interpreter (XNNPACK).
    """
    from ai_edge_litert.interpreter import Interpreter

    path = model_path(model, folder)
    size = path.stat().st_size
    if size != model.size_bytes:
        logger.warning("%s is %d bytes, expected %d (MediaPipe 0.10.14's copy)", path, size, model.size_bytes)
    logger.debug("loading %s with %d threads", path, num_threads)
    with native_info_dropped():
        interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
        interpreter.allocate_tensors()
    return interpreter


class BatchedModel:
    """A model's interpreters, run concurrently on parts of a batch; input batch sizes follow the parts.

    A batch is cut into near-equal parts of at most ``max_batch`` items, at least one per interpreter; the
    interpreters take turns over the parts, each in its own thread (LiteRT releases the GIL while it runs).
    Each item's output does not depend on the batch it was run in, nor on the interpreter's thread count
    (XNNPACK splits the work, not the sums), so the outputs are those of one interpreter on the whole batch.

    Args:
        model: which model.
        folder: see ``model_path`` (an empty string counts as None).
        num_threads: CPU threads of each interpreter.
        interpreters: how many interpreters (threads running parts of a batch at once).
        max_batch: most items per interpreter call (its working memory and time per item grow with the batch).
    """

    def __init__(
        self, model: ModelFile, folder: str | Path | None, num_threads: int, interpreters: int = 1, max_batch: int = 32
    ) -> None:
        if interpreters < 1 or max_batch < 1:
            raise ValueError(f"interpreters {interpreters} and max_batch {max_batch} must be at least 1")
        self._interpreters = [load_interpreter(model, folder or None, num_threads) for _ in range(interpreters)]
        self.interpreter = self._interpreters[0]
        self._input = self.interpreter.get_input_details()[0]["index"]
        self._batch = [1] * interpreters
        self.max_batch = max_batch

    def output_details(self) -> list[dict]:
        """The interpreter's output tensor details (``index``, ``shape``, ...)."""
        return self.interpreter.get_output_details()

    def run(
        self,
        batch: np.ndarray,
        outputs: list[int],
        unbatch: Callable[[np.ndarray, int], np.ndarray] | None = None,
    ) -> list[np.ndarray]:
        """Run on ``batch`` (B, ...) float32; copies of the output tensors at ``outputs``, batch first.

        ``unbatch(output, b)`` turns an output of a part of ``b`` items into ``(b, ...)`` (for a model whose
        outputs do not put the batch first); None: they do.
        """
        count = len(self._interpreters)
        parts = np.array_split(batch, max(-(-batch.shape[0] // self.max_batch), min(count, batch.shape[0]), 1))
        results: list[list[np.ndarray]] = [[] for _ in parts]
        failures: list[BaseException] = []

        def work(k: int) -> None:
            try:
                for p in range(k, len(parts), count):
                    found = self._invoke(k, parts[p], outputs)
                    results[p] = found if unbatch is None else [unbatch(o, len(parts[p])) for o in found]
            except BaseException as e:  # raised in the calling thread
                failures.append(e)

        helpers = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(1, min(count, len(parts)))]
        for thread in helpers:
            thread.start()
        work(0)
        for thread in helpers:
            thread.join()
        if failures:
            raise failures[0]
        if len(parts) == 1:
            return results[0]
        return [np.concatenate([r[i] for r in results]) for i in range(len(outputs))]

    def _invoke(self, k: int, batch: np.ndarray, outputs: list[int]) -> list[np.ndarray]:
        interpreter = self._interpreters[k]
        if batch.shape[0] != self._batch[k]:
            interpreter.resize_tensor_input(self._input, list(batch.shape))
            interpreter.allocate_tensors()
            self._batch[k] = batch.shape[0]
        interpreter.set_tensor(self._input, np.ascontiguousarray(batch))
        interpreter.invoke()
        return [interpreter.get_tensor(index) for index in outputs]  # get_tensor copies
