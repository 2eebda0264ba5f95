"""What a session builds once: its project's config, base catalog and their facts.

:func:`build_project` reads and resolves the config of a context once, builds
the base catalog that every run layers over, and records what later runs need
to know about the config (which entries read ``${runtime_params:...}``, whether
the parameters use interpolation). The session calls it under its own lock; it
holds no process-wide lock while Kedro's ``after_catalog_created`` hook runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from kedro.config import MissingConfigException
from kedro.framework.context import KedroContext
from kedro.framework.project import settings
from kedro.framework.session.abstract_session import KedroSessionError
from kedro.io import DataCatalog
from kedro.validation.parameter_validator import ParameterValidator
from omegaconf import DictConfig, OmegaConf

from . import _kedro_private as private
from . import typos
from .catalog import SharedValue
from .param_reads import paths_read
from .parameters import (
    ANY_RUNTIME_PARAM,
    has_interpolation,
    interpolations_are_pure,
    keys_using_runtime_params,
    runtime_params_read_by,
)
from .registry import validate_parameters

CONFIG_KEYS = ("parameters", "catalog", "credentials")
"""The config a session reads once and may resolve again per run."""
PARAM_CACHE_SIZE = 128
"""The most ``params:`` tables a project keeps (the oldest is dropped first)."""

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Cache(Generic[K, V]):
    """Values a project made once, by key; owns the lock that guards them.

    A value is made outside the lock (making one may run user code, such as
    parameter validation); if two runs make one for the same key at once, the
    first one stored is kept and given to both.

    Args:
        size: The most values kept (the oldest is dropped first); ``None``: no
            bound.
    """

    def __init__(self, size: int | None = None) -> None:
        self._size = size
        self._values: dict[K, V] = {}
        self._lock = threading.Lock()

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The value of ``key``, made by ``make()`` and kept if there is none.

        Args:
            key: The key.
            make: Makes the value.

        Returns:
            The kept value.
        """
        with self._lock:
            if key in self._values:
                return self._values[key]
        value = make()
        with self._lock:
            value = self._values.setdefault(key, value)
            while self._size is not None and len(self._values) > self._size:
                self._values.pop(next(iter(self._values)))
        return value


@dataclass
class Project:
    """What a session builds once: context, base catalog, raw config and caches.

    Attributes:
        context: The session's context.
        catalog: The base catalog.
        raw: Config key to its parsed, unresolved files (``None`` if unknown).
        params: The resolved parameters of runs without ``runtime_params``.
        params_interpolated: Whether the parameters config uses ``${...}``.
        params_pure: Whether resolving the parameters again with the same
            runtime params gives the same values.
        catalog_runtime_keys: Catalog entries and patterns whose config reads
            runtime params (directly or through credentials).
        config_runtime_params: Runtime param path to the catalog and
            credentials entries that read it.
        readable_params: The runtime param paths some config reads (see
            :mod:`kedro_runtime.typos`).
        params_reads: The paths the parameters config's interpolations may
            read (see :func:`~kedro_runtime.param_reads.paths_read`).
        param_tables: Cached ``params:`` datasets, by pipelines and params
            (at most :data:`PARAM_CACHE_SIZE`).
        validators: Parameter validator of each pipeline selection (``None``
            when its nodes have no typed parameter).

    Every other field is read-only once the project is built.
    """

    context: KedroContext
    catalog: DataCatalog
    raw: dict[str, private.RawConfig | None]
    params: dict[str, Any]
    params_interpolated: bool
    params_pure: bool
    catalog_runtime_keys: set[str]
    config_runtime_params: dict[str, set[str]]
    readable_params: frozenset[tuple[str, ...]] = frozenset()
    params_reads: frozenset[str] = frozenset({ANY_RUNTIME_PARAM})
    param_tables: Cache[tuple[str, ...], dict[str, SharedValue]] = field(
        default_factory=lambda: Cache(PARAM_CACHE_SIZE)
    )
    validators: Cache[tuple[str, ...], ParameterValidator | None] = field(
        default_factory=Cache
    )


