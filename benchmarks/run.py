"""kedro-runtime benchmark: one process, every way to serve a Kedro pipeline.

Run it with ``make bench`` (or ``python benchmarks/run.py [--quick] [--publish]``).

The script writes its own Kedro project to a temporary directory (see
``benchproject.py``: seven pandas nodes, a CSV reference table, 22 parameters),
then measures, in one invocation and interleaved (round-robin, block by block,
with the path order rotated every round so machine noise hits every path alike):

1. ``kedro_session``: a new Kedro ``KedroSession`` + ``run()`` per request. Kedro
   has no data argument, so the request's DataFrame reaches the run the fairest
   way Kedro allows: an ``after_catalog_created`` hook registered in the
   project's ``settings.py`` puts it in the catalog as a ``MemoryDataset``
   (writing a CSV per request would add disk I/O that no other path pays).
2. ``service_session``: one Kedro ``KedroServiceSession`` (serving mode),
   ``run()`` per request; data through the same hook.
3. ``kedro_boot``: kedro-boot's ``session.run(inputs=..., parameters=...)``, in a
   virtualenv the script creates, measured through a subprocess that answers
   block by block (skipped, with the reason, if it cannot be installed).
4. ``bare_runner``: a ``SequentialRunner`` over a catalog prepared once.
5. ``direct``: the node functions called one after the other (the floor).
6. ``kedro_runtime``: warm ``session.run(runtime_data=..., runtime_params=...)``;
   and 4 threads on one session (throughput in runs/s).
7. every path above with Kedro's default logging and with a lean setup.

Paths marked ``(ref in memory)`` keep the ``products`` reference table in memory
instead of reading its CSV per request (kedro-boot does this by itself: it
preloads "artifact" datasets at start-up).

Also: cold start (bootstrap + create + first run, each in a fresh process) per
session type; RSS growth over 10,000 warm kedro-runtime runs; and warm run time
with 10, 100 and 1,000 catalog entries.

Outputs: a table on stdout, ``benchmarks/results/latest.json`` (git-ignored) and
``benchmarks/results/latency.png``; with ``--publish`` also
``docs/benchmarks.json`` and ``docs/img/latency.png``.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import gc
import json
import os
import platform
import random
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO, Any

os.environ["KEDRO_DISABLE_TELEMETRY"] = "true"

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

# Importing kedro.framework.project applies Kedro's default logging and logs one
# INFO line to stdout: send it to stderr so that stdout carries only the table.
with contextlib.redirect_stdout(sys.stderr):
    import kedro.framework.project  # noqa: F401

import benchlogging  # noqa: E402
import benchproject  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from kedro.framework.hooks.manager import (  # noqa: E402
    _create_hook_manager,
    _register_hooks,
    _register_hooks_entry_points,
)
from kedro.framework.project import pipelines, settings  # noqa: E402
from kedro.framework.session import KedroSession  # noqa: E402
from kedro.framework.session.service_session import KedroServiceSession  # noqa: E402
from kedro.framework.startup import bootstrap_project  # noqa: E402
from kedro.io import MemoryDataset  # noqa: E402
from kedro.runner import SequentialRunner  # noqa: E402

import kedro_runtime  # noqa: E402

RESULTS = HERE / "results"
DOCS = REPO / "docs"
WORKER = HERE / "benchworker.py"
BOOT_VERSION = "0.3.0"
PINNED = (
    "kedro",
    "kedro-datasets",
    "pandas",
    "numpy",
    "pyarrow",
    "omegaconf",
    "pluggy",
    "fsspec",
    "rich",
)
Result = tuple[pd.DataFrame, dict[str, Any]]

_REAL_STDERR: IO[str] = sys.stderr


def say(message: str) -> None:
    """Progress, on the real stderr even while measurements silence output."""
    _REAL_STDERR.write(f"[bench {time.strftime('%H:%M:%S')}] {message}\n")
    _REAL_STDERR.flush()


@dataclass(frozen=True)
class Config:
    """How much to measure. ``--quick`` only checks that everything works."""

    quick: bool
    warmup: int
    block: int
    samples_lean: int
    samples_default: int
    thread_rounds: int
    thread_runs_per_thread: int
    catalog_samples: int
    service_catalog_samples: int
    rss_runs: int
    rss_every: int
    cold_reps: int

    @classmethod
    def make(cls, quick: bool) -> Config:
        if quick:
            return cls(True, 5, 5, 20, 10, 2, 4, 20, 5, 500, 100, 2)
        return cls(False, 30, 10, 300, 100, 10, 10, 150, 30, 10_000, 500, 5)


def percentiles(times: list[float]) -> dict[str, float]:
    """p50/p95/p99/mean/min in milliseconds."""
    arr = np.asarray(times) * 1000.0
    return {
        "n": len(times),
        "p50_ms": float(np.percentile(arr, 50)),
        "p95_ms": float(np.percentile(arr, 95)),
        "p99_ms": float(np.percentile(arr, 99)),
        "mean_ms": float(arr.mean()),
        "min_ms": float(arr.min()),
    }


def rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """Send stdout/stderr (where Kedro's default rich logging writes) to /dev/null."""
    with (
        open(os.devnull, "w", encoding="utf-8") as devnull,
        contextlib.redirect_stdout(devnull),
        contextlib.redirect_stderr(devnull),
    ):
        yield


# --- paths ------------------------------------------------------------------------


@dataclass
class Block:
    times: list[float]
    hooks: dict[str, int]


class InProcessPath:
    """A way to serve a request, measured in this process."""

    def __init__(
        self,
        key: str,
        label: str,
        request: Callable[[int], Result],
        reference: str,
        counts: dict[str, int],
    ) -> None:
        self.key = key
        self.label = label
        self.reference = reference
        self._request = request
        self._counts = counts

    def request(self, number: int) -> Result:
        return self._request(number)

    def run_block(self, start: int, n: int, mode: str) -> Block:
        del mode  # logging is process-wide: the driver sets it per phase
        before = dict(self._counts)
        times = []
        for number in range(start, start + n):
            tick = time.perf_counter()
            self._request(number)
            times.append(time.perf_counter() - tick)
        fired = {key: self._counts[key] - before[key] for key in self._counts}
        return Block(times, fired)


class BootUnavailableError(RuntimeError):
    """kedro-boot could not be installed or started."""


class BootPath:
    """kedro-boot, served by ``benchworker.py serve-boot`` in its own virtualenv."""

    key = "kedro_boot"
    label = "kedro-boot session.run(inputs=...)"
    reference = "memory (kedro-boot preloads it)"

    def __init__(self, python: Path, project: Path, log: Path) -> None:
        self._log = open(log, "w", encoding="utf-8")
        self._proc = subprocess.Popen(
            [str(python), str(WORKER), "serve-boot", "--project", str(project)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            cwd=str(project),
        )
        self._log_path = log
        self.info = self._read(timeout=180)
        if not self.info.get("ready"):
            raise BootUnavailableError(f"kedro-boot worker did not start: {self.info}")

    def _read(self, timeout: float) -> dict[str, Any]:
        assert self._proc.stdout is not None
        ready, _, _ = select.select([self._proc.stdout], [], [], timeout)
        line = self._proc.stdout.readline() if ready else ""
        if not line:
            self.close()
            tail = self._log_path.read_text(encoding="utf-8")[-2000:]
            raise BootUnavailableError(
                f"kedro-boot worker gave no answer. Log:\n{tail}"
            )
        return json.loads(line)  # type: ignore[no-any-return]

    def _ask(self, command: dict[str, Any], timeout: float = 300) -> dict[str, Any]:
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(command) + "\n")
        self._proc.stdin.flush()
        return self._read(timeout)

    def run_block(self, start: int, n: int, mode: str) -> Block:
        answer = self._ask({"cmd": "run", "start": start, "n": n, "logging": mode})
        return Block(answer["times"], answer["hooks"])

    def rss(self) -> int:
        return int(self._ask({"cmd": "rss"})["rss_bytes"])

    def close(self) -> None:
        if self._proc.poll() is None:
            with contextlib.suppress(Exception):
                assert self._proc.stdin is not None
                self._proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
                self._proc.stdin.flush()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._log.close()


def boot_python(venv: Path, fresh: bool) -> Path:
    """A virtualenv with kedro-boot and the same versions as this one."""
    pins = [f"{name}=={v}" for name in PINNED if (v := package_version(name))]
    pins = [
        p.replace("kedro-datasets==", "kedro-datasets[pandas-csvdataset]==")
        for p in pins
    ]
    python = venv / "bin" / "python"
    marker = venv / "bench-pins.json"
    wanted = [f"kedro-boot=={BOOT_VERSION}", *pins]
    if fresh and venv.exists():
        shutil.rmtree(venv)
    if python.exists() and marker.exists():
        if json.loads(marker.read_text(encoding="utf-8")) == wanted:
            return python
    say(f"creating the kedro-boot virtualenv at {venv} (python -m venv + pip)")
    if venv.exists():
        shutil.rmtree(venv)
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", str(venv)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *wanted],
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        )
    except subprocess.CalledProcessError as exc:
        output = (exc.stderr or "") if isinstance(exc.stderr, str) else ""
        raise BootUnavailableError(
            f"could not install kedro-boot: {exc}\n{output[-1500:]}"
        ) from exc
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BootUnavailableError(f"could not install kedro-boot: {exc}") from exc
    marker.write_text(json.dumps(wanted), encoding="utf-8")
    return python


