"""A snapshot of everything an override layer must leave alone in a base catalog.

The snapshot reads ``DataCatalog`` internals on purpose: the contract promises that
the base's materialised entries, its lazy entries and its config resolver are not
touched, and those live in private attributes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from kedro.io import DataCatalog, MemoryDataset
from kedro.io.data_catalog import _LazyDataset


@dataclass
class CatalogState:
    """What a base catalog holds, by identity where identity matters."""

    catalog: DataCatalog
    datasets: dict[str, Any]
    lazy: dict[str, Any]
    lazy_configs: dict[str, Any]
    resolver: Any
    resolver_config: dict[str, Any]
    resolved_config_ids: dict[str, int]
    patterns: list[str]
    load_versions: dict[str, str]
    save_version: str | None
    memory_data: dict[str, Any]

    @classmethod
    def take(cls, catalog: DataCatalog) -> CatalogState:
        """Record the state of ``catalog`` now."""
        resolver = catalog.config_resolver
        return cls(
            catalog=catalog,
            datasets=dict(catalog._datasets),
            lazy=dict(catalog._lazy_datasets),
            lazy_configs={
                name: copy.deepcopy(lazy.config)
                for name, lazy in catalog._lazy_datasets.items()
            },
            resolver=resolver,
            resolver_config=copy.deepcopy(dict(resolver.config)),
            resolved_config_ids={
                name: id(config) for name, config in resolver.config.items()
            },
            patterns=list(resolver.list_patterns()),
            load_versions=dict(catalog._load_versions),
            save_version=catalog._save_version,
            # The object each MemoryDataset holds (not a copy made by .load()).
            memory_data={
                name: ds._data
                for name, ds in catalog._datasets.items()
                if type(ds) is MemoryDataset
            },
        )

    def assert_unchanged(self) -> None:
        """Fail, naming what changed, if the catalog differs from the snapshot."""
        now = CatalogState.take(self.catalog)
        assert type(self.catalog._datasets) is dict, "base _datasets was replaced"
        assert type(self.catalog._lazy_datasets) is dict, (
            "base _lazy_datasets was replaced"
        )
        assert list(now.datasets) == list(self.datasets), (
            f"base materialised entries changed: {sorted(self.datasets)} -> "
            f"{sorted(now.datasets)}"
        )
        for name, dataset in self.datasets.items():
            assert now.datasets[name] is dataset, f"base entry '{name}' was replaced"
        assert list(now.lazy) == list(self.lazy), (
            f"base lazy entries changed: {sorted(self.lazy)} -> {sorted(now.lazy)}"
        )
        for name, lazy in self.lazy.items():
            assert now.lazy[name] is lazy, f"base lazy entry '{name}' was replaced"
            assert isinstance(lazy, _LazyDataset), f"'{name}' is no longer lazy"
            assert lazy.config == self.lazy_configs[name], (
                f"config of lazy entry '{name}' was modified"
            )
        assert now.resolver is self.resolver, "base config resolver was replaced"
        assert now.resolver_config == self.resolver_config, (
            "base config_resolver.config changed: "
            f"{self.resolver_config} -> {now.resolver_config}"
        )
        assert now.resolved_config_ids == self.resolved_config_ids, (
            "base config_resolver.config entries were replaced"
        )
        assert now.patterns == self.patterns, "base factory patterns changed"
        assert now.load_versions == self.load_versions, "base load versions changed"
        assert now.save_version == self.save_version, "base save version changed"
        assert list(now.memory_data) == list(self.memory_data)
        for name, data in self.memory_data.items():
            assert now.memory_data[name] is data, (
                f"data held by base MemoryDataset '{name}' changed"
            )
