"""The node cache, measured: a notebook loop, and the cost when nothing is reused.

1. **Notebook loop** (issue 20): a feature node of about 200 ms on a 200k-row
   DataFrame (injected), two downstream nodes of a few ms, 20 runs that change
   only a late parameter. Per-run times of a warm session without the cache, with
   it, and the ideal (the downstream node functions called directly).
2. **No hit**: the seven-node benchmark project (``benchproject.py``) with new
   orders injected in every run, so nothing is reusable: the cache on against off,
   interleaved.

Run: ``KEDRO_DISABLE_TELEMETRY=true python benchmarks/node_cache_bench.py``.
Prints one JSON object.
"""

from __future__ import annotations

import json
import logging
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from kedro.framework.startup import bootstrap_project

sys.path.insert(0, str(Path(__file__).parent))

import benchproject

from kedro_runtime import KedroSession

LOOP_PACKAGE = "bench_node_cache_loop"
LOOP_NODES = """
import numpy as np
import pandas as pd


def features(raw: pd.DataFrame, rounds: int) -> pd.DataFrame:
    out = raw.copy()
    for i in range(rounds):
        out[f"f{i}"] = np.sqrt(np.abs(out["x"] * (i + 1) - out["y"])) + np.sin(out["x"])
        out[f"g{i}"] = out.groupby("k")["x"].transform("mean")
    return out


def score(features: pd.DataFrame, threshold: float) -> pd.DataFrame:
    cols = [c for c in features.columns if c.startswith("f")]
    total = features[cols].sum(axis=1)
    return features.loc[total > threshold, ["k", "x"]].groupby("k").sum()


def summary(scored: pd.DataFrame, threshold: float) -> dict:
    return {"rows": int(len(scored)), "sum": float(scored["x"].sum()), "t": threshold}
"""
LOOP_REGISTRY = """
from kedro.pipeline import Pipeline, node

from . import nodes


def register_pipelines():
    return {"__default__": Pipeline([
        node(nodes.features, ["raw", "params:rounds"], "features", name="features"),
        node(nodes.score, ["features", "params:threshold"], "scored", name="score"),
        node(nodes.summary, ["scored", "params:threshold"], "summary", name="summary"),
    ])}
"""


def write_loop_project(root: Path, rounds: int) -> Path:
    src = root / "src" / LOOP_PACKAGE
    src.mkdir(parents=True)
    (root / "conf" / "base").mkdir(parents=True)
    (root / "conf" / "local").mkdir()
    (root / "pyproject.toml").write_text(
        textwrap.dedent(f"""
        [tool.kedro]
        package_name = "{LOOP_PACKAGE}"
        project_name = "{LOOP_PACKAGE}"
        kedro_init_version = "1.7.0"
        source_dir = "src"
        """)
    )
    (src / "__init__.py").write_text("")
    (src / "settings.py").write_text("")
    (src / "nodes.py").write_text(LOOP_NODES)
    (src / "pipeline_registry.py").write_text(LOOP_REGISTRY)
    (root / "conf" / "base" / "parameters.yml").write_text(
        f"rounds: {rounds}\nthreshold: 0.0\n"
    )
    (root / "conf" / "base" / "catalog.yml").write_text("{}\n")
    return root


def make_raw(rows: int = 200_000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "k": rng.integers(0, 1000, rows),
            "x": rng.normal(size=rows),
            "y": rng.normal(size=rows),
        }
    )


def ms(seconds: list[float]) -> dict[str, float]:
    values = sorted(s * 1000 for s in seconds)
    return {
        "p50_ms": round(statistics.median(values), 1),
        "min_ms": round(values[0], 1),
        "max_ms": round(values[-1], 1),
    }


