"""Weight files of the ``ram`` backend: the variant table, checking, fetching. Standard library only.

Reading a file into a torch module (safely, with strict keys) is ``ram_core.weights.loading``, which
imports torch and is therefore not imported here.
"""

from ram_core.weights.fetch import DownloadError, download, fetch
from ram_core.weights.store import (
    MissingWeightsError,
    check,
    describe,
    listing,
    missing_weights,
    require,
    weights_dir,
    weights_path,
)
from ram_core.weights.variants import VARIANTS, Variant, variant

__all__ = [
    "VARIANTS",
    "DownloadError",
    "MissingWeightsError",
    "Variant",
    "check",
    "describe",
    "download",
    "fetch",
    "listing",
    "missing_weights",
    "require",
    "variant",
    "weights_dir",
    "weights_path",
]
