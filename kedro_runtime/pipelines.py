"""A session's pipelines: each registered one loaded once, filtered ones cached.

Also remembers which pipeline selections have had their base catalog entries
built (see :meth:`PipelineCache.warm_base`).
"""

from __future__ import annotations

import threading
from typing import Any

from kedro.io import DataCatalog
from kedro.pipeline import Pipeline

from . import _kedro_private as private
from .registry import load_pipeline
from .request import RunRequest

FILTER_CACHE_SIZE = 128
"""How many filtered pipelines a session keeps."""


class PipelineCache:
    """The pipelines of one session, until :meth:`clear` (``session.reload``).

    Lookups take no lock; a miss builds under the cache's lock.
    """

    def __init__(self) -> None:
        """Start empty."""
        self._lock = threading.RLock()
        self._by_name: dict[str, Pipeline] = {}
        self._filtered: dict[tuple[Any, ...], Pipeline] = {}
        self._warm: set[tuple[Any, ...]] = set()

    def get(self, name: str) -> Pipeline:
        """The registered pipeline ``name``, loaded on first use.

        Args:
            name: The registered name.

        Returns:
            The pipeline.

        Raises:
            ValueError: If ``register_pipelines()`` does not return ``name``.
        """
        cached = self._by_name.get(name)
        if cached is None:
            with self._lock:
                cached = self._by_name.get(name)
                if cached is None:
                    cached = self._by_name[name] = load_pipeline(name)
        return cached

    def filtered(self, request: RunRequest) -> Pipeline:
        """The request's pipelines, added up and filtered by its filters.

        Args:
            request: The run.

        Returns:
            The pipeline the run selects (before injected nodes are skipped).

        Raises:
            ValueError: If a name is not registered or a filter matches nothing
                (Kedro's errors).
        """
        key = request.pipeline_key
        cached = self._filtered.get(key)
        if cached is not None:
            return cached
        with self._lock:
            combined = Pipeline([])
            for name in request.pipelines:
                combined += self.get(name)
            filters = request.filters
            namespaces = filters.pop("namespaces")
            filtered = combined.filter(**filters, node_namespaces=namespaces)
            if len(self._filtered) >= FILTER_CACHE_SIZE:
                self._filtered.pop(next(iter(self._filtered)))
            self._filtered[key] = filtered
            return filtered

    def warm_base(
        self, catalog: DataCatalog, key: tuple[Any, ...], pipe: Pipeline
    ) -> None:
        """Build, once per ``key``, the base entries ``pipe`` reads, so runs share them.

        Args:
            catalog: The session's base catalog.
            key: The selection's :attr:`RunRequest.pipeline_key`.
            pipe: The selected pipeline.
        """
        if key in self._warm:
            return
        with self._lock:
            lazy = private.catalog_lazy_datasets(catalog)
            for name in pipe.datasets():
                if name in lazy:
                    catalog.get(name)
            self._warm.add(key)

    def clear(self) -> None:
        """Forget every pipeline and warmed selection."""
        with self._lock:
            self._by_name.clear()
            self._filtered.clear()
            self._warm.clear()
