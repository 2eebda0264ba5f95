"""The public catalog override layer, on its own (no session)."""

from __future__ import annotations

import copy
import gc
import sys
import threading
from pathlib import Path
from typing import Any, ClassVar

import kedro.io.memory_dataset as memory_module
import numpy as np
import pandas as pd
import pytest
from _catalog_state import CatalogState
from kedro.io import (
    AbstractDataset,
    CachedDataset,
    DataCatalog,
    MemoryDataset,
    SharedMemoryDataset,
)
from kedro.io.core import DatasetError, Version
from kedro.io.data_catalog import SharedMemoryDataCatalog
from kedro.pipeline import Pipeline, node
from kedro.runner import SequentialRunner
from kedro_datasets.pandas import CSVDataset

import kedro_runtime
from kedro_runtime import (
    CatalogOverrideError,
    as_dataset,
    is_fresh_per_run,
    override_catalog,
)
from kedro_runtime.memory import RunMemoryDataset

VERSION_A = "2026-01-01T00.00.00.000Z"
VERSION_B = "2026-01-02T00.00.00.000Z"


class Counter(AbstractDataset[int, int]):
    """A stateful in-memory dataset without the ``fresh_per_run`` declaration:
    shared like any stateless connector."""

    def __init__(self) -> None:
        self.total = 0

    def load(self) -> int:
        return self.total

    def save(self, data: int) -> None:
        self.total += data

    def _describe(self) -> dict[str, Any]:
        return {"total": self.total}


class Tally(Counter):
    """The same, declaring that it must be fresh per run."""

    fresh_per_run = True


class OwnedCatalog(DataCatalog):
    """A user's DataCatalog subclass with an attribute of its own."""

    def __init__(self, *args: Any, owner: str = "nobody", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner

    def describe_owner(self) -> str:
        return f"{self.owner}: {sorted(self.keys())}"


class AssigningCatalog(DataCatalog):
    """A subclass whose runtime datasets do not copy."""

    default_runtime_patterns: ClassVar = {
        "{default}": {"type": "kedro.io.MemoryDataset", "copy_mode": "assign"}
    }


class CopyTrap:
    """Data that fails the test if anything copies or pickles it."""

    def __init__(self, payload: np.ndarray) -> None:
        self.payload = payload

    def __copy__(self) -> CopyTrap:
        raise AssertionError("the injected object was copied")

    def __deepcopy__(self, memo: dict[int, Any]) -> CopyTrap:
        raise AssertionError("the injected object was deep-copied")

    def copy(self) -> CopyTrap:
        raise AssertionError("the injected object's .copy() was called")

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise AssertionError("the injected object was pickled")


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})


@pytest.fixture
def base(tmp_path: Path, frame: pd.DataFrame) -> DataCatalog:
    """A catalog from config with materialised, lazy and pattern entries."""
    frame.to_csv(tmp_path / "sales.csv", index=False)
    frame.to_csv(tmp_path / "lazy.csv", index=False)
    frame.to_csv(tmp_path / "east_csv.csv", index=False)
    catalog = DataCatalog.from_config(
        {
            "sales": {
                "type": "pandas.CSVDataset",
                "filepath": str(tmp_path / "sales.csv"),
            },
            "lazy": {
                "type": "pandas.CSVDataset",
                "filepath": str(tmp_path / "lazy.csv"),
            },
            "lazy_memory": {"type": "MemoryDataset", "data": [1, 2]},
            "lazy_versioned": {
                "type": "pandas.CSVDataset",
                "filepath": str(tmp_path / "lazy_versioned.csv"),
                "versioned": True,
            },
            "{name}_csv": {
                "type": "pandas.CSVDataset",
                "filepath": str(tmp_path / "{name}_csv.csv"),
                "save_args": {"index": False},
            },
        }
    )
    catalog["memory"] = MemoryDataset([1, 2, 3])
    catalog["empty_memory"] = MemoryDataset()
    catalog["sales"]  # materialise one file entry, leave the other lazy
    return catalog


# --- shadowing ---------------------------------------------------------------------


def test_overrides_shadow_base_entries_and_add_new_ones(
    base: DataCatalog, frame: pd.DataFrame
) -> None:
    replacement = pd.DataFrame({"a": [9], "b": ["q"]})
    layer = override_catalog(
        base,
        {"memory": [10], "sales": replacement, "lazy": 7, "brand_new": {"k": 1}},
    )

    assert layer.load("memory") == [10]
    pd.testing.assert_frame_equal(layer.load("sales"), replacement)
    assert layer.load("lazy") == 7
    assert layer.load("brand_new") == {"k": 1}
    assert "brand_new" in layer
    assert "brand_new" in layer.keys()

    assert base.load("memory") == [1, 2, 3]
    pd.testing.assert_frame_equal(base.load("sales"), frame)
    assert "brand_new" not in base
    assert base.get("brand_new") is None


