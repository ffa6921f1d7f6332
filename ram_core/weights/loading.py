"""Reading weight files into torch modules: no arbitrary pickle, strict keys, errors that say what to do.

The one loader every model uses (SAM2.1, the birth detector, HMR2.0, RAM's own files):

- :func:`safe_torch_load` opens a ``torch.save`` zip with ``torch.load(weights_only=True)``, after
  refusing any file whose pickle names a global outside torch's safe set and :data:`INERT_GLOBALS`
  (so a crafted ``__reduce__`` never runs); non-zip (legacy) pickles are refused outright;
- :func:`read_state_dict` returns the tensors of one entry (``"model"`` for SAM2, ``"state_dict"`` for
  a Lightning checkpoint, the top level for torchvision), and names the file, size, checksum and
  source (from the weights table) when it is absent;
- :func:`check_state` / :func:`load_strict` compare keys and shapes and name every problem;
- :func:`loadable_problem` says, without loading, whether :func:`safe_torch_load` would refuse a file
  (``ram-core weights verify`` asks it).

Imports torch; ``ram_core.weights`` itself stays standard library only.
"""

from __future__ import annotations

import logging
import pickle
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

import torch

from ram_core.weights.store import MissingWeightsError, missing_weights
from ram_core.weights.variants import Variant

log = logging.getLogger(__name__)

_LISTED = 12
_LOAD_ERRORS = (
    pickle.UnpicklingError,
    RuntimeError,
    OSError,
    EOFError,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
)


class WeightsFormatError(ValueError):
    """A weight file exists but is not the expected one: unsafe, wrong format, keys, shapes or config."""


class _InertMapping:
    """Stand-in for dict-like classes pickled in checkpoints (yacs' ``CfgNode``, ``collections.defaultdict``).

    Unpickling "creates" one through ``__new__``, which hands back a plain ``OrderedDict``: the only
    dict-like type torch's weights-only unpickler lets pickle fill with items and attributes (it refuses
    to fill a real ``defaultdict``: "Can only SETITEM for dict"). A defaultdict's factory is dropped.
    No code of the original class runs.
    """

    def __new__(cls, *args: object) -> OrderedDict:  # type: ignore[misc]
        return OrderedDict()


class _InertObject:
    """Stand-in for an OmegaConf object: keeps the state pickle hands it and runs nothing of OmegaConf.

    Created empty (``__new__`` with no arguments, pickle's NEWOBJ) and then given its ``__dict__`` as
    saved (BUILD); :func:`_plain` turns it into plain data after loading.
    """

    state: object = None

    def __setstate__(self, state: object) -> None:
        self.state = state


class _InertDictConfig(_InertObject):
    """``omegaconf.DictConfig``: its ``_content`` maps keys to nodes (or is None, a ``???`` or an interpolation)."""


class _InertListConfig(_InertObject):
    """``omegaconf.ListConfig``: its ``_content`` is a list of nodes (or None, ``???``, an interpolation)."""


class _InertNode(_InertObject):
    """An OmegaConf value node (``AnyNode``, ``IntegerNode``, ...): its ``_val`` is the value as written."""


class _InertMetadata(_InertObject):
    """OmegaConf's ``Metadata`` / ``ContainerMetadata`` (types, flags, key): dropped from the plain data."""


