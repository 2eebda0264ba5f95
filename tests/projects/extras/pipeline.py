"""The ``extras`` pipeline: a two-output node and a node that can fail."""

from __future__ import annotations

from kedro.pipeline import Pipeline, node

from .nodes import checkpoint, count_orders, split_orders


def create_pipeline(**kwargs: object) -> Pipeline:
    """Three nodes hanging off the orders pipeline's datasets."""
    return Pipeline(
        [
            node(
                split_orders,
                "clean_orders",
                ["small_orders", "large_orders"],
                name="split",
            ),
            node(
                count_orders,
                ["small_orders", "large_orders"],
                "order_counts",
                name="count",
            ),
            node(checkpoint, ["summary", "params:fail"], "checked", name="checkpoint"),
        ]
    )
