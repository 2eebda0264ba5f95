"""The output file of ``kedro sweep``: rows appended as runs complete, and resume.

Every row names its grid point in the ``point`` column (a hash of the point's
parameters and runtime-data paths), so ``--resume`` can tell which points of a
grid already have a row, whatever order the rows were written in. A CSV file
gets each row as it arrives (flushed), so a sweep that is stopped keeps every
finished row. A Parquet file (``.parquet``, needs ``pyarrow``) gets a row group
every :data:`ROW_GROUP_ROWS` rows and is readable once closed: on the sweep's
end, an error or Ctrl+C, not after a ``SIGKILL``. When the sweep ends, the rows
are put in grid order.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The column naming each row's grid point.
POINT = "point"
#: The columns every row has, after the parameter and data columns.
FIXED = (POINT, "run_id", "status", "duration_s", "error")
#: Rows per Parquet row group.
ROW_GROUP_ROWS = 100


def point_keys(points: Sequence[Mapping[str, Any]]) -> list[str]:
    """The key of each grid point: a hash of its parameters and data paths.

    Args:
        points: The grid's points (``params`` and ``runtime_data`` each).

    Returns:
        One key per point; a point listed twice gets ``#2`` on its second key.
    """
    keys: list[str] = []
    seen: dict[str, int] = {}
    for point in points:
        text = json.dumps(
            [point["params"], point["runtime_data"]], sort_keys=True, default=repr
        )
        key = hashlib.sha256(text.encode()).hexdigest()[:16]
        seen[key] = seen.get(key, 0) + 1
        keys.append(key if seen[key] == 1 else f"{key}#{seen[key]}")
    return keys


@dataclass
class ResumePlan:
    """What ``--resume`` keeps of an output file and what it runs again.

    Attributes:
        kept: The rows of points already ``ok``, as read.
        skip: Indexes of the grid points those rows are for.
        failed: Points whose row says ``failed``: run again, row replaced.
        removed: Rows of points no longer in the grid: dropped.
        missing: Points of the grid without a row: run.
    """

    kept: list[dict[str, Any]] = field(default_factory=list)
    skip: set[int] = field(default_factory=set)
    failed: int = 0
    removed: int = 0
    missing: int = 0

    def report(self) -> str:
        """One line saying what the resume keeps, reruns and drops."""
        return (
            f"Resuming: {len(self.kept)} points done, {self.failed} failed to run "
            f"again, {self.missing} not run yet; {self.removed} rows of points no "
            f"longer in the grid removed."
        )


def plan_resume(path: Path, keys: Sequence[str]) -> ResumePlan:
    """Read an output file and plan a resumed sweep of a grid.

    Args:
        path: The output file; a file that does not exist is an empty one.
        keys: The grid's point keys, in grid order.

    Returns:
        The plan.

    Raises:
        ValueError: If the file has rows but no ``point`` column (it was not
            written by this version of ``kedro sweep``).
    """
    rows = read_rows(path) if path.exists() else []
    if rows and POINT not in rows[0]:
        raise ValueError(
            f"{path} has no '{POINT}' column, so its rows cannot be matched to grid "
            f"points. Resume only a file written by this kedro sweep, or start "
            f"afresh with another --output."
        )
    index = {key: number for number, key in enumerate(keys)}
    plan = ResumePlan()
    failed: set[str] = set()
    for row in rows:
        key = str(row[POINT])
        if key not in index:
            plan.removed += 1
        elif row["status"] == "ok" and index[key] not in plan.skip:
            plan.kept.append(row)
            plan.skip.add(index[key])
        elif row["status"] != "ok":
            failed.add(key)
    plan.failed = len({key for key in failed if index[key] not in plan.skip})
    plan.missing = len(keys) - len(plan.skip) - plan.failed
    return plan


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a CSV or Parquet output file.

    Args:
        path: The file.

    Returns:
        One mapping per row (a CSV file's values are strings).
    """
    if _is_parquet(path):
        import pyarrow.parquet as pq  # noqa: PLC0415

        rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
        return rows
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in {".parquet", ".pq"}


