"""Writes the benchmark's own Kedro project into a directory.

The project (package ``bench_orders``) scores a batch of shop orders: seven pandas
nodes, real CSV inputs (``orders`` and the ``products`` reference table), 22
parameters (one of them interpolated: ``scale: ${factor}``), and two outputs
(``summary``, a DataFrame, and ``kpis``, a dict) that stay in memory.

Its ``settings.py`` registers two hooks that every session path shares:

* ``InjectRequestData`` (``after_catalog_created``) puts the data in
  ``bench_orders.hooks.PENDING`` into the catalog as ``MemoryDataset`` s. It is how
  data reaches a run of Kedro's own sessions, which take no data argument.
* ``CountRuns`` counts ``before_pipeline_run`` and ``after_node_run`` calls, so the
  benchmark can show which paths fire per-run pipeline hooks.

Extra configuration environments pad the catalog with unused entries: ``small``
(10 entries in all), ``medium`` (100) and ``big`` (1,000).

The settings do not set ``SESSION_CLASS``: the same project serves Kedro's
sessions, kedro-boot (in a virtualenv without kedro-runtime) and kedro-runtime,
whose session class the benchmark uses directly.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PACKAGE = "bench_orders"
ROWS = 1_000
PRODUCTS = 200
REQUEST_VARIANTS = 8
CATALOG_SIZES = {"small": 10, "medium": 100, "big": 1_000}
BASE_ENTRIES = 2  # orders, products
PRODUCTS_CSV = Path("data") / "01_raw" / "products.csv"

REGIONS = ["north", "south", "east", "west", "centre"]
CHANNELS = ["web", "store", "phone", "partner", "test"]
CATEGORIES = ["tools", "garden", "kitchen", "toys", "books", "sport"]

_PYPROJECT = f"""\
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "bench-orders"
version = "0.1.0"
requires-python = ">=3.10"

[tool.kedro]
package_name = "{PACKAGE}"
project_name = "bench-orders"
kedro_init_version = "1.7.0"
source_dir = "src"
"""

_SETTINGS = """\
from bench_orders.hooks import CountRuns, InjectRequestData

HOOKS = (InjectRequestData(), CountRuns())
CONFIG_LOADER_ARGS = {"base_env": "base", "default_run_env": "local"}
"""

_HOOKS = """\
import threading

from kedro.framework.hooks import hook_impl
from kedro.io import MemoryDataset

LOCK = threading.Lock()
PENDING = {}
COUNTS = {"after_catalog_created": 0, "before_pipeline_run": 0, "after_node_run": 0}


class InjectRequestData:
    @hook_impl
    def after_catalog_created(self, catalog):
        COUNTS["after_catalog_created"] += 1
        for name, value in PENDING.items():
            catalog[name] = MemoryDataset(value)


class CountRuns:
    # Thread-safe: runs of the thread benchmark do not take turns around it.
    kedro_runtime_concurrent_safe = True

    @hook_impl
    def before_pipeline_run(self, run_params):
        with LOCK:
            COUNTS["before_pipeline_run"] += 1

    @hook_impl
    def after_node_run(self, node):
        with LOCK:
            COUNTS["after_node_run"] += 1
"""

_NODES = """\
import pandas as pd


def clean_orders(orders, cleaning):
    df = orders.dropna(subset=["product", "quantity"])
    keep = (
        df["quantity"].between(cleaning["min_quantity"], cleaning["max_quantity"])
        & ~df["channel"].isin(cleaning["drop_channels"])
    )
    df = df[keep].copy()
    df["quantity"] = df["quantity"].astype(int)
    return df


def attach_products(orders, products):
    return orders.merge(products, on="product", how="inner")


def add_revenue(orders, vat_rate, factor, fx_rate):
    df = orders.copy()
    gross = df["quantity"] * df["unit_price"] * (1 + vat_rate) * factor
    df["revenue"] = (gross * fx_rate).round(2)
    return df


def apply_discounts(orders, discount):
    df = orders.copy()
    eligible = (df["revenue"] >= discount["threshold"]) & df["category"].isin(
        discount["categories"]
    )
    df.loc[eligible, "revenue"] = (df.loc[eligible, "revenue"] * (1 - discount["rate"])).round(2)
    df["discounted"] = eligible
    return df


