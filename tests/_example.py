"""The example project (``examples/orders``): copies of it, and what its runs give.

``expected_run`` is the one place that says what a run of the orders pipeline
must produce: it calls the project's node functions directly, in the pipeline's
order, with the project's parameters or the ones a test overrides.
"""

from __future__ import annotations

import importlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

EXAMPLE_PROJECT = Path(__file__).resolve().parents[1] / "examples" / "orders"

PROJECT_PARAMS: dict[str, Any] = {
    "vat_rate": 0.2,
    "factor": 1.0,
    "currency": "EUR",
    "top_n": 3,
    "discount": {"threshold": 100, "rate": 0.1},
}
"""``conf/base/parameters.yml`` of the example, less ``derived`` (``${factor}``)."""

ORDER_RECORDS: list[dict[str, Any]] = [
    {"order_id": 1, "region": "north", "product": "widget", "quantity": 10},
    {"order_id": 2, "region": "south", "product": "gadget", "quantity": 1},
    {"order_id": 3, "region": "north", "product": "gizmo", "quantity": 4},
]
"""Orders as a client sends them to the server (JSON records)."""


def copy_example(path: Path) -> Path:
    """Copy ``examples/orders`` to ``path`` (without caches, sessions, metadata).

    Args:
        path: Where the copy goes; must not exist yet.

    Returns:
        ``path``.
    """
    shutil.copytree(
        EXAMPLE_PROJECT,
        path,
        ignore=shutil.ignore_patterns("__pycache__", "sessions", "*.egg-info"),
    )
    return path


def node_functions(project: Path | None = None) -> ModuleType:
    """The orders node functions of a bootstrapped copy of the example project.

    Args:
        project: A copy named ``orders`` (or ``None``) imports ``orders_demo``; a
            ``make_project`` variant imports its own package (its directory name).

    Returns:
        The ``pipelines.orders.nodes`` module of that package.
    """
    if project is None or project.name == "orders":
        package = "orders_demo"
    else:
        package = project.name
    return importlib.import_module(f"{package}.pipelines.orders.nodes")


def raw(project: Path, name: str) -> pd.DataFrame:
    """A raw CSV of the project (``orders`` or ``prices``)."""
    return pd.read_csv(project / "data" / "01_raw" / f"{name}.csv")


@dataclass(frozen=True)
class Expected:
    """The datasets of one run, from the node functions called directly."""

    clean_orders: pd.DataFrame
    discounted: pd.DataFrame
    summary: pd.DataFrame
    headline: str


def expected_run(
    nodes: ModuleType, orders: pd.DataFrame, prices: pd.DataFrame, **params: Any
) -> Expected:
    """What a full run of the orders pipeline gives for ``orders`` and ``prices``.

    Args:
        nodes: The node functions (see ``node_functions``).
        orders: The run's orders.
        prices: The run's prices.
        **params: Parameters that differ from the project's (``PROJECT_PARAMS``);
            ``derived`` is ``factor`` unless given, as in the project's config.

    Returns:
        The run's cleaned orders, discounted orders, summary and headline.
    """
    p = {**PROJECT_PARAMS, **params}
    derived = p.get("derived", p["factor"])
    clean = nodes.clean_orders(orders)
    priced = nodes.price_orders(clean, prices)
    revenue = nodes.add_revenue(priced, vat_rate=p["vat_rate"], factor=p["factor"])
    discounted = nodes.apply_discount(revenue, p["discount"])
    summary = nodes.summarise(discounted, top_n=p["top_n"])
    headline = nodes.headline(summary, p["currency"], derived)
    return Expected(clean, discounted, summary, headline)


def expected_for(
    project: Path,
    orders: pd.DataFrame | None = None,
    prices: pd.DataFrame | None = None,
    **params: Any,
) -> Expected:
    """``expected_run`` on a bootstrapped copy, with its raw files by default.

    Args:
        project: The copy (see ``node_functions``).
        orders: The run's orders; the project's ``orders.csv`` if ``None``.
        prices: The run's prices; the project's ``prices.csv`` if ``None``.
        **params: As for ``expected_run``.

    Returns:
        What ``expected_run`` returns.
    """
    return expected_run(
        node_functions(project),
        raw(project, "orders") if orders is None else orders,
        raw(project, "prices") if prices is None else prices,
        **params,
    )