# --- the project, in this process -------------------------------------------------


class Bench:
    """Everything measured in this process, built over one project."""

    def __init__(self, project: Path) -> None:
        self.project = project
        benchlogging.remember_default()
        bootstrap_project(project)
        benchlogging.apply("lean")
        self.hooks = __import__(
            f"{benchproject.PACKAGE}.hooks", fromlist=["PENDING", "COUNTS"]
        )
        self.nodes = __import__(f"{benchproject.PACKAGE}.nodes", fromlist=["kpis"])
        self.requests = benchproject.load_requests(project)
        self.products_csv = project / "data" / "01_raw" / "products.csv"
        self.products = pd.read_csv(self.products_csv)
        self.runtime_sessions: dict[str, Any] = {}

    # shared helpers
    def req(self, number: int) -> tuple[pd.DataFrame, float]:
        return (
            self.requests[number % len(self.requests)],
            benchproject.factor_for(number),
        )

    @staticmethod
    def outputs(out: dict[str, Any]) -> Result:
        return out["summary"].load(), out["kpis"].load()

    def runtime_session(self, env: str | None = None) -> Any:
        key = env or "local"
        if key not in self.runtime_sessions:
            self.runtime_sessions[key] = kedro_runtime.KedroSession.create(
                self.project, env=env
            )
        return self.runtime_sessions[key]

    # 1. a new Kedro session per request
    def kedro_session(self, number: int) -> Result:
        data, factor = self.req(number)
        self.hooks.PENDING["orders"] = data
        try:
            with KedroSession.create(
                self.project, runtime_params={"factor": factor}
            ) as session:
                return self.outputs(session.run())
        finally:
            self.hooks.PENDING.clear()

    # 2. one KedroServiceSession
    def service_request(self, env: str | None = None) -> Callable[[int], Result]:
        session = KedroServiceSession.create(
            project_path=self.project, env=env, serving_mode=True
        )

        def request(number: int) -> Result:
            data, factor = self.req(number)
            self.hooks.PENDING["orders"] = data
            try:
                return self.outputs(session.run(runtime_params={"factor": factor}))
            finally:
                self.hooks.PENDING.clear()

        return request

    # 4. a bare SequentialRunner over a catalog prepared once
    def bare_request(self, preloaded: bool) -> Callable[[int], Result]:
        # The same hooks a session registers, so node hooks fire as in a session.
        hook_manager = _create_hook_manager()
        _register_hooks(hook_manager, settings.HOOKS)
        _register_hooks_entry_points(hook_manager, settings.DISABLE_HOOKS_FOR_PLUGINS)
        with KedroSession.create(self.project) as session:
            catalog = session.load_context().catalog
        catalog["orders"] = MemoryDataset()
        if preloaded:
            catalog["products"] = MemoryDataset(self.products, copy_mode="assign")
        pipeline = pipelines["__default__"]

        def request(number: int) -> Result:
            data, factor = self.req(number)
            catalog.save("orders", data)
            catalog.save("params:factor", factor)
            catalog.save("params:scale", factor)
            out = SequentialRunner().run(pipeline, catalog, hook_manager)
            return self.outputs(out)

        return request

    # 5. the node functions called directly
    def direct_request(self, preloaded: bool) -> Callable[[int], Result]:
        params = copy.deepcopy(self.runtime_session().load_context().params)
        nodes = self.nodes

        def request(number: int) -> Result:
            data, factor = self.req(number)
            products = self.products if preloaded else pd.read_csv(self.products_csv)
            clean = nodes.clean_orders(data, params["cleaning"])
            enriched = nodes.attach_products(clean, products)
            revenue = nodes.add_revenue(
                enriched, params["vat_rate"], factor, params["fx_rate"]
            )
            discounted = nodes.apply_discounts(revenue, params["discount"])
            flagged = nodes.flag_outliers(discounted, params["outliers"])
            summary = nodes.summarise(flagged, params["top_n"], params["rounding"])
            kpis = nodes.kpis(flagged, params["currency"], factor, params["report"])
            return summary, kpis

        return request

    # 6. kedro-runtime
    def runtime_request(
        self, preloaded: bool, env: str | None = None, params: bool = True
    ) -> Callable[[int], Result]:
        session = self.runtime_session(env)
        extra = (
            {"products": MemoryDataset(self.products, copy_mode="assign")}
            if preloaded
            else {}
        )

        def request(number: int) -> Result:
            data, factor = self.req(number)
            out = session.run(
                runtime_data={"orders": data, **extra},
                runtime_params={"factor": factor} if params else None,
            )
            return self.outputs(out)

        return request

    def paths(self) -> list[InProcessPath]:
        counts = self.hooks.COUNTS
        return [
            InProcessPath(
                "direct",
                "node functions called directly",
                self.direct_request(False),
                "csv",
                counts,
            ),
            InProcessPath(
                "direct_mem",
                "node functions called directly (ref in memory)",
                self.direct_request(True),
                "memory",
                counts,
            ),
            InProcessPath(
                "bare_runner",
                "bare SequentialRunner, catalog prepared once",
                self.bare_request(False),
                "csv",
                counts,
            ),
            InProcessPath(
                "bare_runner_mem",
                "bare SequentialRunner (ref in memory)",
                self.bare_request(True),
                "memory",
                counts,
            ),
            InProcessPath(
                "kedro_runtime",
                "kedro-runtime session.run(runtime_data=...)",
                self.runtime_request(False),
                "csv",
                counts,
            ),
            InProcessPath(
                "kedro_runtime_mem",
                "kedro-runtime session.run (ref in memory)",
                self.runtime_request(True),
                "memory",
                counts,
            ),
            InProcessPath(
                "kedro_runtime_data",
                "kedro-runtime session.run, runtime_data only",
                self.runtime_request(False, params=False),
                "csv",
                counts,
            ),
            InProcessPath(
                "service_session",
                "KedroServiceSession.run() + injection hook",
                self.service_request(),
                "csv",
                counts,
            ),
            InProcessPath(
                "kedro_session",
                "new KedroSession + run per request + hook",
                self.kedro_session,
                "csv",
                counts,
            ),
        ]