def test_raw_values_are_wrapped_like_kedro_wraps_raw_values(
    base: DataCatalog, frame: pd.DataFrame
) -> None:
    nested = {"inner": [1, 2]}
    layer = override_catalog(base, {"frame": frame, "nested": nested})
    kedro_way = DataCatalog()
    kedro_way["frame"] = frame
    kedro_way["nested"] = nested

    for name in ("frame", "nested"):
        assert type(layer[name]) is MemoryDataset
        assert layer[name]._describe() == kedro_way[name]._describe()
        # Kedro's default copy mode: inferred from the data (copy / deepcopy).
        assert layer[name]._copy_mode is None

    loaded = layer.load("frame")
    pd.testing.assert_frame_equal(loaded, frame)
    assert loaded is not frame
    loaded.loc[0, "a"] = 1000
    assert frame.loc[0, "a"] == 1

    loaded_nested = layer.load("nested")
    loaded_nested["inner"].append(3)
    assert nested == {"inner": [1, 2]}
    assert layer.load("nested") == {"inner": [1, 2]}


def test_dataset_values_are_used_as_they_are(base: DataCatalog, tmp_path: Path) -> None:
    data = {"big": list(range(10))}
    assigned = MemoryDataset(data, copy_mode="assign")
    elsewhere = CSVDataset(filepath=str(tmp_path / "elsewhere.csv"))
    layer = override_catalog(base, {"memory": assigned, "sales": elsewhere})

    assert layer["memory"] is assigned
    assert layer["sales"] is elsewhere
    assert layer.load("memory") is data
    assert base["sales"] is not elsewhere


def test_an_override_wins_over_a_factory_pattern(base: DataCatalog) -> None:
    layer = override_catalog(base, {"east_csv": [1]})
    assert layer.load("east_csv") == [1]
    assert isinstance(base["east_csv"], CSVDataset)


# --- resolving like the base -----------------------------------------------------


def test_everything_else_resolves_as_in_the_base(
    base: DataCatalog, frame: pd.DataFrame, tmp_path: Path
) -> None:
    state = CatalogState.take(base)
    layer = override_catalog(base, {"unrelated": 1})

    pd.testing.assert_frame_equal(layer.load("sales"), frame)
    pd.testing.assert_frame_equal(layer.load("lazy"), frame)
    assert layer.load("memory") == [1, 2, 3]
    assert layer.load("lazy_memory") == [1, 2]
    assert sorted(layer.keys()) == sorted([*base.keys(), "unrelated"])
    assert layer.get_type("lazy") == base.get_type("lazy")

    # A dataset factory pattern of the base.
    assert "east_csv" in layer
    pd.testing.assert_frame_equal(layer.load("east_csv"), frame)
    assert isinstance(layer["east_csv"], CSVDataset)
    assert str(layer["east_csv"]._filepath) == str(tmp_path / "east_csv.csv")
    layer.save("west_csv", frame.head(1))
    assert (tmp_path / "west_csv.csv").exists()
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "west_csv.csv"), frame.head(1))

    # Kedro's default runtime pattern, as a runner asks for it.
    assert "scratch" not in layer
    scratch = layer.get("scratch", fallback_to_runtime_pattern=True)
    assert type(scratch) is RunMemoryDataset  # a MemoryDataset: see memory.py
    assert isinstance(scratch, MemoryDataset)
    layer.save("scratch", 5)
    assert layer.load("scratch") == 5

    state.assert_unchanged()
    assert "scratch" not in base
    assert "west_csv" in base  # the pattern still matches in the base
    assert "west_csv" not in base._datasets
    assert "east_csv" not in base._datasets


def test_layer_runs_a_pipeline_like_the_base_would(base: DataCatalog) -> None:
    pipe = Pipeline(
        [
            node(lambda xs: [x * 2 for x in xs], "memory", "doubled", name="double"),
            node(sum, "doubled", "total", name="total"),
        ]
    )
    state = CatalogState.take(base)

    plain = SequentialRunner().run(pipe, override_catalog(base))
    injected = SequentialRunner().run(pipe, override_catalog(base, {"memory": [5]}))
    skipped_input = SequentialRunner().run(
        Pipeline([pipe.nodes[1]]), override_catalog(base, {"doubled": [1, 1]})
    )

    assert plain["total"].load() == 12
    assert injected["total"].load() == 10
    assert skipped_input["total"].load() == 2
    state.assert_unchanged()
    assert base.load("memory") == [1, 2, 3]