def flag_outliers(orders, outliers):
    df = orders.copy()
    grouped = df.groupby("category")["revenue"]
    mean = grouped.transform("mean")
    std = grouped.transform("std").fillna(0.0).replace(0.0, 1.0)
    size = grouped.transform("size")
    df["zscore"] = (df["revenue"] - mean) / std
    df["outlier"] = (df["zscore"].abs() > outliers["z"]) & (size >= outliers["min_group"])
    return df


def summarise(orders, top_n, rounding):
    summary = (
        orders[~orders["outlier"]]
        .groupby(["region", "category"], as_index=False)
        .agg(orders=("order_id", "count"), revenue=("revenue", "sum"))
        .sort_values(["revenue", "region", "category"], ascending=[False, True, True])
    )
    summary["revenue"] = summary["revenue"].round(rounding)
    return summary.head(top_n).reset_index(drop=True)


def kpis(orders, currency, scale, report):
    kept = orders if report["include_outliers"] else orders[~orders["outlier"]]
    return {
        "title": report["title"],
        "currency": currency,
        "orders": int(len(kept)),
        "revenue": round(float(kept["revenue"].sum()) * scale, 2),
        "discounted": int(kept["discounted"].sum()),
        "outliers": int(orders["outlier"].sum()),
        "by_channel": {
            str(k): round(float(v), 2)
            for k, v in kept.groupby("channel")["revenue"].sum().items()
        },
    }
"""

_PIPELINE_REGISTRY = """\
from kedro.pipeline import Pipeline, node

from bench_orders import nodes


def register_pipelines():
    pipe = Pipeline(
        [
            node(nodes.clean_orders, ["orders", "params:cleaning"], "clean", name="clean"),
            node(nodes.attach_products, ["clean", "products"], "enriched", name="enrich"),
            node(
                nodes.add_revenue,
                ["enriched", "params:vat_rate", "params:factor", "params:fx_rate"],
                "with_revenue",
                name="revenue",
            ),
            node(nodes.apply_discounts, ["with_revenue", "params:discount"], "discounted", name="discount"),
            node(nodes.flag_outliers, ["discounted", "params:outliers"], "flagged", name="outliers"),
            node(
                nodes.summarise,
                ["flagged", "params:top_n", "params:rounding"],
                "summary",
                name="summarise",
            ),
            node(
                nodes.kpis,
                ["flagged", "params:currency", "params:scale", "params:report"],
                "kpis",
                name="kpis",
            ),
        ]
    )
    return {"__default__": pipe, "orders": pipe}
"""

_CATALOG = """\
orders:
  type: pandas.CSVDataset
  filepath: data/01_raw/orders.csv

products:
  type: pandas.CSVDataset
  filepath: data/01_raw/products.csv
"""

_PARAMETERS = """\
vat_rate: 0.2
factor: 1.0
scale: ${factor}
fx_rate: 1.0
currency: EUR
rounding: 2
top_n: 10
seed: 42
cleaning:
  min_quantity: 1
  max_quantity: 500
  drop_channels: [test]
discount:
  threshold: 200
  rate: 0.05
  categories: [tools, garden]
outliers:
  z: 3.0
  min_group: 5
report:
  title: Daily orders
  include_outliers: false
model:
  alpha: 0.1
  l1_ratio: 0.5
  max_iter: 100
