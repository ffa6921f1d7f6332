"""Reading official PyTorch checkpoints safely, with strict keys and errors that say what to do.

Only ``torch.load(weights_only=True)`` is used, so a file holding arbitrary pickled objects (a malicious
``__reduce__``) is refused before any of its code runs.
"""

from __future__ import annotations

import logging
import pickle
from dataclasses import dataclass
from pathlib import Path

import torch

log = logging.getLogger(__name__)

_LISTED = 8


class MissingWeightsError(FileNotFoundError):
    """A weight file is not where it was looked for."""


class WeightsFormatError(ValueError):
    """A weight file exists but is not the expected checkpoint (unsafe, wrong keys or wrong shapes)."""


@dataclass(frozen=True)
class WeightFile:
    """Where a user gets one official weight file.

    file_name: the official file name. size: human-readable size as published. sha256: the checksum, or
    what is known of it (torchvision publishes the first 8 hex digits in the file name). url: the official
    download address. licence: the weights' licence.
    """

    file_name: str
    size: str
    sha256: str
    url: str
    licence: str

    def missing_message(self, path: Path) -> str:
        """The error text for this file absent at ``path``."""
        return (
            f"weights not found: {path}\n"
            f"  expected file: {self.file_name} ({self.size}, sha256 {self.sha256}, licence {self.licence})\n"
            f"  download it from {self.url} and put it at that path"
        )


def read_state_dict(
    path: str | Path, key: str | None, weight_file: WeightFile | None = None
) -> dict[str, torch.Tensor]:
    """Load a checkpoint on the CPU without executing pickled code.

    Args:
        path: the .pt/.pth file.
        key: the entry of the checkpoint dict that holds the state dict ("model" for SAM2), or None when
            the file is the state dict itself (torchvision).
        weight_file: what the file should be, named in the error when it is absent.

    Raises:
        MissingWeightsError: no file at ``path``.
        WeightsFormatError: the file is not a plain tensor checkpoint or lacks ``key``.
    """
    path = Path(path)
    if not path.is_file():
        if weight_file is not None:
            raise MissingWeightsError(weight_file.missing_message(path))
        raise MissingWeightsError(f"weights not found: {path}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WeightsFormatError(
            f"{path} is not a plain tensor checkpoint; refused to unpickle it ({first_line})"
        ) from exc
    except (RuntimeError, EOFError) as exc:
        raise WeightsFormatError(f"{path} is not a readable PyTorch checkpoint: {exc}") from exc
    state = ckpt.get(key) if (key is not None and isinstance(ckpt, dict)) else ckpt
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        where = f"entry {key!r}" if key is not None else "top level"
        raise WeightsFormatError(f"{path}: the {where} is not a state dict of tensors")
    return state


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:_LISTED])
    return shown + (f", ... ({len(names)} in all)" if len(names) > _LISTED else "")


def load_strict(module: torch.nn.Module, state: dict[str, torch.Tensor], source: str | Path) -> None:
    """Copy ``state`` into ``module``: every key present, none extra, every shape equal, or one clear error."""
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = [
        f"{k} {tuple(state[k].shape)} != {tuple(expected[k].shape)}"
        for k in sorted(set(expected) & set(state))
        if tuple(state[k].shape) != tuple(expected[k].shape)
    ]
    problems = []
    if missing:
        problems.append(f"missing keys: {_listed(missing)}")
    if unexpected:
        problems.append(f"unexpected keys: {_listed(unexpected)}")
    if wrong:
        problems.append(f"wrong shapes (file != model): {_listed(wrong)}")
    if problems:
        raise WeightsFormatError(f"{source} does not fit {type(module).__name__}: " + "; ".join(problems))
    module.load_state_dict(state, strict=True)
    log.info("loaded %d tensors from %s", len(state), source)
