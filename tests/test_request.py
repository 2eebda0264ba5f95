"""``RunRequest``: one checked value for every argument of a run."""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest
from kedro.framework.session.abstract_session import KedroSessionError
from kedro.runner import SequentialRunner, ThreadRunner

from kedro_runtime import (
    KedroSession,
    RunIdError,
    RunIdTypeError,
    RunRequest,
    RuntimeDataError,
    RuntimeDataTypeError,
    RuntimeParamsError,
    RuntimeParamsTypeError,
)
from kedro_runtime.request import FILTERS


def names() -> Iterator[str]:
    yield from ("clean_orders", "price")


# --- normalisation ----------------------------------------------------------------


def test_defaults_select_the_default_pipeline_without_filters() -> None:
    request = RunRequest()
    assert request.pipelines == ("__default__",)
    assert request.filters == dict.fromkeys(FILTERS)
    assert request.pipeline_key == (("__default__",), *(None,) * len(FILTERS))
    assert request.runtime_params == {}
    assert request.runner is None
    assert request.run_id is None


def test_names_are_read_once_and_copied() -> None:
    given = ["orders"]
    request = RunRequest(pipeline_names=given, node_names=names(), tags=("pricing",))
    given.append("other")
    assert request.pipeline_names == ["orders"]
    assert request.node_names == ("clean_orders", "price")
    assert request.tags == ("pricing",)
    assert request.pipelines == ("orders",)
    assert request.filters["node_names"] == ("clean_orders", "price")
    hash(request.pipeline_key)


def test_empty_pipeline_names_mean_the_default_pipeline() -> None:
    assert RunRequest(pipeline_names=[]).pipelines == ("__default__",)


def test_runtime_params_are_nested_and_mappings_copied() -> None:
    versions = {"summary": "2026-01-01T00.00.00.000Z"}
    data = {"orders": 1}
    request = RunRequest(
        runtime_params={"model.alpha": 0.5, "seed": 1},
        load_versions=versions,
        runtime_data=data,
    )
    versions["other"] = "x"
    data["prices"] = 2
    assert request.runtime_params == {"model": {"alpha": 0.5}, "seed": 1}
    assert request.load_versions == {"summary": "2026-01-01T00.00.00.000Z"}
    assert request.runtime_data == {"orders": 1}


def test_a_request_is_frozen() -> None:
    request = RunRequest()
    with pytest.raises(AttributeError):
        request.run_id = "x"  # type: ignore[misc]


def test_pickle_round_trip_keeps_every_field() -> None:
    frame = pd.DataFrame({"a": [1, 2]})
    request = RunRequest(
        pipeline_names=["orders"],
        tags=["pricing"],
        from_nodes=["clean_orders"],
        to_nodes=["summarise"],
        node_names=names(),
        from_inputs=["orders"],
        to_outputs=["summary"],
        namespaces=["ns"],
        runner=SequentialRunner(),
        load_versions={"summary": "v1"},
        only_missing_outputs=True,
        runtime_data={"orders": frame},
        runtime_params={"model.alpha": 0.5},
        run_id="request-1",
    )
    loaded = pickle.loads(pickle.dumps(request))
    assert isinstance(loaded, RunRequest)
    assert isinstance(loaded.runner, SequentialRunner)
    assert loaded.runtime_data is not None
    pd.testing.assert_frame_equal(loaded.runtime_data["orders"], frame)
    for field in (
        "pipeline_names",
        *FILTERS,
        "load_versions",
        "only_missing_outputs",
        "runtime_params",
        "run_id",
    ):
        assert getattr(loaded, field) == getattr(request, field), field
    assert loaded.pipeline_key == request.pipeline_key


def test_hook_run_params_hold_the_arguments_as_given() -> None:
    runner = ThreadRunner()
    request = RunRequest(tags=["pricing"], runner=runner, load_versions={"a": "v"})
    record = request.hook_run_params(run_id="r1", runtime_data=[])
    assert record["run_id"] == "r1"
    assert record["tags"] == ["pricing"]
    assert record["node_names"] is None
    assert record["pipeline_names"] is None
    assert record["load_versions"] == {"a": "v"}
    assert record["runner"] == str(runner)
    assert record["only_missing_outputs"] is False
    assert RunRequest().hook_run_params()["runner"] == "None"


# --- validation: a wrong type is a TypeError, a wrong value a ValueError ----------------