def test_lazy_and_pattern_overrides_replace_config_in_the_layer_only(
    base: DataCatalog, tmp_path: Path, frame: pd.DataFrame
) -> None:
    moved = tmp_path / "moved"
    moved.mkdir()
    frame.head(2).to_csv(moved / "lazy.csv", index=False)
    state = CatalogState.take(base)

    layer = override_catalog(
        base,
        lazy_overrides={
            "lazy": {"type": "pandas.CSVDataset", "filepath": str(moved / "lazy.csv")}
        },
        pattern_overrides={
            "{name}_csv": {
                "type": "pandas.CSVDataset",
                "filepath": str(moved / "{name}.csv"),
                "save_args": {"index": False},
            }
        },
    )

    pd.testing.assert_frame_equal(layer.load("lazy"), frame.head(2))
    layer.save("north_csv", frame)
    assert (moved / "north.csv").exists()
    assert not (tmp_path / "north_csv.csv").exists()
    state.assert_unchanged()
    pd.testing.assert_frame_equal(base.load("lazy"), frame)


# --- the base is never mutated ---------------------------------------------------


def test_no_operation_on_the_layer_changes_the_base(
    base: DataCatalog, frame: pd.DataFrame, tmp_path: Path
) -> None:
    state = CatalogState.take(base)
    assert sorted(state.lazy) == ["lazy", "lazy_memory", "lazy_versioned"]

    layer = override_catalog(base, {"memory": [0], "brand_new": 1})
    layer.load("lazy")
    layer.load("lazy_memory")
    layer.save("lazy_memory", [3])
    layer.save("empty_memory", "filled")
    layer.release("memory")
    layer.get("scratch", fallback_to_runtime_pattern=True)
    layer.get("south_csv")
    layer["sales"] = MemoryDataset(frame)  # replace a base entry in the layer
    layer["lazy_versioned"] = [1]
    layer["another"] = 2
    layer.filter(name_regex="lazy")
    layer.items()
    list(layer)
    len(layer)
    repr(layer)
    layer.exists("memory")

    state.assert_unchanged()
    assert layer.load("lazy_memory") == [3]
    assert layer.load("empty_memory") == "filled"

    del layer
    gc.collect()
    state.assert_unchanged()
    # The base still works exactly as before the layer existed.
    assert not base.exists("empty_memory")
    assert "another" not in base
    assert base.load("lazy_memory") == [1, 2]
    assert base.load("memory") == [1, 2, 3]
    pd.testing.assert_frame_equal(base.load("lazy"), frame)
    pd.testing.assert_frame_equal(base.load("sales"), frame)


def test_saving_into_a_memory_dataset_of_the_layer_leaves_the_base_alone(
    base: DataCatalog,
) -> None:
    first = override_catalog(base)
    second = override_catalog(base)

    first.save("memory", ["first"])
    first.save("empty_memory", "first")

    assert first.load("memory") == ["first"]
    assert first.load("empty_memory") == "first"
    assert second.load("memory") == [1, 2, 3]
    assert not second.exists("empty_memory")
    assert base.load("memory") == [1, 2, 3]
    assert not base.exists("empty_memory")

    first.release("memory")
    assert base.load("memory") == [1, 2, 3]
    assert second.load("memory") == [1, 2, 3]


def test_many_threads_each_see_only_their_own_layer(base: DataCatalog) -> None:
    state = CatalogState.take(base)
    errors: list[BaseException] = []
    seen: dict[int, list[Any]] = {}
    start = threading.Barrier(8)

    def work(worker: int) -> None:
        try:
            start.wait()
            mine = []
            for step in range(40):
                layer = override_catalog(base, {"lazy": (worker, step)})
                layer.save("memory", [worker, step])
                layer.get("scratch", fallback_to_runtime_pattern=True)
                layer.save("scratch", (worker, step))
                layer.save("lazy_memory", worker)
                mine.append(
                    (
                        layer.load("memory"),
                        layer.load("scratch"),
                        layer.load("lazy"),
                        layer.load("lazy_memory"),
                    )
                )
            seen[worker] = mine
        except BaseException as exc:
            errors.append(exc)

    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(previous)

    assert errors == []
    for worker, results in seen.items():
        assert results == [
            ([worker, step], (worker, step), (worker, step), worker)
            for step in range(40)
        ]
    state.assert_unchanged()
    assert base.load("memory") == [1, 2, 3]


