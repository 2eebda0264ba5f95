"""JSON in, JSON out: request data to dataset values, run outputs to JSON.

The server decodes each value of a request's ``runtime_data`` by the declared
catalog type of the dataset it replaces:

- a pandas dataset (a class defined in a module path with a ``pandas``
  component, such as ``kedro_datasets.pandas.CSVDataset``, or a subclass of
  one) gets a ``pandas.DataFrame``, from *records* (a list of objects, one per
  row) or *columns* (an object of equal-length lists, one per column), within
  the table limits of :class:`~kedro_runtime.server.settings.RequestLimits`
  (distinct columns, and cells: rows x columns), checked before the table is
  built;
- any other dataset, and a name the catalog does not declare (an in-memory
  dataset), gets the JSON value as it is.

Outputs are encoded to JSON text: a ``DataFrame`` as records (its index is
dropped), a ``Series`` as a list of values, NumPy scalars and arrays as
numbers and lists, dates and times in ISO 8601, and JSON-friendly Python values
as they are. Anything else is refused with an :class:`EncodeError` that names
the output.

This module needs pandas only for pandas datasets, and no web framework.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import json
import uuid
from collections.abc import Mapping
from typing import Any, Literal

from kedro_runtime import KedroRuntimeError

from .settings import MAX_TABLE_CELLS_ENV, MAX_TABLE_COLUMNS_ENV, RequestLimits

DataKind = Literal["pandas", "json"]
"""How a dataset's request data is decoded: to a DataFrame, or kept as JSON."""

_DATAFRAME_HINT = (
    "Send a table as records (a list of objects, one per row, e.g. "
    '[{"order_id": 1, "region": "north"}]) or as columns (an object of '
    'equal-length lists, e.g. {"order_id": [1], "region": ["north"]}).'
)


class CodecError(KedroRuntimeError, ValueError):
    """A value that cannot cross the JSON boundary.

    Attributes:
        name: The dataset or output the value belongs to.
    """

    def __init__(self, name: str, message: str) -> None:
        """Record the dataset name with the message.

        Args:
            name: The dataset or output the value belongs to.
            message: What is wrong and what to send or return instead.
        """
        super().__init__(message)
        self.name = name


class DecodeError(CodecError):
    """A ``runtime_data`` value that does not decode to its dataset's type."""


class EncodeError(CodecError):
    """An output that cannot be encoded as JSON."""


def dataset_kind(dataset_type: type | None) -> DataKind:
    """How request data for a dataset of this class is decoded.

    Args:
        dataset_type: The dataset's class, or ``None`` for a name the catalog
            does not declare.

    Returns:
        ``"pandas"`` for a class defined in (or derived from one defined in) a
        module path with a ``pandas`` component, ``"json"`` otherwise.
    """
    if dataset_type is None:
        return "json"
    for klass in dataset_type.__mro__:
        if "pandas" in klass.__module__.split("."):
            return "pandas"
    return "json"


def decode_value(
    name: str, kind: DataKind, value: Any, limits: RequestLimits | None = None
) -> Any:
    """Turn the JSON value sent for a dataset into the data its nodes expect.

    Args:
        name: The dataset name, for error messages.
        kind: How to decode, from :func:`dataset_kind`.
        value: The parsed JSON value from the request.
        limits: The table limits (default: :class:`RequestLimits`' defaults).

    Returns:
        A ``pandas.DataFrame`` for ``"pandas"``; ``value`` unchanged for
        ``"json"``.

    Raises:
        DecodeError: If a pandas dataset's value is neither records nor
            columns, would make a table over the limits, or pandas cannot
            build a table from it.
    """
    if kind == "json":
        return value
    return _decode_frame(name, value, limits or RequestLimits())


def _check_table(name: str, rows: int, columns: int, limits: RequestLimits) -> None:
    """Refuse a table over the limits, before pandas builds it."""
    if columns > limits.max_table_columns:
        raise DecodeError(
            name,
            f"'{name}': the table has more than {limits.max_table_columns} distinct "
            f"columns, this server's limit ({MAX_TABLE_COLUMNS_ENV}). Records that "
            f"each carry other keys make a column per key.",
        )
    if rows * columns > limits.max_table_cells:
        raise DecodeError(
            name,
            f"'{name}': the table would have {rows} rows x {columns} columns = "
            f"{rows * columns} cells, over this server's limit of "
            f"{limits.max_table_cells} ({MAX_TABLE_CELLS_ENV}). Send fewer rows "
            f"per request.",
        )


def _record_columns(name: str, records: list[Any], limits: RequestLimits) -> int:
    """How many distinct columns the records make, refusing too many as it counts."""
    columns: dict[Any, None] = {}
    for row in records:
        if not isinstance(row, Mapping):
            raise DecodeError(
                name,
                f"'{name}' is a pandas dataset, but its records hold "
                f"{_json_type(row)} {_short_json(row)} where an object (one row) was "
                f"expected. {_DATAFRAME_HINT}",
            )
        columns.update(dict.fromkeys(row))
        if len(columns) > limits.max_table_columns:
            _check_table(name, len(records), len(columns), limits)
    return len(columns)