def notebook_loop(root: Path, iterations: int = 20) -> dict[str, Any]:
    project = write_loop_project(root / "loop", rounds=6)
    bootstrap_project(project)
    logging.getLogger("kedro").setLevel(logging.WARNING)
    logging.getLogger("kedro_runtime").setLevel(logging.WARNING)
    raw = make_raw()
    import importlib  # noqa: PLC0415

    nodes = importlib.import_module(f"{LOOP_PACKAGE}.nodes")
    feats = nodes.features(raw, 6)
    result: dict[str, Any] = {}
    start = time.perf_counter()
    nodes.features(raw, 6)
    result["feature_node_ms"] = round((time.perf_counter() - start) * 1000, 1)
    ideal = []
    for i in range(iterations):
        start = time.perf_counter()
        scored = nodes.score(feats, i / 10)
        nodes.summary(scored, i / 10)
        ideal.append(time.perf_counter() - start)
    result["ideal_downstream"] = ms(ideal)
    for cached in (False, True):
        with KedroSession.create(project, node_cache=cached) as session:
            session.run(runtime_data={"raw": raw})  # the first, cold run
            times = []
            for i in range(iterations):
                start = time.perf_counter()
                session.run(
                    runtime_data={"raw": raw}, runtime_params={"threshold": i / 10}
                )
                times.append(time.perf_counter() - start)
            result["with_cache" if cached else "without_cache"] = ms(times)
    result["cached_over_ideal"] = round(
        result["with_cache"]["p50_ms"] / result["ideal_downstream"]["p50_ms"], 2
    )
    return result


HAMILTON_MODULE = """
import numpy as np
import pandas as pd


def features(raw: pd.DataFrame, rounds: int) -> pd.DataFrame:
    out = raw.copy()
    for i in range(rounds):
        out[f"f{i}"] = np.sqrt(np.abs(out["x"] * (i + 1) - out["y"])) + np.sin(out["x"])
        out[f"g{i}"] = out.groupby("k")["x"].transform("mean")
    return out


def scored(features: pd.DataFrame, threshold: float) -> pd.DataFrame:
    cols = [c for c in features.columns if c.startswith("f")]
    total = features[cols].sum(axis=1)
    return features.loc[total > threshold, ["k", "x"]].groupby("k").sum()


def summary(scored: pd.DataFrame, threshold: float) -> dict:
    return {"rows": int(len(scored)), "sum": float(scored["x"].sum()), "t": threshold}
"""


def hamilton_loop(root: Path, iterations: int = 20) -> dict[str, Any]:
    """The same loop on Apache Hamilton, with and without its cache, if installed."""
    try:
        from hamilton import driver  # noqa: PLC0415
    except ImportError:
        return {"skipped": "pip install sf-hamilton"}
    import importlib.util  # noqa: PLC0415

    path = root / "hamilton_loop.py"
    path.write_text(HAMILTON_MODULE)
    spec = importlib.util.spec_from_file_location("hamilton_loop", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["hamilton_loop"] = module  # Hamilton looks functions up there
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    raw = make_raw()
    result: dict[str, Any] = {}
    for cached in (False, True):
        builder = driver.Builder().with_modules(module)
        if cached:
            builder = builder.with_cache(path=str(root / "hamilton_cache"))
        dr = builder.build()
        dr.execute(["summary"], inputs={"raw": raw, "rounds": 6, "threshold": -1.0})
        times = []
        for i in range(iterations):
            start = time.perf_counter()
            dr.execute(
                ["summary"], inputs={"raw": raw, "rounds": 6, "threshold": i / 10}
            )
            times.append(time.perf_counter() - start)
        result["with_cache" if cached else "without_cache"] = ms(times)
    return result


def no_hit(root: Path, runs: int = 40) -> dict[str, Any]:
    project = benchproject.write_project(root)
    bootstrap_project(project)
    logging.getLogger("kedro").setLevel(logging.WARNING)
    logging.getLogger("kedro_runtime").setLevel(logging.WARNING)
    batches = [benchproject.make_orders(seed=1000 + n) for n in range(2 * runs + 2)]
    times: dict[bool, list[float]] = {False: [], True: []}
    with (
        KedroSession.create(project) as off,
        KedroSession.create(project, node_cache=True) as on,
    ):
        for session in (off, on):
            session.run(runtime_data={"orders": batches.pop()})
        for _ in range(runs):
            for cached, session in ((False, off), (True, on)):
                start = time.perf_counter()
                session.run(runtime_data={"orders": batches.pop()})
                times[cached].append(time.perf_counter() - start)
        report = on.last_report()
    result = {"cache_off": ms(times[False]), "cache_on": ms(times[True])}
    result["on_over_off"] = round(
        result["cache_on"]["p50_ms"] / result["cache_off"]["p50_ms"], 3
    )
    result["last_report"] = None if report is None else report.summary()
    return result


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        out = {
            "notebook_loop": notebook_loop(root),
            "hamilton_loop": hamilton_loop(root),
            "no_hit": no_hit(root),
        }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
