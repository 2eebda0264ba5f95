"""How the benchmark measures the paths, and the statistics it keeps.

Latency is measured interleaved (round-robin, block by block, the path order
rotated every round) so that machine noise hits every path alike; then
throughput with threads, catalog size, RSS growth and cold starts.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import random
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import benchlogging
import benchproject
import numpy as np
from benchlogging import say
from benchpaths import Bench, Block, Result

WORKER = Path(__file__).resolve().parent / "benchworker.py"
VERSIONS = (
    "kedro",
    "kedro-datasets",
    "kedro-runtime",
    "pandas",
    "numpy",
    "pyarrow",
    "omegaconf",
)
COLD_KEYS = ("import_s", "create_s", "first_run_s", "cold_s", "process_s", "rss_mib")


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


def environment(
    started: float, load_before: tuple[float, float, float]
) -> dict[str, Any]:
    """Where and with what the benchmark ran."""
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "wall_s": time.perf_counter() - started,
        "versions": {name: package_version(name) for name in VERSIONS},
        "lean_logging": benchlogging.LEAN_LOGGING,
    }


# --- latency ----------------------------------------------------------------------


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


def latency(series: dict[str, dict[str, Series]]) -> dict[str, dict[str, Any]]:
    """Percentiles per logging mode and path, and the pipeline hooks fired per run."""
    found: dict[str, dict[str, Any]] = {}
    for mode, by_path in series.items():
        found[mode] = {}
        for key, measured in by_path.items():
            stats: dict[str, Any] = percentiles(measured.times)
            for hook in ("before_pipeline_run", "after_node_run"):
                stats[f"{hook}_per_run"] = measured.hooks.get(hook, 0) / len(
                    measured.times
                )
            found[mode][key] = stats
    return found


# --- throughput, catalog size, memory ---------------------------------------------


@dataclass
class _ThreadTally:
    """Times and results of the sequential and threaded blocks."""

    seq_wall: float = 0.0
    thr_wall: float = 0.0
    seq_times: list[float] = field(default_factory=list)
    thr_times: list[float] = field(default_factory=list)
    results: list[tuple[int, Result]] = field(default_factory=list)
    checked: int = 0
    wrong: int = 0


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
    tally = _ThreadTally()
    lock = threading.Lock()
    counter = iter(range(10**9))

    def timed(number: int) -> None:
        tick = time.perf_counter()
        result = request(number)
        took = time.perf_counter() - tick
        with lock:
            tally.thr_times.append(took)
            tally.results.append((number, result))

    def sequential(numbers: list[int]) -> None:
        for n in numbers:
            start = time.perf_counter()
            tally.results.append((n, request(n)))
            tally.seq_times.append(time.perf_counter() - start)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(timed, [next(counter) for _ in range(workers * 2)]))  # warm-up
        tally.thr_times.clear()
        for number in range(config.thread_rounds):
            for kind in ("seq", "thr") if number % 2 == 0 else ("thr", "seq"):
                numbers = [next(counter) for _ in range(per_block)]
                tally.results.clear()
                tick = time.perf_counter()
                if kind == "seq":
                    sequential(numbers)
                    tally.seq_wall += time.perf_counter() - tick
                else:
                    list(pool.map(timed, numbers))
                    tally.thr_wall += time.perf_counter() - tick
                for n, result in tally.results:
                    tally.checked += 1
                    tally.wrong += (
                        benchproject.fingerprint(*result) != expected[n % cycle]
                    )
    return _thread_summary(tally, workers, per_block * config.thread_rounds)


def _thread_summary(tally: _ThreadTally, workers: int, total: int) -> dict[str, Any]:
    if tally.wrong:
        say(
            f"WARNING: {tally.wrong} of {tally.checked} threaded/sequential "
            "results were wrong"
        )
    return {
        "threads": workers,
        "sequential": {
            **percentiles(tally.seq_times),
            "runs_per_s": total / tally.seq_wall,
        },
        "threaded": {
            **percentiles(tally.thr_times),
            "runs_per_s": total / tally.thr_wall,
        },
        "results_checked": tally.checked,
        "results_wrong": tally.wrong,
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
            bench.path(f"runtime_{size}", f"kedro-runtime, {size} entries", request)
        )
    service_paths = []
    for env in ("small", "big"):
        size = benchproject.CATALOG_SIZES[env]
        service_paths.append(
            bench.path(
                f"service_{size}",
                f"KedroServiceSession, {size} entries",
                bench.service_request(env),
            )
        )
    small = Config(**{**config.__dict__, "samples_lean": config.catalog_samples})
    series = interleaved(paths, small, ("lean",))["lean"]
    for path in paths:
        label = path.key.split("_")[1]
        result["kedro_runtime"][label].update(percentiles(series[path.key].times))
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
        label = path.key.split("_")[1]
        result["service_session"][label] = percentiles(series[path.key].times)
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


# --- cold starts ------------------------------------------------------------------


def _cold_start(python: Path, kind: str, project: Path) -> dict[str, Any] | None:
    """One cold start of ``kind`` in a fresh ``benchworker.py`` process."""
    tick = time.perf_counter()
    done = subprocess.run(
        [str(python), str(WORKER), "cold", "--kind", kind, "--project", str(project)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=str(project),
        check=False,
    )
    wall = time.perf_counter() - tick
    if done.returncode != 0:
        say(f"cold start {kind} failed:\n{done.stderr[-1500:]}")
        return None
    return {**json.loads(done.stdout), "process_s": wall}


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
            sample = _cold_start(kinds[kind], kind, project)
            if rep and sample is not None:
                found[kind].append(sample)
        say(f"cold start round {rep}/{config.cold_reps}")
    return {
        kind: {
            "n": len(samples),
            **{key: float(np.median([s[key] for s in samples])) for key in COLD_KEYS},
            "fingerprints": sorted({sample["fingerprint"] for sample in samples}),
        }
        for kind, samples in found.items()
        if samples
    }
