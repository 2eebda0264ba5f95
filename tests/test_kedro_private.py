"""One test per private Kedro API that ``kedro_runtime/_kedro_private.py`` uses.

Each test checks that the API exists with the shape the module relies on, and
fails with a message naming the API when a Kedro release changes it.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path

import attrs
import pytest
from kedro import __version__ as kedro_version
from kedro.config import OmegaConfigLoader
from kedro.framework.context import KedroContext
from kedro.io import CachedDataset, DataCatalog, MemoryDataset
from kedro.io.catalog_config_resolver import CatalogConfigResolver
from kedro.io.core import AbstractDataset, AbstractVersionedDataset, Version
from kedro.io.data_catalog import SharedMemoryDataCatalog
from kedro_datasets.pandas import CSVDataset
from omegaconf import OmegaConf
from pytest_mock import MockerFixture

from kedro_runtime import KedroSession
from kedro_runtime import _kedro_private as private

CATALOG_STATE = {
    "_config_resolver",
    "_datasets",
    "_lazy_datasets",
    "_load_versions",
    "_save_validated",
    "_save_version",
    "_validator_specs",
    "_validators",
    "validation_enabled",
}
"""Instance attributes of a DataCatalog as of kedro 1.7; ``layered_catalog``
copies ``__dict__`` and replaces the mutable ones, so a new one must be reviewed."""


def changed(api: str) -> str:
    """The failure message for a private API that is not as expected."""
    return (
        f"kedro {kedro_version} changed {api}; update kedro_runtime/_kedro_private.py"
    )


def params_of(function: object) -> list[str]:
    """Parameter names of a function, without ``self``."""
    return [
        name
        for name in inspect.signature(function).parameters  # type: ignore[arg-type]
        if name != "self"
    ]


@pytest.fixture
def catalog(tmp_path: Path) -> DataCatalog:
    """A catalog with an explicit entry, two patterns, versions and a memory entry."""
    return DataCatalog.from_config(
        {
            "prices": {
                "type": "pandas.CSVDataset",
                "filepath": str(tmp_path / "p.csv"),
            },
            "{name}_csv": {
                "type": "pandas.CSVDataset",
                "filepath": str(tmp_path) + "/{name}.csv",
            },
            "{anything}": {"type": "MemoryDataset"},
        },
        load_versions={"prices": "2020-01-01T00.00.00.000Z"},
        save_version="2026-01-01T00.00.00.000Z",
    )


@pytest.fixture
def loader(tmp_path: Path) -> OmegaConfigLoader:
    """A config loader over ``base`` and ``local`` with one interpolated parameter."""
    conf = tmp_path / "conf"
    (conf / "base").mkdir(parents=True)
    (conf / "local").mkdir()
    (conf / "base" / "parameters.yml").write_text("a: 1\nb: ${a}\nnested:\n  c: 3\n")
    return OmegaConfigLoader(
        str(conf), base_env="base", default_run_env="local", runtime_params={"a": 2}
    )


# --- DataCatalog ---------------------------------------------------------------------


def test_catalog_instance_state(catalog: DataCatalog) -> None:
    api = "the instance attributes of DataCatalog"
    assert set(vars(catalog)) == CATALOG_STATE, changed(api)
    shared = SharedMemoryDataCatalog.from_config({})
    assert set(vars(shared)) == CATALOG_STATE, changed(
        "the instance attributes of SharedMemoryDataCatalog"
    )


def test_catalog_datasets(catalog: DataCatalog) -> None:
    api = "DataCatalog._datasets"
    datasets = private.catalog_datasets(catalog)
    assert isinstance(datasets, dict), changed(api)
    assert "prices" not in datasets, changed(api)
    catalog.get("prices")
    assert isinstance(datasets.get("prices"), CSVDataset), changed(api)
    # The catalog reads and writes through whatever mapping it holds.
    mapping: dict[str, AbstractDataset] = {"x": MemoryDataset(5)}
    catalog._datasets = mapping  # type: ignore[assignment]
    assert catalog.load("x") == 5, changed(api)
    catalog["y"] = 6
    assert "y" in mapping, changed(api)


def test_catalog_lazy_datasets(catalog: DataCatalog) -> None:
    api = "DataCatalog._lazy_datasets"
    lazy = private.catalog_lazy_datasets(catalog)
    assert isinstance(lazy, dict), changed(api)
    assert set(lazy) == {"prices"}, changed(api)
    assert private.is_lazy_dataset(lazy["prices"]), changed(api)
    catalog.get("prices")
    assert "prices" not in lazy, changed(f"{api} (entries leave it once built)")


def test_catalog_config_resolver(catalog: DataCatalog) -> None:
    api = "DataCatalog._config_resolver"
    assert isinstance(catalog._config_resolver, CatalogConfigResolver), changed(api)
    assert catalog.config_resolver is catalog._config_resolver, changed(api)
    other = CatalogConfigResolver({"{name}_csv": {"type": "MemoryDataset"}})
    catalog._config_resolver = other
    assert isinstance(catalog.get("sales_csv"), MemoryDataset), changed(
        f"{api} (patterns resolve through it)"
    )


def test_catalog_load_versions(catalog: DataCatalog) -> None:
    api = "DataCatalog._load_versions"
    versions = private.catalog_load_versions(catalog)
    assert versions == {"prices": "2020-01-01T00.00.00.000Z"}, changed(api)


def test_catalog_save_version(catalog: DataCatalog) -> None:
    api = "DataCatalog._save_version"
    assert private.catalog_save_version(catalog) == "2026-01-01T00.00.00.000Z", changed(
        api
    )


def test_catalog_validator_state(catalog: DataCatalog) -> None:
    api = "DataCatalog._validator_specs, _validators and _save_validated"
    specs, validators = private.catalog_validator_state(catalog)
    assert isinstance(specs, Mapping), changed(api)
    assert isinstance(validators, Mapping), changed(api)
    assert isinstance(catalog._save_validated, set), changed(api)


def test_layered_catalog_state_is_honoured(catalog: DataCatalog) -> None:
    """A catalog built by ``layered_catalog`` works through the mappings it is given."""
    api = "the DataCatalog state set by layered_catalog"
    datasets: dict[str, AbstractDataset] = {"x": MemoryDataset(1)}
    layer = private.layered_catalog(
        DataCatalog,
        catalog,
        datasets=datasets,
        lazy_datasets={},
        config_resolver=catalog.config_resolver,
        load_versions={},
        save_version="v",
        validator_specs={},
        validators={},
    )
    assert layer.load("x") == 1, changed(api)
    layer.save("z", 3)
    assert "z" in datasets, changed(api)
    assert "z" not in private.catalog_datasets(catalog), changed(api)


# --- _LazyDataset --------------------------------------------------------------------


def test_lazy_dataset(catalog: DataCatalog, tmp_path: Path) -> None:
    api = "kedro.io.data_catalog._LazyDataset"
    from kedro.io.data_catalog import _LazyDataset  # noqa: PLC0415

    assert params_of(_LazyDataset.__init__) == [
        "name",
        "config",
        "load_version",
        "save_version",
    ], changed(api)
    config = {
        "type": "pandas.CSVDataset",
        "filepath": str(tmp_path / "v.csv"),
        "versioned": True,
    }
    lazy = private.lazy_dataset("v", config, "L1", "S1")
    assert (lazy.name, lazy.config) == ("v", config), changed(api)
    save = "2026-01-01T00.00.00.000Z"  # a catalog's datasets share its save version
    again = private.relazy(lazy, "v", "L2", save)
    assert (again.load_version, again.save_version) == ("L2", save), changed(api)
    # A catalog builds it on first access, with its versions.
    private.catalog_lazy_datasets(catalog)["v"] = again
    dataset = catalog.get("v")
    assert isinstance(dataset, CSVDataset), changed(api)
    assert dataset.resolve_save_version() == save, changed(api)
    assert dataset.resolve_load_version() == "L2", changed(api)


# --- CatalogConfigResolver -----------------------------------------------------------


def test_resolver_resolved_configs(catalog: DataCatalog) -> None:
    api = "CatalogConfigResolver._resolved_configs"
    configs = private.resolver_configs(catalog.config_resolver)
    assert isinstance(configs, dict), changed(api)
    assert set(configs) == {"prices"}, changed(api)
    assert configs["prices"]["type"] == "pandas.CSVDataset", changed(api)


def test_resolver_default_runtime_patterns(catalog: DataCatalog) -> None:
    api = "CatalogConfigResolver._default_runtime_patterns"
    patterns = catalog.config_resolver._default_runtime_patterns
    assert isinstance(patterns, dict), changed(api)
    assert patterns == dict(DataCatalog.default_runtime_patterns), changed(api)


def test_resolver_dataset_patterns(catalog: DataCatalog) -> None:
    api = "CatalogConfigResolver._dataset_patterns"
    patterns = catalog.config_resolver._dataset_patterns
    assert isinstance(patterns, dict), changed(api)
    assert list(patterns) == ["{name}_csv"], changed(api)


def test_resolver_user_catch_all_pattern(catalog: DataCatalog) -> None:
    api = "CatalogConfigResolver._user_catch_all_pattern"
    patterns = catalog.config_resolver._user_catch_all_pattern
    assert isinstance(patterns, dict), changed(api)
    assert patterns == {"{anything}": {"type": "MemoryDataset"}}, changed(api)
    assert private.resolver_patterns(catalog.config_resolver) == {
        "{name}_csv": catalog.config_resolver._dataset_patterns["{name}_csv"],
        "{anything}": {"type": "MemoryDataset"},
    }, changed(api)


def test_layered_resolver_replaces_pattern_config(
    catalog: DataCatalog, tmp_path: Path
) -> None:
    api = "the CatalogConfigResolver state set by layered_resolver"
    new = {"type": "pandas.CSVDataset", "filepath": str(tmp_path) + "/other/{name}.csv"}
    resolver = private.layered_resolver(
        catalog.config_resolver, {}, {}, {"{name}_csv": new}
    )
    config = resolver.resolve_pattern("sales_csv")
    assert config["filepath"] == str(tmp_path) + "/other/sales.csv", changed(api)
    base_config = catalog.config_resolver.resolve_pattern("sales_csv")
    assert base_config["filepath"] == str(tmp_path) + "/sales.csv", changed(api)


# --- datasets ------------------------------------------------------------------------


def test_versioned_dataset_private_state(tmp_path: Path) -> None:
    api = (
        "AbstractVersionedDataset._version, _cached_load_version, _cached_save_version"
    )
    path = tmp_path / "out.csv"
    dataset = CSVDataset(filepath=str(path), version=Version(None, "S1"))
    assert isinstance(dataset, AbstractVersionedDataset), changed(api)
    assert dataset._version == Version(None, "S1"), changed(api)
    assert private.is_versioned(dataset), changed(api)
    assert not private.is_versioned(CSVDataset(filepath=str(path))), changed(api)
    assert dataset.resolve_save_version() == "S1"
    assert hasattr(dataset, "_cached_load_version"), changed(api)
    assert hasattr(dataset, "_cached_save_version"), changed(api)

    import pandas as pd  # noqa: PLC0415

    copy = private.versioned_copy(dataset, None, "S2")
    copy.save(pd.DataFrame({"a": [1]}))
    assert (path / "S2" / "out.csv").is_file(), changed(api)
    assert not (path / "S1").exists(), changed(api)
    assert copy.load()["a"].tolist() == [1], changed(api)
    assert dataset._version == Version(None, "S1"), changed(api)


def test_local_load_path(tmp_path: Path) -> None:
    api = "file datasets' _filepath and _protocol, AbstractVersionedDataset._get_load_path"
    import pandas as pd  # noqa: PLC0415

    path = tmp_path / "in.csv"
    plain = CSVDataset(filepath=str(path))
    assert private.local_load_path(plain) == str(path), changed(api)
    versioned = CSVDataset(filepath=str(path), version=Version(None, "S1"))
    assert private.local_load_path(versioned) is None  # no version saved yet
    versioned.save(pd.DataFrame({"a": [1]}))
    latest = CSVDataset(filepath=str(path), version=Version(None, None))
    assert private.local_load_path(latest) == str(path / "S1" / "in.csv"), changed(api)
    remote = CSVDataset(filepath="memory://bucket/in.csv")
    assert private.local_load_path(remote) is None, changed(api)
    assert private.local_load_path(MemoryDataset(1)) is None


def test_memory_copy_mode(tmp_path: Path) -> None:
    api = "MemoryDataset._copy_mode"
    assert private.memory_copy_mode(MemoryDataset()) is None, changed(api)
    dataset = MemoryDataset(copy_mode="deepcopy")
    assert private.memory_copy_mode(dataset) == "deepcopy", changed(api)
    assert private.memory_copy_mode(CSVDataset(filepath=str(tmp_path))) == "assign"


def test_cached_dataset_parts() -> None:
    api = "CachedDataset._dataset and _cache"
    inner = MemoryDataset(copy_mode="assign")
    cached = CachedDataset(inner, copy_mode="deepcopy")
    dataset, copy_mode = private.cached_dataset_parts(cached)
    assert dataset is inner, changed(api)
    assert copy_mode == "deepcopy", changed(api)
    assert isinstance(cached._cache, MemoryDataset), changed(api)

    cached.save([1])
    other_inner = MemoryDataset(copy_mode="assign")
    fresh = private.cached_copy(cached, other_inner)
    assert not fresh._cache.exists(), changed(api)
    fresh.save([2])
    assert other_inner.load() == [2], changed(api)
    assert cached.load() == [1], changed(api)


class _NoExists(AbstractDataset[int, int]):
    def _load(self) -> int:
        return 1

    def _save(self, data: int) -> None:
        pass

    def _describe(self) -> dict[str, object]:
        return {}


def test_abstract_dataset_exists_default() -> None:
    api = "AbstractDataset._exists (the default that answers False)"
    assert callable(vars(AbstractDataset).get("_exists")), changed(api)
    assert _NoExists().exists() is False, changed(api)
    assert not private.implements_exists(_NoExists()), changed(api)
    assert private.implements_exists(MemoryDataset()), changed(api)
    assert private.implements_exists(CSVDataset(filepath="x.csv")), changed(api)


# --- KedroContext --------------------------------------------------------------------


def test_infer_copy_mode() -> None:
    import numpy as np  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415
    from kedro.io import memory_dataset  # noqa: PLC0415

    infer = getattr(memory_dataset, "_infer_copy_mode", None)
    assert callable(infer), changed("kedro.io.memory_dataset._infer_copy_mode")
    assert infer(pd.DataFrame({"a": [1]})) == "copy", changed("_infer_copy_mode")
    assert infer(np.arange(3)) == "copy", changed("_infer_copy_mode")
    assert infer({"a": [1]}) == "deepcopy", changed("_infer_copy_mode")


def test_memory_dataset_for_copies_as_a_default_memory_dataset() -> None:
    """Same copies as ``MemoryDataset(data=value)``: the caller's data is safe."""
    import pandas as pd  # noqa: PLC0415

    for value in ({"a": [1, 2]}, pd.DataFrame({"a": [1, 2]})):
        dataset = private.memory_dataset_for(value)
        loaded = dataset.load()
        assert loaded is not value
        if isinstance(value, dict):
            loaded["a"].append(3)
            assert value == {"a": [1, 2]}
            assert dataset.load() == {"a": [1, 2]}
        else:
            loaded.loc[0, "a"] = 99
            assert value["a"].tolist() == [1, 2]
            assert dataset.load()["a"].tolist() == [1, 2]


