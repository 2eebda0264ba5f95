"""Throughput of a parameter sweep over processes: run_many on Dask against pools.

``python benchmarks/dask_bench.py [--runs 500] [--cold-runs 100] [--workers 1 2]``

Four ways to run the ``examples/orders`` pipeline once per parameter value, each
with N worker processes (N = 1, then 2):

- ``run_many``: :func:`kedro_runtime.dask.run_many` on a ``LocalCluster`` of N
  single-threaded worker processes (one warm session per worker, a new run id
  per attempt, retries, results in order; progress bar off).
- ``pool_warm``: a ``ProcessPoolExecutor`` of N processes, each with one warm
  kedro-runtime session made by the pool's initializer (the parameter-sweeps
  docs' example).
- ``pool_kedro``: a ``ProcessPoolExecutor`` of N processes, a new Kedro
  ``KedroSession`` (Kedro's own class) created for every run.

Every process logs at WARNING (``KEDRO_LOGGING_CONFIG``); outputs are in memory
(a ``bench`` environment), so no run writes a file. Workers are started and
warmed with one batch of runs before the clock starts: the numbers are
steady-state throughput. ``pool_kedro`` runs ``--cold-runs`` runs (a rate does not
depend on the count, and it is slow). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from kedro.framework.session import KedroSession as PlainKedroSession
from kedro.framework.startup import bootstrap_project

from kedro_runtime import KedroSession, generate_run_id
from kedro_runtime.dask import local_cluster, run_many

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "orders"
BENCH_CATALOG = "summary:\n  type: MemoryDataset\nheadline:\n  type: MemoryDataset\n"
QUIET_LOGGING = """\
version: 1
disable_existing_loggers: false
handlers:
  console: {class: logging.StreamHandler, level: WARNING}
root: {handlers: [console], level: WARNING}
"""

_state: dict[str, Any] = {}  # the pool process's project path or warm session


os.environ["KEDRO_DISABLE_TELEMETRY"] = "true"


def make_project(root: Path) -> Path:
    project = root / "orders"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__"))
    (project / "conf" / "bench").mkdir()
    (project / "conf" / "bench" / "catalog.yml").write_text(BENCH_CATALOG)
    logging_file = root / "logging.yml"
    logging_file.write_text(QUIET_LOGGING)
    os.environ["KEDRO_LOGGING_CONFIG"] = str(logging_file)
    return project


def quiet_logs() -> None:
    """Pool processes log at WARNING too: they are forked from this process, whose
    Kedro logging was configured on import, before ``KEDRO_LOGGING_CONFIG`` was set
    (Dask's spawned workers read it when they import Kedro)."""
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("kedro").setLevel(logging.WARNING)


def params(i: int) -> dict[str, Any]:
    return {"factor": 1 + i / 1000, "discount.rate": (i % 5) / 10}


# --- pool workers --------------------------------------------------------------


def start_warm(project: Path) -> None:
    bootstrap_project(project)
    quiet_logs()
    _state["session"] = KedroSession.create(project, env="bench")


def run_warm(i: int) -> str:
    run_id = f"{generate_run_id()}-{os.getpid()}"
    result: str = (
        _state["session"]
        .run(runtime_params=params(i), run_id=run_id)["headline"]
        .load()
    )
    return result


def start_kedro(project: Path) -> None:
    bootstrap_project(project)
    quiet_logs()
    _state["project"] = project


def run_kedro(i: int) -> str:
    with PlainKedroSession.create(
        _state["project"], env="bench", runtime_params=_nested(params(i))
    ) as session:
        result: str = session.run()["headline"].load()
    return result


def _nested(flat: dict[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        node = nested
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return nested


# --- measurements ----------------------------------------------------------------


def pool_rate(
    project: Path,
    workers: int,
    runs: int,
    start: Callable[[Path], None],
    run: Callable[[int], str],
) -> float:
    with ProcessPoolExecutor(workers, initializer=start, initargs=(project,)) as pool:
        list(pool.map(run, range(workers * 2)))  # warm every process
        began = time.perf_counter()
        results = list(pool.map(run, range(runs)))
        elapsed = time.perf_counter() - began
    assert len(results) == runs
    return runs / elapsed


def run_many_rate(project: Path, workers: int, runs: int) -> float:
    with local_cluster(workers) as client:

        def sweep(n: int) -> float:
            requests = [{"runtime_params": params(i)} for i in range(n)]
            began = time.perf_counter()
            results = run_many(
                project,
                requests,
                client=client,
                env="bench",
                outputs=["headline"],
                progress=False,
            )
            elapsed = time.perf_counter() - began
            assert all(r.ok for r in results), [r.error for r in results if r.error]
            return n / elapsed

        sweep(workers * 2)  # warm every worker
        return sweep(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--cold-runs", type=int, default=100)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = make_project(Path(tmp))
        rows = []
        for workers in args.workers:
            rows.append(
                (
                    workers,
                    run_many_rate(project, workers, args.runs),
                    pool_rate(project, workers, args.runs, start_warm, run_warm),
                    pool_rate(project, workers, args.cold_runs, start_kedro, run_kedro),
                )
            )
    print(f"{args.runs}-run sweep (pool_kedro: {args.cold_runs} runs), runs/s:\n")
    print(
        "| workers | run_many (Dask) | pool, warm session | pool, Kedro session per run |"
    )
    print("| ---: | ---: | ---: | ---: |")
    for workers, dask_rate, warm_rate, kedro_rate in rows:
        print(f"| {workers} | {dask_rate:.1f} | {warm_rate:.1f} | {kedro_rate:.1f} |")
    load = os.getloadavg()[0]
    print(f"\n{os.cpu_count()} CPUs, load average {load:.1f} at the end.")


if __name__ == "__main__":
    main()
