"""Run requests: checked and normalised on the client, before anything is submitted."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

import cloudpickle

from kedro_runtime import KedroSession, RunRequest, RuntimeDataError

#: Keyword arguments of ``KedroSession.run`` that a request may give.
RUN_KEYWORDS: frozenset[str] = frozenset(
    name for name in inspect.signature(KedroSession.run).parameters if name != "self"
)


class UnpicklableRuntimeDataError(RuntimeDataError, TypeError):
    """A ``runtime_data`` value of a request cannot be sent to a Dask worker."""


def as_run_kwargs(request: object, index: int) -> dict[str, Any]:
    """The ``session.run`` keyword arguments of one request, checked.

    This is the one place a request is turned into run arguments. The values
    are checked here, on the client, by making a :class:`RunRequest` of them,
    so a bad filter or parameter fails before anything is submitted.

    Args:
        request: A :class:`RunRequest`, or a mapping of ``KedroSession.run``
            keyword arguments.
        index: Position of the request in the caller's iterable, for messages.

    Returns:
        A new dict of the request's keyword arguments.

    Raises:
        TypeError: If the request is neither a ``RunRequest`` nor a mapping, a
            key is not a string, or a value has the wrong type.
        ValueError: If a key is not a keyword argument of ``KedroSession.run``,
            a value is wrong, or the request gives a ``run_id`` (each attempt
            of a run gets its own id).
    """
    if isinstance(request, RunRequest):
        kwargs = {field.name: getattr(request, field.name) for field in fields(request)}
    elif isinstance(request, Mapping):
        kwargs = dict(request)
    else:
        raise TypeError(
            f"Request {index} is a {type(request).__name__}: each request must be a "
            f"RunRequest or a mapping of KedroSession.run keyword arguments, e.g. "
            f"{{'runtime_params': {{'factor': 2}}}}."
        )
    for key in kwargs:
        _check_key(key, index)
    if kwargs.pop("run_id", None) is not None:
        raise ValueError(
            f"Request {index} gives 'run_id': run_many gives every attempt of "
            f"a run a new id on the worker (a retried run must not reuse the "
            f"version folders of an attempt that died). Leave 'run_id' out."
        )
    if not isinstance(request, RunRequest):
        checked = {key: kwargs[key] for key in kwargs if key in _REQUEST_FIELDS}
        RunRequest(**checked)
    return kwargs


_REQUEST_FIELDS = frozenset(field.name for field in fields(RunRequest))


def _check_key(key: object, index: int) -> None:
    if not isinstance(key, str):
        raise TypeError(
            f"Request {index} has the key {key!r} ({type(key).__name__}): keys "
            f"must be names of KedroSession.run keyword arguments."
        )
    if key not in RUN_KEYWORDS:
        close = difflib.get_close_matches(key, RUN_KEYWORDS, n=2)
        hint = f" Did you mean {' or '.join(close)}?" if close else ""
        valid = ", ".join(sorted(RUN_KEYWORDS - {"run_id"}))
        raise ValueError(
            f"Request {index} has the key '{key}', which is not an argument "
            f"of KedroSession.run.{hint} Valid keys: {valid}."
        )


def serialise(kwargs: Mapping[str, Any], index: int) -> bytes:
    """Pickle a request's arguments once, as Dask would, to fail before submitting.

    Args:
        kwargs: The request's ``session.run`` keyword arguments.
        index: Position of the request, for messages.

    Returns:
        The pickled arguments, sent to the worker as they are.

    Raises:
        UnpicklableRuntimeDataError: If a ``runtime_data`` value cannot be
            pickled; the message names the dataset.
        TypeError: If another argument cannot be pickled.
    """
    try:
        payload: bytes = cloudpickle.dumps(dict(kwargs))
        return payload
    except Exception as exc:
        data = kwargs.get("runtime_data")
        for name, value in data.items() if isinstance(data, Mapping) else ():
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