# --- measurements -----------------------------------------------------------------


@dataclass
class Series:
    times: list[float] = field(default_factory=list)
    hooks: dict[str, int] = field(default_factory=dict)

    def add(self, block: Block) -> None:
        self.times.extend(block.times)
        for key, value in block.hooks.items():
            self.hooks[key] = self.hooks.get(key, 0) + value


def interleaved(
    paths: list[Any], config: Config, modes: tuple[str, ...]
) -> dict[str, dict[str, Series]]:
    """Round-robin blocks over every path and logging mode; rotate the order."""
    counters = {path.key: 0 for path in paths}
    series = {mode: {path.key: Series() for path in paths} for mode in modes}
    wanted = {"lean": config.samples_lean, "default": config.samples_default}

    def block(path: Any, n: int, mode: str) -> Block:
        result = path.run_block(counters[path.key], n, mode)
        counters[path.key] += n
        return result

    for mode in modes:
        benchlogging.apply(mode)
        for path in paths:
            block(path, config.warmup if mode == "lean" else 3, mode)
    rounds = max(-(-wanted[mode] // config.block) for mode in modes)
    rng = random.Random(4)
    for number in range(rounds):
        for mode in modes:
            if number * config.block >= wanted[mode]:
                continue
            benchlogging.apply(mode)
            order = paths[number % len(paths) :] + paths[: number % len(paths)]
            if number % 2:
                order.reverse()
            if number % 5 == 4:
                rng.shuffle(order)
            for path in order:
                series[mode][path.key].add(block(path, config.block, mode))
        if number % max(1, rounds // 10) == 0:
            say(f"latency round {number + 1}/{rounds}")
    benchlogging.apply("lean")
    return series


def threads(bench: Bench, config: Config) -> dict[str, Any]:
    """4 threads on one kedro-runtime session vs the same session sequentially.

    Every result is checked (after its block, outside the timed part) against the
    direct call's result for the same request: concurrent runs must not see each
    other's data or parameters.
    """
    request = bench.runtime_request(False)
    direct = bench.direct_request(False)
    cycle = 40  # request n sends batch n % 8 and factor_for(n % 5)
    expected = [benchproject.fingerprint(*direct(n)) for n in range(cycle)]
    workers = 4
    per_block = workers * config.thread_runs_per_thread
    seq_wall = thr_wall = 0.0
    seq_times: list[float] = []
    thr_times: list[float] = []
    results: list[tuple[int, Result]] = []
    checked = wrong = 0
    lock = threading.Lock()
    counter = iter(range(10**9))

    def timed(number: int) -> None:
        tick = time.perf_counter()
        result = request(number)
        took = time.perf_counter() - tick
        with lock:
            thr_times.append(took)
            results.append((number, result))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(timed, [next(counter) for _ in range(workers * 2)]))  # warm-up
        thr_times.clear()
        for number in range(config.thread_rounds):
            for kind in ("seq", "thr") if number % 2 == 0 else ("thr", "seq"):
                numbers = [next(counter) for _ in range(per_block)]
                results.clear()
                tick = time.perf_counter()
                if kind == "seq":
                    for n in numbers:
                        start = time.perf_counter()
                        results.append((n, request(n)))
                        seq_times.append(time.perf_counter() - start)
                    seq_wall += time.perf_counter() - tick
                else:
                    list(pool.map(timed, numbers))
                    thr_wall += time.perf_counter() - tick
                for n, result in results:
                    checked += 1
                    wrong += benchproject.fingerprint(*result) != expected[n % cycle]
    if wrong:
        say(f"WARNING: {wrong} of {checked} threaded/sequential results were wrong")
    total = per_block * config.thread_rounds
    return {
        "threads": workers,
        "sequential": {**percentiles(seq_times), "runs_per_s": total / seq_wall},
        "threaded": {**percentiles(thr_times), "runs_per_s": total / thr_wall},
        "results_checked": checked,
        "results_wrong": wrong,
        "cpu_count": os.cpu_count(),
    }


def catalog_growth(bench: Bench, config: Config) -> dict[str, Any]:
    """Warm run time with 10, 100 and 1,000 catalog entries."""
    result: dict[str, Any] = {"kedro_runtime": {}, "service_session": {}}
    paths = []
    for env, size in benchproject.CATALOG_SIZES.items():
        tick = time.perf_counter()
        session = bench.runtime_session(env)
        request = bench.runtime_request(False, env=env)
        request(0)
        first = time.perf_counter() - tick
        entries = len(session.load_context().config_loader["catalog"])
        result["kedro_runtime"][str(size)] = {"entries": entries, "first_run_s": first}
        paths.append(
            InProcessPath(
                f"runtime_{size}",
                f"kedro-runtime, {size} entries",
                request,
                "csv",
                bench.hooks.COUNTS,
            )
        )
    service_paths = []
    for env in ("small", "big"):
        size = benchproject.CATALOG_SIZES[env]
        service_paths.append(
            InProcessPath(
                f"service_{size}",
                f"KedroServiceSession, {size} entries",
                bench.service_request(env),
                "csv",
                bench.hooks.COUNTS,
            )
        )
    small = Config(**{**config.__dict__, "samples_lean": config.catalog_samples})
    series = interleaved(paths, small, ("lean",))["lean"]
    for path in paths:
        size = path.key.split("_")[1]
        result["kedro_runtime"][size].update(percentiles(series[path.key].times))
    few = Config(
        **{
            **config.__dict__,
            "samples_lean": config.service_catalog_samples,
            "block": max(1, config.service_catalog_samples // 5),
            "warmup": 2,
        }
    )
    series = interleaved(service_paths, few, ("lean",))["lean"]
    for path in service_paths:
        size = path.key.split("_")[1]
        result["service_session"][size] = percentiles(series[path.key].times)
    return result


def rss_growth(bench: Bench, config: Config) -> dict[str, Any]:
    """RSS over many warm kedro-runtime runs (one session, lean logging)."""
    request = bench.runtime_request(False)
    session = bench.runtime_session()
    for number in range(50):
        request(number)
    gc.collect()
    start = rss_bytes()
    samples = [(0, start)]
    tick = time.perf_counter()
    for number in range(config.rss_runs):
        request(number)
        if (number + 1) % config.rss_every == 0:
            samples.append((number + 1, rss_bytes()))
        if (number + 1) % (config.rss_every * 4) == 0:
            say(f"rss: {number + 1}/{config.rss_runs} runs")
    wall = time.perf_counter() - tick
    gc.collect()
    end = rss_bytes()
    growth = (end - start) / 2**20
    return {
        "runs": config.rss_runs,
        "start_mib": start / 2**20,
        "end_mib": end / 2**20,
        "peak_mib": max(value for _, value in samples) / 2**20,
        "growth_mib": growth,
        "growth_mib_per_10k": growth * 10_000 / config.rss_runs,
        "samples_mib": [(n, value / 2**20) for n, value in samples],
        "mean_run_ms": wall / config.rss_runs * 1000,
        "run_ids_kept": len(getattr(session, "_run_ids", ()) or ()),
    }


def cold_starts(
    project: Path, config: Config, boot: Path | None
) -> dict[str, dict[str, Any]]:
    """Each sample a fresh process: imports, then bootstrap + create + first run."""
    kinds: dict[str, Path] = {
        "kedro_session": Path(sys.executable),
        "service_session": Path(sys.executable),
        "kedro_runtime": Path(sys.executable),
    }
    if boot is not None:
        kinds["kedro_boot"] = boot
    found: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    names = list(kinds)
    for rep in range(config.cold_reps + 1):  # the first round only warms the OS cache
        order = names[rep % len(names) :] + names[: rep % len(names)]
        for kind in order:
            tick = time.perf_counter()
            done = subprocess.run(
                [
                    str(kinds[kind]),
                    str(WORKER),
                    "cold",
                    "--kind",
                    kind,
                    "--project",
                    str(project),
                ],
                capture_output=True,
                text=True,
                timeout=300,
                cwd=str(project),
                check=False,
            )
            wall = time.perf_counter() - tick
            if done.returncode != 0:
                say(f"cold start {kind} failed:\n{done.stderr[-1500:]}")
                continue
            if rep:
                found[kind].append({**json.loads(done.stdout), "process_s": wall})
        say(f"cold start round {rep}/{config.cold_reps}")
    summary: dict[str, dict[str, Any]] = {}
    for kind, samples in found.items():
        if not samples:
            continue
        summary[kind] = {
            "n": len(samples),
            **{
                key: float(np.median([sample[key] for sample in samples]))
                for key in (
                    "import_s",
                    "create_s",
                    "first_run_s",
                    "cold_s",
                    "process_s",
                    "rss_mib",
                )
            },
            "fingerprints": sorted({sample["fingerprint"] for sample in samples}),
        }
    return summary


# --- report -----------------------------------------------------------------------

LABELS = {
    "direct": "node functions called directly (floor)",
    "direct_mem": "node functions, ref in memory",
    "bare_runner": "bare SequentialRunner, catalog prepared once",
    "bare_runner_mem": "bare SequentialRunner, ref in memory",
    "kedro_runtime": "kedro-runtime warm session.run",
    "kedro_runtime_mem": "kedro-runtime warm session.run, ref in memory",
    "kedro_runtime_data": "kedro-runtime warm session.run, no runtime_params",
    "kedro_boot": "kedro-boot session.run (ref preloaded)",
    "service_session": "KedroServiceSession.run + injection hook",
    "kedro_session": "new KedroSession + run per request + hook",
}
COLD_LABELS = {
    "kedro_session": "Kedro KedroSession create + first run",
    "service_session": "KedroServiceSession create + first run",
    "kedro_runtime": "kedro-runtime create + first run",
    "kedro_boot": "kedro-boot boot_project + first run",
}


def build_rows(results: dict[str, Any]) -> list[list[str]]:
    rows: list[list[str]] = []
    lat = results["latency"]
    for mode in benchlogging.MODES:
        floor = lat[mode]["direct"]["p50_ms"]
        for key, stats in lat[mode].items():
            hooks = (
                None
                if key.startswith("direct")
                else stats.get("before_pipeline_run_per_run")
            )
            rows.append(
                [
                    "per request",
                    LABELS.get(key, key),
                    mode,
                    str(stats["n"]),
                    f"{stats['p50_ms']:.2f}",
                    f"{stats['p95_ms']:.2f}",
                    f"{stats['p99_ms']:.2f}",
                    f"{stats['p50_ms'] / floor:.2f}x",
                    f"{1000 / stats['mean_ms']:.0f}",
                    "-" if hooks is None else ("yes" if hooks >= 1 else "no"),
                ]
            )
    thr = results["threads"]
    floor = lat["lean"]["direct"]["p50_ms"]
    for kind, label in (
        ("sequential", "1 thread"),
        ("threaded", f"{thr['threads']} threads"),
    ):
        stats = thr[kind]
        rows.append(
            [
                "throughput",
                f"kedro-runtime, one session, {label}",
                "lean",
                str(stats["n"]),
                f"{stats['p50_ms']:.2f}",
                f"{stats['p95_ms']:.2f}",
                f"{stats['p99_ms']:.2f}",
                f"{stats['p50_ms'] / floor:.2f}x",
                f"{stats['runs_per_s']:.0f}",
                f"yes; {thr['results_checked'] - thr['results_wrong']}"
                f"/{thr['results_checked']} results right",
            ]
        )
    for kind, stats in results["cold_start"].items():
        rows.append(
            [
                "cold start",
                COLD_LABELS[kind],
                "lean",
                str(stats["n"]),
                f"{stats['cold_s'] * 1000:.0f}",
                "-",
                "-",
                "-",
                "-",
                f"import {stats['import_s']:.2f}s, process {stats['process_s']:.2f}s",
            ]
        )
    growth = results["catalog"]
    for stats in growth["kedro_runtime"].values():
        rows.append(
            [
                "catalog size",
                f"kedro-runtime warm run, {stats['entries']} entries",
                "lean",
                str(stats["n"]),
                f"{stats['p50_ms']:.2f}",
                f"{stats['p95_ms']:.2f}",
                f"{stats['p99_ms']:.2f}",
                f"{stats['p50_ms'] / floor:.2f}x",
                "-",
                f"first run {stats['first_run_s'] * 1000:.0f} ms",
            ]
        )
    for size, stats in growth["service_session"].items():
        rows.append(
            [
                "catalog size",
                f"KedroServiceSession run, {size} entries",
                "lean",
                str(stats["n"]),
                f"{stats['p50_ms']:.2f}",
                f"{stats['p95_ms']:.2f}",
                f"{stats['p99_ms']:.2f}",
                f"{stats['p50_ms'] / floor:.2f}x",
                "-",
                "-",
            ]
        )
    rss = results["rss"]
    rows.append(
        [
            "memory",
            f"kedro-runtime RSS over {rss['runs']:,} warm runs",
            "lean",
            str(rss["runs"]),
            "-",
            "-",
            "-",
            "-",
            "-",
            f"{rss['start_mib']:.1f} -> {rss['end_mib']:.1f} MiB ({rss['growth_mib']:+.2f} MiB), peak {rss['peak_mib']:.1f}",
        ]
    )
    return rows


HEADER = [
    "section",
    "path",
    "logging",
    "n",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "p50/direct",
    "runs/s",
    "per-run pipeline hooks / notes",
]


def text_table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [HEADER, *rows]) for i in range(len(HEADER))]
    numeric = {3, 4, 5, 6, 7, 8}

    def fmt(row: list[str]) -> str:
        cells = [
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([fmt(HEADER), rule, *(fmt(row) for row in rows)])


def markdown_table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    lean = results["latency"]["lean"]
    p50 = {key: stats["p50_ms"] for key, stats in lean.items()}
    found: list[dict[str, Any]] = []

    def add(name: str, value: str, met: bool | None, note: str = "") -> None:
        found.append({"target": name, "measured": value, "met": met, "note": note})

    ratio = p50["kedro_runtime"] / p50["bare_runner"]
    data_only = p50["kedro_runtime_data"] / p50["bare_runner"]
    add(
        "warm p50 <= 1.05x bare-runner floor",
        f"{p50['kedro_runtime']:.2f} ms vs {p50['bare_runner']:.2f} ms = {ratio:.3f}x "
        f"(without runtime_params: {p50['kedro_runtime_data']:.2f} ms = {data_only:.3f}x)",
        ratio <= 1.05,
        "both read the reference CSV per run; the bare runner sets params:factor "
        "and params:scale directly, kedro-runtime re-resolves parameters.yml",
    )
    hooks = lean["kedro_runtime"].get("before_pipeline_run_per_run", 0)
    if "kedro_boot" in p50:
        like = p50["kedro_runtime_mem"] / p50["kedro_boot"]
        add(
            "warm p50 at least as fast as kedro-boot, firing per-run hooks",
            f"ref in memory: {p50['kedro_runtime_mem']:.2f} ms vs {p50['kedro_boot']:.2f} ms "
            f"= {like:.3f}x; ref from CSV: {p50['kedro_runtime']:.2f} ms "
            f"({p50['kedro_runtime'] / p50['kedro_boot']:.3f}x); "
            f"before_pipeline_run per run: kedro-runtime {hooks:.0f}, "
            f"kedro-boot {lean['kedro_boot'].get('before_pipeline_run_per_run', 0):.0f}",
            like <= 1.0 and hooks >= 1,
            "like for like: kedro-boot preloads the reference table, so the "
            "verdict compares kedro-runtime with the table injected in memory",
        )
    else:
        add("warm p50 at least as fast as kedro-boot", "kedro-boot skipped", None)
    ours = p50["kedro_runtime"] - p50["direct"]
    theirs = p50["service_session"] - p50["direct"]
    floor = p50["bare_runner"] - p50["direct"]
    add(
        "overhead (warm p50 - direct p50) <= 1/4 of KedroServiceSession's",
        f"{ours:.2f} ms vs {theirs:.2f} ms = {ours / theirs:.2f}",
        ours <= theirs / 4,
        f"Kedro's SequentialRunner alone (bare runner) costs {floor:.2f} ms "
        f"= {floor / theirs:.2f} of the service session's overhead",
    )
    cat = results["catalog"]["kedro_runtime"]
    sizes = sorted(cat, key=int)
    grow = cat[sizes[-1]]["p50_ms"] / cat[sizes[0]]["p50_ms"]
    add(
        "1,000-entry catalog <= 1.2x a 10-entry one",
        f"{cat[sizes[-1]]['p50_ms']:.2f} ms vs {cat[sizes[0]]['p50_ms']:.2f} ms = {grow:.3f}x",
        grow <= 1.2,
    )
    rss = results["rss"]
    add(
        "RSS growth <= 5 MiB over 10,000 runs",
        f"{rss['growth_mib']:+.2f} MiB over {rss['runs']:,} runs "
        f"({rss['growth_mib_per_10k']:+.2f} MiB per 10k)",
        rss["growth_mib_per_10k"] <= 5,
        "" if rss["runs"] >= 10_000 else "quick run: extrapolated",
    )
    cold = results["cold_start"]
    if "kedro_runtime" in cold and "kedro_session" in cold:
        ours_c, theirs_c = cold["kedro_runtime"], cold["kedro_session"]
        ours_t = ours_c["import_s"] + ours_c["cold_s"]
        theirs_t = theirs_c["import_s"] + theirs_c["cold_s"]
        add(
            "cold start no slower than Kedro's KedroSession create + run",
            f"bootstrap + create + first run {ours_c['cold_s'] * 1000:.0f} ms vs "
            f"{theirs_c['cold_s'] * 1000:.0f} ms; with imports {ours_t:.2f} s vs "
            f"{theirs_t:.2f} s; whole process {ours_c['process_s']:.2f} s vs "
            f"{theirs_c['process_s']:.2f} s",
            ours_t <= theirs_t,
            "fresh process per sample; the verdict counts imports too, because "
            "importing kedro_runtime loads Kedro modules that bootstrap_project "
            "would otherwise load",
        )
    return found


def chart(
    results: dict[str, Any], series: dict[str, dict[str, Series]], out: Path
) -> bool:
    try:
        import matplotlib  # noqa: PLC0415 - optional: the `bench` extra

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        say("matplotlib is not installed (pip install -e '.[bench]'): no chart")
        return False
    keys = [key for key in LABELS if key in series["lean"]]
    keys.sort(key=lambda key: results["latency"]["lean"][key]["p50_ms"])
    fig, ax = plt.subplots(figsize=(10, 0.62 * len(keys) + 1.6))
    height = 0.38
    colours = {"lean": "#2a6fbb", "default": "#d98c2b"}
    for offset, mode in ((-height / 2, "lean"), (height / 2, "default")):
        for row, key in enumerate(keys):
            if key not in series[mode] or not series[mode][key].times:
                continue
            arr = np.asarray(series[mode][key].times) * 1000
            p50, p95, p5 = (np.percentile(arr, q) for q in (50, 95, 5))
            ax.barh(
                row + offset,
                p50,
                height=height,
                color=colours[mode],
                label=f"{mode} logging" if row == 0 else None,
            )
            ax.errorbar(
                p50,
                row + offset,
                xerr=[[p50 - p5], [p95 - p50]],
                fmt="none",
                ecolor="#333333",
                capsize=2,
                linewidth=0.8,
            )
            ax.text(p95 + 0.8, row + offset, f"{p50:.1f}", va="center", fontsize=7)
    floor = results["latency"]["lean"]["direct"]["p50_ms"]
    ax.axvline(floor, color="#555555", linestyle="--", linewidth=0.8)
    ax.set_yticks(range(len(keys)))
    ax.set_yticklabels([LABELS[key] for key in keys], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(
        "per-request latency, ms (bar: p50, whiskers: p5-p95; dashed: direct-call floor)"
    )
    env = results["environment"]
    ax.set_title(
        f"Per-run latency by path - Kedro {env['versions']['kedro']}, "
        f"{env['cpu_count']} cores, {'quick' if results['quick'] else 'full'} run",
        fontsize=10,
    )
    ax.legend(loc="upper right", fontsize=8)
    ax.set_xlim(0, ax.get_xlim()[1] * 1.08)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return True


# --- main -------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="kedro-runtime benchmark")
    parser.add_argument(
        "--quick", action="store_true", help="few iterations: check that it all works"
    )
    parser.add_argument(
        "--publish",
        action="store_true",
        help="also write docs/benchmarks.json and docs/img/latency.png",
    )
    parser.add_argument("--no-boot", action="store_true", help="skip kedro-boot")
    parser.add_argument(
        "--fresh-boot-venv",
        action="store_true",
        help="recreate the kedro-boot virtualenv",
    )
    parser.add_argument("--boot-venv", type=Path, default=RESULTS / ".venv-kedro-boot")
    parser.add_argument(
        "--keep-project",
        action="store_true",
        help="do not delete the temporary project",
    )
    args = parser.parse_args(argv)
    config = Config.make(args.quick)
    started = time.perf_counter()
    load_before = os.getloadavg()
    RESULTS.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="kedro-runtime-bench-"))
    project = benchproject.write_project(workdir)
    say(
        f"benchmark project written to {project} ({'quick' if config.quick else 'full'} run)"
    )
    results: dict[str, Any] = {"quick": config.quick, "config": config.__dict__}
    boot: BootPath | None = None
    boot_python_path: Path | None = None
    try:
        if args.no_boot:
            results["kedro_boot"] = {"skipped": "--no-boot"}
        else:
            try:
                boot_python_path = boot_python(args.boot_venv, args.fresh_boot_venv)
                boot = BootPath(
                    boot_python_path, project, RESULTS / "kedro-boot-worker.log"
                )
                results["kedro_boot"] = boot.info
                say(f"kedro-boot {boot.info['kedro_boot']} ready in its own virtualenv")
            except Exception as exc:  # never let kedro-boot break the main run
                boot_python_path = None
                results["kedro_boot"] = {"skipped": str(exc)}
                say(f"SKIPPING kedro-boot: {exc}")

        with silenced():
            bench = Bench(project)
            paths: list[Any] = list(bench.paths())
            if boot is not None:
                paths.append(boot)
            fingerprints = {
                path.key: benchproject.fingerprint(*path.request(0))
                for path in paths
                if isinstance(path, InProcessPath)
            }
            if boot is not None:
                fingerprints["kedro_boot"] = boot.info["fingerprint"]
            results["fingerprints"] = fingerprints
            if len(set(fingerprints.values())) != 1:
                say(
                    f"WARNING: paths disagree on the result of request 0: {fingerprints}"
                )
            say("latency: interleaved blocks over " + ", ".join(p.key for p in paths))
            series = interleaved(paths, config, benchlogging.MODES)
            latency: dict[str, dict[str, Any]] = {}
            for mode, by_path in series.items():
                latency[mode] = {}
                for key, found in by_path.items():
                    stats = percentiles(found.times)
                    stats["before_pipeline_run_per_run"] = found.hooks.get(
                        "before_pipeline_run", 0
                    ) / len(found.times)
                    stats["after_node_run_per_run"] = found.hooks.get(
                        "after_node_run", 0
                    ) / len(found.times)
                    latency[mode][key] = stats
            results["latency"] = latency
            if boot is not None:
                boot.close()
                boot = None
            say("throughput: 1 vs 4 threads on one kedro-runtime session")
            results["threads"] = threads(bench, config)
            say("catalog size: 10 / 100 / 1,000 entries")
            results["catalog"] = catalog_growth(bench, config)
            say(f"memory: RSS over {config.rss_runs:,} warm kedro-runtime runs")
            results["rss"] = rss_growth(bench, config)
        say("cold starts: fresh processes")
        results["cold_start"] = cold_starts(project, config, boot_python_path)
    finally:
        if boot is not None:
            boot.close()
        if args.keep_project:
            say(f"project kept at {project}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    results["environment"] = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "wall_s": time.perf_counter() - started,
        "versions": {
            name: package_version(name)
            for name in (
                "kedro",
                "kedro-datasets",
                "kedro-runtime",
                "pandas",
                "numpy",
                "pyarrow",
                "omegaconf",
            )
        },
        "lean_logging": benchlogging.LEAN_LOGGING,
    }
    results["targets"] = targets(results)
    rows = build_rows(results)
    results["table"] = {"header": HEADER, "rows": rows}

    print(text_table(rows))
    print()
    for target in results["targets"]:
        verdict = {True: "MET", False: "NOT MET", None: "n/a"}[target["met"]]
        note = f"  ({target['note']})" if target["note"] else ""
        print(f"[{verdict:7}] {target['target']}: {target['measured']}{note}")
    print(
        f"\nwall {results['environment']['wall_s']:.0f} s; load average before "
        f"{load_before[0]:.2f}, after {results['environment']['loadavg_after'][0]:.2f}; "
        f"{os.cpu_count()} cores"
    )

    text = json.dumps(results, indent=2, default=str)
    (RESULTS / "latest.json").write_text(text + "\n", encoding="utf-8")
    (RESULTS / "latest.md").write_text(markdown_table(rows) + "\n", encoding="utf-8")
    chart(results, series, RESULTS / "latency.png")
    if args.publish:
        (DOCS / "benchmarks.json").write_text(text + "\n", encoding="utf-8")
        chart(results, series, DOCS / "img" / "latency.png")
        say("published docs/benchmarks.json and docs/img/latency.png")
    say(f"wrote {RESULTS / 'latest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
