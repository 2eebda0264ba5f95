"""Run requests: each made into one ``RunRequest`` and pickled on the client,
before anything is submitted."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import fields

import cloudpickle

from kedro_runtime import RunRequest, RuntimeDataError

#: The keys a mapping request may give: the fields of ``RunRequest``.
REQUEST_KEYS: frozenset[str] = frozenset(field.name for field in fields(RunRequest))


class UnpicklableRuntimeDataError(RuntimeDataError, TypeError):
    """A ``runtime_data`` value of a request cannot be sent to a Dask worker."""


def as_request(request: object, index: int) -> RunRequest:
    """One request of ``run_many``, as the :class:`RunRequest` a worker runs.

    This is the one place a caller's request is checked: a mapping is made
    into a ``RunRequest`` here, on the client, so a bad key, filter or
    parameter fails before anything is submitted.

    Args:
        request: A :class:`RunRequest`, or a mapping of its fields (the
            keyword arguments of ``KedroSession.run``).
        index: Position of the request in the caller's iterable, for messages.

    Returns:
        The request (a ``RunRequest`` given is returned as it is).

    Raises:
        TypeError: If the request is neither a ``RunRequest`` nor a mapping, a
            key is not a string, or a value has the wrong type.
        ValueError: If a key is not a field of ``RunRequest``, a value is
            wrong, or the request gives a ``run_id`` (each attempt of a run
            gets its own id).
    """
    if isinstance(request, Mapping):
        for key in request:
            _check_key(key, index)
        request = RunRequest(**request)
    elif not isinstance(request, RunRequest):
        raise TypeError(
            f"Request {index} is a {type(request).__name__}: each request must be a "
            f"RunRequest or a mapping of KedroSession.run keyword arguments, e.g. "
            f"{{'runtime_params': {{'factor': 2}}}}."
        )
    if request.run_id is not None:
        raise ValueError(
            f"Request {index} gives 'run_id': run_many gives every attempt of "
            f"a run a new id on the worker (a retried run must not reuse the "
            f"version folders of an attempt that died). Leave 'run_id' out."
        )
    return request


def _check_key(key: object, index: int) -> None:
    if not isinstance(key, str):
        raise TypeError(
            f"Request {index} has the key {key!r} ({type(key).__name__}): keys "
            f"must be names of KedroSession.run keyword arguments."
        )
    if key not in REQUEST_KEYS:
        close = difflib.get_close_matches(key, REQUEST_KEYS, n=2)
        hint = f" Did you mean {' or '.join(close)}?" if close else ""
        valid = ", ".join(sorted(REQUEST_KEYS - {"run_id"}))
        raise ValueError(
            f"Request {index} has the key '{key}', which is not an argument "
            f"of KedroSession.run that a request takes.{hint} Valid keys: {valid}."
        )


def serialise(request: RunRequest, index: int) -> bytes:
    """Pickle a request once, as Dask would, to fail before submitting.

    Args:
        request: The request.
        index: Position of the request, for messages.

    Returns:
        The pickled request, sent to the worker as it is.

    Raises:
        UnpicklableRuntimeDataError: If a ``runtime_data`` value cannot be
            pickled; the message names the dataset.
        TypeError: If another field cannot be pickled.
    """
    try:
        payload: bytes = cloudpickle.dumps(request)
        return payload
    except Exception as exc:
        for name, value in (request.runtime_data or {}).items():
            try:
                cloudpickle.dumps(value)
            except Exception as value_exc:
                raise UnpicklableRuntimeDataError(
                    f"Request {index}: runtime_data '{name}' "
                    f"({type(value).__name__}) cannot be pickled, so it cannot be "
                    f"sent to a Dask worker ({type(value_exc).__name__}: "
                    f"{value_exc}). Inject data that pickles, or a dataset object "
                    f"that reads it on the worker (e.g. a CSVDataset at a path "
                    f"the workers can read)."
                ) from value_exc
        raise TypeError(
            f"Request {index} cannot be pickled, so it cannot be sent to a Dask "
            f"worker ({type(exc).__name__}: {exc})."
        ) from exc