class RowWriter:
    """Writes rows to the output file as they arrive.

    The file is started afresh with ``kept`` rows (written to a new file that
    then replaces the old one), so a resumed sweep's file holds exactly its
    kept rows and the new ones.

    Args:
        path: The output file (CSV, or Parquet for ``.parquet``).
        columns: The columns known before any run: parameters, data, fixed.
        kept: Rows to start with (a resumed sweep's ``ok`` rows).
        sample: The grid's parameter and data values, one mapping per point:
            a Parquet column's type is known from them before any run.
    """

    def __init__(
        self,
        path: Path,
        columns: Sequence[str],
        kept: Sequence[dict[str, Any]],
        sample: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self.path = path
        self._sample = list(sample)
        self.columns = list(dict.fromkeys([*columns, *(k for r in kept for k in r)]))
        self._rows: list[dict[str, Any]] = list(kept)  # Parquet's next row group
        self._parquet: Any = None
        self._schema: Any = None
        if not _is_parquet(path):
            self._rewrite_csv(list(kept))

    def write(self, row: dict[str, Any]) -> None:
        """Append one row.

        Args:
            row: Column name to value.
        """
        if _is_parquet(self.path):
            self._rows.append(row)
            if len(self._rows) >= ROW_GROUP_ROWS:
                self._flush_parquet()
            return
        if set(row) - set(self.columns):  # new output columns: rewrite once
            self.columns += [key for key in row if key not in self.columns]
            self._rewrite_csv([*read_rows(self.path), row])
            return
        with self.path.open("a", newline="", encoding="utf-8") as file:
            csv.DictWriter(file, fieldnames=self.columns).writerow(row)

    def close(self, order: Sequence[str] | None = None) -> None:
        """Write what is buffered and close the file.

        Args:
            order: Point keys in grid order, to sort the rows by; None leaves
                them in the order they arrived (a stopped sweep).
        """
        if _is_parquet(self.path):
            self._flush_parquet()
            if self._parquet is not None:
                self._parquet.close()
                self._parquet = None
        if order is not None and self.path.exists():
            rank = {key: number for number, key in enumerate(order)}
            rows = sorted(read_rows(self.path), key=lambda r: rank[str(r[POINT])])
            if _is_parquet(self.path):
                _write_parquet(self.path, rows, self.columns)
            else:
                self._rewrite_csv(rows)

    def _rewrite_csv(self, rows: list[dict[str, Any]]) -> None:
        new = self.path.with_name(self.path.name + ".tmp")
        with new.open("w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, fieldnames=self.columns)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(new, self.path)

    def _flush_parquet(self) -> None:
        if not self._rows and self._parquet is not None:
            return
        import pyarrow as pa  # noqa: PLC0415
        import pyarrow.parquet as pq  # noqa: PLC0415

        if self._parquet is None:
            new = [key for row in self._rows for key in row]
            self.columns = list(dict.fromkeys([*self.columns, *new]))
            known = [*self._sample, *self._rows]
            schema = pa.schema(
                [(name, _arrow_type(known, name)) for name in self.columns]
            )
            self._parquet = pq.ParquetWriter(self.path, schema)
            self._schema = schema
        schema = self._schema
        table = pa.Table.from_pylist(
            [_fit(row, schema) for row in self._rows], schema=schema
        )
        self._parquet.write_table(table)
        self._rows = []


def _write_parquet(path: Path, rows: list[dict[str, Any]], columns: list[str]) -> None:
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    schema = pa.schema([(name, _arrow_type(rows, name)) for name in columns])
    new = path.with_name(path.name + ".tmp")
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), new)
    os.replace(new, path)


def _arrow_type(rows: Sequence[Mapping[str, Any]], name: str) -> Any:
    """bool, int64, float64 when every value of the column is one, else string."""
    import pyarrow as pa  # noqa: PLC0415

    kinds = {type(row[name]) for row in rows if row.get(name) is not None}
    if kinds == {bool}:
        return pa.bool_()
    if kinds == {int}:
        return pa.int64()
    if kinds and kinds <= {int, float}:
        return pa.float64()
    return pa.string()


def _fit(row: Mapping[str, Any], schema: Any) -> dict[str, Any]:
    """A row's values as the file's column types (None where one cannot be)."""
    import pyarrow as pa  # noqa: PLC0415

    fitted: dict[str, Any] = {}
    for column in schema:
        value = row.get(column.name)
        if value is None:
            fitted[column.name] = None
        elif pa.types.is_string(column.type):
            fitted[column.name] = value if isinstance(value, str) else str(value)
        elif pa.types.is_floating(column.type) and isinstance(value, (int, float)):
            fitted[column.name] = float(value)
        elif pa.types.is_integer(column.type) and type(value) is int:
            fitted[column.name] = value
        elif pa.types.is_boolean(column.type) and isinstance(value, bool):
            fitted[column.name] = value
        else:
            fitted[column.name] = None
    return fitted
