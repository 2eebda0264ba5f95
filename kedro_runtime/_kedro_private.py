"""Every use of a private Kedro API in kedro-runtime, in one place.

Kedro offers no public way to layer a catalog, to re-resolve config from a cached
parse, or to build a context's catalog with a chosen class and save version. Each
function below names the private API it touches. ``tests/test_kedro_private.py``
checks every one of them against the installed Kedro and fails with a message that
names the API when a Kedro release changes it.

Private APIs used:
    - ``DataCatalog._datasets``, ``_lazy_datasets``, ``_config_resolver``,
      ``_load_versions``, ``_save_version``, ``_validator_specs``, ``_validators``,
      ``_save_validated`` (instance state of a catalog).
    - ``kedro.io.data_catalog._LazyDataset`` (a dataset not yet built).
    - ``CatalogConfigResolver._resolved_configs``, ``_default_runtime_patterns``,
      ``_dataset_patterns``, ``_user_catch_all_pattern``.
    - ``AbstractVersionedDataset._version``, ``_cached_load_version``,
      ``_cached_save_version``.
    - ``CachedDataset._dataset`` and ``_cache``.
    - ``AbstractDataset._exists`` (whether a dataset class can tell that its
      data exists: Kedro's default answers False).
    - ``kedro.io.memory_dataset._infer_copy_mode`` (the default copy mode of
      ``MemoryDataset`` for a value) and ``_copy_with_mode`` (its copy).
    - ``KedroContext._get_catalog`` and ``KedroContext._pipelines_to_validate``.
    - ``KedroSession._hook_manager``, ``_package_name`` and ``_project_path``
      (attributes Kedro's base session sets, read by kedro-runtime's subclass).
    - ``kedro.framework.context.context._convert_paths_to_absolute_posix``.
    - ``OmegaConfigLoader._read_raw_config``, ``_resolve_from_raw_config``,
      ``_runtime_params_oc``, ``_runtime_params_hits`` and
      ``_register_runtime_params_resolver``.
    - Kedro CLI, for ``kedro_runtime/cli.py`` (section at the end):
      ``kedro.framework.cli.utils._split_params``,
      ``kedro.framework.cli.project._resolve_runner_kwargs`` and
      ``KedroSession._get_config_loader``.

OmegaConf resolvers are registered for the whole process, and Kedro's
``runtime_params:`` resolver reads the runtime params of the loader that
registered it last. Every function here that creates a config loader or
resolves config holds :data:`CONFIG_LOCK` for its duration (callers need not,
and may not rely on holding it for anything else). No hook runs under it.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

from kedro.config import MissingConfigException
from kedro.framework.context.context import _convert_paths_to_absolute_posix
from kedro.io import CachedDataset, MemoryDataset
from kedro.io.core import AbstractDataset, AbstractVersionedDataset, Version
from kedro.io.data_catalog import _LazyDataset
from kedro.io.memory_dataset import _copy_with_mode, _infer_copy_mode

if TYPE_CHECKING:
    from pathlib import Path

    from kedro.framework.context import KedroContext
    from kedro.io import DataCatalog
    from kedro.io.catalog_config_resolver import CatalogConfigResolver
    from pluggy import PluginManager

CONFIG_LOCK = threading.RLock()
"""Held while kedro-runtime creates a config loader or resolves config: OmegaConf
resolvers are process-global, so two resolutions at once could read each other's
runtime params."""

RawConfig = tuple[Any, ...]
"""What ``OmegaConfigLoader._read_raw_config`` returns: parsed, unresolved files."""


# --- DataCatalog ---------------------------------------------------------------


def catalog_datasets(catalog: DataCatalog) -> MutableMapping[str, AbstractDataset]:
    """``DataCatalog._datasets``: the materialised datasets of a catalog."""
    return catalog._datasets


def catalog_lazy_datasets(catalog: DataCatalog) -> MutableMapping[str, Any]:
    """``DataCatalog._lazy_datasets``: entries from config not built yet."""
    return catalog._lazy_datasets


def catalog_save_version(catalog: DataCatalog) -> str | None:
    """``DataCatalog._save_version``."""
    return catalog._save_version


def catalog_load_versions(catalog: DataCatalog) -> dict[str, str]:
    """``DataCatalog._load_versions``."""
    return catalog._load_versions


def layered_catalog(
    catalog_class: type[DataCatalog],
    base: DataCatalog,
    *,
    datasets: MutableMapping[str, AbstractDataset],
    lazy_datasets: MutableMapping[str, Any],
    config_resolver: CatalogConfigResolver,
    load_versions: dict[str, str],
    save_version: str | None,
    validator_specs: MutableMapping[str, Any],
    validators: MutableMapping[str, Any],
) -> DataCatalog:
    """Make a catalog of ``catalog_class`` whose state is the given mappings.

    The new object starts from a shallow copy of ``base.__dict__`` (so attributes
    that a ``DataCatalog`` subclass adds are carried over) and then gets its own
    mappings for every piece of state a run can change.
    """
    catalog = catalog_class.__new__(catalog_class)
    catalog.__dict__.update(base.__dict__)
    catalog._datasets = datasets  # type: ignore[assignment]
    catalog._lazy_datasets = lazy_datasets  # type: ignore[assignment]
    catalog._config_resolver = config_resolver
    catalog._load_versions = load_versions
    catalog._save_version = save_version
    catalog._validator_specs = validator_specs  # type: ignore[assignment]
    catalog._validators = validators  # type: ignore[assignment]
    catalog._save_validated = set()
    return catalog


def catalog_validator_state(
    catalog: DataCatalog,
) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """``DataCatalog._validator_specs`` and ``DataCatalog._validators``."""
    return catalog._validator_specs, catalog._validators


def is_lazy_dataset(obj: Any) -> bool:
    """Whether ``obj`` is a ``kedro.io.data_catalog._LazyDataset``."""
    return isinstance(obj, _LazyDataset)


def relazy(
    lazy: Any, name: str, load_version: str | None, save_version: str | None
) -> Any:
    """A new ``_LazyDataset`` with the config of ``lazy`` and the given versions."""
    return _LazyDataset(name, lazy.config, load_version, save_version)


def lazy_dataset(
    name: str,
    config: dict[str, Any],
    load_version: str | None,
    save_version: str | None,
) -> Any:
    """A ``_LazyDataset`` built from a dataset config."""
    return _LazyDataset(name, config, load_version, save_version)


# --- CatalogConfigResolver -------------------------------------------------------


def resolver_configs(resolver: CatalogConfigResolver) -> Mapping[str, Any]:
    """``CatalogConfigResolver._resolved_configs``."""
    return resolver._resolved_configs


def layered_resolver(
    base: CatalogConfigResolver,
    resolved_configs: MutableMapping[str, Any],
    runtime_patterns: dict[str, Any],
    pattern_updates: Mapping[str, Any] | None = None,
) -> CatalogConfigResolver:
    """A shallow copy of ``base`` with its own resolved configs and runtime patterns.

    ``pattern_updates`` replaces the config of existing factory patterns (same
    pattern strings, so their order, which depends on the strings alone, holds).
    """
    resolver = copy.copy(base)
    resolver._resolved_configs = resolved_configs  # type: ignore[assignment]
    resolver._default_runtime_patterns = runtime_patterns
    if pattern_updates:
        resolver._dataset_patterns = {
            key: pattern_updates.get(key, value)
            for key, value in base._dataset_patterns.items()
        }
        resolver._user_catch_all_pattern = {
            key: pattern_updates.get(key, value)
            for key, value in base._user_catch_all_pattern.items()
        }
    return resolver


def resolver_patterns(resolver: CatalogConfigResolver) -> dict[str, Any]:
    """Every factory pattern of ``resolver`` with its config (user patterns only)."""
    return {**resolver._dataset_patterns, **resolver._user_catch_all_pattern}


# --- datasets --------------------------------------------------------------------


def implements_exists(dataset: AbstractDataset) -> bool:
    """Whether the dataset's class overrides ``AbstractDataset._exists``.

    Without it, Kedro's ``exists()`` logs a warning and answers False.
    """
    return getattr(type(dataset), "_exists", None) is not AbstractDataset._exists


def is_versioned(dataset: AbstractDataset) -> bool:
    """Whether ``dataset`` is versioned (``AbstractVersionedDataset._version`` set)."""
    return (
        isinstance(dataset, AbstractVersionedDataset) and dataset._version is not None
    )


def local_load_path(dataset: AbstractDataset) -> str | None:
    """The local file a dataset loads, or ``None`` (not a file dataset, or remote).

    Reads ``_filepath`` and ``_protocol`` (the convention of Kedro's file
    datasets) and, for a versioned dataset, ``_get_load_path()`` (the path of
    its load version, the latest one if none is pinned).
    """
    if getattr(dataset, "_protocol", "file") not in ("file", None):
        return None
    try:
        if is_versioned(dataset):
            return str(dataset._get_load_path())  # type: ignore[attr-defined]
    except Exception:  # no version saved yet
        return None
    path = getattr(dataset, "_filepath", None)
    return None if path is None else str(path)


def versioned_copy(
    dataset: AbstractVersionedDataset,
    load_version: str | None,
    save_version: str | None,
) -> AbstractVersionedDataset:
    """A shallow copy of a versioned dataset that loads and saves the given versions.

    Touches ``_version`` and the resolved-version caches ``_cached_load_version``
    and ``_cached_save_version``.
    """
    fresh = copy.copy(dataset)
    fresh._version = Version(load_version, save_version)
    fresh._cached_load_version = None
    fresh._cached_save_version = None
    return fresh


def memory_dataset_for(value: Any) -> MemoryDataset:
    """A ``MemoryDataset`` of ``value`` with the copy mode Kedro would infer for it.

    ``MemoryDataset`` infers its copy mode from the data on every load and save
    when none is given (``_infer_copy_mode``, which tries to import optional
    libraries each time); inferring it once, for a value that is never replaced,
    gives the same copies for less work.
    """
    return MemoryDataset(data=value, copy_mode=_infer_copy_mode(value))


def infer_copy_mode(value: Any) -> str:
    """The copy mode Kedro's ``MemoryDataset`` infers for ``value``
    (``_infer_copy_mode``: ``copy`` for DataFrames and arrays, else ``deepcopy``)."""
    mode: str = _infer_copy_mode(value)
    return mode


def memory_copy_mode(dataset: AbstractDataset) -> str | None:
    """The ``copy_mode`` a ``MemoryDataset`` was given (``_copy_mode``; ``None``:
    inferred from the data), or ``"assign"`` for any other dataset."""
    if type(dataset) is not MemoryDataset:
        return "assign"
    mode: str | None = dataset._copy_mode
    return mode


def copy_with_mode(value: Any, mode: str) -> Any:
    """``value`` copied as Kedro's ``MemoryDataset`` copies with ``mode``
    (``_copy_with_mode``: ``copy``, ``deepcopy`` or ``assign``)."""
    return _copy_with_mode(value, copy_mode=mode)  # type: ignore[arg-type]


def cached_dataset_parts(dataset: CachedDataset) -> tuple[AbstractDataset, Any]:
    """``CachedDataset._dataset`` and the copy mode of ``CachedDataset._cache``."""
    return dataset._dataset, dataset._cache._copy_mode


def cached_copy(dataset: CachedDataset, inner: AbstractDataset) -> CachedDataset:
    """A copy of a ``CachedDataset`` wrapping ``inner`` with an empty cache."""
    fresh = copy.copy(dataset)
    fresh._dataset = inner
    fresh._cache = MemoryDataset(copy_mode=dataset._cache._copy_mode)
    return fresh


# --- KedroContext ----------------------------------------------------------------


def build_context_catalog(
    context: KedroContext,
    catalog_class: type,
    save_version: str | None,
    pipeline_names: list[str] | None,
) -> DataCatalog:
    """Build the project catalog through ``KedroContext._get_catalog``.

    Sets ``KedroContext._pipelines_to_validate`` first, so that parameter
    validation looks only at the pipelines the run asked for (as Kedro's own
    session does), and a broken pipeline that nobody runs breaks nothing.
    ``None`` validates against every registered pipeline, as Kedro's
    ``context.catalog`` does.
    """
    context._pipelines_to_validate = (
        None if pipeline_names is None else list(pipeline_names)
    )
    return context._get_catalog(  # type: ignore[return-value]
        catalog_class=catalog_class, save_version=save_version
    )


def validated_params(context: KedroContext, pipeline_names: list[str] | None) -> Any:
    """``context.params`` validated against ``pipeline_names`` only, and cached.

    Sets ``KedroContext._pipelines_to_validate`` (``None``: every registered
    pipeline) and reads ``context.params``, which validates the parameters and
    caches the result for that scope: a later :func:`build_context_catalog`
    with the same names uses the cache and does not read the pipeline registry.
    """
    context._pipelines_to_validate = (
        None if pipeline_names is None else list(pipeline_names)
    )
    return context.params


def absolute_paths(project_path: Path, conf_catalog: dict[str, Any]) -> dict[str, Any]:
    """Kedro's ``_convert_paths_to_absolute_posix`` (relative paths -> project)."""
    return _convert_paths_to_absolute_posix(project_path, conf_catalog)


