"""The node cache's memory over 1,000 runs whose injected data changes every run.

Issue 20: RSS stays bounded by ``node_cache_max_bytes`` plus the session's own
size. The notebook-loop project of ``node_cache_bench.py`` (20,000 rows, one
feature round) runs 1,000 times with a cache bound of 64 MiB; every run injects
the same frame with one cell changed, so every run is a miss and stores new
results, and least recently used ones are evicted. RSS is read from
``/proc/self/statm`` after a warm-up and every 50 runs.

Run: ``KEDRO_DISABLE_TELEMETRY=true python benchmarks/node_cache_rss.py``
(about a minute). Prints one JSON object.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

from kedro.framework.startup import bootstrap_project

sys.path.insert(0, str(Path(__file__).parent))

from node_cache_bench import make_raw, write_loop_project

from kedro_runtime import KedroSession

BOUND = 64 << 20
RUNS = 1_000


def rss_bytes() -> int:
    """This process's resident set size."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        project = write_loop_project(Path(folder) / "loop", rounds=1)
        bootstrap_project(project)
        logging.getLogger("kedro").setLevel(logging.WARNING)
        logging.getLogger("kedro_runtime").setLevel(logging.WARNING)
        raw = make_raw(rows=20_000)
        samples = []
        with KedroSession.create(
            project, node_cache=True, node_cache_max_bytes=BOUND
        ) as session:
            for i in range(5):  # warm: context, catalog, pipelines built
                session.run(runtime_data={"raw": raw}, runtime_params={"threshold": i})
            baseline = rss_bytes()
            start = time.perf_counter()
            for i in range(RUNS):
                changed = raw.copy()
                changed.iloc[0, 1] = float(i)  # new content: a miss every run
                session.run(runtime_data={"raw": changed})
                if i % 50 == 49:
                    samples.append(rss_bytes())
            seconds = time.perf_counter() - start
        peak = max(samples)
        print(
            json.dumps(
                {
                    "runs": RUNS,
                    "bound_mib": BOUND >> 20,
                    "rss_after_warm_up_mib": round(baseline / 2**20, 1),
                    "rss_peak_mib": round(peak / 2**20, 1),
                    "growth_mib": round((peak - baseline) / 2**20, 1),
                    "rss_last_mib": round(samples[-1] / 2**20, 1),
                    # Flat once the cache is full: bounded, whatever the runs.
                    "growth_after_run_100_mib": round(
                        (max(samples[2:]) - samples[1]) / 2**20, 1
                    ),
                    "rss_every_50_runs_mib": [round(r / 2**20) for r in samples],
                    "seconds": round(seconds, 1),
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
