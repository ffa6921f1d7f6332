"""Control messages between the worker and its client, one JSON object per line.

Worker -> client over the worker's stdout: :class:`Started`, :class:`Progress`, :class:`Log`,
:class:`Error`, :class:`Done`. Client -> worker over its stdin: :class:`Cancel`; end of file on the
worker's stdin means the client is gone. Bulk data (the records) goes through the shared-memory ring
(:mod:`ram_core.contract.ring`), never through these pipes.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

PROTOCOL_VERSION = 1


@dataclass(frozen=True)
class Started:
    """The worker opened the video and the backend. ``meta`` is :meth:`CaptureMeta.to_json` text."""

    meta: str
    total_frames: int


@dataclass(frozen=True)
class Progress:
    """Frame ``frame`` (video index) processed: ``done`` of ``total`` frames, ``people`` records on it;
    ``time_s`` is when the video shows the frame, seconds (None: the container gives no time)."""

    frame: int
    done: int
    total: int
    people: int
    time_s: float | None = None


@dataclass(frozen=True)
class Log:
    """A log line from the worker worth showing (``level`` is a :mod:`logging` level name)."""

    level: str
    text: str


@dataclass(frozen=True)
class Error:
    """The capture failed. ``message`` is one line; ``kind`` the exception's class name."""

    message: str
    traceback: str = ""
    kind: str = "Error"


@dataclass(frozen=True)
class Done:
    """The capture ended: ``frames`` processed, ``records`` written to the ring, ``cancelled`` on request;
    ``skipped``: the video indices of damaged frames that could not be decoded while later ones could
    (left missing, not counted in ``frames``)."""

    frames: int
    records: int
    cancelled: bool = False
    skipped: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Cancel:
    """Client -> worker: stop after the current frame, flush what you have and send :class:`Done`."""


Message = Started | Progress | Log | Error | Done | Cancel

_TYPES: dict[str, type] = {cls.__name__.lower(): cls for cls in (Started, Progress, Log, Error, Done, Cancel)}


class ProtocolError(ValueError):
    """A line that is not a known message."""


def encode(message: Message) -> str:
    """One line of JSON (with the trailing newline) for ``message``."""
    payload = {"type": type(message).__name__.lower(), "v": PROTOCOL_VERSION, **dataclasses.asdict(message)}
    return json.dumps(payload, separators=(",", ":")) + "\n"


def decode(line: str) -> Message:
    """The message in ``line``; :class:`ProtocolError` names what is wrong with it."""
    try:
        payload = json.loads(line)
    except json.JSONDecodeError as e:
        raise ProtocolError(f"not a protocol line ({e}): {line[:200]!r}") from None
    if not isinstance(payload, dict) or payload.get("type") not in _TYPES:
        raise ProtocolError(f"unknown message: {line[:200]!r}")
    if payload.get("v") != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol version {payload.get('v')}, expected {PROTOCOL_VERSION}")
    cls = _TYPES[payload["type"]]
    fields = {f.name for f in dataclasses.fields(cls)}
    try:
        return cls(**{k: v for k, v in payload.items() if k in fields})
    except TypeError as e:
        raise ProtocolError(f"malformed {payload['type']} message: {e}") from None