def test_context_get_catalog(session: KedroSession) -> None:
    api = "KedroContext._get_catalog"
    assert params_of(KedroContext._get_catalog) == [
        "catalog_class",
        "save_version",
        "load_versions",
    ], changed(api)
    context = session.load_context()
    catalog = private.build_context_catalog(context, DataCatalog, "S9", ["orders"])
    assert isinstance(catalog, DataCatalog), changed(api)
    assert private.catalog_save_version(catalog) == "S9", changed(api)
    assert "prices" in catalog, changed(api)
    assert catalog.load("params:top_n") == 3, changed(api)


def test_context_pipelines_to_validate(
    session: KedroSession, mocker: MockerFixture
) -> None:
    api = "KedroContext._pipelines_to_validate"
    fields = attrs.fields_dict(KedroContext)
    assert "_pipelines_to_validate" in fields, changed(api)
    assert fields["_pipelines_to_validate"].default is None, changed(api)

    from kedro.validation.parameter_validator import ParameterValidator  # noqa: PLC0415

    spy = mocker.spy(ParameterValidator, "__init__")
    private.build_context_catalog(session.load_context(), DataCatalog, "S1", ["orders"])
    assert spy.call_count == 1, changed(api)
    assert set(spy.call_args.args[1]) == {"orders"}, changed(
        f"{api} (it scopes parameter validation)"
    )


