"""The node cache of a warm session: a re-run skips the nodes that did not change.

A node's **key** is its name, inputs, outputs and function fingerprint, and the
fingerprints of its inputs (:mod:`kedro_runtime.fingerprint`): parameters by
value, injected data by content, catalog files by path, size, modification time
and load version, and an intermediate dataset by the key of the node that made
it. When a run's node has the key of a stored result (a **hit**), the node is
replaced, for this run, by a node of the same name, tags and outputs, without
inputs, that returns the stored outputs (copied by the node, by the run's
``MemoryDataset`` when it saves them, or by the ``_ReplayDataset`` that holds
them for the run on every load); the nodes that only fed it
(with no output to a persistent dataset) are skipped. The runner saves the
outputs as a full run does, so files and versions on disk are the same.

Never reused: a node tagged ``no_cache``, a node without outputs, a node with an
input that has no fingerprint, anything downstream of those, and every node of
a ``ParallelRunner`` run.

Hooks for a reused node: ``before_node_run`` and ``after_node_run`` fire with
the replacement node (no inputs), dataset save hooks fire for its outputs, no
load hook fires for its inputs (they are not loaded).

Concurrency: one lock, owned by the cache. A run takes its keys in one
planning step inside its hooked part, once it waits for nothing else; a key
that a run planned earlier is computing is waited for, then reused (a run only
waits for runs planned before it, so runs never wait for each other in turn). A
run made from inside a node of the run that computes the key (a nested run)
does not wait for it: it computes the node itself.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog
from kedro.pipeline import Node, Pipeline
from pluggy import PluginManager

from . import _kedro_private as private
from .cache_plan import Keys, rebuild
from .cache_store import MemoryStore, Outputs, RunReport, Store
from .memory import RunMemoryDataset, copy_mode_of
from .preload import size_of

logger = logging.getLogger(__name__)


@dataclass
class _RunState:
    """What the cache knows of one run in flight."""

    run_id: str
    keys: dict[str, str] = field(default_factory=dict)
    hits: set[str] = field(default_factory=set)
    owned: dict[str, threading.Event] = field(default_factory=dict)
    started: dict[str, float] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    replays: dict[str, Outputs] = field(default_factory=dict)
    catalog: DataCatalog | None = None


@dataclass
class _Pending:
    """A node that ran, its outputs stored as the runner saves them."""

    state: _RunState
    node: Node
    key: str
    values: dict[str, str]
    """Outputs still to be saved, with their copy mode."""
    stored: Outputs = field(default_factory=dict)


class NodeCache:
    """The results of a session's nodes, by key, bounded in bytes.

    Args:
        max_bytes: The bound on the measured size of the stored outputs.
        hooks: The session's hook manager; the cache registers its recorder
            (``after_node_run`` stores the results of the nodes that ran).
        store: Where results are kept (default: in memory, least recently
            used evicted).
    """

    def __init__(
        self, max_bytes: int, hooks: PluginManager, store: Store | None = None
    ):
        self._store = store or MemoryStore(max_bytes)
        self._lock = threading.Lock()
        self._inflight: dict[str, tuple[threading.Event, str]] = {}
        self._runs: dict[str, _RunState] = {}
        self._local = threading.local()
        self._hooks = hooks
        self._recorder = _Recorder(self)
        hooks.register(self._recorder)

    def close(self) -> None:
        """Empty the cache and take its hooks off the session's hook manager."""
        self.clear()
        self._hooks.unregister(self._recorder)

    def clear(self) -> None:
        """Drop every stored result."""
        self._store.clear()

    def last_report(self) -> RunReport | None:
        """The report of the last run this thread made, or ``None``."""
        report: RunReport | None = getattr(self._local, "report", None)
        return report

    @contextmanager
    def run(
        self,
        run_id: str,
        hook_args: dict[str, Any],
        runtime_data: Mapping[str, Any] | None,
        base: DataCatalog,
        *,
        enabled: bool,
    ) -> Iterator[None]:
        """Plan one run: replace its hits in ``hook_args["pipeline"]``.

        Args:
            run_id: The run's id.
            hook_args: The pipeline hooks' arguments (``pipeline``,
                ``catalog``); ``pipeline`` is replaced by the one to run.
            runtime_data: The run's injected data, as given.
            base: The session's base catalog (for preloaded inputs' files).
            enabled: False to only record the report (a run that bypasses).

        Yields:
            Nothing; run the runner inside.
        """
        pipe: Pipeline = hook_args["pipeline"]
        state = _RunState(run_id)
        self._runs[run_id] = state
        skipped: list[str] = []
        try:
            if enabled:
                catalog = state.catalog = hook_args["catalog"]
                keys = Keys(catalog, base, runtime_data or {}).of(pipe)
                self._claim(state, pipe, keys)
                hook_args["pipeline"], skipped = rebuild(pipe, catalog, state)
            yield
        finally:
            self._release(state)
            del self._runs[run_id]
            report = RunReport.of(pipe, state.hits, skipped, state.seconds)
            self._local.report = report
            if enabled:
                logger.info("Node cache: %s", report.summary())

    def _claim(
        self, state: _RunState, pipe: Pipeline, keys: dict[str, str | None]
    ) -> None:
        for node in pipe.nodes:
            key = keys[node.name]
            if key is None:
                continue
            state.keys[node.name] = key
            while True:
                with self._lock:
                    stored = self._store.get(key)
                    waiting = self._inflight.get(key)
                    if stored is None and waiting is None:
                        state.owned[key] = event = threading.Event()
                        self._inflight[key] = (event, state.run_id)
                        break
                if stored is not None:
                    state.hits.add(node.name)
                    state.replays[node.name] = stored
                    break
                if waiting is None or waiting[1] in self._inside():
                    break  # a run nested in a node of the owner: compute it
                waiting[0].wait()

    def _release(self, state: _RunState, key: str | None = None) -> None:
        with self._lock:
            for owned in [key] if key else list(state.owned):
                event = state.owned.pop(owned, None)
                if event is not None:
                    self._inflight.pop(owned, None)
                    event.set()

    def _inside(self) -> list[str]:
        """The runs whose node this thread is running (nested runs: several)."""
        inside: list[str] = self._local.__dict__.setdefault("inside", [])
        return inside

    def _started(self, run_id: str, node: Node) -> None:
        self._inside().append(run_id)
        state = self._runs.get(run_id)
        if state is not None:
            state.started[node.name] = time.perf_counter()

    def _left(self, run_id: str) -> None:
        inside = self._inside()
        if run_id in inside:
            inside.remove(run_id)

    def _finished(self, run_id: str, node: Node, outputs: dict[str, Any]) -> None:
        self._left(run_id)
        state = self._runs.get(run_id)
        if state is None:
            return
        start = state.started.pop(node.name, None)
        if start is not None:
            state.seconds[node.name] = time.perf_counter() - start
        key = state.keys.get(node.name)
        if key is None or node.name in state.hits:
            return
        entry = _Pending(state, node, key, {})
        try:
            if inspect.isgeneratorfunction(node.func):  # saved in chunks
                raise TypeError(node.name)
            for name, value in outputs.items():
                mode = copy_mode_of(value)
                if _copied_by_run(state, name, mode):
                    entry.values[name] = mode  # its dataset's copy, once saved
                else:
                    entry.stored[name] = (private.copy_with_mode(value, mode), mode)
        except Exception:  # cannot be copied: not stored
            self._release(state, key)
            return
        pending: list[_Pending] = self._local.__dict__.setdefault("pending", [])
        pending[:] = [p for p in pending if p.state.run_id in self._runs]
        pending.append(entry)
        self._saved("", node)

    def _saved(self, name: str, node: Node) -> None:
        """Store a node's outputs once the runner saved those its
        :class:`RunMemoryDataset` s copy: the store shares their copies (private:
        loads copy them again)."""
        pending: list[_Pending] = self._local.__dict__.get("pending", [])
        entry = next((p for p in pending if p.node is node), None)
        if entry is None:
            return
        if name in entry.values:
            mode = entry.values.pop(name)
            dataset = entry.state.catalog.get(name)  # type: ignore[union-attr]
            if not isinstance(dataset, RunMemoryDataset) or not dataset.exists():
                entry.stored.clear()  # not the dataset it was: not stored
            else:
                entry.stored[name] = (dataset._value, mode)
        if entry.values:
            return
        pending.remove(entry)
        if len(entry.stored) == len(node.outputs):
            with self._lock:
                self._store.put(entry.key, entry.stored, _size(entry.stored))
        self._release(entry.state, entry.key)

    def _failed(self, run_id: str, node: Node) -> None:
        self._left(run_id)
        state = self._runs.get(run_id)
        key = None if state is None else state.keys.get(node.name)
        if state is not None and key is not None:
            self._release(state, key)