# --- fresh or shared -------------------------------------------------------------


@pytest.fixture
def mixed(tmp_path: Path) -> DataCatalog:
    """Materialised datasets of every kind the layer treats differently."""
    versioned = DataCatalog.from_config(
        {
            "versioned": {
                "type": "pandas.CSVDataset",
                "filepath": str(tmp_path / "versioned.csv"),
                "versioned": True,
            },
            "cached_versioned": {
                "type": "CachedDataset",
                "versioned": True,
                "dataset": {
                    "type": "pandas.CSVDataset",
                    "filepath": str(tmp_path / "cached_versioned.csv"),
                },
            },
        }
    )
    catalog = DataCatalog(
        {
            "memory": MemoryDataset([1]),
            "cached_memory": CachedDataset(MemoryDataset([2])),
            "cached_file": CachedDataset(
                CSVDataset(filepath=str(tmp_path / "cached_file.csv"))
            ),
            "tally": Tally(),
            "counter": Counter(),
            "file": CSVDataset(filepath=str(tmp_path / "file.csv")),
            "versioned": versioned["versioned"],
            "cached_versioned": versioned["cached_versioned"],
        }
    )
    return catalog


FRESH = (
    "memory",
    "cached_memory",
    "cached_file",
    "tally",
    "versioned",
    "cached_versioned",
)
SHARED = ("counter", "file")


def test_stateful_datasets_are_fresh_per_layer_and_the_rest_is_shared(
    mixed: DataCatalog,
) -> None:
    state = CatalogState.take(mixed)
    first = override_catalog(mixed, save_version=VERSION_A)
    second = override_catalog(mixed, save_version=VERSION_B)

    for name in FRESH:
        assert is_fresh_per_run(mixed[name]), name
        assert first[name] is not mixed[name], f"'{name}' should be fresh per layer"
        assert first[name] is not second[name], f"'{name}' should be fresh per layer"
        assert type(first[name]) is type(mixed[name])
        assert first[name] is first[name], f"'{name}' should be built once per layer"
    for name in SHARED:
        assert not is_fresh_per_run(mixed[name]), name
        assert first[name] is mixed[name], f"'{name}' should be shared with the base"
        assert second[name] is mixed[name], f"'{name}' should be shared with the base"
    state.assert_unchanged()


def test_fresh_datasets_keep_their_state_in_the_layer(mixed: DataCatalog) -> None:
    first = override_catalog(mixed)
    second = override_catalog(mixed)

    first.save("tally", 5)
    first.save("cached_memory", 20)
    first.save("counter", 3)

    assert first.load("tally") == 5
    assert second.load("tally") == 0
    assert mixed.load("tally") == 0
    assert first.load("cached_memory") == 20
    assert second.load("cached_memory") == [2]
    assert mixed.load("cached_memory") == [2]
    # Shared, as a file is shared: every layer and the base see it.
    assert second.load("counter") == 3
    assert mixed.load("counter") == 3


def test_cached_dataset_cache_is_per_layer(mixed: DataCatalog, tmp_path: Path) -> None:
    pd.DataFrame({"v": [0]}).to_csv(tmp_path / "cached_file.csv")
    first = override_catalog(mixed)
    first.save("cached_file", pd.DataFrame({"v": [1]}))

    assert first["cached_file"]._cache.exists()
    assert not mixed["cached_file"]._cache.exists()
    assert first["cached_file"]._dataset is mixed["cached_file"]._dataset


def test_versioned_datasets_save_under_the_layer_save_version(
    mixed: DataCatalog, tmp_path: Path
) -> None:
    state = CatalogState.take(mixed)
    data_a = pd.DataFrame({"v": [1, 2]})
    data_b = pd.DataFrame({"v": [3]})
    first = override_catalog(mixed, save_version=VERSION_A)
    second = override_catalog(mixed, save_version=VERSION_B)

    first.save("versioned", data_a)
    second.save("versioned", data_b)
    first.save("cached_versioned", data_a)

    assert (tmp_path / "versioned.csv" / VERSION_A / "versioned.csv").exists()
    assert (tmp_path / "versioned.csv" / VERSION_B / "versioned.csv").exists()
    assert (
        tmp_path / "cached_versioned.csv" / VERSION_A / "cached_versioned.csv"
    ).exists()
    saved_a = pd.read_csv(tmp_path / "versioned.csv" / VERSION_A / "versioned.csv")
    pd.testing.assert_frame_equal(saved_a, data_a)
    pinned = override_catalog(mixed, load_versions={"versioned": VERSION_A})
    pd.testing.assert_frame_equal(pinned.load("versioned"), data_a)
    pd.testing.assert_frame_equal(override_catalog(mixed).load("versioned"), data_b)
    state.assert_unchanged()