def build_project(
    context: KedroContext,
    save_version: str | None,
    pipeline_names: list[str] | None,
    create_params: Mapping[str, Any],
    *,
    strict_params: bool = False,
) -> Project:
    """Read the config once and build the base catalog.

    Args:
        context: The session's context.
        save_version: The base catalog's save version. The session passes
            ``None``, as Kedro's ``context.catalog`` does: saves through the base
            catalog (a notebook's ``catalog.save``) then get a timestamp of their
            own, never a run's id (runs save through their own layer).
        pipeline_names: The pipelines to validate parameters against;
            ``None`` for every registered one.
        create_params: The runtime params given to ``KedroSession.create``.
        strict_params: Raise if some of ``create_params`` is read by nothing,
            instead of logging a warning (see :mod:`kedro_runtime.typos`).

    Returns:
        The built project.

    Raises:
        UnreadRuntimeParamsError: If ``strict_params`` and a create param is
            read by nothing.
        KedroSessionError: If ``settings.DATA_CATALOG_CLASS`` is not a
            ``DataCatalog`` subclass.
    """
    loader = context.config_loader
    raw = _read_config(loader)
    catalog_class = settings.DATA_CATALOG_CLASS
    if not (isinstance(catalog_class, type) and issubclass(catalog_class, DataCatalog)):
        raise KedroSessionError(
            f"kedro-runtime layers each run over a kedro.io.DataCatalog, but "
            f"settings.DATA_CATALOG_CLASS is {catalog_class!r}. Use "
            f"DataCatalog or a subclass of it."
        )
    if "catalog" in loader:
        # Kedro validates parameters (reading the pipeline registry) while it
        # builds the catalog, after reading the catalog config: validate first,
        # under the registry's lock, so that the catalog build (and its hook)
        # uses the cached result. Without catalog config it fails before that.
        validate_parameters(context, pipeline_names)
    catalog = private.build_context_catalog(
        context, catalog_class, save_version, pipeline_names
    )
    try:
        params = dict(private.load_config(loader, "parameters"))
    except MissingConfigException:
        params = dict(create_params)
    project = _describe(context, catalog, raw, params)
    typos.check_read(
        project.readable_params,
        create_params,
        strict=strict_params,
        source="runtime_params of create()",
    )
    return project


def _read_config(loader: Any) -> dict[str, private.RawConfig | None]:
    """Parse each config key once and set its resolution on the loader.

    Kedro's config loader serves a key set on it without reading files again:
    the base catalog is built from this parse.
    """
    raw = {key: private.read_raw_config(loader, key) for key in CONFIG_KEYS}
    for key, parsed in raw.items():
        if key in loader:
            continue
        try:
            loader[key] = (
                private.load_config(loader, key)
                if parsed is None
                else private.resolve_raw_config(
                    loader, key, parsed, loader.runtime_params or {}
                )
            )
        except MissingConfigException:
            raw[key] = None
    return raw


def _merged(
    key: str, raw: private.RawConfig | None, strategy: str | None = None
) -> dict[str, Any]:
    """The entries a parse gives once the env is merged over the base.

    As Kedro merges them: the top-level keys of each env's files, then the env
    over the base, replacing an entry (``destructive``, the default) or merging
    into it (``soft``). An entry the env replaced is not there.

    Returns:
        ``{key: {entry name: unresolved config}}``, in the shape of the config
        loader's parse (one "file", named ``key``).
    """
    if not raw:
        return {}
    base, env = (_entries(files) for files in raw[:2])
    if strategy == "soft":
        merged = OmegaConf.to_container(OmegaConf.merge(base, env), resolve=False)
        return {key: merged}
    return {key: {**base, **env}}


def _entries(files: Mapping[Any, Any]) -> dict[str, Any]:
    entries: dict[str, Any] = {}
    for config in files.values():
        container = (
            OmegaConf.to_container(config, resolve=False)
            if isinstance(config, DictConfig)
            else config
        )
        if isinstance(container, dict):
            entries.update({str(name): value for name, value in container.items()})
    return entries


def _describe(
    context: KedroContext,
    catalog: DataCatalog,
    raw: dict[str, private.RawConfig | None],
    params: dict[str, Any],
) -> Project:
    strategy = getattr(context.config_loader, "merge_strategy", None) or {}
    params_files, creds_files, catalog_files = (
        _merged(key, raw[key], strategy.get(key))
        for key in ("parameters", "credentials", "catalog")
    )
    cred_keys = keys_using_runtime_params(creds_files) if creds_files else set()
    config_reads = runtime_params_read_by(
        {**params_files, **catalog_files, **creds_files}
    )
    return Project(
        context=context,
        catalog=catalog,
        raw=raw,
        params=params,
        params_interpolated=bool(params_files and has_interpolation(params_files)),
        params_pure=interpolations_are_pure(params_files),
        params_reads=paths_read(params_files),
        config_runtime_params=runtime_params_read_by({**catalog_files, **creds_files}),
        readable_params=typos.readable_paths(
            params_files.values() if raw["parameters"] else [params], config_reads
        ),
        catalog_runtime_keys=(
            keys_using_runtime_params(catalog_files, cred_keys)
            if raw["catalog"]
            else set()
        ),
    )
