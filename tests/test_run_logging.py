"""Run logging: ``run_logging="summary"`` gives one INFO line per run, the rest at DEBUG.

Records are captured with a handler of the test's own on the root logger (no
``caplog``), with the ``kedro`` and ``kedro_runtime`` loggers at ``INFO`` as
Kedro's default logging config sets them. The last tests run Kedro's actual
default config in a subprocess.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from _session import run_logging_of
from kedro.runner import ThreadRunner

from kedro_runtime import KedroSession, SessionOptions, run_logging
from kedro_runtime.dask._worker import KedroSessionPlugin
from kedro_runtime.server.project import warm_session

NODES = 6  # nodes of the example's __default__ pipeline
PER_RUN = ("Loading data from", "Running node", "Saving data to", "Completed ")


class Records(logging.Handler):
    """Every record that reaches the root logger's handlers."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.records: list[logging.LogRecord] = []
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._guard:
            self.records.append(record)

    def summaries(self) -> list[str]:
        return [
            r.getMessage()
            for r in self.records
            if r.name == "kedro_runtime.run_logging"
        ]

    def per_run(self, level: int, thread: str | None = None) -> list[str]:
        return [
            r.getMessage()
            for r in self.records
            if r.levelno == level
            and r.getMessage().startswith(PER_RUN)
            and (thread is None or r.threadName.startswith(thread))
        ]


@pytest.fixture
def records() -> Iterator[Records]:
    """Capture records, with ``kedro`` and ``kedro_runtime`` at ``INFO``."""
    handler = Records()
    names = ("kedro", "kedro_runtime")
    levels = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.INFO)
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def _summary(project_path: Path) -> KedroSession:
    return KedroSession.create(project_path, run_logging="summary")


def test_one_summary_line_per_run_and_no_per_node_info(
    project_path: Path, records: Records
) -> None:
    with _summary(project_path) as session:
        session.run(run_id="first")
        session.run(run_id="second")
    summaries = records.summaries()
    assert len(summaries) == 2
    for run_id, line in zip(("first", "second"), summaries, strict=True):
        assert line.startswith(f"Run {run_id} of pipeline(s) __default__:")
        assert f"{NODES} nodes, succeeded in " in line
        assert line.endswith(" ms")
    assert records.per_run(logging.INFO) == []
    assert not any(r.getMessage().startswith("Kedro project") for r in records.records)


def test_per_node_lines_are_debug_lines_when_debug_is_on(
    project_path: Path, records: Records
) -> None:
    logging.getLogger("kedro").setLevel(logging.DEBUG)
    with _summary(project_path) as session:
        session.run()
    running = [m for m in records.per_run(logging.DEBUG) if "Running node" in m]
    assert len(running) == NODES
    assert records.per_run(logging.INFO) == []
    assert len(records.summaries()) == 1


def test_thread_runner_workers_lines_are_summarised(
    project_path: Path, records: Records
) -> None:
    with _summary(project_path) as session:
        session.run(runner=ThreadRunner(max_workers=2))
    assert records.per_run(logging.INFO) == []
    assert len(records.summaries()) == 1


