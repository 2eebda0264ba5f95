"""Node functions of the orders pipeline: plain pandas, no Kedro."""

from __future__ import annotations

import pandas as pd


def clean_orders(orders: pd.DataFrame) -> pd.DataFrame:
    """Drop orders without a product or quantity; quantities become integers."""
    cleaned = orders.dropna(subset=["product", "quantity"]).copy()
    cleaned["quantity"] = cleaned["quantity"].astype(int)
    return cleaned


def price_orders(orders: pd.DataFrame, prices: pd.DataFrame) -> pd.DataFrame:
    """Attach each product's unit price from the reference table."""
    return orders.merge(prices, on="product", how="inner")


def add_revenue(orders: pd.DataFrame, vat_rate: float, factor: float) -> pd.DataFrame:
    """Revenue of each order, with VAT, scaled by ``factor``."""
    priced = orders.copy()
    priced["revenue"] = (
        priced["quantity"] * priced["unit_price"] * (1 + vat_rate) * factor
    ).round(2)
    return priced


def apply_discount(orders: pd.DataFrame, discount: dict) -> pd.DataFrame:
    """Give ``discount['rate']`` off orders whose revenue reaches the threshold."""
    discounted = orders.copy()
    large = discounted["revenue"] >= discount["threshold"]
    discounted.loc[large, "revenue"] = (
        discounted.loc[large, "revenue"] * (1 - discount["rate"])
    ).round(2)
    return discounted


def summarise(orders: pd.DataFrame, top_n: int) -> pd.DataFrame:
    """Revenue per region, the ``top_n`` largest first."""
    summary = (
        orders.groupby("region", as_index=False)["revenue"]
        .sum()
        .sort_values(["revenue", "region"], ascending=[False, True])
        .head(top_n)
        .reset_index(drop=True)
    )
    summary["revenue"] = summary["revenue"].round(2)
    return summary


def headline(summary: pd.DataFrame, currency: str, derived: float) -> str:
    """One line for a dashboard."""
    top = summary.iloc[0]
    return (
        f"Top region {top['region']}: {top['revenue']:.2f} {currency} "
        f"(factor {derived})"
    )
