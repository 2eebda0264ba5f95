"""Every runner, with injected data: right results, outputs that outlive the runner."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest
from _example import expected_run, node_functions
from kedro.io import MemoryDataset
from kedro.runner import AbstractRunner, ParallelRunner, SequentialRunner, ThreadRunner

from kedro_runtime import KedroSession

RUNNERS = ["sequential", "thread", "parallel-fork", "parallel-spawn"]


@pytest.fixture(params=RUNNERS)
def make_runner(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Callable[[], AbstractRunner]:
    """A factory of the runner under test; ParallelRunner with its start method."""
    kind: str = request.param
    if kind == "sequential":
        return SequentialRunner
    if kind == "thread":
        return lambda: ThreadRunner(max_workers=2)
    monkeypatch.setenv("KEDRO_MP_CONTEXT", kind.removeprefix("parallel-"))
    return lambda: ParallelRunner(max_workers=2)


@pytest.fixture
def nodes(project_path: Path) -> ModuleType:
    """The orders node functions."""
    return node_functions(project_path)


def test_runner_with_injected_data_and_outputs_after_the_runner_is_gone(
    session: KedroSession,
    project_path: Path,
    nodes: ModuleType,
    orders: pd.DataFrame,
    make_runner: Callable[[], AbstractRunner],
) -> None:
    raw = project_path / "data" / "01_raw"
    prices = pd.read_csv(raw / "prices.csv")
    with_revenue = pd.DataFrame(
        {"region": ["x", "y", "x"], "revenue": [250.0, 99.99, 100.0]}
    )
    runner = make_runner()

    full = session.run(
        runner=runner, runtime_data={"orders": orders}, runtime_params={"factor": 2}
    )
    pricing = session.run(
        runner=runner,
        tags=["pricing"],
        runtime_data={"with_revenue": MemoryDataset(with_revenue, copy_mode="assign")},
        runtime_params={"discount.rate": 0.5},
    )
    expected = expected_run(nodes, orders, prices, factor=2)
    expected_headline = expected.headline
    expected_discounted = nodes.apply_discount(
        with_revenue, {"threshold": 100, "rate": 0.5}
    )
    assert set(full) == {"headline"}
    assert set(pricing) == {"discounted"}
    assert full["headline"].load() == expected_headline
    pd.testing.assert_frame_equal(pricing["discounted"].load(), expected_discounted)
    summary_file = project_path / "data" / "08_reporting" / "summary_all.csv"
    pd.testing.assert_frame_equal(pd.read_csv(summary_file), expected.summary)

    gone = weakref.ref(runner)
    del runner
    gc.collect()
    assert gone() is None, "something still holds the runner"
    assert full["headline"].load() == expected_headline
    pd.testing.assert_frame_equal(pricing["discounted"].load(), expected_discounted)
    # Loading twice gives the same data (nothing was consumed).
    assert full["headline"].load() == expected_headline

    # The session goes on with the default runner and the project's own data.
    plain = session.run()
    assert (
        plain["headline"].load()
        == expected_run(nodes, pd.read_csv(raw / "orders.csv"), prices).headline
    )


def test_runs_with_different_runners_do_not_share_outputs(
    session: KedroSession,
    project_path: Path,
    nodes: ModuleType,
    orders: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
    prices: pd.DataFrame,
) -> None:
    """Outputs of runs made with different runners stay each run's own."""
    monkeypatch.setenv("KEDRO_MP_CONTEXT", "fork")
    runners: list[AbstractRunner] = [
        SequentialRunner(),
        ThreadRunner(max_workers=2),
        ParallelRunner(max_workers=2),
        SequentialRunner(),
    ]
    results = [
        session.run(
            runner=runner,
            runtime_data={"orders": orders},
            runtime_params={"factor": factor},
        )
        for factor, runner in enumerate(runners, start=1)
    ]
    del runners
    gc.collect()
    for factor, result in enumerate(results, start=1):
        assert (
            result["headline"].load()
            == expected_run(nodes, orders, prices, factor=factor).headline
        )
