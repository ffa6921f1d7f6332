"""What a user chooses for one capture: one record, validated once, the same for every way in.

``ram-core capture``, Blender's ``ram_capture`` command and the Capture operator build a
:class:`CaptureOptions`; the client sends it to the worker as one JSON argument (``--options``); the
worker hands it to the backend. The command-line flags are generated from the fields (:func:`add_arguments`),
so a new option is one field here. Standard library only: Blender's Python imports this.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any


class OptionsError(ValueError):
    """Capture options that cannot be used (a bad value, an unknown name), named in the message."""


def _opt(default: Any, flag: str, help: str, metavar: str | None = None) -> Any:
    return field(default=default, metadata={"flag": flag, "help": help, "metavar": metavar})


@dataclass(frozen=True)
class CaptureOptions:
    """One capture's settings. Paths are as the user gave them; frames are 0-based video frames.

    backend: ``lite`` (CPU, no download), ``ram`` (the full method) or ``module:attr``.
    start, end: capture frames ``[start, end)``; ``end`` None: to the last frame.
    max_people: at most this many people at once (None: no limit).
    focal_px: the camera's focal length in pixels (None: from ``fov_deg``, else assumed from the frame size).
    fov_deg: the camera's field of view across the frame's longer side, in degrees (instead of ``focal_px``;
        :meth:`focal_for` converts, with the video's size).
    smpl_model: the user's SMPL model file (.npz or .pkl) for the skeleton and shape (None: the default skeleton).
    allow_truncated: a video that ends before its header says keeps the frames read (False: the capture fails).
    device: the ``ram`` backend's torch device (``auto``, ``cpu``, ``cuda``, ``cuda:1``).
    weights_dir: the folder holding the ``ram`` backend's weight files (None: ``$RAM_WEIGHTS_DIR`` or the default).
    """

    backend: str = _opt("lite", "--backend", "'lite' (CPU, no download; default), 'ram' or module:attr", "NAME")
    start: int = _opt(0, "--start", "first frame to capture (default 0)", "S")
    end: int | None = _opt(None, "--end", "stop before this frame (default: the end)", "E")
    max_people: int | None = _opt(None, "--max-people", "at most N people at once (default: no limit)", "N")
    focal_px: float | None = _opt(
        None, "--focal", "the camera's focal length in pixels (default: assumed to be the frame's longer side)", "PX"
    )
    fov_deg: float | None = _opt(
        None, "--fov", "or the camera's field of view across the frame's longer side, in degrees", "DEG"
    )
    smpl_model: str | None = _opt(None, "--smpl", "your SMPL model file (.npz or .pkl)", "FILE")
    allow_truncated: bool = _opt(
        False, "--allow-truncated", "if the video ends early (truncated or damaged), keep the frames read"
    )
    device: str = _opt("auto", "--device", "the ram backend's device: auto, cpu, cuda, cuda:1 (default auto)", "DEV")
    weights_dir: str | None = _opt(None, "--weights-dir", "the folder holding the ram backend's weights", "DIR")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            _check_type(f.name, getattr(self, f.name), f.type)
        if not self.backend:
            raise OptionsError("backend is empty")
        if self.start < 0:
            raise OptionsError(f"start frame {self.start} is negative")
        if self.end is not None and self.end <= self.start:
            raise OptionsError(f"end frame {self.end} is not after start frame {self.start}")
        if self.max_people is not None and self.max_people < 1:
            raise OptionsError(f"max_people is {self.max_people}; give 1 or more (or none for no limit)")
        if self.focal_px is not None and not (math.isfinite(self.focal_px) and self.focal_px > 0):
            raise OptionsError(f"focal length {self.focal_px} px is not a positive number")
        if self.fov_deg is not None and not (math.isfinite(self.fov_deg) and 0 < self.fov_deg < 180):
            raise OptionsError(f"field of view {self.fov_deg} degrees is not between 0 and 180")
        if self.focal_px is not None and self.fov_deg is not None:
            raise OptionsError("give the focal length or the field of view, not both")
        if not self.device:
            raise OptionsError("device is empty")

    def focal_for(self, width: int, height: int) -> float | None:
        """The focal length in pixels for a ``width`` x ``height`` video: ``focal_px``, else the one whose
        field of view across the longer side is ``fov_deg``; None when neither was given (then assumed)."""
        if self.fov_deg is None:
            return self.focal_px
        return max(width, height) / 2.0 / math.tan(math.radians(self.fov_deg) / 2.0)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> CaptureOptions:
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise OptionsError(f"capture options are not JSON: {e}") from None
        return cls.from_dict(d)

    @classmethod
    def from_dict(cls, d: object) -> CaptureOptions:
        """From a mapping of field names; unknown names raise :class:`OptionsError` naming them."""
        if not isinstance(d, dict):
            raise OptionsError("capture options are not a JSON object")
        unknown = sorted(set(d) - set(FIELD_NAMES))
        if unknown:
            raise OptionsError(f"unknown capture options {unknown}; known: {', '.join(FIELD_NAMES)}")
        return cls(**d)


FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(CaptureOptions))

_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
}


def _check_type(name: str, value: object, annotation: object) -> None:
    # Annotations are strings here (``from __future__ import annotations``): "int | None", "str", ...
    kinds = [k.strip() for k in str(annotation).split("|")]
    if value is None:
        if "None" in kinds:
            return
        raise OptionsError(f"{name} must be given")
    allowed = tuple(t for k in kinds if k != "None" for t in _TYPES[k])
    wrong_bool = isinstance(value, bool) and bool not in allowed
    if wrong_bool or not isinstance(value, allowed):
        raise OptionsError(f"{name} is {value!r}; expected {' or '.join(k for k in kinds if k != 'None')}")


def add_arguments(parser: argparse.ArgumentParser, skip: tuple[str, ...] = ()) -> None:
    """Add one flag per option (except ``skip``); unset flags stay out of the namespace (see :func:`from_args`)."""
    for f in dataclasses.fields(CaptureOptions):
        if f.name in skip:
            continue
        meta = f.metadata
        if f.default is False:
            parser.add_argument(
                meta["flag"], dest=f.name, action="store_true", default=argparse.SUPPRESS, help=meta["help"]
            )
            continue
        kinds = [k.strip() for k in str(f.type).split("|") if k.strip() != "None"]
        convert = {"int": int, "float": float, "str": str}[kinds[0]]
        parser.add_argument(
            meta["flag"],
            dest=f.name,
            type=convert,
            default=argparse.SUPPRESS,
            metavar=meta["metavar"],
            help=meta["help"],
        )


def from_args(args: argparse.Namespace, base: CaptureOptions | None = None) -> CaptureOptions:
    """``base`` (default: the defaults) with every option flag the user gave replaced."""
    given = {name: getattr(args, name) for name in FIELD_NAMES if hasattr(args, name)}
    return dataclasses.replace(base or CaptureOptions(), **given)
