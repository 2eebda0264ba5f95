"""Warm ``session.run`` on ``examples/orders`` under three logging setups.

Run: ``python benchmarks/logging_bench.py [--runs N]``. The setups are
``benchlogging.SETUPS``: ``lean`` (warnings only), ``default`` (Kedro's default
config, every per-node line) and ``summary`` (Kedro's default config, a session
with ``run_logging="summary"``). Blocks of 20 runs rotate over the setups; all
console output goes to ``/dev/null``. Prints p50/p95 per setup and each p50 over
the lean one; the goal for ``summary`` is at most 1.2x.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")

import pandas as pd
from kedro.framework.startup import bootstrap_project

from kedro_runtime import KedroSession

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlogging

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "orders"
BLOCK = 20


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(project: Path, runs: int) -> dict[str, list[float]]:
    """Milliseconds per warm run, per setup."""
    bootstrap_project(project)
    benchlogging.remember_default()
    orders = pd.read_csv(project / "data" / "01_raw" / "orders.csv")
    sessions = {
        "lean": KedroSession.create(project),
        "default": KedroSession.create(project),
        "summary": KedroSession.create(project, run_logging="summary"),
    }
    times: dict[str, list[float]] = {name: [] for name in benchlogging.SETUPS}
    order = list(benchlogging.SETUPS)
    try:
        with benchlogging.silenced():
            for setup in order:  # warm-up
                benchlogging.apply(setup)
                for _ in range(BLOCK):
                    sessions[setup].run(runtime_data={"orders": orders})
            for block in range(max(1, runs // BLOCK)):
                for setup in order[block % 3 :] + order[: block % 3]:
                    benchlogging.apply(setup)
                    for _ in range(BLOCK):
                        start = time.perf_counter()
                        sessions[setup].run(runtime_data={"orders": orders})
                        times[setup].append((time.perf_counter() - start) * 1000)
    finally:
        for session in sessions.values():
            session.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=300, help="runs per setup")
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "orders"
        shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__"))
        times = measure(project, runs)
    lean = statistics.median(times["lean"])
    for name, samples in times.items():
        p50 = statistics.median(samples)
        print(
            f"{name:8s} p50 {p50:7.2f} ms   p95 {percentile(samples, 0.95):7.2f} ms   "
            f"p50/lean {p50 / lean:5.2f}x   n={len(samples)}"
        )
    print(f"load average {os.getloadavg()[0]:.1f} (shared machine: compare ratios)")


if __name__ == "__main__":
    main()
