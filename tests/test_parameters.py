"""Runtime parameters: dotted keys, clashes, merging and the params: datasets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kedro_runtime import RuntimeParamsError
from kedro_runtime.parameters import deep_merge, nest_params, param_datasets


def nest(params: Any) -> dict[str, Any]:
    return nest_params(params, argument="runtime_params")


def test_dotted_keys_become_nested_mappings() -> None:
    assert nest({"model.alpha": 2, "seed": 1, "model.layers.depth": 3}) == {
        "model": {"alpha": 2, "layers": {"depth": 3}},
        "seed": 1,
    }


@pytest.mark.parametrize(
    "params",
    [
        {"a": {"c": 1}, "a.d": 2},
        {"a.d": 2, "a": {"c": 1}},
    ],
)
def test_dotted_and_nested_keys_merge_whatever_their_order(
    params: dict[str, Any],
) -> None:
    assert nest(params) == {"a": {"c": 1, "d": 2}}


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"a": 1, "a.b": 2}, "'a'"),
        ({"a.b": 2, "a": 1}, "'a'"),
        ({"a": {"b": 1}, "a.b": 2}, "'a.b'"),
        ({"a.b": 2, "a": {"b": 1}}, "'a.b'"),
        ({"a.b.c": 1, "a": {"b": {"c": 2}}}, "'a.b.c'"),
    ],
)
def test_a_value_given_twice_is_an_error_in_either_order(
    params: dict[str, Any], named: str
) -> None:
    with pytest.raises(RuntimeParamsError, match=named):
        nest(params)


@pytest.mark.parametrize("key", ["", ".a", "a.", "a..b", 3, None])
def test_keys_must_be_non_empty_dotted_names(key: Any) -> None:
    with pytest.raises(RuntimeParamsError, match="non-empty strings"):
        nest({key: 1})


@pytest.mark.parametrize("params", [[("a", 1)], "a=1", 5])
def test_params_must_be_a_mapping(params: Any) -> None:
    with pytest.raises(RuntimeParamsError, match="must be a mapping"):
        nest(params)


def test_none_means_no_params() -> None:
    assert nest(None) == {}


names = st.text(alphabet="abc", min_size=1, max_size=2)
trees = st.recursive(
    st.integers(), lambda children: st.dictionaries(names, children, max_size=3)
)


def check_merged(merged: Any, base: Any, update: Any) -> None:
    """Keys only in base keep their value; update wins unless both are mappings."""
    assert set(merged) == set(base) | set(update)
    for key, value in merged.items():
        if key not in update:
            assert value == base[key]
        elif isinstance(base.get(key), dict) and isinstance(update[key], dict):
            check_merged(value, base[key], update[key])
        else:
            assert value == update[key]


@given(st.dictionaries(names, trees, max_size=4), st.dictionaries(names, trees))
def test_deep_merge_merges_mappings_and_lets_update_win_elsewhere(
    base: dict[str, Any], update: dict[str, Any]
) -> None:
    check_merged(deep_merge(base, update), base, update)


def test_deep_merge_does_not_modify_its_inputs() -> None:
    base = {"a": {"b": 1}}
    deep_merge(base, {"a": {"c": 2}})
    assert base == {"a": {"b": 1}}


@dataclass
class Model:
    alpha: float
    depth: int


def test_param_datasets_expands_mappings_and_typed_objects() -> None:
    params = {"model": Model(alpha=0.5, depth=3), "opt": {"lr": 0.1, "n": {"k": 2}}}
    table = param_datasets(params)
    assert table["parameters"] is params
    assert table["params:model"] == Model(0.5, 3)
    assert table["params:model.alpha"] == 0.5
    assert table["params:model.depth"] == 3
    assert table["params:opt.n.k"] == 2
    assert set(table) == {
        "parameters",
        "params:model",
        "params:model.alpha",
        "params:model.depth",
        "params:opt",
        "params:opt.lr",
        "params:opt.n",
        "params:opt.n.k",
    }
