"""Throughput of a parameter sweep over processes: run_many on Dask against pools.

``python benchmarks/dask_bench.py [--runs 500] [--cold-runs 100] [--workers 1 2]
[--sweep-points 10000]``

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

Then, per worker count: ``run_many`` with one request per task
(``batch_size=1``), the cost of an empty Dask task on the same cluster, the
requests per task ``run_many`` chose (per-task overhead = task cost / requests
per task), and the largest RSS of a warm worker. Last, with ``--sweep-points N``, a ``kedro sweep`` of N points on a
``dask scheduler`` and two ``dask worker`` processes: the client's RSS growth
(sampled), the sweep killed (``SIGKILL``) at about half way, then ``--resume``:
rows before the stop, runs after it, points run twice.
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import psutil
from distributed import Client
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


def run_many_rate(project: Path, workers: int, runs: int) -> dict[str, float]:
    """run_many's rate (batched, and one request per task), and the task cost."""
    with local_cluster(workers) as client:

        def sweep(n: int, batch_size: int | None = None) -> float:
            requests = [{"runtime_params": params(i)} for i in range(n)]
            began = time.perf_counter()
            results = run_many(
                project,
                requests,
                client=client,
                env="bench",
                outputs=["headline"],
                progress=False,
                batch_size=batch_size,
            )
            elapsed = time.perf_counter() - began
            assert all(r.ok for r in results), [r.error for r in results if r.error]
            return n / elapsed

        sweep(workers * 2)  # warm every worker
        tasks = TaskCounter()
        with tasks:
            batched = sweep(runs)
        return {
            "batched": batched,
            "one_per_task": sweep(runs, batch_size=1),
            "task_ms": empty_task_ms(client),
            "per_task": runs / max(tasks.tasks, 1),
            "worker_mib": max(client.run(_rss_mib).values()),
        }


