"""One reader of config dataclasses from JSON objects: unknown keys named, nested sections, tuples."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from ram_core.config_dicts import dataclass_from_dict


class BadConfig(ValueError):
    pass


@dataclass(frozen=True)
class Inner:
    size: int = 2
    shape: tuple[int, ...] = (1, 2)


@dataclass(frozen=True)
class Outer:
    name: str = "a"
    inner: Inner = field(default_factory=Inner)


def test_nested_sections_and_lists_become_tuples():
    cfg = dataclass_from_dict(Outer, {"inner": {"shape": [3, 4]}}, "config")
    assert cfg == Outer(inner=Inner(shape=(3, 4)))


def test_unknown_keys_are_named_with_the_known_ones_in_the_callers_error():
    with pytest.raises(BadConfig, match=r"section 'inner': unknown keys \['sise'\]; known: \['shape', 'size'\]"):
        dataclass_from_dict(Outer, {"inner": {"sise": 3}}, "config", BadConfig)
    with pytest.raises(BadConfig, match="must be a JSON object"):
        dataclass_from_dict(Outer, {"inner": 3}, "config", BadConfig)


def test_require_all_names_missing_keys():
    with pytest.raises(ValueError, match=r"missing keys \['size'\]"):
        dataclass_from_dict(Outer, {"name": "b", "inner": {"shape": [1]}}, "config", require_all=True)
    assert dataclass_from_dict(Outer, {"name": "b", "inner": {"shape": [1], "size": 1}}, "f", require_all=True)
