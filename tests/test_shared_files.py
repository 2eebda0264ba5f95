"""Concurrent runs of one session that share a non-versioned file are caught."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _example import copy_example
from fastapi.testclient import TestClient
from kedro.io import AbstractDataset

from kedro_runtime import KedroSession, SessionOptions, SharedFileError
from kedro_runtime.server import create_app, served_project

LOGGER = "kedro_runtime.shared_files"


class _Gate(AbstractDataset[Any, pd.DataFrame]):
    """Orders whose load waits for ``release``: keeps a run in flight."""

    def __init__(
        self, data: pd.DataFrame, started: threading.Event, release: threading.Event
    ) -> None:
        self._data = data
        self._started = started
        self._release = release

    def _load(self) -> pd.DataFrame:
        self._started.set()
        assert self._release.wait(60), "the test never released the run"
        return self._data

    def _save(self, data: Any) -> None:
        raise NotImplementedError

    def _describe(self) -> dict[str, Any]:
        return {}


def _while_in_flight(
    session: KedroSession,
    orders: pd.DataFrame,
    first: dict[str, Any],
    second: Callable[[], Any],
) -> Any:
    """Call ``second()`` while a run with ``first`` params is in flight."""
    started, release = threading.Event(), threading.Event()
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(
            session.run,
            runtime_data={"orders": _Gate(orders, started, release)},
            runtime_params=first,
        )
        assert started.wait(60)
        try:
            return second()
        finally:
            release.set()
            assert "headline" in running.result()


class _Recorder(logging.Handler):
    """Keeps the messages of kedro_runtime.shared_files (Kedro's logging config
    may stop them from reaching the root logger, and so ``caplog``)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def warnings_of_shared_files() -> Iterator[list[str]]:
    recorder = _Recorder()
    logger = logging.getLogger(LOGGER)
    logger.addHandler(recorder)
    try:
        yield recorder.messages
    finally:
        logger.removeHandler(recorder)


def test_two_runs_saving_one_file_warn_every_time_and_take_turns(
    make_project: Callable[..., Path],
    orders: pd.DataFrame,
    warnings_of_shared_files: list[str],
) -> None:
    path = make_project()
    with KedroSession.create(path) as session, ThreadPoolExecutor(1) as pool:
        for _ in range(3):
            warnings_of_shared_files.clear()

            def second() -> Future[dict[str, Any]]:
                run = pool.submit(session.run, runtime_data={"orders": orders})
                deadline = time.monotonic() + 60
                while not warnings_of_shared_files and time.monotonic() < deadline:
                    time.sleep(0.01)
                # The first run is held in flight: the second must not run now.
                assert wait([run], timeout=1).not_done == {run}
                return run

            waiting = _while_in_flight(session, orders, {}, second)
            assert "headline" in waiting.result(60)
            [message] = warnings_of_shared_files
            assert "'summary'" in message
            assert str(path / "data" / "08_reporting" / "summary_all.csv") in message
            for fix in ("versioned", "MemoryDataset", "runtime_params", "waits"):
                assert fix in message


def test_runs_saving_different_files_do_not_warn(
    make_project: Callable[..., Path],
    orders: pd.DataFrame,
    warnings_of_shared_files: list[str],
) -> None:
    path = make_project()
    with KedroSession.create(path) as session:
        _while_in_flight(
            session,
            orders,
            {"region": "north"},
            lambda: session.run(
                runtime_data={"orders": orders}, runtime_params={"region": "south"}
            ),
        )
        assert warnings_of_shared_files == []


def test_with_the_option_the_second_run_is_refused_before_it_starts(
    make_project: Callable[..., Path], orders: pd.DataFrame
) -> None:
    path = make_project()
    report = path / "data" / "08_reporting" / "summary_all.csv"
    with KedroSession.create(path, shared_files="error") as session:
        for _ in range(3):
            report.unlink(missing_ok=True)

            def second() -> None:
                with pytest.raises(SharedFileError) as info:
                    session.run(runtime_data={"orders": orders})
                assert isinstance(info.value, ValueError)
                assert "'summary'" in str(info.value)
                assert "summary_all.csv" in str(info.value)
                assert not report.exists(), "the refused run must not have run"

            _while_in_flight(session, orders, {}, second)
            assert report.exists()
        assert "headline" in session.run()  # the session is still usable


@pytest.mark.parametrize("mode", ["sometimes", 3, None])
def test_a_bad_mode_is_refused(make_project: Callable[..., Path], mode: Any) -> None:
    path = make_project()
    error = ValueError if isinstance(mode, str) else TypeError
    # As a keyword of create(), None means "not given" (the options' value).
    with pytest.raises(error, match="shared_files"):
        KedroSession.create(path, options=SessionOptions(shared_files=mode))


@pytest.mark.parametrize("mode", ["warn", "error", "wait"])
def test_a_soak_of_concurrent_runs_gives_no_wrong_result(
    make_project: Callable[..., Path], mode: str
) -> None:
    """400 runs from 4 threads, a few shared regions: refused or right, never wrong."""
    path = make_project()
    regions: list[str | None] = [None, "north", "south"]
    with KedroSession.create(path, shared_files=mode) as session:
        expected = {
            factor: session.run(runtime_params={"factor": factor})["headline"].load()
            for factor in range(1, 6)
        }
        outcomes: Counter[str] = Counter()
        lock = threading.Lock()

        def worker(seed: int) -> None:
            pick = random.Random(seed)
            for _ in range(100):
                factor = pick.randint(1, 5)
                region = pick.choice(regions)
                params: dict[str, Any] = {"factor": factor}
                if region is not None:
                    params["region"] = region
                try:
                    got = session.run(runtime_params=params)["headline"].load()
                    outcome = "right" if got == expected[factor] else "wrong"
                except SharedFileError:
                    outcome = "refused"
                except Exception as exc:
                    outcome = f"error: {exc!r}"
                with lock:
                    outcomes[outcome] += 1

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(worker, range(4)))
    assert sum(outcomes.values()) == 400
    assert set(outcomes) <= {"right", "refused"}, outcomes
    assert outcomes["right"] > 0
    if mode != "error":
        assert outcomes["right"] == 400


def test_the_server_refuses_a_clashing_run_with_409(
    tmp_path: Path, orders: pd.DataFrame
) -> None:
    app = create_app(copy_example(tmp_path / "orders"), api_key="")
    with TestClient(app) as client:
        served = served_project(app)
        assert served is not None

        def second() -> Any:
            return client.post("/run", json={"outputs": ["headline"]})

        clash = _while_in_flight(served.session, orders, {}, second)
        assert clash.status_code == 409, clash.text
        assert "summary_all.csv" in clash.json()["detail"][0]["msg"]
        schema = client.get("/openapi.json").json()
        assert "409" in schema["paths"]["/run"]["post"]["responses"]
        after = client.post("/run", json={"outputs": ["headline"]})
        assert after.json()["status"] == "success"
