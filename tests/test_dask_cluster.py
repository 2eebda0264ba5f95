"""``kedro sweep`` on a real Dask cluster: ``dask scheduler`` and two ``dask worker``
processes started with Dask's command-line tools, one of them killed mid-sweep."""

from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import Client
from kedro.framework.startup import bootstrap_project

from kedro_runtime import KedroSession

BIN = Path(sys.executable).parent
POINTS = 240
SWEEP_CATALOG = """\
summary:
  type: MemoryDataset
headline:
  type: text.TextDataset
  filepath: data/08_reporting/headline.txt
  versioned: true
"""
QUIET_LOGGING = """\
version: 1
disable_existing_loggers: false
handlers:
  console: {class: logging.StreamHandler, level: WARNING}
root: {handlers: [console], level: WARNING}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(BIN / "dask"), *args],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.kill()
    for process in processes:
        process.wait(timeout=10)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """A scheduler on a free port and two single-threaded workers, no nannies
    (a killed worker stays dead), killed at the end whatever happens."""
    logging_file = tmp_path / "logging.yml"
    logging_file.write_text(QUIET_LOGGING)
    env = {
        **os.environ,
        "KEDRO_DISABLE_TELEMETRY": "true",
        "KEDRO_LOGGING_CONFIG": str(logging_file),
    }
    address = f"tcp://127.0.0.1:{free_port()}"
    port = address.rsplit(":", 1)[1]
    processes = [
        start(
            "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard",
            env=env, log=tmp_path / "scheduler.log",
        )
    ]  # fmt: skip
    try:
        for number in range(2):
            processes.append(
                start(
                    "worker", address, "--nthreads", "1", "--no-nanny",
                    "--no-dashboard", "--host", "127.0.0.1",
                    env=env, log=tmp_path / f"worker{number}.log",
                )
            )  # fmt: skip
        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=30)
        yield address, processes[1:]
    finally:
        stop(processes)


def test_kedro_sweep_on_dask_cli_processes_survives_a_killed_worker(
    project_path: Path, cluster: tuple[str, list[subprocess.Popen[bytes]]]
) -> None:
    address, workers = cluster
    (project_path / "conf" / "sweep").mkdir()
    (project_path / "conf" / "sweep" / "catalog.yml").write_text(SWEEP_CATALOG)
    factors = [round(1 + i / 100, 2) for i in range(POINTS)]
    grid = project_path / "grid.yml"
    grid.write_text(f"product:\n  factor: {factors}\n")
    out = project_path / "results.csv"
    command = [
        str(BIN / "kedro"), "sweep", "--grid", str(grid), "--scheduler", address,
        "--env", "sweep", "--output", str(out), "--no-progress",
    ]  # fmt: skip
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"}
    sweep = subprocess.Popen(
        command,
        cwd=project_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        rows_at_kill = 0
        while rows_at_kill < 20:  # rows are appended as runs complete
            assert time.monotonic() < deadline, "no rows after 60 s"
            assert sweep.poll() is None, sweep.communicate()[0].decode()
            time.sleep(0.05)
            rows_at_kill = len(out.read_text().splitlines()) - 1 if out.exists() else 0
        os.kill(workers[0].pid, signal.SIGKILL)
        output = sweep.communicate(timeout=60)[0].decode()
    finally:
        if sweep.poll() is None:
            sweep.kill()
            sweep.wait(timeout=10)
    assert workers[0].wait(timeout=10) == -signal.SIGKILL
    assert rows_at_kill < POINTS
    assert sweep.returncode == 0, output
    assert f"{POINTS} runs, 0 failed." in output

    rows = list(csv.DictReader(out.open()))
    assert [float(row["factor"]) for row in rows] == factors
    assert {row["status"] for row in rows} == {"ok"}
    assert len({row["run_id"] for row in rows}) == POINTS
    bootstrap_project(project_path)
    with KedroSession.create(project_path, env="sweep") as reference:
        for row, factor in zip(rows, factors, strict=True):
            expected = reference.run(runtime_params={"factor": factor})
            assert row["headline"] == expected["headline"].load()
