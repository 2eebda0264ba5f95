"""Preloading: read-only inputs loaded once per session and shared by every run.

A session created with ``preload=True`` (or a list of names), or a catalog entry
with ``metadata: {kedro_runtime: {preload: true}}``, has its read-only inputs
loaded once, on ``warm_up()`` or the first run that reads them, and each run
reads them from memory through a :class:`PreloadedDataset` in its catalog layer.

Which entries: planned for each registered pipeline a run (or ``warm_up``) asks
for, against that pipeline alone, when it is first asked for; a pipeline that no
run asks for is never loaded (as in Kedro). An entry is read-only if no node of
the pipeline it is planned for writes it: preload nothing that another pipeline
the session runs writes, or runs of this one read the value loaded first.

Locks: each pipeline's plan is made under the preloader's lock, each entry is
loaded under its own lock; both belong to one session, never process-wide. The
dataset hooks of the real load fire under the entry's lock.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import logging
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kedro.io import AbstractDataset, DataCatalog, MemoryDataset, SharedMemoryDataset
from kedro.io.core import DatasetError
from kedro.pipeline import Node, Pipeline
from pluggy import PluginManager

from . import _kedro_private as private
from .errors import PreloadError, PreloadTypeError
from .parameters import is_param

logger = logging.getLogger(__name__)

METADATA_KEY = "kedro_runtime"
"""The key of a catalog entry's ``metadata`` holding ``preload`` and ``copy_mode``."""
COPY_MODES = ("copy", "deepcopy", "assign")
"""The copy modes a preloaded entry may have (as for Kedro's ``MemoryDataset``)."""

Choice = bool | tuple[str, ...]


def check_choice(preload: object) -> Choice:
    """The ``preload`` argument of ``create``, checked.

    Args:
        preload: ``True``, ``False`` or a list (tuple) of dataset names.

    Returns:
        The choice: a bool, or the names as a tuple.

    Raises:
        PreloadTypeError: If it is neither a bool nor a sequence of strings.
    """
    if isinstance(preload, bool):
        return preload
    if isinstance(preload, Sequence) and not isinstance(preload, str | bytes):
        bad = [name for name in preload if not isinstance(name, str)]
        if not bad:
            return tuple(dict.fromkeys(preload))
    raise PreloadTypeError(
        f"preload must be True, False or a list of dataset names (str), got "
        f"{preload!r}."
    )


@dataclass(frozen=True)
class PreloadInfo:
    """What :meth:`KedroSession.preloaded` reports for one loaded entry.

    Attributes:
        size_bytes: Its size in memory: ``memory_usage(deep=True)`` of a
            DataFrame, ``nbytes`` of an array, ``sys.getsizeof`` otherwise
            (which counts the object, not what it refers to); ``None`` if
            unknown.
        load_seconds: How long the one real load took.
        copy_mode: What each run gets: ``copy``, ``deepcopy`` or ``assign``.
    """

    size_bytes: int | None
    load_seconds: float
    copy_mode: str


class PreloadedDataset(AbstractDataset[Any, Any]):
    """A preloaded value, handed to each run in its copy mode; read-only."""

    def __init__(self, data: Any, copy_mode: str) -> None:
        """Hold the session's one copy.

        Args:
            data: The loaded value.
            copy_mode: ``copy``, ``deepcopy`` or ``assign``.
        """
        self._data = data
        self._copy_mode = copy_mode

    def load(self) -> Any:
        if self._copy_mode == "assign":
            return self._data
        if self._copy_mode == "copy":
            return self._data.copy()
        return copy.deepcopy(self._data)

    def save(self, data: Any) -> None:
        raise DatasetError("A preloaded dataset is read-only.")

    def _describe(self) -> dict[str, Any]:
        return {"copy_mode": self._copy_mode, "data": type(self._data).__name__}


@dataclass
class _Entry:
    name: str
    source: AbstractDataset[Any, Any]
    copy_mode: str | None
    reader: Node | None
    lock: threading.Lock = field(default_factory=threading.Lock)
    dataset: PreloadedDataset | None = None
    info: PreloadInfo | None = None