# --- OmegaConfigLoader ---------------------------------------------------------


def read_raw_config(loader: Any, key: str) -> RawConfig | None:
    """Parse the files for ``key`` once, unresolved (``_read_raw_config``).

    Returns ``None`` when the loader has no such API (a custom config loader)
    or when there is no config for ``key``.
    """
    if not hasattr(loader, "_read_raw_config"):
        return None
    try:
        with CONFIG_LOCK:
            return tuple(loader._read_raw_config(key))
    except MissingConfigException:
        return None


def load_config(loader: Any, key: str) -> Any:
    """``loader[key]`` (public API), under :data:`CONFIG_LOCK`.

    For a config loader without a cached parse (a custom loader), so that its
    resolution does not race with another one.
    """
    with CONFIG_LOCK:
        return loader[key]


def resolve_raw_config(
    loader: Any,
    key: str,
    raw: RawConfig,
    runtime_params: Mapping[str, Any],
    *,
    restrict_type_selection: bool = False,
) -> dict[str, Any]:
    """Resolve a cached parse with the given runtime params.

    Works on a shallow copy of ``loader`` so that the loader itself keeps its
    runtime params; registers the copy's ``runtime_params`` resolver for the
    time of the call and the original's again afterwards, all under
    :data:`CONFIG_LOCK` (OmegaConf resolvers are process-global).

    Resolves deep copies of the parsed files: Kedro merges them with
    ``OmegaConf.unsafe_merge``, which writes into its inputs (runtime params
    included), so resolving the cached parse itself would leak one call's
    params into the next.
    """
    base_configs, env_configs, *rest = raw
    files = (copy.deepcopy(base_configs), copy.deepcopy(env_configs), *rest)
    resolving = copy.copy(loader)
    resolving.runtime_params = dict(runtime_params)
    resolving._runtime_params_oc = None
    resolving._runtime_params_hits = set()
    if restrict_type_selection:
        resolving.restrict_runtime_params_type_selection = True
    with CONFIG_LOCK:
        resolving._register_runtime_params_resolver()
        try:
            return resolving._resolve_from_raw_config(key, *files)  # type: ignore[no-any-return]
        finally:
            loader._register_runtime_params_resolver()


