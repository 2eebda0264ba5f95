"""Where the node cache keeps results, and the report of a run that used it.

:class:`Store` is the small interface the run path uses; :class:`MemoryStore`
is the one store there is (a persistent store, for ``kedro run`` across
processes, would implement the same three methods). Stores are not
thread-safe: :class:`kedro_runtime.node_cache.NodeCache` calls them under its
lock.
"""

from __future__ import annotations

import html
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from kedro.pipeline import Pipeline

Outputs = dict[str, tuple[Any, str]]
"""A node's stored outputs: dataset name to (a copy of the value, its copy mode)."""


class Store(Protocol):
    """What the node cache needs of a store."""

    def get(self, key: str) -> Outputs | None:
        """The outputs stored under ``key`` (marked recently used), or ``None``."""

    def put(self, key: str, outputs: Outputs, size: int) -> None:
        """Store ``outputs`` (``size`` bytes, measured) under ``key``."""

    def clear(self) -> None:
        """Drop everything."""


class MemoryStore:
    """Outputs in memory, the least recently used evicted beyond ``max_bytes``.

    Args:
        max_bytes: The bound on the sum of the stored outputs' sizes.
    """

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[str, tuple[Outputs, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> Outputs | None:
        """The outputs stored under ``key`` (marked recently used), or ``None``."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: str, outputs: Outputs, size: int) -> None:
        """Store ``outputs`` under ``key``; nothing if larger than the bound."""
        if size > self.max_bytes:
            return
        old = self._entries.pop(key, None)
        self.bytes -= old[1] if old else 0
        self._entries[key] = (outputs, size)
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, (_, evicted) = self._entries.popitem(last=False)
            self.bytes -= evicted

    def clear(self) -> None:
        """Drop everything."""
        self._entries.clear()
        self.bytes = 0


@dataclass(frozen=True)
class RunReport:
    """Which nodes of a run ran, were reused or were skipped, with their times.

    Renders as a table in a notebook (``_repr_markdown_``, ``_repr_html_``).

    Attributes:
        rows: ``(node name, status, seconds)`` in the pipeline's order; status
            is ``"ran"``, ``"reused"`` (its stored outputs were handed in; the
            time is that of handing them in) or ``"skipped"`` (it only fed reused nodes,
            or was reused and only fed those).
    """

    rows: tuple[tuple[str, str, float], ...]

    @classmethod
    def of(
        cls,
        pipe: Pipeline,
        hits: set[str],
        skipped: list[str],
        seconds: Mapping[str, float],
    ) -> RunReport:
        """The report of a run of ``pipe`` (its pipeline after injection)."""
        rows = []
        for node in pipe.nodes:
            status = (
                "skipped"
                if node.name in skipped
                else "reused"
                if node.name in hits
                else "ran"
            )
            rows.append((node.name, status, seconds.get(node.name, 0.0)))
        return cls(tuple(rows))

    def names(self, status: str) -> list[str]:
        """The nodes with ``status`` (``"ran"``, ``"reused"``, ``"skipped"``)."""
        return [name for name, row_status, _ in self.rows if row_status == status]

    def summary(self) -> str:
        """One line, e.g. ``2 ran, 3 reused, 1 skipped``."""
        counts = [f"{len(self.names(s))} {s}" for s in ("ran", "reused", "skipped")]
        return ", ".join(counts)

    def __str__(self) -> str:
        return "\n".join(f"{n}\t{s}\t{t * 1000:.1f} ms" for n, s, t in self.rows)

    def _repr_markdown_(self) -> str:
        lines = ["| node | status | ms |", "|---|---|---:|"]
        lines += [f"| {n} | {s} | {t * 1000:.1f} |" for n, s, t in self.rows]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><td>{html.escape(n)}</td><td>{s}</td><td>{t * 1000:.1f}</td></tr>"
            for n, s, t in self.rows
        )
        return f"<table><tr><th>node</th><th>status</th><th>ms</th></tr>{cells}</table>"
