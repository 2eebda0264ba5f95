"""The numbers pipeline: scale_node (tag scaling), summarise_node (tag reporting)."""

from __future__ import annotations

from kedro.pipeline import Pipeline, node

from .nodes import scale, summarise


def create_pipeline(**kwargs: object) -> Pipeline:
    """Two nodes, numbers -> scaled -> report."""
    return Pipeline(
        [
            node(
                scale,
                ["numbers", "params:factor"],
                "scaled",
                name="scale_node",
                tags=["scaling"],
            ),
            node(
                summarise,
                ["scaled", "params:offset"],
                "report",
                name="summarise_node",
                tags=["reporting"],
            ),
        ]
    )
