"""Warm ``session.run(runtime_data=...)`` against a bare ``SequentialRunner``, on
``examples/orders``, in one process: the figure issue #2 asks for.

Run: ``python benchmarks/demo_project.py [--runs N]``. Prints p50/p95 per path and
the ratio of kedro-runtime to the bare runner. The bare runner gets a catalog
prepared once (the project's own, with the orders injected as a MemoryDataset) and
a hook manager with the hooks a session registers (built from public Kedro APIs by
``benchpaths.session_hook_manager``), and runs the same pipeline; both quiet
logging the same way.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")

import pandas as pd
from kedro.framework.project import pipelines
from kedro.framework.startup import bootstrap_project
from kedro.io import MemoryDataset
from kedro.runner import SequentialRunner

from kedro_runtime import KedroSession

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchpaths import session_hook_manager

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "orders"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=300)
    runs = parser.parse_args().runs

    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "orders"
        shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__"))
        bootstrap_project(project)
        logging.getLogger("kedro").setLevel(logging.WARNING)
        logging.getLogger("kedro_runtime").setLevel(logging.WARNING)
        orders = pd.read_csv(project / "data" / "01_raw" / "orders.csv")
        orders = pd.concat([orders] * 125, ignore_index=True)  # 1,000 rows

        with KedroSession.create(project) as session:
            session.warm_up()
            pipeline = pipelines["__default__"]
            catalog = session.load_context().catalog
            bare_catalog = type(catalog)(
                datasets={name: catalog.get(name) for name in catalog.keys()}
            )
            bare_catalog["orders"] = MemoryDataset(orders)
            runner = SequentialRunner()
            hooks = session_hook_manager()

            def warm_run() -> object:
                return session.run(runtime_data={"orders": orders})

            def bare_run() -> object:
                return runner.run(pipeline, bare_catalog, hooks)

            paths = {
                "kedro-runtime warm session.run": warm_run,
                "bare SequentialRunner": bare_run,
            }
            times: dict[str, list[float]] = {name: [] for name in paths}
            for _ in range(20):  # warm-up
                for call in paths.values():
                    call()
            for _ in range(runs):  # interleaved
                for name, call in paths.items():
                    start = time.perf_counter()
                    call()
                    times[name].append((time.perf_counter() - start) * 1000)

    for name, samples in times.items():
        print(
            f"{name:34s} p50 {statistics.median(samples):7.2f} ms   "
            f"p95 {percentile(samples, 0.95):7.2f} ms   n={len(samples)}"
        )
    warm = statistics.median(times["kedro-runtime warm session.run"])
    bare = statistics.median(times["bare SequentialRunner"])
    print(
        f"ratio warm / bare p50: {warm / bare:.3f}x  (load average {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()