def test_versioned_datasets_are_fresh_even_without_a_save_version(
    tmp_path: Path,
) -> None:
    base = DataCatalog(
        {
            "versioned": CSVDataset(
                filepath=str(tmp_path / "v.csv"), version=Version(None, None)
            ),
            "cached_versioned": CachedDataset(
                CSVDataset(
                    filepath=str(tmp_path / "c.csv"), version=Version(None, None)
                )
            ),
        }
    )
    assert base._save_version is None
    first = override_catalog(base)
    second = override_catalog(base)
    for name in ("versioned", "cached_versioned"):
        assert is_fresh_per_run(base[name])
        assert first[name] is not base[name], f"'{name}' is shared with the base"
        assert first[name] is not second[name], f"'{name}' is shared by two layers"


def test_lazy_fresh_entries_are_built_in_the_layer_and_stay_lazy_in_the_base(
    base: DataCatalog, tmp_path: Path
) -> None:
    state = CatalogState.take(base)
    layer = override_catalog(base, save_version=VERSION_A)

    layer.save("lazy_versioned", pd.DataFrame({"v": [1]}))
    layer.save("lazy_memory", [9])

    assert (tmp_path / "lazy_versioned.csv" / VERSION_A / "lazy_versioned.csv").exists()
    assert override_catalog(base).load("lazy_memory") == [1, 2]
    state.assert_unchanged()


# --- catalog classes ---------------------------------------------------------------


def test_a_user_subclass_keeps_its_class_and_attributes(tmp_path: Path) -> None:
    base = OwnedCatalog({"memory": MemoryDataset([1])}, owner="team-a")
    state = CatalogState.take(base)

    layer = override_catalog(base, {"memory": [2], "extra": 3})

    assert type(layer) is OwnedCatalog
    assert layer.owner == "team-a"
    assert layer.describe_owner() == "team-a: ['extra', 'memory']"
    assert layer.load("memory") == [2]
    result = SequentialRunner().run(
        Pipeline([node(lambda xs, k: [*xs, k], ["memory", "extra"], "out")]), layer
    )
    assert result["out"].load() == [2, 3]
    state.assert_unchanged()
    assert base.describe_owner() == "team-a: ['memory']"


def test_a_subclass_default_runtime_pattern_is_honoured() -> None:
    base = AssigningCatalog({"memory": MemoryDataset([1])})
    layer = override_catalog(base)
    scratch = layer.get("scratch", fallback_to_runtime_pattern=True)
    payload = [1, 2]
    layer.save("scratch", payload)

    assert isinstance(scratch, MemoryDataset)
    assert layer.load("scratch") is payload
    assert "scratch" not in base


def test_shared_memory_catalog_class(base: DataCatalog) -> None:
    state = CatalogState.take(base)
    layer = override_catalog(
        base, {"memory": [4]}, catalog_class=SharedMemoryDataCatalog
    )

    assert isinstance(layer, SharedMemoryDataCatalog)
    assert layer.load("memory") == [4]
    runtime = layer.get("scratch", fallback_to_runtime_pattern=True)
    assert type(runtime) is SharedMemoryDataset
    assert type(override_catalog(base).get("scratch", True)) is RunMemoryDataset
    layer.validate_catalog()
    state.assert_unchanged()


def test_shared_memory_catalog_as_base() -> None:
    base = SharedMemoryDataCatalog({"memory": MemoryDataset([1])})
    state = CatalogState.take(base)
    layer = override_catalog(base, {"extra": 2})

    assert type(layer) is SharedMemoryDataCatalog
    assert type(layer.get("scratch", True)) is SharedMemoryDataset
    assert layer.load("extra") == 2
    assert layer.load("memory") == [1]
    state.assert_unchanged()


# --- cost --------------------------------------------------------------------------


