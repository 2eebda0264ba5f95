"""Fingerprints for the node cache: of functions, of values, of files.

A fingerprint is a hex digest that is equal for equal content, or ``None``
when the thing cannot be fingerprinted (then nothing keyed on it is reused).

- **Values** by content, never by identity: pandas objects by their bytes
  when every column has a numeric numpy dtype (read in place, SHA-256), else
  through ``pandas.util.hash_pandas_object`` (vectorised), plus column names,
  dtypes and index; numpy arrays by buffer, dtype and shape (not object arrays); ``None``,
  bools, numbers, strings and bytes by type and value; lists, tuples, dicts and
  sets by their items. Anything else gives ``None``: pickle bytes are not used,
  as they are not stable for equal values (memo identity, set order).
- **Functions** by code (bytecode, constants, names, nested code), default
  arguments, ``functools.partial`` arguments and closure values, each
  fingerprinted as a value or a function. Globals a function reads (helper
  functions, module constants) are not part of it: see ``docs/node-cache.md``.
- **Files** by path, size and modification time (the path of a versioned
  dataset is its load version's); by their bytes instead when modified in the
  last second, as a file can be rewritten within one tick of the file system's
  clock.
"""

from __future__ import annotations

import functools
import hashlib
import os
import time
import types
from collections.abc import Callable
from typing import Any

from kedro.io import AbstractDataset

from . import _kedro_private as private

RACY_NS = 1_000_000_000
"""A file modified this recently (ns) is fingerprinted by its bytes."""
_SCALARS = (bool, int, float, complex, str, bytes, type(None))


def digest(*parts: str) -> str:
    """A hex digest of ``parts``, joined unambiguously."""
    hasher = hashlib.blake2b(digest_size=20)
    for part in parts:
        hasher.update(len(part).to_bytes(8, "little"))
        hasher.update(part.encode())
    return hasher.hexdigest()


def of_value(value: Any) -> str | None:
    """A fingerprint of ``value``'s content, or ``None`` if it has none.

    Args:
        value: Any object.

    Returns:
        A hex digest, or ``None``.
    """
    hasher = hashlib.blake2b(digest_size=20)
    return hasher.hexdigest() if _feed(hasher, value, 0) else None


def _feed(hasher: Any, value: Any, depth: int) -> bool:  # noqa: PLR0911 (one branch per type)
    if depth > 50:
        return False
    kind = type(value)
    hasher.update(f"<{kind.__module__}.{kind.__qualname__}>".encode())
    if isinstance(value, _SCALARS):
        hasher.update(repr(value).encode())
        return True
    if isinstance(value, list | tuple):
        hasher.update(str(len(value)).encode())
        return all(_feed(hasher, item, depth + 1) for item in value)
    if isinstance(value, dict):
        hasher.update(str(len(value)).encode())
        return all(
            _feed(hasher, key, depth + 1) and _feed(hasher, item, depth + 1)
            for key, item in value.items()
        )
    if isinstance(value, set | frozenset):
        items = [of_value(item) for item in value]
        if any(item is None for item in items):
            return False
        hasher.update(",".join(sorted(items)).encode())  # type: ignore[arg-type]
        return True
    data = _array_or_frame(value)
    if data is None:
        return False
    hasher.update(data)
    return True


def _array_or_frame(value: Any) -> bytes | None:
    module = type(value).__module__.partition(".")[0]
    if module == "numpy":
        import numpy as np  # noqa: PLC0415 (numpy is not a dependency)

        if isinstance(value, np.generic):
            return repr((value.dtype.str, value.item())).encode()
        if not isinstance(value, np.ndarray) or value.dtype.hasobject:
            return None
        head = f"{value.dtype.str}{value.shape}".encode()
        return head + _buffer_digest([value])
    if module == "pandas":
        return _pandas_bytes(value)
    return None


def _pandas_bytes(value: Any) -> bytes | None:
    import pandas as pd  # noqa: PLC0415 (pandas is not a dependency)

    if not isinstance(value, pd.DataFrame | pd.Series | pd.Index):
        return None
    content = _numeric_digest(value)
    if content is None:
        try:
            rows = pd.util.hash_pandas_object(value, index=True).to_numpy()
        except TypeError:  # unhashable cells (lists, dicts)
            return None
        content = b"rows" + _buffer_digest([rows])
    if isinstance(value, pd.DataFrame):
        columns = [repr(c) for c in value.columns]
        dtypes = [str(d) for d in value.dtypes]
    else:
        columns = [repr(value.name)]
        dtypes = [str(value.dtype)]
    index = value if isinstance(value, pd.Index) else value.index
    head = repr((columns, dtypes, [repr(n) for n in index.names], str(index.dtype)))
    return head.encode() + content