def test_convert_paths_to_absolute_posix(tmp_path: Path) -> None:
    api = "kedro.framework.context.context._convert_paths_to_absolute_posix"
    from kedro.framework.context.context import (  # noqa: PLC0415
        _convert_paths_to_absolute_posix,
    )

    assert params_of(_convert_paths_to_absolute_posix) == [
        "project_path",
        "conf_dictionary",
    ], changed(api)
    converted = private.absolute_paths(
        tmp_path, {"x": {"type": "pandas.CSVDataset", "filepath": "data/x.csv"}}
    )
    assert converted["x"]["filepath"] == (tmp_path / "data" / "x.csv").as_posix(), (
        changed(api)
    )


# --- OmegaConfigLoader ---------------------------------------------------------------


def test_loader_read_raw_config(loader: OmegaConfigLoader) -> None:
    api = "OmegaConfigLoader._read_raw_config"
    raw = private.read_raw_config(loader, "parameters")
    assert raw is not None, changed(api)
    assert len(raw) == 5, changed(api)
    base, env, base_path, env_path, processed = raw
    assert isinstance(base, dict), changed(api)
    assert isinstance(env, dict), changed(api)
    assert isinstance(base_path, str), changed(api)
    assert isinstance(env_path, str), changed(api)
    assert isinstance(processed, set), changed(api)
    assert len(base) == 1, changed(api)
    assert private.read_raw_config(loader, "catalog") is not None, changed(
        f"{api} (no files for a key is not an error)"
    )


