"""Many threads, one session: every run sees only its own data and parameters."""

from __future__ import annotations

import logging
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _example import expected_run, node_functions
from _session import hook_manager
from kedro.framework.hooks import hook_impl
from kedro.runner import AbstractRunner, SequentialRunner, ThreadRunner

from kedro_runtime import KedroSession

THREADS = 8
RUNS_PER_THREAD = 200
PRODUCTS = ("widget", "gadget", "gizmo")


@dataclass
class Request:
    """What one run is given, and what it must give back."""

    key: int
    orders: pd.DataFrame
    factor: float
    region: str
    headline: str = ""
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)


class HookCounter:
    """Counts hook calls and records the run ids the pipeline hooks see."""

    kedro_runtime_concurrent_safe = True  # or the runs under test would take turns

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.run_ids: list[str] = []
        self._lock = threading.Lock()

    def _count(self, name: str) -> None:
        with self._lock:
            self.calls[name] += 1

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._count("after_context_created")

    @hook_impl
    def after_catalog_created(self, catalog: Any) -> None:
        self._count("after_catalog_created")

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        with self._lock:
            self.calls["before_pipeline_run"] += 1
            self.run_ids.append(run_params["run_id"])


def make_request(key: int) -> Request:
    """Orders that no other request has: its own region names and quantities."""
    orders = pd.DataFrame(
        {
            "order_id": [1, 2, 3, 4],
            "region": [f"own-{key}", "common", f"own-{key}", f"tail-{key}"],
            "product": [PRODUCTS[key % 3], PRODUCTS[(key + 1) % 3], "widget", "gizmo"],
            "quantity": [1 + key % 7, 2 + key % 5, 3 + key % 11, 1],
        }
    )
    return Request(
        key=key,
        orders=orders,
        factor=1 + key / 1000,
        region=f"req-{key}",
    )


def expect(request: Request, prices: pd.DataFrame) -> None:
    """Fill in what the node functions compute for this request's data."""
    # The example's package is importable once a copy of the project is bootstrapped.
    expected = expected_run(
        node_functions(), request.orders, prices, factor=request.factor
    )
    request.summary = expected.summary
    request.headline = expected.headline


def run_request(
    session: KedroSession, request: Request, runner: AbstractRunner | None = None
) -> str:
    result = session.run(
        runtime_data={"orders": request.orders},
        runtime_params={"factor": request.factor, "region": request.region},
        runner=runner or SequentialRunner(),
    )
    return result["headline"].load()  # type: ignore[no-any-return]


def summary_file(project_path: Path, region: str) -> Path:
    return project_path / "data" / "08_reporting" / f"summary_{region}.csv"


@contextmanager
def fine_grained_switching() -> Iterator[None]:
    """Switch threads as often as possible, so a missing lock shows up."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def run_threads(
    count: int, work: Callable[[int], None]
) -> list[tuple[int, BaseException]]:
    """Start ``count`` threads at once; return the errors they raised."""
    errors: list[tuple[int, BaseException]] = []
    start = threading.Barrier(count)

    def target(worker: int) -> None:
        try:
            start.wait()
            work(worker)
        except BaseException as exc:
            errors.append((worker, exc))

    threads = [threading.Thread(target=target, args=(w,)) for w in range(count)]
    with fine_grained_switching():
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return errors


@pytest.fixture(autouse=True)
def _quiet_logs(project_path: Path) -> Iterator[None]:
    """Quiet Kedro's INFO logs once the project is bootstrapped.

    Bootstrapping applies Kedro's logging config again (``kedro`` at INFO, rich
    handler); dozens of INFO lines per run, rendered under the handler's lock by
    eight threads, would be most of what this module measures.
    """
    loggers = [logging.getLogger(name) for name in ("kedro", "kedro_runtime")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def check_results(
    requests: list[Request], got: dict[int, str], project_path: Path
) -> None:
    assert sorted(got) == [request.key for request in requests]
    wrong = [
        (request.key, request.headline, got[request.key])
        for request in requests
        if got[request.key] != request.headline
    ]
    assert wrong == [], f"{len(wrong)} runs returned another request's headline"
    for request in requests:
        assert f"(factor {request.factor})" in got[request.key]
    # The file each run wrote (at the path its own `region` chose) holds exactly
    # what the node functions give for its own data.
    misplaced = [
        request.key
        for request in requests
        if summary_file(project_path, request.region).read_text()
        != request.summary.to_csv(index=False)
    ]
    assert misplaced == [], f"summary files with another request's data: {misplaced}"


def test_eight_threads_two_hundred_runs_each_on_one_session(
    session: KedroSession, project_path: Path, prices: pd.DataFrame
) -> None:
    counter = HookCounter()
    hook_manager(session).register(counter)
    baseline = session.run()["headline"].load()  # build once, before the threads
    requests = [make_request(key) for key in range(THREADS * RUNS_PER_THREAD)]
    for request in requests:
        expect(request, prices)
    got: dict[int, str] = {}

    def work(worker: int) -> None:
        for request in requests[worker::THREADS]:
            got[request.key] = run_request(session, request)

    errors = run_threads(THREADS, work)

    assert errors == []
    check_results(requests, got, project_path)
    assert counter.calls["before_pipeline_run"] == len(requests) + 1
    assert len(set(counter.run_ids)) == len(counter.run_ids), "a run id was reused"
    # Built once, by the first run, however many runs followed.
    assert counter.calls["after_context_created"] == 1
    assert counter.calls["after_catalog_created"] == 1
    # Nothing any request injected or set is left behind.
    assert session.run()["headline"].load() == baseline
    assert "(factor 1.0)" in baseline


def test_concurrent_runs_with_thread_runner(
    session: KedroSession, project_path: Path, prices: pd.DataFrame
) -> None:
    requests = [make_request(key) for key in range(4 * 12)]
    for request in requests:
        expect(request, prices)
    got: dict[int, str] = {}

    def work(worker: int) -> None:
        for request in requests[worker::4]:
            got[request.key] = run_request(
                session, request, ThreadRunner(max_workers=2)
            )

    errors = run_threads(4, work)

    assert errors == []
    check_results(requests, got, project_path)


@pytest.mark.parametrize("attempt", range(3))
def test_first_runs_on_a_cold_session_build_it_once(
    project_path: Path, prices: pd.DataFrame, attempt: int
) -> None:
    requests = [make_request(1000 * attempt + key) for key in range(THREADS)]
    for request in requests:
        expect(request, prices)
    got: dict[int, str] = {}
    counter = HookCounter()

    with KedroSession.create(project_path) as session:
        hook_manager(session).register(counter)

        def work(worker: int) -> None:
            request = requests[worker]
            got[request.key] = run_request(session, request)

        errors = run_threads(THREADS, work)

        assert errors == []
        assert counter.calls["after_context_created"] == 1
        assert counter.calls["after_catalog_created"] == 1
        assert counter.calls["before_pipeline_run"] == THREADS
        check_results(requests, got, project_path)
        # Warm runs afterwards build nothing more.
        run_request(session, make_request(1000 * attempt + 999))
        assert counter.calls["after_context_created"] == 1
        assert counter.calls["after_catalog_created"] == 1