def test_building_a_layer_does_not_copy_injected_data(
    base: DataCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    huge = np.zeros(10**7, dtype=np.uint8)
    trap = CopyTrap(huge)
    assigned = MemoryDataset(huge, copy_mode="assign")
    trap_dataset = MemoryDataset(trap, copy_mode="assign")
    copied: list[str] = []

    def spy(name: str, real: Any) -> Any:
        def wrapper(data: Any, *args: Any, **kwargs: Any) -> Any:
            mode = kwargs.get("copy_mode", args[0] if args else None)
            mine = data is huge or getattr(data, "payload", None) is huge
            if mine and mode != "assign":
                copied.append(name)
            return real(data, *args, **kwargs)

        return wrapper

    monkeypatch.setattr(
        memory_module,
        "_copy_with_mode",
        spy("_copy_with_mode", memory_module._copy_with_mode),
    )
    monkeypatch.setattr(copy, "copy", spy("copy.copy", copy.copy))
    monkeypatch.setattr(copy, "deepcopy", spy("copy.deepcopy", copy.deepcopy))

    layer = override_catalog(
        base,
        {"raw": huge, "trap": trap, "assigned": assigned, "trap_ds": trap_dataset},
    )

    assert copied == []
    # Datasets passed in are used as they are, and an assign-mode dataset hands
    # the very object to the nodes.
    assert layer.load("assigned") is huge
    assert layer.load("trap_ds") is trap
    assert layer["assigned"] is assigned
    assert copied == []


# --- errors ------------------------------------------------------------------------


@pytest.mark.parametrize("not_a_catalog", [{}, None, {"a": MemoryDataset()}, "catalog"])
def test_base_must_be_a_data_catalog(not_a_catalog: Any) -> None:
    with pytest.raises(CatalogOverrideError, match=r"kedro\.io\.DataCatalog") as info:
        override_catalog(not_a_catalog, {"a": 1})
    assert type(not_a_catalog).__name__ in str(info.value)


@pytest.mark.parametrize("key", [1, None, ("a",), ""])
def test_override_keys_must_be_dataset_names(base: DataCatalog, key: Any) -> None:
    state = CatalogState.take(base)
    with pytest.raises(CatalogOverrideError, match="dataset names") as info:
        override_catalog(base, {"memory": 1, key: 2})
    assert repr(key) in str(info.value)
    state.assert_unchanged()


@pytest.mark.parametrize(
    "catalog_class", [dict, "DataCatalog", DataCatalog(), MemoryDataset, 3]
)
def test_catalog_class_must_be_a_data_catalog_subclass(
    base: DataCatalog, catalog_class: Any
) -> None:
    with pytest.raises(CatalogOverrideError, match="catalog_class") as info:
        override_catalog(base, catalog_class=catalog_class)
    assert "DataCatalog" in str(info.value)


def test_catalog_override_error_is_public_and_a_dataset_error() -> None:
    assert kedro_runtime.CatalogOverrideError is CatalogOverrideError
    assert issubclass(CatalogOverrideError, DatasetError)


# --- helpers -----------------------------------------------------------------------


def test_is_fresh_per_run(tmp_path: Path) -> None:
    class SubMemory(MemoryDataset):
        pass

    class NotFresh(Counter):
        fresh_per_run = False

    versioned = DataCatalog.from_config(
        {
            "v": {
                "type": "pandas.CSVDataset",
                "filepath": str(tmp_path / "v.csv"),
                "versioned": True,
            }
        }
    )["v"]
    assert is_fresh_per_run(MemoryDataset())
    assert is_fresh_per_run(SubMemory([1]))
    assert is_fresh_per_run(CachedDataset(CSVDataset(filepath=str(tmp_path / "c.csv"))))
    assert is_fresh_per_run(versioned)
    assert is_fresh_per_run(Tally())
    assert not is_fresh_per_run(CSVDataset(filepath=str(tmp_path / "c.csv")))
    assert not is_fresh_per_run(Counter())
    assert not is_fresh_per_run(NotFresh())


def test_as_dataset(frame: pd.DataFrame) -> None:
    dataset = CSVDataset(filepath="x.csv")
    assert as_dataset(dataset) is dataset
    memory = MemoryDataset([1])
    assert as_dataset(memory) is memory

    wrapped = as_dataset(frame)
    assert type(wrapped) is MemoryDataset
    loaded = wrapped.load()
    pd.testing.assert_frame_equal(loaded, frame)
    assert loaded is not frame

    for raw in (1, "text", [1, 2], {"a": {"b": 1}}, None):
        assert as_dataset(raw).load() == raw