# --- KedroSession (attributes Kedro's base class sets) ----------------------------


def session_hook_manager(session: Any) -> PluginManager:
    """``KedroSession._hook_manager``: the session's hook manager."""
    manager: PluginManager = session._hook_manager
    return manager


def session_package_name(session: Any) -> str | None:
    """``KedroSession._package_name``: the project's package name, if any."""
    name: str | None = session._package_name
    return name


def session_project_path(session: Any) -> Path:
    """``KedroSession._project_path``: the project's root folder."""
    path: Path = session._project_path
    return path


# === Kedro CLI: used by kedro_runtime/cli.py ====================================
# Owned with kedro_runtime/cli.py; checked by tests/test_cli.py::TestKedroPrivateCli.
# Imports are local so that importing a session does not import Kedro's CLI.


def split_params(ctx: Any, param: Any, value: Any) -> Any:
    """``kedro.framework.cli.utils._split_params``: how ``--params`` is parsed.

    ``"a=1,b.c=x"`` becomes ``{"a": 1, "b": {"c": "x"}}`` (values typed by
    OmegaConf); a mapping is returned as it is; a bad item fails through
    ``ctx.fail``.
    """
    from kedro.framework.cli.utils import _split_params  # noqa: PLC0415

    return _split_params(ctx, param, value)


def resolve_runner_kwargs(
    is_async: bool, runner_params: Mapping[str, Any]
) -> dict[str, Any]:
    """``kedro.framework.cli.project._resolve_runner_kwargs``.

    The keyword arguments of the runner from ``--runner-params`` and the
    deprecated ``--async`` flag, with Kedro's warning and conflict error.
    """
    from kedro.framework.cli.project import _resolve_runner_kwargs  # noqa: PLC0415

    return dict(_resolve_runner_kwargs(is_async, dict(runner_params)))


def session_config_loader(session: Any) -> Any:
    """``KedroSession._get_config_loader()``: the config loader of a session,
    built from the session's store and the project settings as Kedro does
    (under :data:`CONFIG_LOCK`: a new loader registers its resolvers)."""
    with CONFIG_LOCK:
        return session._get_config_loader()