class TaskCounter(logging.Handler):
    """Reads run_many's closing line: ``N runs in M tasks``."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.tasks = 0

    def emit(self, record: logging.LogRecord) -> None:
        words = record.getMessage().split()
        if words[1:3] == ["runs", "in"]:
            self.tasks = int(words[3])

    def __enter__(self) -> TaskCounter:
        logger = logging.getLogger("kedro_runtime.dask")
        logger.addHandler(self)
        logger.setLevel(logging.INFO)
        return self

    def __exit__(self, *args: object) -> None:
        logging.getLogger("kedro_runtime.dask").removeHandler(self)


def _rss_mib() -> float:
    rss: float = psutil.Process().memory_info().rss / 2**20
    return rss


def _nothing(i: int) -> int:
    return i


def empty_task_ms(client: Any, tasks: int = 500) -> float:
    """Milliseconds of client, scheduler and worker time per empty task."""
    began = time.perf_counter()
    futures = [client.submit(_nothing, i, pure=False) for i in range(tasks)]
    client.gather(futures)
    return (time.perf_counter() - began) / tasks * 1000


# --- a long kedro sweep, killed and resumed --------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def sweep_resume(project: Path, points: int) -> None:
    """A ``kedro sweep`` of ``points`` points on a CLI-started cluster, killed at
    half way, then resumed; prints the client's RSS growth and the row counts."""
    bin_dir = Path(sys.executable).parent
    address = f"tcp://127.0.0.1:{free_port()}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    port = address.rsplit(":", 1)[1]
    cluster = [
        subprocess.Popen(
            [bin_dir / "dask", "scheduler", "--host", "127.0.0.1", "--port", port,
             "--no-dashboard"], **quiet,
        )
    ]  # fmt: skip
    try:
        cluster += [
            subprocess.Popen(
                [bin_dir / "dask", "worker", address, "--nthreads", "1",
                 "--no-dashboard", "--host", "127.0.0.1"], **quiet,
            )
            for _ in range(2)
        ]  # fmt: skip
        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        grid = project / "grid.yml"
        grid.write_text(
            f"product:\n  factor: {[1 + i / 10000 for i in range(points)]}\n"
        )
        out = project / "sweep.csv"
        command = [
            str(bin_dir / "kedro"), "sweep", "--grid", str(grid), "--scheduler",
            address, "--env", "bench", "--output", str(out), "--no-progress",
        ]  # fmt: skip
        _, growth_first = watch(command, project, out, stop_at=points // 2)
        before = {row["point"]: row["run_id"] for row in read_csv(out)}
        began = time.perf_counter()
        second, growth_second = watch([*command, "--resume"], project, out, None)
        elapsed = time.perf_counter() - began
        after = read_csv(out)
    finally:
        for process in cluster:
            process.kill()
            process.wait(timeout=10)
    rerun = sum(
        before.get(row["point"], row["run_id"]) != row["run_id"] for row in after
    )
    print(f"\n{points}-point kedro sweep, 2 workers (dask CLI), output CSV:\n")
    print(f"- killed (SIGKILL) with {len(before)} rows in the file")
    print(f"- resume: {second.strip().splitlines()[-2:]} in {elapsed:.0f} s")
    print(
        f"- rows at the end: {len(after)}, distinct points: "
        f"{len({row['point'] for row in after})}, ok: "
        f"{sum(row['status'] == 'ok' for row in after)}, kept rows run again: {rerun}"
    )
    print(
        f"- client RSS growth after its first row: {growth_first:.1f} MiB before "
        f"the kill, {growth_second:.1f} MiB during the resume"
    )


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def watch(
    command: list[str], project: Path, out: Path, stop_at: int | None
) -> tuple[str, float]:
    """Run a sweep, sampling its RSS; SIGKILL it once ``stop_at`` rows are written.

    Returns its output and its RSS growth (MiB) from its first row to its peak.
    """
    process = subprocess.Popen(
        command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    client = psutil.Process(process.pid)
    start_rows = len(read_csv(out)) if out.exists() else 0
    base = peak = 0
    while process.poll() is None:
        try:
            rss = client.memory_info().rss
        except psutil.NoSuchProcess:
            break
        rows = len(out.read_text().splitlines()) - 1 if out.exists() else 0
        if rows > start_rows and not base:
            base = rss
        peak = max(peak, rss)
        if stop_at is not None and rows >= stop_at:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.2)
    output = process.communicate()[0].decode()
    return output, (peak - base) / 2**20 if base else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--cold-runs", type=int, default=100)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--sweep-points", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = make_project(Path(tmp))
        rows = [
            (
                workers,
                run_many_rate(project, workers, args.runs),
                pool_rate(project, workers, args.runs, start_warm, run_warm),
                pool_rate(project, workers, args.cold_runs, start_kedro, run_kedro),
            )
            for workers in args.workers
        ]
        print_rates(args, rows)
        if args.sweep_points:
            sweep_resume(project, args.sweep_points)
    load = os.getloadavg()[0]
    print(f"\n{os.cpu_count()} CPUs, load average {load:.1f} at the end.")


def print_rates(args: argparse.Namespace, rows: list[Any]) -> None:
    print(f"{args.runs}-run sweep (pool_kedro: {args.cold_runs} runs), runs/s:\n")
    print(
        "| workers | run_many (Dask, batched) | run_many, 1 request per task "
        "| pool, warm session | pool, Kedro session per run |"
    )
    print("| ---: | ---: | ---: | ---: | ---: |")
    for workers, dask, warm_rate, kedro_rate in rows:
        print(
            f"| {workers} | {dask['batched']:.1f} | {dask['one_per_task']:.1f} "
            f"| {warm_rate:.1f} | {kedro_rate:.1f} |"
        )
    print(
        "\n| workers | empty Dask task (ms) | requests per task "
        "| overhead per run (ms) | warm worker RSS (MiB) |"
    )
    print("| ---: | ---: | ---: | ---: | ---: |")
    for workers, dask, _, _ in rows:
        per_run = dask["task_ms"] / dask["per_task"]
        print(
            f"| {workers} | {dask['task_ms']:.2f} | {dask['per_task']:.1f} "
            f"| {per_run:.2f} | {dask['worker_mib']:.0f} |"
        )


if __name__ == "__main__":
    main()