def test_loader_resolve_from_raw_config(loader: OmegaConfigLoader) -> None:
    api = "OmegaConfigLoader._resolve_from_raw_config"
    assert params_of(OmegaConfigLoader._resolve_from_raw_config) == [
        "key",
        "base_configs",
        "env_configs",
        "base_path",
        "env_path",
        "processed_files",
    ], changed(api)
    raw = private.read_raw_config(loader, "parameters")
    assert raw is not None
    assert loader._resolve_from_raw_config("parameters", *raw) == {
        "a": 2,
        "b": 2,
        "nested": {"c": 3},
    }, changed(api)


def test_resolve_raw_config_leaves_the_cached_parse_alone(
    loader: OmegaConfigLoader,
) -> None:
    """Kedro's merge writes into the parsed files; resolving must work on copies."""
    raw = private.read_raw_config(loader, "parameters")
    assert raw is not None
    first = private.resolve_raw_config(
        loader, "parameters", raw, {"a": 5, "nested": {"d": 1}}
    )
    second = private.resolve_raw_config(loader, "parameters", raw, {})
    assert first == {"a": 5, "b": 5, "nested": {"c": 3, "d": 1}}
    assert second == {"a": 1, "b": 1, "nested": {"c": 3}}
    assert loader.runtime_params == {"a": 2}