def _numeric_digest(value: Any) -> bytes | None:
    """The bytes of a frame or series whose columns are all numpy, non-object
    dtypes (numbers, bools, naive datetimes), read in place; ``None`` otherwise.

    Equal bytes are equal values, so this never makes two different frames
    equal; it is about twice as fast as ``hash_pandas_object`` and copies
    nothing. A ``RangeIndex`` counts by its start, stop and step, any other
    index by ``hash_pandas_object``.
    """
    import numpy as np  # noqa: PLC0415 (pandas needs numpy)
    import pandas as pd  # noqa: PLC0415 (pandas is not a dependency)

    if isinstance(value, pd.Index):
        return None
    columns = [value] if isinstance(value, pd.Series) else [c for _, c in value.items()]
    if not all(
        isinstance(c.dtype, np.dtype) and not c.dtype.hasobject for c in columns
    ):
        return None
    index = value.index
    if isinstance(index, pd.RangeIndex):
        head = repr((index.start, index.stop, index.step)).encode()
    else:
        try:
            rows = pd.util.hash_pandas_object(index).to_numpy()
        except TypeError:
            return None
        head = _buffer_digest([rows])
    return b"numeric" + head + _buffer_digest([c.to_numpy() for c in columns])


def _buffer_digest(arrays: list[Any]) -> bytes:
    """A SHA-256 digest of numpy arrays' bytes (read in place when contiguous)."""
    import numpy as np  # noqa: PLC0415 (numpy is not a dependency)

    hasher = hashlib.sha256()
    for array in arrays:
        flat = np.ascontiguousarray(array).reshape(-1)
        hasher.update(len(flat).to_bytes(8, "little"))
        hasher.update(flat.view(np.uint8).data)
    return hasher.digest()


def of_function(  # noqa: PLR0911 (one branch per kind of callable)
    func: Callable[..., Any], depth: int = 0
) -> str | None:
    """A fingerprint of a node's function, or ``None`` if it has none.

    Args:
        func: A function, ``functools.partial``, bound method or builtin.
        depth: How deep in nested functions this call is.

    Returns:
        A hex digest, or ``None``.
    """
    if depth > 10:
        return None
    if isinstance(func, functools.partial):
        inner = of_function(func.func, depth + 1)
        args = of_value((func.args, dict(func.keywords)))
        return None if inner is None or args is None else digest("partial", inner, args)
    if isinstance(func, types.MethodType):
        inner = of_function(func.__func__, depth + 1)
        owner = _part(func.__self__, depth)
        return (
            None if inner is None or owner is None else digest("method", inner, owner)
        )
    if isinstance(func, types.BuiltinFunctionType):
        return digest("builtin", func.__module__ or "", func.__qualname__)
    if not isinstance(func, types.FunctionType):
        return None
    parts = [
        f"{func.__module__}.{func.__qualname__}",
        _part(func.__code__, depth),
        _part(func.__defaults__, depth),
        _part(func.__kwdefaults__, depth),
        _part([cell.cell_contents for cell in func.__closure__ or ()], depth),
    ]
    if any(part is None for part in parts):
        return None
    return digest(*parts)  # type: ignore[arg-type]


def _part(value: Any, depth: int) -> str | None:
    """A fingerprint of a code object, function, or value inside a function."""
    if isinstance(value, types.CodeType):
        consts = [_part(const, depth) for const in value.co_consts]
        if any(const is None for const in consts):
            return None
        return digest(
            value.co_code.hex(),
            repr(value.co_names),
            repr(value.co_varnames),
            repr((value.co_argcount, value.co_kwonlyargcount, value.co_flags)),
            *consts,  # type: ignore[arg-type]
        )
    if isinstance(value, list | tuple) and any(callable(v) for v in value):
        parts = [_part(v, depth) for v in value]
        return None if any(p is None for p in parts) else digest(*parts)  # type: ignore[arg-type]
    if callable(value) and not isinstance(value, type):
        return of_function(value, depth + 1)
    return of_value(value)


def of_file_dataset(dataset: AbstractDataset) -> str | None:
    """A fingerprint of a local file dataset: path, size and modification time.

    Args:
        dataset: A catalog dataset (of the run's catalog, so with the run's
            load version).

    Returns:
        A hex digest, or ``None`` if the dataset is not one local file (a
        directory, a remote file, a database, a missing file).
    """
    path = private.local_load_path(dataset)
    if path is None:
        return None
    try:
        stat = os.stat(path)
        if not os.path.isfile(path):
            return None
        # "Racy" as in git: a file written in the last second may be written
        # again with the same size and time stamp. Its bytes tell instead.
        racy = time.time_ns() - stat.st_mtime_ns < RACY_NS
        content = _file_digest(path) if racy else str(stat.st_mtime_ns)
    except OSError:
        return None
    return digest("file", type(dataset).__qualname__, path, str(stat.st_size), content)


def _file_digest(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.blake2b(handle.read(), digest_size=20).hexdigest()