def test_concurrent_summary_runs_each_get_their_line(
    project_path: Path, records: Records
) -> None:
    with _summary(project_path) as session:
        owned = run_logging_of(session)
        threads = [
            threading.Thread(
                target=session.run,
                kwargs={
                    "run_id": f"run-{i}",
                    "runner": ThreadRunner(max_workers=2),
                    "runtime_params": {"region": f"r{i}"},  # its own output file
                },
            )
            for i in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    summaries = records.summaries()
    assert sorted(line.split()[1] for line in summaries) == [
        f"run-{i}" for i in range(4)
    ]
    assert all(" succeeded in " in line for line in summaries)
    assert records.per_run(logging.INFO) == []
    assert owned.in_flight() == 0


def test_a_kedro_mode_session_keeps_its_lines_during_summary_runs(
    project_path: Path, records: Records
) -> None:
    done, running = threading.Event(), threading.Event()

    def summary_runs() -> None:
        with _summary(project_path) as session:
            while not done.is_set():
                running.set()
                session.run(
                    runner=ThreadRunner(max_workers=2),
                    runtime_params={"region": "summary"},  # its own output file
                )

    background = threading.Thread(target=summary_runs)
    background.start()
    try:
        assert running.wait(timeout=120)
        with KedroSession.create(project_path) as plain:
            for _ in range(3):
                plain.run(runner=ThreadRunner(max_workers=2))
    finally:
        done.set()
        background.join()
    running = [m for m in records.per_run(logging.INFO) if "Running node" in m]
    assert len(running) == 3 * NODES
    summaries = records.summaries()
    assert summaries  # the summary session did run meanwhile
    assert all(" succeeded in " in line for line in summaries)


def test_a_failing_run_logs_a_failure_summary(
    project_path: Path, records: Records
) -> None:
    broken = pd.DataFrame({"order_id": [1]})  # no product, no quantity
    with _summary(project_path) as session:
        owned = run_logging_of(session)
        with pytest.raises(KeyError):
            session.run(runtime_data={"orders": broken}, run_id="broken")
        session.run(run_id="after")  # the session stays usable
    failed, after = records.summaries()
    assert failed.startswith("Run broken of pipeline(s) __default__:")
    assert " failed in " in failed
    assert "KeyError" in failed
    assert "succeeded" in after
    assert owned.in_flight() == 0


def test_a_rejected_request_logs_no_summary(
    project_path: Path, records: Records
) -> None:
    with _summary(project_path) as session, pytest.raises(ValueError):
        owned = run_logging_of(session)
        session.run(pipeline_names=["no_such_pipeline"])
    assert records.summaries() == []
    assert owned.in_flight() == 0


def test_after_summary_runs_nothing_is_filtered_and_no_filter_is_left(
    project_path: Path, records: Records
) -> None:
    with _summary(project_path) as session:
        session.run()
    with _summary(project_path) as session:
        owned = run_logging_of(session)
        session.run()
    assert owned.in_flight() == 0
    with KedroSession.create(project_path) as plain:
        plain.run()  # in this very thread, which ran the summary runs
    running = [m for m in records.per_run(logging.INFO) if "Running node" in m]
    assert len(running) == NODES
    for name in run_logging.RUN_LOGGERS:
        filters = logging.getLogger(name).filters
        assert not any(isinstance(f, run_logging.SummaryFilter) for f in filters)


def test_default_is_kedro_mode(project_path: Path, records: Records) -> None:
    with KedroSession.create(project_path) as session:
        assert session.run_logging == "kedro"
        session.run()
    assert records.summaries() == []
    assert len([m for m in records.per_run(logging.INFO) if "Running node" in m]) == (
        NODES
    )


@pytest.mark.parametrize(
    ("value", "error"), [("quiet", ValueError), (1, TypeError), (None, TypeError)]
)
def test_a_bad_mode_is_refused(
    project_path: Path, value: object, error: type[Exception]
) -> None:
    # As a keyword of create(), None means "not given" (the options' value).
    with pytest.raises(error, match="run_logging must"):
        KedroSession.create(
            project_path,
            options=SessionOptions(run_logging=value),  # type: ignore[arg-type]
        )


def test_the_server_session_uses_summary_mode(project_path: Path) -> None:
    with warm_session(project_path) as session:
        assert session.run_logging == "summary"


def test_run_many_workers_use_summary_mode(project_path: Path) -> None:
    holder = KedroSessionPlugin(project_path)
    try:
        assert holder.session().run_logging == "summary"
    finally:
        holder.teardown(None)


SCRIPT = """
import sys
import pandas as pd
from kedro.framework.startup import bootstrap_project
from kedro_runtime import KedroSession

path = sys.argv[1]
bootstrap_project(path)  # applies Kedro's default logging config
orders = pd.read_csv(path + "/data/01_raw/orders.csv")
with KedroSession.create(path) as session:
    clean = session.run(node_names=["clean_orders"])["clean_orders"].load()
    session.run(runtime_data={"clean_orders": clean}, to_nodes=["price"])
with KedroSession.create(path, run_logging="summary") as session:
    session.run(run_id="quiet-run")
"""


def test_kedro_runtime_lines_show_under_kedros_default_logging(
    project_path: Path,
) -> None:
    env = {**os.environ, "COLUMNS": "400", "KEDRO_LOGGING_CONFIG": ""}
    env.pop("KEDRO_LOGGING_CONFIG")
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), str(project_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=project_path,
        check=True,
        timeout=300,
    )
    out = done.stdout + done.stderr
    assert "Kedro project orders_demo" in out
    assert "Skipping ['clean_orders']: all their outputs are injected" in out
    assert "Run quiet-run of pipeline(s) __default__" in out
    # Kedro's own lines show too, but only for the runs in "kedro" mode.
    assert out.count("Running node: clean_orders") == 1


def test_a_level_set_for_kedro_runtime_is_kept(project_path: Path) -> None:
    runtime = logging.getLogger("kedro_runtime")
    before = runtime.level
    runtime.setLevel(logging.ERROR)
    try:
        logging.getLogger("kedro").setLevel(logging.INFO)
        KedroSession.create(project_path).close()
        assert runtime.level == logging.ERROR
    finally:
        runtime.setLevel(before)
