"""Fingerprints of the node cache: equal for equal content, different otherwise."""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from kedro.io import MemoryDataset
from kedro_datasets.pandas import CSVDataset

from kedro_runtime import fingerprint
from kedro_runtime.cache_store import MemoryStore

FRAME = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})


def test_frames_count_by_content_names_dtypes_and_index() -> None:
    same = fingerprint.of_value(FRAME.copy())
    assert same is not None and same == fingerprint.of_value(FRAME)
    changed = FRAME.copy()
    changed.loc[2, "a"] = 4
    variants = [
        changed,
        FRAME.rename(columns={"a": "c"}),
        FRAME.astype({"a": "int32"}),
        FRAME.set_axis([5, 6, 7]),
        FRAME.rename_axis("id"),
        FRAME["a"],
    ]
    prints = {fingerprint.of_value(v) for v in variants}
    assert len(prints) == len(variants) and same not in prints


def test_arrays_count_by_buffer_dtype_and_shape() -> None:
    array = np.arange(6)
    assert fingerprint.of_value(array) == fingerprint.of_value(np.arange(6))
    others = [array.reshape(2, 3), array.astype("int32"), array[::-1]]
    prints = {fingerprint.of_value(v) for v in others}
    assert len(prints) == 3 and fingerprint.of_value(array) not in prints
    assert fingerprint.of_value(np.array([object()])) is None


def test_builtins_count_by_value_and_type() -> None:
    value: Any = {"a": [1, 2.0, None, "s", b"b"], "b": {"c": (1,)}, "s": {3, 1}}
    assert fingerprint.of_value(value) == fingerprint.of_value(
        {"a": [1, 2.0, None, "s", b"b"], "b": {"c": (1,)}, "s": {1, 3}}
    )
    assert fingerprint.of_value(1) != fingerprint.of_value(1.0)
    assert fingerprint.of_value(True) != fingerprint.of_value(1)
    assert fingerprint.of_value([1]) != fingerprint.of_value((1,))


def test_other_objects_have_no_fingerprint() -> None:
    class Model:
        pass

    assert fingerprint.of_value(Model()) is None
    assert fingerprint.of_value({"model": Model()}) is None
    assert fingerprint.of_value(pd.DataFrame({"a": [[1], [2]]})) is None


def scale(value: int, factor: int = 2) -> int:
    return value * factor


def test_functions_count_by_code_defaults_partials_and_closures() -> None:
    def make(offset: int) -> Any:
        def shifted(value: int) -> int:
            return value + offset

        return shifted

    assert fingerprint.of_function(make(1)) == fingerprint.of_function(make(1))
    assert fingerprint.of_function(make(1)) != fingerprint.of_function(make(2))
    base = fingerprint.of_function(scale)
    assert base is not None
    assert fingerprint.of_function(functools.partial(scale, factor=3)) != base
    assert fingerprint.of_function(functools.partial(scale, factor=3)) == (
        fingerprint.of_function(functools.partial(scale, factor=3))
    )

    def scale_again(value: int, factor: int = 3) -> int:
        return value * factor

    assert fingerprint.of_function(scale_again) != base
    assert fingerprint.of_function(make(object())) is None  # an unknown closure value


def test_files_count_by_path_size_and_time(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a\n1\n")
    old = time.time() - 60
    os.utime(path, (old, old))
    dataset = CSVDataset(filepath=str(path))
    first = fingerprint.of_file_dataset(dataset)
    assert first is not None and first == fingerprint.of_file_dataset(dataset)
    os.utime(path, (old + 1, old + 1))
    assert fingerprint.of_file_dataset(dataset) != first
    path.write_text("a\n2\n")  # just written: by its bytes
    recent = fingerprint.of_file_dataset(dataset)
    path.write_text("a\n3\n")
    assert fingerprint.of_file_dataset(dataset) != recent
    assert fingerprint.of_file_dataset(CSVDataset(filepath=str(tmp_path))) is None
    assert fingerprint.of_file_dataset(MemoryDataset(1)) is None


def test_the_memory_store_evicts_the_least_recently_used() -> None:
    store = MemoryStore(max_bytes=10)
    store.put("a", {}, 4)
    store.put("b", {}, 4)
    assert store.get("a") == {}  # now b is the least recently used
    store.put("c", {}, 4)
    assert store.get("b") is None and store.get("a") == {} and store.get("c") == {}
    assert store.bytes == 8
    store.put("huge", {}, 11)
    assert store.get("huge") is None and len(store) == 2
    store.clear()
    assert len(store) == 0 and store.bytes == 0


def test_numeric_frames_count_by_their_bytes_and_index():
    frame = pd.DataFrame(
        {
            "x": np.arange(5.0),
            "n": np.arange(5),
            "b": [True, False] * 2 + [True],
            "t": pd.date_range("2020", periods=5),
        }
    )
    same = fingerprint.of_value(frame.copy())
    assert same is not None
    assert fingerprint.of_value(frame) == same
    changed = frame.copy()
    changed.loc[3, "n"] = 7
    assert fingerprint.of_value(changed) != same
    assert fingerprint.of_value(frame.set_axis(range(1, 6))) != same
    assert fingerprint.of_value(frame.set_axis(list("abcde"))) != fingerprint.of_value(
        frame.set_axis(list("abcdf"))
    )
    assert fingerprint.of_value(frame["x"]) != fingerprint.of_value(
        frame["x"].rename("y")
    )
    assert fingerprint.of_value(frame[["x", "n"]]) != fingerprint.of_value(
        frame[["n", "x"]]
    )
    sliced = frame.iloc[::2]
    assert fingerprint.of_value(sliced) == fingerprint.of_value(sliced.copy())
