"""The size of a request's fields, checked before any work on them.

:func:`check_request` bounds ``params``, ``runtime_data`` and ``outputs`` by the
server's :class:`~kedro_runtime.server.settings.RequestLimits`;
:func:`some` names a few items of a list that may be as long as a request
could make it, so that no error message echoes a whole request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kedro_runtime import KedroRuntimeError

from .models import RunBody
from .settings import (
    MAX_OUTPUTS_ENV,
    MAX_PARAMS_DEPTH_ENV,
    MAX_PARAMS_LEAVES_ENV,
    MAX_RUNTIME_DATA_ENV,
    RequestLimits,
)

SHOWN = 5
"""How many items of a request's list an error message names."""


class RequestLimitError(KedroRuntimeError, ValueError):
    """A request over one of the server's limits: answered with 422 naming it.

    Attributes:
        field: The body field over the limit (``params``, ``runtime_data``,
            ``outputs``).
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def some(items: Iterable[Any], shown: int = SHOWN) -> str:
    """A few items of a list, and how many more there are.

    Args:
        items: The items.
        shown: How many to name.

    Returns:
        ``"['a', 'b']"``, or ``"['a', 'b', ...] and 1,998 more"``.
    """
    listed = list(items)
    if len(listed) <= shown:
        return repr(listed)
    return f"{listed[:shown]!r} and {len(listed) - shown:,} more"


def check_request(body: RunBody, limits: RequestLimits) -> None:
    """Refuse a request whose fields are over the limits, before any work.

    Args:
        body: The request.
        limits: The server's limits.

    Raises:
        RequestLimitError: Naming the field, the limit and its setting.
    """
    for field, count, limit, variable in (
        ("runtime_data", len(body.runtime_data or {}), limits.max_runtime_data,
         MAX_RUNTIME_DATA_ENV),
        ("outputs", len(body.outputs or []), limits.max_outputs, MAX_OUTPUTS_ENV),
    ):  # fmt: skip
        if count > limit:
            raise RequestLimitError(
                field,
                f"`{field}` names {count:,} datasets; this server takes at most "
                f"{limit:,} ({variable}).",
            )
    if body.params:
        _check_params(body.params, limits)


def _check_params(params: Mapping[str, Any], limits: RequestLimits) -> None:
    """Count the values of ``params`` and its depth, without recursion.

    Every key and every list item counts as a value, a mapping or list too, so
    that many empty mappings count as much as many numbers.
    """
    values = 0
    stack: list[tuple[Any, int]] = [(params, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > limits.max_params_depth:
            raise RequestLimitError(
                "params",
                f"`params` nest deeper than {limits.max_params_depth} levels (each "
                f"part of a dotted key counts) ({MAX_PARAMS_DEPTH_ENV}). Send "
                f"flatter parameters.",
            )
        if isinstance(value, Mapping):
            children = [
                (child, depth + len(str(key).split(".")))
                for key, child in value.items()
            ]
        elif isinstance(value, list):
            children = [(child, depth + 1) for child in value]
        else:
            continue
        values += len(children)
        if values > limits.max_params_leaves:
            raise RequestLimitError(
                "params",
                f"`params` hold more than {limits.max_params_leaves:,} values "
                f"(each key and list item counts) ({MAX_PARAMS_LEAVES_ENV}). Send "
                f"data in `runtime_data` instead.",
            )
        stack.extend(children)
