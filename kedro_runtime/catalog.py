"""The catalog override layer: the catalog of one run, over a base catalog.

``override_catalog(base, overrides)`` gives a catalog in which every override
shadows the base entry of the same name and everything else resolves as in the
base, dataset factory patterns included. Nothing is written to the base: reads
fall through to it, writes (a dataset the runner creates, a lazy entry being
built, a replaced entry) stay in the layer. Dropping the layer leaves the base
exactly as it was.

Datasets that hold per-run state are copied into the layer the first time the
run reads them, so a run never sees another run's data: ``MemoryDataset`` (and
its subclasses), ``CachedDataset``, versioned datasets (which save under the
layer's ``save_version``), and any dataset class that sets
``fresh_per_run = True``. Every other dataset (files, databases: stateless
connectors) is the base's own object, shared as files are shared in Kedro.

The cost of a layer does not depend on the size of the base catalog, nor on the
size of the injected data: it is a few small dictionaries, and work is done only
for the names a run actually reads.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any, TypeVar

from kedro import io as kedro_io
from kedro.io import CachedDataset, DataCatalog, MemoryDataset
from kedro.io.core import AbstractDataset

from . import _kedro_private as private
from .errors import CatalogOverrideError
from .memory import RunMemoryDataset

logger = logging.getLogger(__name__)

_V = TypeVar("_V")
_MISSING = object()


class _Layer(MutableMapping[str, _V]):
    """A mapping over ``base`` that never writes to it.

    Lookups go to the layer's own entries, then to ``front`` (the overrides),
    then to ``base``. A value read from ``front`` or ``base`` is passed through
    ``on_read``; when that returns a new object it is kept in the layer, so each
    run builds its own copy once. Deleting a name hides the base entry.
    """

    __slots__ = ("_base", "_front", "_hidden", "_local", "_on_read")

    def __init__(
        self,
        base: Mapping[str, Any],
        front: Mapping[str, Any] | None = None,
        on_read: Callable[[str, Any, bool], Any] | None = None,
        hidden: set[str] | None = None,
    ) -> None:
        self._base = base
        self._front: Mapping[str, Any] = front or {}
        self._on_read = on_read
        self._local: dict[str, Any] = {}
        self._hidden: set[str] = hidden or set()

    def _lookup(self, key: str) -> Any:
        value = self._local.get(key, _MISSING)
        if value is not _MISSING or key in self._hidden:
            return value
        from_front = key in self._front
        value = (self._front if from_front else self._base).get(key, _MISSING)
        if value is _MISSING or self._on_read is None:
            return value
        fresh = self._on_read(key, value, from_front)
        if fresh is value:
            return value
        # setdefault is atomic: two threads reading the same name share one copy.
        return self._local.setdefault(key, fresh)

    def __getitem__(self, key: str) -> _V:
        value = self._lookup(key)
        if value is _MISSING:
            raise KeyError(key)
        return value  # type: ignore[no-any-return]

    def get(self, key: str, default: Any = None) -> Any:
        value = self._lookup(key)
        return default if value is _MISSING else value

    def __contains__(self, key: object) -> bool:
        if key in self._local:
            return True
        if key in self._hidden:
            return False
        return key in self._front or key in self._base

    def __setitem__(self, key: str, value: _V) -> None:
        self._local[key] = value

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self._local.pop(key, None)
        self._hidden.add(key)

    def __iter__(self) -> Iterator[str]:
        seen = set(self._local)
        yield from self._local
        for source in (self._front, self._base):
            for key in source:
                if key not in seen and key not in self._hidden:
                    seen.add(key)
                    yield key

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __or__(self, other: Mapping[str, Any]) -> dict[str, Any]:
        return {**dict(self.items()), **other}

    def __ror__(self, other: Mapping[str, Any]) -> dict[str, Any]:
        return {**other, **dict(self.items())}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({sorted(self)!r})"


def is_fresh_per_run(dataset: AbstractDataset) -> bool:
    """Whether a run must get its own copy of ``dataset`` rather than share it.

    True for ``MemoryDataset`` and its subclasses, ``CachedDataset``, versioned
    datasets, and any dataset whose class sets ``fresh_per_run = True``.

    Args:
        dataset: A dataset of a base catalog.

    Returns:
        Whether the override layer copies the dataset for each run.
    """
    return bool(
        getattr(dataset, "fresh_per_run", False)
        or isinstance(dataset, MemoryDataset | CachedDataset)
        or private.is_versioned(dataset)
    )


def as_dataset(value: Any) -> AbstractDataset:
    """Use a dataset as it is; wrap any other value in a ``MemoryDataset``.

    The ``MemoryDataset`` has Kedro's default copy mode, so nodes get a copy of
    a DataFrame or a deep copy of other objects and never change the caller's
    data. For zero-copy injection pass ``MemoryDataset(data, copy_mode="assign")``.

    Args:
        value: A dataset object or raw data.

    Returns:
        The dataset that serves ``value``.
    """
    if isinstance(value, AbstractDataset):
        return value
    return MemoryDataset(data=value)


class SharedValue:
    """A value many runs read, e.g. a parameter: built into a dataset once.

    Each layer that reads it gets a shallow copy of one ``MemoryDataset`` (Kedro's
    default copy mode), instead of a new ``MemoryDataset`` per run: the same
    isolation (loads copy the data; a save rebinds the copy's data only) at a
    fraction of the cost.
    """

    __slots__ = ("_dataset", "value")

    def __init__(self, value: Any) -> None:
        self.value = value
        self._dataset: MemoryDataset | None = None

    def dataset(self) -> MemoryDataset:
        """A copy of the value's dataset for one run."""
        if self._dataset is None:
            # Two threads may both build it: the results are equivalent.
            self._dataset = private.memory_dataset_for(self.value)
        return copy.copy(self._dataset)


class _Freshener:
    """Makes the per-run copy of a base dataset (see ``is_fresh_per_run``)."""

    def __init__(self, load_versions: Mapping[str, str], save_version: str | None):
        self._load_versions = load_versions
        self._save_version = save_version

    def dataset(self, name: str, value: Any, from_front: bool) -> Any:
        if from_front:
            if isinstance(value, SharedValue):
                return value.dataset()
            try:
                return as_dataset(value)
            except Exception as exc:
                raise CatalogOverrideError(
                    f"Cannot use the override '{name}': Kedro's MemoryDataset "
                    f"copies it (a deep copy for anything but DataFrames and "
                    f"arrays), and copying this {type(value).__name__} failed "
                    f"({type(exc).__name__}: {exc}). Pass "
                    f"MemoryDataset(data, copy_mode='assign') to use it as it is."
                ) from exc
        return self.copy(name, value)

    def copy(self, name: str, dataset: AbstractDataset) -> AbstractDataset:
        if isinstance(dataset, CachedDataset):
            inner, _ = private.cached_dataset_parts(dataset)
            return private.cached_copy(dataset, self.copy(name, inner))
        if private.is_versioned(dataset):
            return private.versioned_copy(
                dataset,  # type: ignore[arg-type]
                self._load_versions.get(name),
                self._save_version,
            )
        if getattr(dataset, "fresh_per_run", False):
            return copy.deepcopy(dataset)
        if isinstance(dataset, MemoryDataset):
            # Saving rebinds the copy's data, so a shallow copy is isolated.
            return copy.copy(dataset)
        return dataset

    def lazy(self, name: str, lazy: Any, from_front: bool) -> Any:
        if from_front:
            return lazy
        return private.relazy(
            lazy, name, self._load_versions.get(name), self._save_version
        )


def _direct_kedro_io_types(patterns: Mapping[str, Any]) -> dict[str, Any]:
    """The runtime ``patterns`` with each ``kedro.io`` type given as a class.

    Kedro imports a dataset type by trying the prefixes ``kedro.io.``,
    ``kedro_datasets.`` and none, in that order, so ``kedro.io.MemoryDataset`` (the
    runtime pattern of ``DataCatalog``) costs two failed imports, each a search of
    ``sys.path``, for every dataset a run creates from the pattern; a class is used
    as it is. ``MemoryDataset`` becomes :class:`RunMemoryDataset` (same copies,
    see ``memory.py``); other names that ``kedro.io`` exports, their class.
    """
    rewritten: dict[str, Any] = {}
    for pattern, config in patterns.items():
        kind = config.get("type") if isinstance(config, Mapping) else None
        name = kind.removeprefix("kedro.io.") if isinstance(kind, str) else ""
        if name == "MemoryDataset" and set(config) <= _RUN_MEMORY_KEYS:
            rewritten[pattern] = {**config, "type": RunMemoryDataset}
        elif name != kind and "." not in name and name in kedro_io.__all__:
            rewritten[pattern] = {**config, "type": getattr(kedro_io, name)}
        else:
            rewritten[pattern] = config
    return rewritten


_RUN_MEMORY_KEYS = {"type", "copy_mode", "metadata"}


def override_catalog(
    base: DataCatalog,
    overrides: Mapping[str, Any] | None = None,
    *,
    save_version: str | None = None,
    load_versions: Mapping[str, str] | None = None,
    catalog_class: type[DataCatalog] | None = None,
    lazy_overrides: Mapping[str, dict[str, Any]] | None = None,
    pattern_overrides: Mapping[str, dict[str, Any]] | None = None,
) -> DataCatalog:
    """Give the catalog of one run: ``overrides`` over ``base``, base untouched.

    Every name in ``overrides`` shadows the base entry of that name (or adds
    it). A value that is an ``AbstractDataset`` is used as that dataset; any
    other value is wrapped in a ``MemoryDataset`` with Kedro's default copy mode.
    Everything else resolves as in ``base``, dataset factory patterns included.
    Datasets with per-run state (memory, cached, versioned, or classes that set
    ``fresh_per_run = True``) are copied into the layer when the run first
    reads them; other datasets are shared with the base.

    Example:
    ``` python
    from kedro.io import DataCatalog, MemoryDataset
    from kedro_runtime import override_catalog

    base = DataCatalog({"prices": MemoryDataset([1, 2, 3])})
    run_catalog = override_catalog(base, {"prices": [10, 20]})
    assert run_catalog.load("prices") == [10, 20]
    assert base.load("prices") == [1, 2, 3]
    ```

    Args:
        base: The catalog to layer over. Never modified.
        overrides: Dataset name to raw data or dataset object.
        save_version: Save version of versioned datasets in the layer. Defaults
            to the base's save version.
        load_versions: Dataset name to version to load, over the base's own.
        catalog_class: Class of the returned catalog; a ``DataCatalog``
            subclass (e.g. ``SharedMemoryDataCatalog`` for ``ParallelRunner``).
            Defaults to the class of ``base``.
        lazy_overrides: Dataset name to dataset config (resolved, with
            credentials and absolute paths) to build in the layer instead of the
            base entry.
        pattern_overrides: Factory pattern to new config for that pattern.

    Returns:
        A catalog of ``catalog_class`` for one run.

    Raises:
        CatalogOverrideError: If ``base`` is not a ``DataCatalog``, a key is not
            a non-empty string, ``catalog_class`` is not a ``DataCatalog``
            subclass, a mapping argument is not a mapping, ``save_version`` is
            not a string, or (when the run reads it) an override that is raw
            data cannot be copied into a ``MemoryDataset``.
    """
    checked = (base, overrides, save_version, load_versions, catalog_class)
    catalog_class, overrides, lazy_overrides = _checked(
        *checked, lazy_overrides, pattern_overrides
    )
    save_version = save_version or private.catalog_save_version(base)
    versions = {**private.catalog_load_versions(base), **(load_versions or {})}
    layers = (overrides, lazy_overrides, pattern_overrides)
    layer = _layer(base, catalog_class, *layers, versions, save_version)
    shadowed = set(overrides) | set(lazy_overrides)
    if shadowed:
        logger.debug("Catalog override layer shadows %s", sorted(shadowed))
    return layer


def _checked(
    base: Any,
    overrides: Any,
    save_version: Any,
    load_versions: Any,
    catalog_class: Any,
    lazy_overrides: Any,
    pattern_overrides: Any,
) -> tuple[type[DataCatalog], dict[str, Any], dict[str, dict[str, Any]]]:
    """The arguments of :func:`override_catalog`, checked: the catalog class,
    the overrides and the lazy overrides (as dicts)."""
    if not isinstance(base, DataCatalog):
        raise CatalogOverrideError(
            f"override_catalog() needs a kedro.io.DataCatalog as base, got "
            f"{type(base).__name__}."
        )
    catalog_class = type(base) if catalog_class is None else catalog_class
    if not (isinstance(catalog_class, type) and issubclass(catalog_class, DataCatalog)):
        raise CatalogOverrideError(
            f"catalog_class must be a subclass of kedro.io.DataCatalog, got "
            f"{catalog_class!r}."
        )
    for argument, value in (
        ("overrides", overrides),
        ("load_versions", load_versions),
        ("lazy_overrides", lazy_overrides),
        ("pattern_overrides", pattern_overrides),
    ):
        if value is not None and not isinstance(value, Mapping):
            raise CatalogOverrideError(
                f"`{argument}` of override_catalog() must be a mapping of names, "
                f"got {type(value).__name__}."
            )
    if save_version is not None and not isinstance(save_version, str):
        raise CatalogOverrideError(
            f"`save_version` of override_catalog() must be a version string, got "
            f"{type(save_version).__name__} {save_version!r}."
        )
    overrides = dict(overrides or {})
    for name in overrides:
        if not isinstance(name, str) or not name:
            raise CatalogOverrideError(
                f"Override names must be non-empty dataset names (str), got {name!r}."
            )
    lazy_overrides = dict(lazy_overrides or {})
    return catalog_class, overrides, lazy_overrides


def _layer(
    base: DataCatalog,
    catalog_class: type[DataCatalog],
    overrides: dict[str, Any],
    lazy_overrides: dict[str, dict[str, Any]],
    pattern_overrides: Mapping[str, dict[str, Any]] | None,
    versions: dict[str, str],
    save_version: str | None,
) -> DataCatalog:
    """The layer over ``base``: every mapping of its state reads through to the
    base's and writes to its own."""
    fresh = _Freshener(versions, save_version)
    datasets: _Layer[AbstractDataset] = _Layer(
        private.catalog_datasets(base),
        front=overrides,
        on_read=fresh.dataset,
        hidden=set(lazy_overrides),
    )
    lazy_front = {
        name: private.lazy_dataset(name, config, versions.get(name), save_version)
        for name, config in lazy_overrides.items()
    }
    lazy: _Layer[Any] = _Layer(
        private.catalog_lazy_datasets(base),
        front=lazy_front,
        on_read=fresh.lazy,
        hidden=set(overrides),
    )
    resolver = private.layered_resolver(
        base.config_resolver,
        _Layer(
            private.resolver_configs(base.config_resolver),
            front=lazy_overrides,
            hidden=set(overrides),
        ),
        _direct_kedro_io_types(catalog_class.default_runtime_patterns),
        pattern_overrides,
    )
    specs, validators = private.catalog_validator_state(base)
    return private.layered_catalog(
        catalog_class,
        base,
        datasets=datasets,
        lazy_datasets=lazy,
        config_resolver=resolver,
        load_versions=versions,
        save_version=save_version,
        validator_specs=_Layer(specs),
        validators=_Layer(validators),
    )