class Preloader:
    """The preloaded entries of one session, until :meth:`clear` (``reload``)."""

    def __init__(
        self, choice: Choice, hooks: PluginManager, pipeline: Callable[[str], Pipeline]
    ) -> None:
        """Remember what ``create`` asked for.

        Args:
            choice: See :func:`check_choice`.
            hooks: The session's hook manager (for the dataset hooks).
            pipeline: Gives the session's registered pipeline of a name.
        """
        self._choice = choice
        self._hooks = hooks
        self._pipeline = pipeline
        self._lock = threading.Lock()
        self._plans: dict[str, dict[str, _Entry]] = {}
        self._entries: dict[str, _Entry] = {}

    def clear(self) -> None:
        """Drop the plans and every loaded value (the next use loads again)."""
        with self._lock:
            self._plans = {}
            self._entries = {}

    def preloaded(self) -> dict[str, PreloadInfo]:
        """Name to :class:`PreloadInfo` of each entry loaded so far."""
        entries = self._entries
        return {n: e.info for n, e in sorted(entries.items()) if e.info is not None}

    def datasets(
        self,
        catalog: DataCatalog,
        names: Sequence[str],
        pipe: Pipeline,
        skip: Mapping[str, Any],
    ) -> dict[str, AbstractDataset[Any, Any]]:
        """The preloaded datasets ``pipe`` reads, loading the ones not loaded yet.

        Args:
            catalog: The session's base catalog.
            names: The registered pipelines the run (or warm-up) asks for; only
                these are planned for (and loaded, which the run did already).
            pipe: The pipeline the run (or warm-up) runs.
            skip: Names the run gives itself (``runtime_data``, ``load_versions``).

        Returns:
            Dataset name to its :class:`PreloadedDataset`.

        Raises:
            PreloadError: See :func:`plan_entries`.
        """
        for name in names:  # all planned first: one may write another's input
            self._plan(catalog, name)
        plans, reads = self._plans, pipe.inputs()
        return {
            name: self._load(entry)
            for pipeline_name in names
            for name, entry in plans[pipeline_name].items()
            if name in reads and name not in skip
        }

    def _plan(self, catalog: DataCatalog, name: str) -> dict[str, _Entry]:
        """The entries planned for the registered pipeline ``name``, made once."""
        plan = self._plans.get(name)
        if plan is not None:
            return plan
        with self._lock:
            plan = self._plans.get(name)
            if plan is None:
                pipe = self._pipeline(name)
                self._forget(pipe.all_outputs())
                planned = plan_entries(self._choice, catalog, pipe)
                # An entry another pipeline planned is the same entry, loaded once.
                plan = {n: self._entries.setdefault(n, e) for n, e in planned.items()}
                self._plans[name] = plan
            return plan

    def _forget(self, written: set[str]) -> None:
        """Stop preloading what a newly planned pipeline writes (under the lock).

        An entry is read-only only while no pipeline the session runs writes
        it: the runs that preloaded it read it from the catalog from now on.
        Plans are replaced, not changed, as runs read them without the lock.
        """
        stale = written & self._entries.keys()
        if not stale:
            return
        logger.info("Not preloading %s any more: a pipeline writes it", sorted(stale))
        self._entries = {n: e for n, e in self._entries.items() if n not in stale}
        self._plans = {
            key: {n: e for n, e in plan.items() if n not in stale}
            for key, plan in self._plans.items()
        }

    def _load(self, entry: _Entry) -> PreloadedDataset:
        dataset = entry.dataset
        if dataset is not None:
            return dataset
        with entry.lock:
            if entry.dataset is None:
                hook = self._hooks.hook
                hook.before_dataset_loaded(dataset_name=entry.name, node=entry.reader)
                start = time.perf_counter()
                data = entry.source.load()
                seconds = time.perf_counter() - start
                hook.after_dataset_loaded(
                    dataset_name=entry.name, data=data, node=entry.reader
                )
                mode = entry.copy_mode or private.infer_copy_mode(data)
                entry.info = PreloadInfo(size_of(data), seconds, mode)
                logger.info(
                    "Preloaded '%s': %s bytes in %.3f s, copy_mode=%s",
                    entry.name,
                    entry.info.size_bytes,
                    seconds,
                    mode,
                )
                entry.dataset = PreloadedDataset(data, mode)
            return entry.dataset