def test_loader_runtime_params_oc_and_hits(loader: OmegaConfigLoader) -> None:
    api = "OmegaConfigLoader._runtime_params_oc and _runtime_params_hits"
    assert hasattr(loader, "_runtime_params_oc"), changed(api)
    assert isinstance(loader._runtime_params_hits, set), changed(api)
    # The resolver caches runtime params in `_runtime_params_oc`: resetting it
    # to None must make the next lookup read `runtime_params` again.
    loader._register_runtime_params_resolver()
    assert OmegaConf.create({"v": "${runtime_params:a}"}).v == 2
    loader.runtime_params = {"a": 7}
    loader._runtime_params_oc = None
    assert OmegaConf.create({"v": "${runtime_params:a}"}).v == 7, changed(api)


def test_loader_register_runtime_params_resolver(loader: OmegaConfigLoader) -> None:
    api = "OmegaConfigLoader._register_runtime_params_resolver"
    assert params_of(OmegaConfigLoader._register_runtime_params_resolver) == [], (
        changed(api)
    )
    loader.runtime_params = {"region": "eu"}
    loader._runtime_params_oc = None
    loader._register_runtime_params_resolver()
    config = OmegaConf.create({"path": "s_${runtime_params:region, all}.csv"})
    assert config.path == "s_eu.csv", changed(api)


