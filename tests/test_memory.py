"""A run's intermediate data is kept as Kedro's ``MemoryDataset`` keeps it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from kedro.io import DatasetError, MemoryDataset

from kedro_runtime import KedroSession
from kedro_runtime.memory import RunMemoryDataset


class _Thing:
    """A plain object: Kedro deep-copies it."""

    def __init__(self) -> None:
        self.items = [1, 2]


def _inner(value: Any) -> Any:
    """A mutable part of ``value``, to tell a shallow copy from a deep one."""
    if isinstance(value, dict):
        return value["a"]
    if isinstance(value, list):
        return value[1]
    if isinstance(value, _Thing):
        return value.items
    if isinstance(value, pd.DataFrame):
        return value["a"].to_numpy()
    return None


VALUES: dict[str, Callable[[], Any]] = {
    "DataFrame": lambda: pd.DataFrame({"a": [1, 2]}),
    "ndarray": lambda: np.arange(3),
    "dict": lambda: {"a": [1, 2]},
    "list": lambda: [1, [2, 3]],
    "object": _Thing,
    "str": lambda: "text",
    "int": lambda: 3,
}


def _behaviour(dataset: MemoryDataset, make: Callable[[], Any]) -> tuple[Any, ...]:
    """What a user of ``dataset`` can observe over a save and two loads."""
    before = dataset.exists()
    value = make()
    try:
        dataset.save(value)
        first, second = dataset.load(), dataset.load()
    except DatasetError as error:
        return ("error", type(error.__cause__).__name__)
    inner = _inner(value)
    shares = (
        None
        if inner is None
        else np.shares_memory(inner, _inner(first))
        if isinstance(inner, np.ndarray)
        else inner is _inner(first)
    )
    after = dataset.exists()
    dataset.release()
    return (before, after, dataset.exists(), first is value, first is second, shares)


@pytest.mark.parametrize("copy_mode", [None, "copy", "deepcopy", "assign"])
@pytest.mark.parametrize("kind", sorted(VALUES))
def test_copies_as_kedro_memory_dataset(kind: str, copy_mode: str | None) -> None:
    make = VALUES[kind]
    expected = _behaviour(MemoryDataset(copy_mode=copy_mode), make)  # type: ignore[arg-type]
    assert _behaviour(RunMemoryDataset(copy_mode=copy_mode), make) == expected
    # The mode is worked out per type once, then reused: same answer again.
    assert _behaviour(RunMemoryDataset(copy_mode=copy_mode), make) == expected


def test_an_empty_one_refuses_a_load_as_kedro_does() -> None:
    with pytest.raises(DatasetError, match="has not been saved yet"):
        RunMemoryDataset().load()
    with pytest.raises(DatasetError, match="has not been saved yet"):
        MemoryDataset().load()


def test_a_run_keeps_its_intermediate_data_in_memory_datasets(
    make_project: Callable[..., Path], hook_recorder: Any
) -> None:
    path = make_project()
    with KedroSession.create(path) as session:
        recorder = hook_recorder(session)
        plain = session.run()["headline"].load()
        [run] = recorder.calls_of("before_pipeline_run")
        catalog = run["catalog"]
        for name in ("clean_orders", "priced", "with_revenue", "discounted"):
            assert isinstance(catalog.get(name), MemoryDataset), name
        again = session.run()["headline"].load()
    assert again == plain
