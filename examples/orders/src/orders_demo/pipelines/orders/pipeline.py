"""The orders pipeline."""

from __future__ import annotations

from kedro.pipeline import Pipeline, node

from .nodes import (
    add_revenue,
    apply_discount,
    clean_orders,
    headline,
    price_orders,
    summarise,
)


def create_pipeline(**kwargs: object) -> Pipeline:
    """Six nodes, from raw orders to a headline."""
    return Pipeline(
        [
            node(clean_orders, "orders", "clean_orders", name="clean_orders"),
            node(price_orders, ["clean_orders", "prices"], "priced", name="price"),
            node(
                add_revenue,
                ["priced", "params:vat_rate", "params:factor"],
                "with_revenue",
                name="revenue",
            ),
            node(
                apply_discount,
                ["with_revenue", "params:discount"],
                "discounted",
                name="discount",
                tags=["pricing"],
            ),
            node(
                summarise, ["discounted", "params:top_n"], "summary", name="summarise"
            ),
            node(
                headline,
                ["summary", "params:currency", "params:derived"],
                "headline",
                name="headline",
            ),
        ]
    )