def _decode_frame(name: str, value: Any, limits: RequestLimits) -> Any:
    import pandas as pd  # noqa: PLC0415 (only projects with pandas datasets need it)

    if isinstance(value, list):
        _check_table(name, len(value), _record_columns(name, value, limits), limits)
        try:
            return pd.DataFrame.from_records(value) if value else pd.DataFrame()
        except (ValueError, TypeError) as exc:
            raise DecodeError(
                name, f"'{name}': cannot build a table from these records: {exc}"
            ) from exc
    if isinstance(value, Mapping):
        _check_table(name, 0, len(value), limits)
        lengths = {}
        for column, cells in value.items():
            if not isinstance(cells, list):
                raise DecodeError(
                    name,
                    f"'{name}' is a pandas dataset, but its column '{str(column)[:60]}' is "
                    f"{_json_type(cells)} {_short_json(cells)}, not a list of values. "
                    f"{_DATAFRAME_HINT}",
                )
            lengths[column] = len(cells)
        if len(set(lengths.values())) > 1:
            shown = str(lengths)
            shown = shown if len(shown) <= 200 else f"{shown[:197]}..."
            raise DecodeError(
                name,
                f"'{name}': the columns have different lengths ({shown}); every "
                f"column needs one value per row.",
            )
        _check_table(name, max(lengths.values(), default=0), len(value), limits)
        try:
            return pd.DataFrame(dict(value))
        except (ValueError, TypeError) as exc:
            raise DecodeError(
                name, f"'{name}': cannot build a table from these columns: {exc}"
            ) from exc
    raise DecodeError(
        name,
        f"'{name}' is a pandas dataset, but the request sent {_json_type(value)} "
        f"{_short_json(value)}. {_DATAFRAME_HINT}",
    )


def encode_output(name: str, value: Any) -> str:
    """Encode one output as JSON text.

    Args:
        name: The output's dataset name, for error messages.
        value: The output's data.

    Returns:
        The JSON text of the value.

    Raises:
        EncodeError: If the value, or something inside it, has no JSON form.
    """
    try:
        frame = _pandas_json(value)
        if frame is not None:
            return frame
        return json.dumps(
            value, allow_nan=False, default=_to_json_value, separators=(",", ":")
        )
    except _Unencodable as exc:
        raise EncodeError(
            name,
            f"Output '{name}' holds a {exc.type_name}, which has no JSON form. "
            f"Ask for outputs that are tables (DataFrame, Series), numbers, "
            f"strings, booleans, lists or dicts of these, or make the node "
            f"return one.",
        ) from exc
    except _FrameError as exc:
        raise EncodeError(
            name, f"Output '{name}' cannot be encoded as JSON: {exc}"
        ) from exc
    except (ValueError, TypeError, RecursionError) as exc:
        hint = (
            " NaN and infinite numbers have no JSON form: return None for a missing "
            "number (in a DataFrame, NaN become null)."
            if "float" in str(exc)
            else ""
        )
        raise EncodeError(
            name, f"Output '{name}' cannot be encoded as JSON: {exc}.{hint}"
        ) from exc


def encode_outputs(values: Mapping[str, Any]) -> str:
    """Encode named outputs as one JSON object.

    Args:
        values: Output name to data.

    Returns:
        The JSON text of ``{name: encoded value, ...}``.

    Raises:
        EncodeError: If any output has no JSON form (naming the first one).
    """
    parts = [
        f"{json.dumps(name)}:{encode_output(name, v)}" for name, v in values.items()
    ]
    return "{" + ",".join(parts) + "}"


class _FrameError(KedroRuntimeError, ValueError):
    """A DataFrame or Series that pandas cannot write as JSON."""


class _Unencodable(KedroRuntimeError, TypeError):
    def __init__(self, value: Any) -> None:
        super().__init__(type(value).__name__)
        self.type_name = f"{type(value).__module__}.{type(value).__qualname__}"


def _pandas_json(value: Any) -> str | None:
    """A DataFrame as records or a Series as a list, if ``value`` is one."""
    kind = _pandas_type(value)
    if kind is None:
        return None
    if kind == "DataFrame" and not value.columns.is_unique:
        duplicated = sorted({str(c) for c in value.columns[value.columns.duplicated()]})
        raise _FrameError(
            f"its columns {duplicated} appear more than once, and a record holds "
            f"each column once"
        )
    if value.isna().to_numpy().any():
        # JSON has no NaN: missing values become null.
        value = value.astype(object).where(value.notna(), None)
    plain = value.to_dict(orient="records") if kind == "DataFrame" else value.tolist()
    try:
        return json.dumps(
            plain, allow_nan=False, default=_to_json_value, separators=(",", ":")
        )
    except (ValueError, TypeError) as exc:
        if isinstance(exc, _Unencodable):
            raise
        raise _FrameError(f"pandas cannot write this {kind} as JSON ({exc})") from exc


def _pandas_type(value: Any) -> str | None:
    klass = type(value)
    if klass.__module__.split(".")[0] != "pandas":
        return None
    if klass.__name__ in ("DataFrame", "Series"):
        return klass.__name__
    return None


def _to_json_value(value: Any) -> Any:  # noqa: PLR0911 (one branch per type)
    """``json.dumps``'s ``default``: the JSON form of a non-JSON value."""
    frame = _pandas_json(value)
    if frame is not None:
        return json.loads(frame)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if type(value).__module__ == "numpy" or type(value).__module__.startswith("numpy."):
        if hasattr(value, "tolist"):
            return value.tolist()
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):
        return model_dump(mode="json")
    raise _Unencodable(value)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _short_json(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
