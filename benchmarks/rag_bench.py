"""A "RAG-like" project: one cheap lookup node over a large read-only array.

``python benchmarks/rag_bench.py [--mib 200] [--runs 30] [--threaded-runs 1000]``

A generated Kedro project holds a float32 NumPy array of ``--mib`` MiB saved as
``.npy`` and read by a small ``NpyDataset`` (kedro-datasets has no NumPy
dataset); its one node sums one row of it, picked by a runtime param. Loading
the array costs far more than the node. Measured, in this process, with Kedro
logging at WARNING:

- warm p50 of ``session.run`` without preloading (every run reads the file,
  from the page cache after the first), with ``preload=True`` and the
  entry's default copy mode (``copy`` for an array: every run copies it), and
  with ``preload=True`` and ``copy_mode: assign`` (no copy: what an index wants);
- RSS after ``--threaded-runs`` runs from 8 threads with ``preload=True`` and
  ``assign`` (one copy of the array, whatever the number of runs or threads),
  and, for contrast, after a tenth as many runs without preloading.

Prints a Markdown table. The machine these run on may be shared: p50s move with
its load, the RSS numbers much less.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from kedro.framework.startup import bootstrap_project

from kedro_runtime import KedroSession

os.environ["KEDRO_DISABLE_TELEMETRY"] = "true"
PACKAGE = "rag_bench_project"
ROW_FLOATS = 1024

FILES = {
    "pyproject.toml": f"""
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "{PACKAGE}"
version = "0.1"

[tool.kedro]
package_name = "{PACKAGE}"
project_name = "rag bench"
kedro_init_version = "1.0.0"
source_dir = "src"
""",
    f"src/{PACKAGE}/__init__.py": "",
    f"src/{PACKAGE}/settings.py": "",
    f"src/{PACKAGE}/datasets.py": """
import numpy as np
from kedro.io import AbstractDataset


class NpyDataset(AbstractDataset):
    def __init__(self, filepath, metadata=None):
        self._filepath = filepath
        self.metadata = metadata

    def _load(self):
        return np.load(self._filepath)

    def _save(self, data):
        np.save(self._filepath, data)

    def _describe(self):
        return {"filepath": self._filepath}
""",
    f"src/{PACKAGE}/pipeline_registry.py": """
from kedro.pipeline import Pipeline, node


def lookup(index, row):
    return float(index[row % len(index)].sum())


def register_pipelines():
    return {"__default__": Pipeline([node(lookup, ["index", "params:row"], "score")])}
""",
    "conf/base/parameters.yml": "row: 0\n",
    "conf/local/.gitkeep": "",
}

CATALOG = """
index:
  type: {package}.datasets.NpyDataset
  filepath: {path}
  metadata:
    kedro_runtime:
      copy_mode: {mode}
"""


def make_project(root: Path, mib: int) -> Path:
    """Write the project and its array; return its folder."""
    for name, text in FILES.items():
        file = root / name
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text)
    rows = mib * 1024 * 1024 // (4 * ROW_FLOATS)
    array = np.random.default_rng(0).random((rows, ROW_FLOATS), dtype=np.float32)
    np.save(root / "index.npy", array)
    return root


def set_copy_mode(project: Path, mode: str) -> None:
    catalog = CATALOG.format(package=PACKAGE, path=project / "index.npy", mode=mode)
    (project / "conf" / "base" / "catalog.yml").write_text(catalog)


def rss_mib() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def run(session: KedroSession, i: int) -> float:
    score: float = session.run(runtime_params={"row": i})["score"].load()
    return score


def p50_ms(session: KedroSession, runs: int) -> float:
    run(session, 0)  # warm: context, catalog, the preloaded array
    times = []
    for i in range(runs):
        start = time.perf_counter()
        run(session, i)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def threaded_rss(project: Path, preload: bool, runs: int) -> dict[str, Any]:
    gc.collect()
    before = rss_mib()
    with KedroSession.create(project, preload=preload) as session:
        with ThreadPoolExecutor(8) as pool:
            scores = list(pool.map(lambda i: run(session, i), range(runs)))
        after = rss_mib()
        loaded = session.preloaded()
    assert len(scores) == runs
    return {"before": before, "after": after, "preloaded": loaded}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=200)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--threaded-runs", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = make_project(Path(tmp), args.mib)
        bootstrap_project(project)
        logging.getLogger().setLevel(logging.WARNING)
        logging.getLogger("kedro").setLevel(logging.WARNING)
        rows = []
        for label, preload, mode in [
            ("no preload", False, "copy"),
            ("preload=True, copy_mode copy (default)", True, "copy"),
            ("preload=True, copy_mode assign", True, "assign"),
        ]:
            set_copy_mode(project, mode)
            with KedroSession.create(project, preload=preload) as session:
                rows.append((label, p50_ms(session, args.runs)))
            gc.collect()
        set_copy_mode(project, "assign")
        with_preload = threaded_rss(project, True, args.threaded_runs)
        without = threaded_rss(project, False, max(args.threaded_runs // 10, 8))
    print(f"\nArray: {args.mib} MiB float32; warm p50 over {args.runs} runs\n")
    print("| path | warm p50 (ms) |\n|---|---|")
    for label, p50 in rows:
        print(f"| {label} | {p50:.2f} |")
    print(
        "\n| 8 threads | runs | RSS before (MiB) | RSS after (MiB) |\n|---|---|---|---|"
    )
    print(
        f"| preload=True, assign | {args.threaded_runs} | "
        f"{with_preload['before']:.0f} | {with_preload['after']:.0f} |"
    )
    print(
        f"| no preload | {max(args.threaded_runs // 10, 8)} | "
        f"{without['before']:.0f} | {without['after']:.0f} |"
    )
    print(f"\npreloaded(): {with_preload['preloaded']}")


if __name__ == "__main__":
    main()
