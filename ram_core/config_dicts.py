"""Frozen config dataclasses from JSON objects: one reader for every config file and section. Standard library only.

A key the dataclass does not have is an error that names it and the known ones (a typo must not silently
fall back to a default); JSON lists become tuples; a field whose type is itself a dataclass is read from
its nested object the same way.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


def dataclass_from_dict(
    cls: type[T], data: Any, where: str, error: type[Exception] = ValueError, require_all: bool = False
) -> T:
    """``cls(**data)``, nested dataclass fields included, checked key by key.

    Args:
        cls: a dataclass type.
        data: the JSON object (a dict) to read.
        where: what ``data`` is, for messages ("config", "section 'loop'", a file path).
        error: the exception raised for a bad ``data`` (the caller's own config error).
        require_all: every field must be given (a file written from ``asdict``); else missing ones keep
            their defaults. Applies to nested objects too.

    Raises:
        error: ``data`` (or a nested object) is not a dict, has unknown keys, lacks a required key, or
            ``cls`` rejects a value with a ``TypeError``. ``cls``'s own validation errors pass through.
    """
    if not isinstance(data, dict):
        raise error(f"{where} must be a JSON object, not {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    missing = sorted(set(fields) - set(data)) if require_all else []
    if unknown or missing:
        parts = ([f"unknown keys {unknown}; known: {sorted(fields)}"] if unknown else []) + (
            [f"missing keys {missing}"] if missing else []
        )
        raise error(f"{where}: {'; '.join(parts)}")
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        hint = hints.get(name)
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            kwargs[name] = dataclass_from_dict(hint, value, f"{where}: section {name!r}", error, require_all)
        else:
            kwargs[name] = tuple(value) if isinstance(value, list) else value
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise error(f"{where}: {e}") from None
