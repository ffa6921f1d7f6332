"""Read official SMPL ``.pkl`` files without chumpy and without arbitrary unpickling.

The official files are Python 2 pickles of a dict holding numpy arrays, chumpy ``Ch`` objects
(``v_template``, ``shapedirs``, ...) and scipy sparse matrices (``J_regressor``). chumpy no longer
installs, and a pickle may run any callable it names, so :class:`RestrictedUnpickler` resolves only
the handful of globals those files use: numpy array and dtype reconstruction, a stand-in for
``chumpy.ch.Ch`` whose state becomes a plain array, and stand-ins for scipy's CSC/CSR matrices that are
rebuilt as dense arrays (scipy is never imported). Everything else is refused by name.
"""

from __future__ import annotations

import logging
import math
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ram_core.contract.smpl_model import SmplModel, SmplModelError, load_smpl_model, smpl_model_from_arrays

log = logging.getLogger(__name__)

# The arrays written to the .npz, with the key names smplx uses.
NPZ_KEYS = ("v_template", "f", "J_regressor", "weights", "kintree_table", "shapedirs", "posedirs")


class UnsafePickleError(SmplModelError, pickle.UnpicklingError):
    """The pickle names a global that an SMPL model file has no business using."""


class ChStandIn:
    """Takes the place of ``chumpy.ch.Ch``: keeps the pickled state, of which only ``x`` is used."""

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise UnsafePickleError("chumpy Ch object with unexpected state")
        self.state = state

    def to_array(self) -> np.ndarray:
        if "x" not in self.state:
            raise SmplModelError("a chumpy object in the file is an expression, not a stored array")
        return _plain(self.state["x"])


class SparseStandIn:
    """Takes the place of scipy's ``csc_matrix``/``csr_matrix``; :meth:`to_array` rebuilds it densely."""

    compressed_axis = 1  # CSC: indptr runs over columns

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise UnsafePickleError("sparse matrix with unexpected state")
        self.state = state

    def to_array(self) -> np.ndarray:
        st = self.state
        shape = st.get("_shape", st.get("shape"))
        try:
            data, indices, indptr = (np.asarray(st[k]) for k in ("data", "indices", "indptr"))
            rows, cols = (int(s) for s in shape)
        except (KeyError, TypeError, ValueError) as exc:
            raise SmplModelError(f"sparse matrix in the file is malformed ({exc})") from None
        n_outer = cols if self.compressed_axis == 1 else rows
        n_inner = rows if self.compressed_axis == 1 else cols
        if indptr.shape != (n_outer + 1,) or indices.shape != data.shape or indptr[-1] != data.shape[0]:
            raise SmplModelError("sparse matrix in the file has inconsistent index arrays")
        if data.size and (indices.min() < 0 or indices.max() >= n_inner):
            raise SmplModelError("sparse matrix in the file has out-of-range indices")
        _check_size((rows, cols))
        outer = np.repeat(np.arange(n_outer), np.diff(indptr))
        dense = np.zeros((rows, cols), dtype=np.float64)
        if self.compressed_axis == 1:
            np.add.at(dense, (indices, outer), data)
        else:
            np.add.at(dense, (outer, indices), data)
        return dense


class CsrStandIn(SparseStandIn):
    compressed_axis = 0


def _safe_dtype(*args: Any) -> np.dtype:
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise UnsafePickleError(f"refusing object dtype {dtype}")
    return dtype


# The largest SMPL array (shapedirs, 6890 x 3 x 300) has 6.2 million values; a file declaring an
# array 16 times that is an allocation bomb, refused before anything is allocated.
MAX_ARRAY_ELEMENTS = 100_000_000


def _check_size(shape: Any) -> None:
    try:
        dims = [int(d) for d in (shape if isinstance(shape, (tuple, list)) else (shape,))]
    except (TypeError, ValueError):
        raise UnsafePickleError(f"malformed array shape {shape!r}") from None
    if any(d < 0 for d in dims) or math.prod(dims) > MAX_ARRAY_ELEMENTS:
        raise SmplModelError(f"an array in the file declares shape {tuple(dims)}: not an SMPL model")


