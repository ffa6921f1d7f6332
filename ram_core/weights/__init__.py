"""Weight files of the ``ram`` backend: the variant table, checking, fetching. Standard library only."""

from ram_core.weights.fetch import DownloadError, download, fetch
from ram_core.weights.store import MissingWeightsError, check, describe, require, weights_dir, weights_path
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
    "require",
    "variant",
    "weights_dir",
    "weights_path",
]