"""


def make_orders(seed: int, rows: int = ROWS) -> pd.DataFrame:
    """A batch of orders, with a few rows that cleaning drops."""
    rng = np.random.default_rng(seed)
    quantity = rng.integers(1, 40, size=rows).astype(float)
    quantity[rng.random(rows) < 0.02] = np.nan
    product = np.array([f"p{n:03d}" for n in rng.integers(0, PRODUCTS + 5, size=rows)])
    return pd.DataFrame(
        {
            "order_id": np.arange(seed * rows, seed * rows + rows),
            "region": rng.choice(REGIONS, size=rows),
            "channel": rng.choice(CHANNELS, size=rows, p=[0.4, 0.3, 0.15, 0.1, 0.05]),
            "product": product,
            "quantity": quantity,
        }
    )


def make_products() -> pd.DataFrame:
    """The reference table: a price and category per product."""
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "product": [f"p{n:03d}" for n in range(PRODUCTS)],
            "unit_price": rng.uniform(1, 120, size=PRODUCTS).round(2),
            "category": rng.choice(CATEGORIES, size=PRODUCTS),
        }
    )


def _padding_catalog(count: int) -> str:
    entries = []
    for n in range(count):
        entries.append(
            f"unused_{n:04d}:\n"
            f"  type: pandas.CSVDataset\n"
            f"  filepath: data/03_unused/unused_{n:04d}.csv\n"
            f"  load_args:\n"
            f"    sep: ','\n"
        )
    return "\n".join(entries)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def write_project(root: Path) -> Path:
    """Write the project under ``root`` and return its path.

    Also writes ``requests/request_<n>.csv``: the batches that requests inject.
    """
    project = root / "bench-orders"
    src = project / "src" / PACKAGE
    _write(project / "pyproject.toml", _PYPROJECT)
    _write(src / "__init__.py", '__version__ = "0.1.0"\n')
    _write(src / "settings.py", _SETTINGS)
    _write(src / "hooks.py", _HOOKS)
    _write(src / "nodes.py", _NODES)
    _write(src / "pipeline_registry.py", _PIPELINE_REGISTRY)
    _write(project / "conf" / "base" / "catalog.yml", _CATALOG)
    _write(project / "conf" / "base" / "parameters.yml", _PARAMETERS)
    _write(project / "conf" / "local" / ".gitkeep", "")
    for env, size in CATALOG_SIZES.items():
        _write(
            project / "conf" / env / "catalog.yml",
            _padding_catalog(size - BASE_ENTRIES),
        )
    raw = project / "data" / "01_raw"
    raw.mkdir(parents=True, exist_ok=True)
    make_orders(seed=1).to_csv(raw / "orders.csv", index=False)
    make_products().to_csv(raw / "products.csv", index=False)
    requests = project / "requests"
    requests.mkdir(exist_ok=True)
    for n in range(REQUEST_VARIANTS):
        make_orders(seed=100 + n).to_csv(requests / f"request_{n}.csv", index=False)
    return project


def load_requests(project: Path) -> list[pd.DataFrame]:
    """The request batches, read once into memory."""
    return [
        pd.read_csv(project / "requests" / f"request_{n}.csv")
        for n in range(REQUEST_VARIANTS)
    ]


def factor_for(request_number: int) -> float:
    """The ``factor`` parameter a request sends (changes from request to request)."""
    return 1.0 + (request_number % 5) / 10


def project_module(name: str) -> Any:
    """A module of the project's package (``hooks``, ``nodes``), once bootstrapped."""
    return importlib.import_module(f"{PACKAGE}.{name}")


def call_nodes(
    nodes: Any,
    params: dict[str, Any],
    orders: pd.DataFrame,
    products: pd.DataFrame,
    factor: float,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The pipeline as plain calls of its node functions, in order: the floor.

    ``nodes`` is the project's ``nodes`` module, ``params`` its parameters; keep
    this in step with ``register_pipelines`` above.
    """
    clean = nodes.clean_orders(orders, params["cleaning"])
    enriched = nodes.attach_products(clean, products)
    revenue = nodes.add_revenue(enriched, params["vat_rate"], factor, params["fx_rate"])
    discounted = nodes.apply_discounts(revenue, params["discount"])
    flagged = nodes.flag_outliers(discounted, params["outliers"])
    summary = nodes.summarise(flagged, params["top_n"], params["rounding"])
    kpis = nodes.kpis(flagged, params["currency"], factor, params["report"])
    return summary, kpis


def fingerprint(summary: pd.DataFrame, kpis: dict[str, Any]) -> str:
    """A short digest of a request's outputs, to check that every path agrees."""
    payload = {
        "kpis": kpis,
        "summary": summary.round(6).astype(str).to_dict(orient="split"),
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


if __name__ == "__main__":  # pragma: no cover - manual use
    import sys
    import tempfile

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    print(write_project(target))
    print(textwrap.dedent(__doc__ or ""))