def plan_entries(
    choice: Choice, catalog: DataCatalog, pipe: Pipeline
) -> dict[str, _Entry]:
    """Which entries a session preloads for a pipeline, checked against it and the catalog.

    Args:
        choice: What ``create`` asked for.
        catalog: The session's base catalog.
        pipe: A registered pipeline a run asks for.

    Returns:
        Dataset name to its (not yet loaded) entry.

    Raises:
        PreloadError: If a listed (or opted-in) name is a parameter, not in the
            catalog, written by a node, or held in memory; or an entry's
            ``metadata.kedro_runtime`` is not usable.
    """
    writers: dict[str, str] = {}
    readers: dict[str, Node] = {}
    for node in sorted(pipe.nodes, key=lambda n: n.name):
        writers.update(dict.fromkeys(node.outputs, node.name))
        for name in node.inputs:
            readers.setdefault(name, node)
    listed = set(choice) if isinstance(choice, tuple) else set()
    automatic = {n for n in readers if n not in writers} if choice is True else set()
    plan = {}
    for name in sorted({n for n in readers if not is_param(n)} | listed):
        own, mode = _options(name, _config(catalog, name))
        if not (name in listed or own or (own is None and name in automatic)):
            continue
        dataset = catalog.get(name) if name in catalog else None
        if name not in listed and not own and _in_memory(dataset):
            continue  # preload=True takes what needs loading
        _check(name, dataset, writers, catalog)
        assert dataset is not None  # _check refuses a missing entry
        plan[name] = _Entry(name, dataset, mode, readers.get(name))
    return plan


def _config(catalog: DataCatalog, name: str) -> Mapping[str, Any]:
    """The entry's config (explicit or from a pattern), without building it."""
    config = catalog.config_resolver.resolve_pattern(name)
    return config if isinstance(config, Mapping) else {}


def _options(name: str, config: Mapping[str, Any]) -> tuple[bool | None, str | None]:
    """The entry's own ``preload`` and ``copy_mode`` from its metadata."""
    metadata = config.get("metadata")
    options = metadata.get(METADATA_KEY) if isinstance(metadata, Mapping) else None
    if not isinstance(options, Mapping):
        return None, None
    wanted = options.get("preload")
    mode = options.get("copy_mode")
    if wanted is not None and not isinstance(wanted, bool):
        raise PreloadError(
            f"Catalog entry '{name}': metadata.{METADATA_KEY}.preload must be true "
            f"or false, got {wanted!r}."
        )
    if mode is not None and mode not in COPY_MODES:
        raise PreloadError(
            f"Catalog entry '{name}': metadata.{METADATA_KEY}.copy_mode must be one "
            f"of {list(COPY_MODES)}, got {mode!r}."
        )
    return wanted, mode


def _check(
    name: str,
    dataset: AbstractDataset[Any, Any] | None,
    writers: Mapping[str, str],
    catalog: DataCatalog,
) -> None:
    if is_param(name):
        raise PreloadError(f"Cannot preload '{name}': it is a parameter.")
    if dataset is None:
        close = difflib.get_close_matches(name, list(catalog.keys()), n=3)
        raise PreloadError(
            f"Cannot preload '{name}': the catalog has no such entry and no "
            f"pattern matches it. Closest entries: {close or 'none'}."
        )
    if name in writers:
        raise PreloadError(
            f"Cannot preload '{name}': node '{writers[name]}' writes it, so it is "
            f"not a read-only input. Preload only datasets no node produces."
        )
    if _in_memory(dataset):
        raise PreloadError(
            f"Cannot preload '{name}': it is a {type(dataset).__name__}, held in "
            f"memory already; preload entries backed by files or tables."
        )


def _in_memory(dataset: AbstractDataset[Any, Any] | None) -> bool:
    return dataset is None or isinstance(dataset, MemoryDataset | SharedMemoryDataset)


def size_of(data: Any) -> int | None:
    """Bytes ``data`` takes, where that can be known (see :class:`PreloadInfo`).

    Args:
        data: A loaded value.

    Returns:
        The size in bytes, or ``None``.
    """
    usage = getattr(data, "memory_usage", None)
    if callable(usage):  # a DataFrame (a Series gives an int)
        with contextlib.suppress(TypeError, ValueError, AttributeError):
            total = usage(deep=True)
            return int(total.sum() if hasattr(total, "sum") else total)
    nbytes = getattr(data, "nbytes", None)
    if isinstance(nbytes, int):
        return nbytes
    try:
        return sys.getsizeof(data)
    except TypeError:
        return None
