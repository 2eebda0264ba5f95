"""The example project runs through a kedro-runtime session, twice, with data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kedro_runtime import KedroSession


def expected_headline(
    orders: pd.DataFrame, prices: pd.DataFrame, factor: float, derived: float
) -> str:
    """The headline computed by calling the node functions directly."""
    from orders_demo.pipelines.orders import nodes  # noqa: PLC0415 (bootstrapped)

    priced = nodes.price_orders(nodes.clean_orders(orders), prices)
    revenue = nodes.add_revenue(priced, vat_rate=0.2, factor=factor)
    discounted = nodes.apply_discount(revenue, {"threshold": 100, "rate": 0.1})
    return nodes.headline(nodes.summarise(discounted, top_n=3), "EUR", derived)


def test_two_runs_with_different_data_then_project_defaults(
    session: KedroSession, project_path: Path, orders: pd.DataFrame
) -> None:
    raw = project_path / "data" / "01_raw"
    prices = pd.read_csv(raw / "prices.csv")

    baseline = session.run()["headline"].load()
    injected = session.run(
        runtime_data={"orders": orders}, runtime_params={"factor": 2}
    )
    again = session.run()["headline"].load()

    assert baseline == expected_headline(
        pd.read_csv(raw / "orders.csv"), prices, factor=1.0, derived=1.0
    )
    assert injected["headline"].load() == expected_headline(
        orders, prices, factor=2, derived=2
    )
    assert again == baseline