TYPE_ERRORS: list[tuple[str, dict[str, Any], type[Exception], str]] = [
    ("params-list", {"runtime_params": ["a", 1]}, RuntimeParamsTypeError, "got list"),
    ("params-str", {"runtime_params": "a=1"}, RuntimeParamsTypeError, "got str"),
    ("params-int-key", {"runtime_params": {1: 2}}, RuntimeParamsTypeError, "got 1"),
    ("data-list", {"runtime_data": [("a", 1)]}, RuntimeDataTypeError, "got list"),
    ("data-str", {"runtime_data": "orders"}, RuntimeDataTypeError, "got str"),
    ("data-int-key", {"runtime_data": {1: 2}}, RuntimeDataTypeError, "got 1"),
    ("run-id-int", {"run_id": 5}, RunIdTypeError, "5"),
    ("run-id-bytes", {"run_id": b"r1"}, RunIdTypeError, "b'r1'"),
    ("tags-str", {"tags": "pricing"}, TypeError, "`tags` must be a list"),
    ("names-int-item", {"pipeline_names": ["a", 5]}, TypeError, "got int 5"),
    ("load-versions-list", {"load_versions": ["a"]}, TypeError, "must be a mapping"),
    ("load-versions-int", {"load_versions": {"a": 1}}, TypeError, "'a': 1"),
]


@pytest.mark.parametrize(
    ("arguments", "error", "words"),
    [case[1:] for case in TYPE_ERRORS],
    ids=[case[0] for case in TYPE_ERRORS],
)
def test_a_wrong_type_is_a_type_error(
    arguments: dict[str, Any], error: type[Exception], words: str
) -> None:
    with pytest.raises(error) as info:
        RunRequest(**arguments)
    assert type(info.value) is error
    assert isinstance(info.value, TypeError)
    assert words in str(info.value)


VALUE_ERRORS: list[tuple[str, dict[str, Any], type[Exception], str]] = [
    ("params-empty-key", {"runtime_params": {"": 1}}, RuntimeParamsError, "''"),
    ("params-empty-part", {"runtime_params": {"a..b": 1}}, RuntimeParamsError, "a..b"),
    (
        "params-clash",
        {"runtime_params": {"a": 1, "a.b": 2}},
        RuntimeParamsError,
        "'a' to a value",
    ),
    ("run-id-slash", {"run_id": "a/b"}, RunIdError, "'a/b'"),
    ("run-id-empty", {"run_id": ""}, RunIdError, "letters, digits"),
]


@pytest.mark.parametrize(
    ("arguments", "error", "words"),
    [case[1:] for case in VALUE_ERRORS],
    ids=[case[0] for case in VALUE_ERRORS],
)
def test_a_wrong_value_is_a_value_error(
    arguments: dict[str, Any], error: type[Exception], words: str
) -> None:
    with pytest.raises(error) as info:
        RunRequest(**arguments)
    assert type(info.value) is error
    assert isinstance(info.value, ValueError)
    assert not isinstance(info.value, TypeError)
    assert words in str(info.value)


def test_data_errors_about_names_are_value_errors() -> None:
    assert issubclass(RuntimeDataError, ValueError)
    assert not issubclass(RuntimeDataError, TypeError)


@pytest.mark.parametrize("runner", [SequentialRunner, "SequentialRunner"])
def test_a_runner_must_be_an_instance(runner: object) -> None:
    with pytest.raises(KedroSessionError, match="instance of a runner"):
        RunRequest(runner=runner)  # type: ignore[arg-type]


# --- through a session --------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments",
    [
        {"runtime_data": ["orders"]},
        {"runtime_params": "factor=2"},
        {"run_id": 5},
    ],
    ids=["runtime_data-list", "runtime_params-str", "run_id-int"],
)
def test_session_run_raises_type_errors_before_building_anything(
    session: KedroSession,
    hook_recorder: Callable[[KedroSession], Any],
    arguments: dict[str, Any],
) -> None:
    recorder = hook_recorder(session)
    with pytest.raises(TypeError):
        session.run(**arguments)
    assert recorder.calls == []


def test_execute_runs_a_request_as_run_does(
    session: KedroSession, orders: pd.DataFrame
) -> None:
    request = RunRequest(
        runtime_data={"orders": orders}, runtime_params={"factor": 2}, run_id="r-1"
    )
    executed = session.run(request=pickle.loads(pickle.dumps(request)))
    ran = session.run(runtime_data={"orders": orders}, runtime_params={"factor": 2})
    assert sorted(executed) == sorted(ran)
    for name in ran:
        left, right = executed[name].load(), ran[name].load()
        if isinstance(left, pd.DataFrame):
            pd.testing.assert_frame_equal(left, right)
        else:
            assert left == right, name
