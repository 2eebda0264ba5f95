"""Hooks: per-run hooks on every run, build hooks once, and what ``run_params`` holds."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from _session import base_catalog
from kedro import __version__ as kedro_version
from kedro.runner import SequentialRunner, ThreadRunner

from kedro_runtime import KedroSession

KEDRO_RUN_PARAMS = {
    "run_id",
    "project_path",
    "env",
    "kedro_version",
    "tags",
    "from_nodes",
    "to_nodes",
    "node_names",
    "from_inputs",
    "to_outputs",
    "load_versions",
    "runtime_params",
    "pipeline_names",
    "namespaces",
    "runner",
    "only_missing_outputs",
}
ORDERS_NODES = ["clean_orders", "price", "revenue", "discount", "summarise", "headline"]

Recorder = Any
"""The recorder made by the ``hook_recorder`` fixture (see conftest)."""


def walk(value: object) -> Iterator[object]:
    """Every value nested in ``value``."""
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list | tuple | set):
        for item in value:
            yield from walk(item)


def test_pipeline_and_node_hooks_fire_on_every_run(
    session: KedroSession,
    recorder: Recorder,
    orders: pd.DataFrame,
) -> None:
    session.run()
    session.run(runtime_data={"orders": orders})
    session.run(runtime_params={"factor": 2}, runner=ThreadRunner(max_workers=2))
    session.run(
        runtime_params={"region": "eu"},
        node_names=["summarise"],
        runtime_data={"discounted": orders.assign(revenue=1.0)},
    )

    before = recorder.calls_of("before_pipeline_run")
    after = recorder.calls_of("after_pipeline_run")
    assert len(before) == len(after) == 4
    assert recorder.calls_of("on_pipeline_error") == []
    run_ids = [call["run_params"]["run_id"] for call in before]
    assert len(set(run_ids)) == 4
    assert [call["run_params"]["run_id"] for call in after] == run_ids

    expected_nodes = [*ORDERS_NODES * 3, "summarise"]
    assert sorted(recorder.nodes_run()) == sorted(expected_nodes)
    assert len(recorder.calls_of("after_node_run")) == len(expected_nodes)
    # Node hooks carry the run id of the run they belong to.
    node_run_ids = [call["run_id"] for call in recorder.calls_of("before_node_run")]
    for run_id, count in zip(run_ids, [6, 6, 6, 1], strict=True):
        assert node_run_ids.count(run_id) == count

    saved = [call["dataset_name"] for call in recorder.calls_of("after_dataset_saved")]
    assert saved.count("summary") == 4
    assert saved.count("headline") == 3


def test_run_params_hold_kedro_keys_and_the_new_ones(
    project_path: Path,
    hook_recorder: Callable[[KedroSession], Recorder],
    orders: pd.DataFrame,
    prices: pd.DataFrame,
) -> None:
    runner = SequentialRunner()
    with KedroSession.create(
        project_path, runtime_params={"discount.rate": 0.5, "currency": "GBP"}
    ) as session:
        recorder = hook_recorder(session)
        session.run(
            runner=runner,
            tags=["pricing"],
            runtime_data={"with_revenue": orders.assign(revenue=[1.0, 2.0, 3.0])},
            runtime_params={"discount.threshold": 1, "currency": "USD"},
        )
        session.run(
            runtime_data={"prices": prices, "orders": orders},
            pipeline_names=["orders"],
        )
        session.run()

    first, second, third = (
        c["run_params"] for c in recorder.calls_of("before_pipeline_run")
    )
    for params in (first, second, third):
        assert KEDRO_RUN_PARAMS <= set(params)
        assert params["session_id"] == session.session_id
        assert params["project_path"] == project_path.as_posix()
        assert params["env"] == session.load_context().env
        assert params["kedro_version"] == kedro_version
        assert not any(isinstance(v, pd.DataFrame) for v in walk(params))
    assert len({first["run_id"], second["run_id"], third["run_id"]}) == 3
    # As in Kedro, the first run's id is the session id; later runs get new ones.
    assert first["run_id"] == session.session_id
    assert session.session_id not in {second["run_id"], third["run_id"]}

    assert first["runtime_params"] == {
        "discount": {"rate": 0.5, "threshold": 1},
        "currency": "USD",
    }
    assert first["runtime_data"] == ["with_revenue"]
    assert first["tags"] == ["pricing"]
    assert first["runner"] == str(runner)
    assert second["runtime_params"] == {"discount": {"rate": 0.5}, "currency": "GBP"}
    assert second["runtime_data"] == ["orders", "prices"]
    assert second["pipeline_names"] == ["orders"]
    assert third["runtime_params"] == {"discount": {"rate": 0.5}, "currency": "GBP"}
    assert third["runtime_data"] == []

    afters = [c["run_params"] for c in recorder.calls_of("after_pipeline_run")]
    assert afters == [first, second, third]


def test_pipeline_hooks_get_the_runs_catalog(
    session: KedroSession,
    recorder: Recorder,
    orders: pd.DataFrame,
) -> None:
    result = session.run(runtime_data={"orders": orders}, runtime_params={"top_n": 1})
    catalog = recorder.calls_of("before_pipeline_run")[0]["catalog"]
    assert catalog is not base_catalog(session)
    pd.testing.assert_frame_equal(catalog.load("orders"), orders)
    assert catalog.load("params:top_n") == 1
    assert base_catalog(session).load("params:top_n") == 3
    assert recorder.calls_of("after_pipeline_run")[0]["run_result"] == result


def test_context_and_catalog_hooks_fire_once_across_many_runs(
    session: KedroSession,
    recorder: Recorder,
    orders: pd.DataFrame,
) -> None:
    session.run()
    context = session.load_context()
    session.run(runtime_data={"orders": orders})
    session.run(runtime_params={"factor": 3})  # re-resolves ${factor}
    session.run(runtime_params={"region": "eu"})  # catalog ${runtime_params:...}
    session.run(
        pipeline_names=["orders"],
        tags=["pricing"],
        runtime_data={"with_revenue": orders.assign(revenue=1.0)},
    )
    session.run(runner=ThreadRunner(max_workers=2), runtime_params={"discount.rate": 0})
    for _ in range(5):
        session.run(runtime_data={"orders": orders})
    assert session.load_context() is context

    assert len(recorder.calls_of("before_pipeline_run")) == 11
    created = recorder.calls_of("after_context_created")
    assert len(created) == 1
    assert created[0]["context"] is context
    catalogs = recorder.calls_of("after_catalog_created")
    assert len(catalogs) == 1
    assert catalogs[0]["catalog"] is base_catalog(session)


def test_concurrent_runs_get_their_own_run_params(
    session: KedroSession,
    recorder: Recorder,
    orders: pd.DataFrame,
    fast_switching: None,
) -> None:
    session.run()  # build once before the threads start
    errors: list[BaseException] = []

    def worker(thread: int) -> None:
        try:
            for i in range(5):
                factor = thread * 10 + i + 1
                session.run(
                    runtime_data={"orders": orders},
                    # Each thread writes its own summary file.
                    runtime_params={"factor": factor, "region": f"t{thread}"},
                    runner=SequentialRunner(),
                )
        except BaseException as exc:  # asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    afters = recorder.calls_of("after_pipeline_run")[1:]
    assert len(afters) == 20
    assert len({call["run_params"]["run_id"] for call in afters}) == 20
    factors = []
    for call in afters:
        factor = call["run_params"]["runtime_params"]["factor"]
        factors.append(factor)
        region = call["run_params"]["runtime_params"]["region"]
        assert region == f"t{factor // 10}"
        assert call["run_params"]["runtime_data"] == ["orders"]
        assert call["run_result"]["headline"].load().endswith(f"(factor {factor})")
    assert sorted(factors) == sorted(t * 10 + i + 1 for t in range(4) for i in range(5))