# --- Kedro CLI --------------------------------------------------------------------------


def test_cli_split_params() -> None:
    api = "kedro.framework.cli.utils._split_params"
    assert private.split_params(None, None, "a=1,b.c=x") == {
        "a": 1,
        "b": {"c": "x"},
    }, changed(api)
    assert private.split_params(None, None, {"k": 1}) == {"k": 1}, changed(api)


def test_cli_resolve_runner_kwargs() -> None:
    api = "kedro.framework.cli.project._resolve_runner_kwargs"
    assert private.resolve_runner_kwargs(False, {"max_workers": 2}) == {
        "max_workers": 2,
        "is_async": False,
    }, changed(api)


def test_session_get_config_loader(session: KedroSession) -> None:
    api = "KedroSession._get_config_loader"
    loader = private.session_config_loader(session)
    assert isinstance(loader, OmegaConfigLoader), changed(api)
    assert loader["parameters"]["top_n"] == 3, changed(api)


def test_context_validated_params_are_cached_for_the_catalog(
    session: KedroSession, mocker: MockerFixture
) -> None:
    """kedro-runtime validates under its registry lock, then builds the catalog
    (and fires ``after_catalog_created``) without it: the catalog must use the
    validation cached for the same scope."""
    api = "KedroContext._pipelines_to_validate (validated params cache)"
    from kedro.validation.parameter_validator import ParameterValidator  # noqa: PLC0415

    context = session.load_context()
    spy = mocker.spy(ParameterValidator, "__init__")
    params = private.validated_params(context, ["orders"])
    assert params["top_n"] == 3, changed(api)
    assert spy.call_count == 1, changed(api)
    assert set(spy.call_args.args[1]) == {"orders"}, changed(api)
    private.build_context_catalog(context, DataCatalog, "S3", ["orders"])
    assert spy.call_count == 1, changed(f"{api}: the catalog validated again")


def test_session_base_attributes(session: KedroSession, project_path: Path) -> None:
    from pluggy import PluginManager  # noqa: PLC0415

    manager = private.session_hook_manager(session)
    assert isinstance(manager, PluginManager), changed("KedroSession._hook_manager")
    assert hasattr(manager.hook, "after_context_created"), changed(
        "KedroSession._hook_manager"
    )
    assert private.session_package_name(session) == "orders_demo", changed(
        "KedroSession._package_name"
    )
    assert private.session_project_path(session) == project_path, changed(
        "KedroSession._project_path"
    )