class _Recorder:
    """The cache's node hooks: time every node, store what ran, free keys."""

    kedro_runtime_concurrent_safe = True

    def __init__(self, cache: NodeCache):
        self._cache = cache

    @hook_impl
    def before_node_run(self, node: Node, run_id: str) -> None:
        """Note when ``node`` starts."""
        self._cache._started(run_id, node)

    @hook_impl
    def after_node_run(self, node: Node, outputs: dict[str, Any], run_id: str) -> None:
        """Store the outputs of ``node`` under its key, if it has one."""
        self._cache._finished(run_id, node, outputs)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, node: Node) -> None:
        """Store a saved output of a node that ran, if it has a key."""
        self._cache._saved(dataset_name, node)

    @hook_impl
    def on_node_error(self, node: Node, run_id: str) -> None:
        """Free the key of a node that failed, for another run to compute."""
        self._cache._failed(run_id, node)


def _copied_by_run(state: _RunState, name: str, mode: str) -> bool:
    """Whether the run saves output ``name`` into a :class:`RunMemoryDataset`
    that copies it with ``mode`` (``copy`` or ``deepcopy``), as the cache would."""
    dataset = None if state.catalog is None else state.catalog.get(name)
    return (
        isinstance(dataset, RunMemoryDataset)
        and mode != "assign"
        and (dataset._given_mode or mode) == mode
    )


def _size(outputs: Outputs) -> int:
    """The measured bytes of ``outputs``, as :func:`~kedro_runtime.preload.size_of`
    measures them (a DataFrame's ``memory_usage(deep=True)``) but column by
    column: numpy-backed numeric columns by ``nbytes`` (what ``deep=True`` gives
    for them), the others by their own deep ``memory_usage``. Same number,
    without building the per-column Series that ``DataFrame.memory_usage`` does."""
    return sum(
        _frame_size(value) or size_of(value) or 0 for value, _ in outputs.values()
    )


def _frame_size(value: Any) -> int | None:
    if type(value).__module__.partition(".")[0] != "pandas":
        return None
    import numpy as np  # noqa: PLC0415 (pandas needs numpy)
    import pandas as pd  # noqa: PLC0415 (pandas is not a dependency)

    if not isinstance(value, pd.DataFrame):
        return None
    total = int(value.index.memory_usage(deep=True))
    for _, column in value.items():
        dtype = column.dtype
        numeric = isinstance(dtype, np.dtype) and not dtype.hasobject
        total += int(
            column.array.nbytes
            if numeric
            else column.memory_usage(deep=True, index=False)
        )
    return total
