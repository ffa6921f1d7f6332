"""Backend names -> factories, imported only when chosen (a backend's heavy imports stay out of the rest).

A spec is a registered name (``lite``, ``ram``) or ``package.module:attr`` naming any factory, so
tests and plug-ins can supply their own. A factory is called with :class:`CaptureOptions`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from ram_core.backends.base import Backend
from ram_core.contract.options import CaptureOptions

BACKENDS: dict[str, str] = {
    "lite": "ram_core.backends.lite.backend:LiteBackend",
    "ram": "ram_core.backends.ram.backend:RamBackend",
}


class BackendNotFound(LookupError):
    """An unknown backend name, or one whose module cannot be imported."""


def resolve(spec: str) -> Callable[[CaptureOptions], Backend]:
    """The factory for ``spec`` (a name in :data:`BACKENDS` or ``module:attr``)."""
    target = BACKENDS.get(spec, spec)
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise BackendNotFound(f"unknown backend {spec!r}; choose one of {', '.join(BACKENDS)} or give module:attr")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        # A registered backend whose third-party packages are missing: say which extra installs them.
        missing = isinstance(e, ModuleNotFoundError) and spec in BACKENDS and not (e.name or "").startswith("ram_core")
        hint = f"; install its packages in the worker's Python: pip install 'ram-core[{spec}]'" if missing else ""
        raise BackendNotFound(f"backend {spec!r} is not available: cannot import {module_name} ({e}){hint}") from e
    try:
        return getattr(module, attr)
    except AttributeError:
        raise BackendNotFound(f"backend {spec!r}: module {module_name} has no {attr!r}") from None


def create_backend(spec: str, options: CaptureOptions) -> Backend:
    """A new backend for ``spec`` built with ``options``."""
    return resolve(spec)(options)