def _safe_reconstruct(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
    if subtype is not np.ndarray:
        raise UnsafePickleError(f"refusing array subtype {subtype!r}")
    _check_size(shape)
    return np.ndarray.__new__(np.ndarray, shape, _safe_dtype(dtype))


def _safe_scalar(dtype: Any, data: Any = None) -> Any:
    dtype = _safe_dtype(dtype)
    if isinstance(data, str):
        data = data.encode("latin1")
    if not isinstance(data, bytes) or len(data) != dtype.itemsize:
        raise UnsafePickleError("malformed numpy scalar")
    return np.frombuffer(data, dtype=dtype)[0]


def _safe_encode(text: str, encoding: str = "utf-8") -> bytes:
    # Python 3 pickles of bytes at protocol 2 go through _codecs.encode(text, "latin1").
    if not isinstance(text, str) or encoding != "latin1":
        raise UnsafePickleError("refusing _codecs.encode other than latin1 text")
    return text.encode("latin1")


_STAND_INS = (ChStandIn, SparseStandIn, CsrStandIn)


def _safe_reconstructor(cls: Any, base: Any, state: Any) -> Any:
    # Protocol 0/1 pickles of plain objects: copy_reg._reconstructor(cls, object, None).
    if cls not in _STAND_INS or base is not object or state is not None:
        raise UnsafePickleError(f"refusing copy_reg._reconstructor for {cls!r}")
    return object.__new__(cls)


_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _safe_dtype,
    ("numpy.core.multiarray", "_reconstruct"): _safe_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _safe_reconstruct,
    ("numpy.core.multiarray", "scalar"): _safe_scalar,
    ("numpy._core.multiarray", "scalar"): _safe_scalar,
    ("_codecs", "encode"): _safe_encode,
    ("copy_reg", "_reconstructor"): _safe_reconstructor,
    ("copyreg", "_reconstructor"): _safe_reconstructor,
    ("__builtin__", "object"): object,
    ("builtins", "object"): object,
    ("__builtin__", "set"): set,
    ("builtins", "set"): set,
    ("__builtin__", "frozenset"): frozenset,
    ("builtins", "frozenset"): frozenset,
    ("chumpy.ch", "Ch"): ChStandIn,
    ("scipy.sparse.csc", "csc_matrix"): SparseStandIn,
    ("scipy.sparse._csc", "csc_matrix"): SparseStandIn,
    ("scipy.sparse.csr", "csr_matrix"): CsrStandIn,
    ("scipy.sparse._csr", "csr_matrix"): CsrStandIn,
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals in :data:`_ALLOWED` and refuses every other one."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickleError(f"refusing to load {module}.{name}: an SMPL model file only holds arrays") from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError("refusing persistent ids in an SMPL model file")


def restricted_load(fh: BinaryIO) -> Any:
    """Unpickle ``fh`` (Python 2 strings decoded as latin1) with :class:`RestrictedUnpickler`."""
    return RestrictedUnpickler(fh, encoding="latin1").load()


def _plain(value: Any) -> np.ndarray:
    """A numpy array from an ndarray, a chumpy stand-in or a sparse stand-in."""
    if isinstance(value, (ChStandIn, SparseStandIn)):
        return value.to_array()
    arr = np.asarray(value)
    if arr.dtype.hasobject:
        raise SmplModelError("an array in the file holds Python objects")
    return arr


def read_smpl_pkl(path: str | Path) -> dict[str, np.ndarray]:
    """Read an official SMPL ``.pkl`` into plain arrays with smplx's key names (:data:`NPZ_KEYS`).

    Raises:
        UnsafePickleError: the pickle names a global outside the allowlist.
        SmplModelError: the file is missing, not a pickle, or lacks/malforms an SMPL array.
    """
    path = Path(path)
    if not path.is_file():
        raise SmplModelError(f"{path}: no such file (the SMPL model)")
    with path.open("rb") as fh:
        try:
            raw = restricted_load(fh)
        except UnsafePickleError:
            raise
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as exc:
            raise SmplModelError(f"{path}: not a readable SMPL pickle ({exc})") from None
        except MemoryError:
            raise SmplModelError(f"{path}: asks for more memory than any SMPL model needs; not an SMPL model") from None
    if not isinstance(raw, dict):
        raise SmplModelError(f"{path}: expected a dict of arrays, found {type(raw).__name__}")
    out: dict[str, np.ndarray] = {}
    for key in NPZ_KEYS:
        if key in raw:
            out[key] = _plain(raw[key])
    if "f" in out:
        out["f"] = out["f"].astype(np.int32)
    if "kintree_table" in out:
        kintree = out["kintree_table"].astype(np.int64)
        kintree[kintree >= np.iinfo(np.uint32).max] = -1
        out["kintree_table"] = kintree
    try:
        smpl_model_from_arrays(out)
    except SmplModelError as exc:
        raise SmplModelError(f"{path}: {exc}") from None
    return out


def load_smpl_file(path: str | Path) -> SmplModel:
    """An SMPL model from an ``.npz`` (:func:`load_smpl_model`) or an official ``.pkl`` (read without chumpy)."""
    if Path(path).suffix.lower() == ".pkl":
        return smpl_model_from_arrays(read_smpl_pkl(path))
    return load_smpl_model(path)


def convert_smpl_pkl(src: str | Path, dst: str | Path) -> dict[str, tuple[int, ...]]:
    """Convert an SMPL ``.pkl`` to an ``.npz`` that :func:`load_smpl_model` and smplx read.

    The file appears complete or not at all (written to a temporary name, then renamed).

    Returns:
        The shape of each array written, by key.
    """
    arrays = read_smpl_pkl(src)
    dst = Path(dst)
    if not dst.parent.is_dir():
        raise SmplModelError(f"{dst.parent}: output folder does not exist")
    fd, tmp = tempfile.mkstemp(prefix=dst.name + ".", suffix=".part", dir=dst.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    log.info("converted %s -> %s", src, dst)
    return {k: tuple(v.shape) for k, v in arrays.items()}