class _TypeName:
    """A type named by a config's metadata (``typing.Any``, ``builtins.dict``): only its name; not callable."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_OMEGACONF_NODES = ("AnyNode", "StringNode", "IntegerNode", "FloatNode", "BooleanNode", "BytesNode")
# The types OmegaConf's metadata names (ref_type, object_type, key_type, element_type) in a config from YAML.
_TYPE_NAMES = ("typing.Any", *(f"builtins.{t}" for t in ("dict", "list", "int", "float", "str", "bool", "bytes")))

# Fully qualified name -> inert stand-in, for globals that carry configuration only: HMR2.0's yacs config and
# the OmegaConf ``DictConfig`` a hydra-trained Lightning module keeps in ``hyper_parameters``.
INERT_GLOBALS: dict[str, object] = {
    "yacs.config.CfgNode": _InertMapping,
    "collections.defaultdict": _InertMapping,
    "omegaconf.dictconfig.DictConfig": _InertDictConfig,
    "omegaconf.listconfig.ListConfig": _InertListConfig,
    "omegaconf.base.Metadata": _InertMetadata,
    "omegaconf.base.ContainerMetadata": _InertMetadata,
    **{f"omegaconf.nodes.{n}": _InertNode for n in _OMEGACONF_NODES},
    **{name: _TypeName(name) for name in _TYPE_NAMES},
}
_STAND_IN_NAMES: dict[int, str] = {}
for _name, _obj in INERT_GLOBALS.items():
    if isinstance(_obj, type):
        _STAND_IN_NAMES.setdefault(id(_obj), _name)


def _plain(obj: object, seen: dict[int, object] | None = None) -> object:
    """``obj`` with every OmegaConf stand-in replaced by plain data: dicts, lists, values, names.

    Containers become ``dict`` / ``list`` of their values (interpolations stay the strings written,
    unresolved; a ``???`` stays ``"???"``); metadata and parent links are dropped; a stand-in class
    itself (Lightning's ``hparams_type``) and a metadata type become their original name. Dicts and
    lists the unpickler made are updated in place (a state dict keeps its ``_metadata``); tensors and
    other values pass through untouched.
    """
    seen = {} if seen is None else seen
    key = id(obj)
    if key in seen:
        return seen[key]
    if isinstance(obj, type) and key in _STAND_IN_NAMES:
        return _STAND_IN_NAMES[key]
    if isinstance(obj, _TypeName):
        return obj.name
    if isinstance(obj, _InertMetadata):
        return None
    if isinstance(obj, _InertObject):
        state = obj.state if isinstance(obj.state, dict) else {}
        seen[key] = None  # a container reached again through itself (a saved config has no such loop)
        seen[key] = _plain(state.get("_val" if isinstance(obj, _InertNode) else "_content"), seen)
        return seen[key]
    seen[key] = obj
    if isinstance(obj, dict):
        for k, v in obj.items():
            obj[k] = _plain(v, seen)
    elif isinstance(obj, list):
        obj[:] = [_plain(v, seen) for v in obj]
    elif isinstance(obj, tuple):
        seen[key] = tuple(_plain(v, seen) for v in obj)
    return seen[key]


def _named_globals(path: Path) -> list[str]:
    """The globals outside torch's safe set that ``path``'s pickle names, read without unpickling it.

    Raises:
        WeightsFormatError: not a ``torch.save`` zip, or one of them is not in :data:`INERT_GLOBALS`.
    """
    try:
        named = torch.serialization.get_unsafe_globals_in_checkpoint(str(path))
    except _LOAD_ERRORS as e:  # a legacy (non-zip) pickle, or garbage
        raise WeightsFormatError(f"{path}: not a readable torch checkpoint; refused to unpickle it ({e})") from None
    refused = sorted(set(named) - set(INERT_GLOBALS))
    if refused:
        raise WeightsFormatError(
            f"{path}: refused to unpickle it (refusing to unpickle globals {refused}; only tensors and plain data load)"
        )
    return named


def loadable_problem(path: str | Path) -> str | None:
    """Why :func:`safe_torch_load` would refuse ``path``, or None when it would open it.

    Reads only the pickle's list of globals (no tensors, nothing unpickled): cheap even for gigabytes.
    """
    try:
        _named_globals(Path(path))
    except WeightsFormatError as e:
        return str(e)
    return None


def safe_torch_load(path: str | Path) -> object:
    """``torch.load(weights_only=True)`` on the CPU, with the known config classes made inert.

    A config pickled in the file (yacs ``CfgNode``, OmegaConf ``DictConfig`` / ``ListConfig`` with their
    nodes, metadata and ``defaultdict``s) comes back as plain dicts and lists of its values; tensors
    load exactly as ``weights_only=True`` loads them.

    Raises:
        WeightsFormatError: the file is not a ``torch.save`` zip, or names globals outside torch's
            safe set and :data:`INERT_GLOBALS`; nothing of it is unpickled then.
    """
    path = Path(path)
    stand_ins = [(INERT_GLOBALS[name], name) for name in _named_globals(path)]
    try:
        with torch.serialization.safe_globals(stand_ins):
            blob = torch.load(path, map_location="cpu", weights_only=True)
    except _LOAD_ERRORS as e:
        raise WeightsFormatError(f"{path}: could not be loaded safely ({e})") from None
    return _plain(blob) if stand_ins else blob


def read_state_dict(path: str | Path, key: str | None, variant: Variant | None = None) -> dict[str, torch.Tensor]:
    """The state dict in a checkpoint, read on the CPU without executing pickled code.

    Args:
        path: the ``.pt`` / ``.pth`` / ``.ckpt`` file.
        key: the entry of the checkpoint dict that holds the state dict (``"model"`` for SAM2,
            ``"state_dict"`` for Lightning), or None when the file is the state dict itself (torchvision).
        variant: the weights-table row the file should be, named in the error when it is absent.

    Raises:
        MissingWeightsError: no file at ``path`` (with file name, size, checksum and source when
            ``variant`` is given).
        WeightsFormatError: unsafe, unreadable, or ``key`` is not a dict of tensors.
    """
    path = Path(path)
    if not path.is_file():
        if variant is not None:
            raise missing_weights(variant, path)
        raise MissingWeightsError(f"{path}: no such file (weights)")
    blob = safe_torch_load(path)
    state = blob if key is None else blob.get(key) if isinstance(blob, dict) else None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        where = f"entry {key!r}" if key is not None else "top level"
        raise WeightsFormatError(f"{path}: the {where} is not a state dict of tensors")
    return state


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:_LISTED])
    return shown + (f", ... ({len(names)} in all)" if len(names) > _LISTED else "")


def check_state(
    expected: Mapping[str, tuple[int, ...] | torch.Size],
    state: Mapping[str, torch.Tensor],
    source: str | Path,
    what: str,
) -> None:
    """Raise one :class:`WeightsFormatError` naming every missing, unexpected and mis-shaped key.

    Args:
        expected: key -> shape the model needs (keys as the file names them).
        state: the file's tensors (already without the keys the caller ignores).
        source: the file, for the message.
        what: what the file should fit (a class name), for the message.
    """
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = [
        f"{k} {tuple(state[k].shape)} != {tuple(expected[k])}"
        for k in sorted(set(expected) & set(state))
        if tuple(state[k].shape) != tuple(expected[k])
    ]
    problems = []
    for label, items in (("missing keys", missing), ("unexpected keys", unexpected), ("shape mismatches", wrong)):
        if items:
            problems.append(f"{label}: {_listed(items)}")
    if problems:
        note = " (shapes: file != model)" if wrong else ""
        raise WeightsFormatError(f"{source} does not fit {what}: " + "; ".join(problems) + note)


def load_strict(module: torch.nn.Module, state: Mapping[str, torch.Tensor], source: str | Path) -> None:
    """Copy ``state`` into ``module``: every key present, none extra, every shape equal, or one clear error."""
    expected = {k: v.shape for k, v in module.state_dict().items()}
    check_state(expected, state, source, type(module).__name__)
    module.load_state_dict(dict(state), strict=True)
    log.info("loaded %d tensors from %s", len(state), source)
