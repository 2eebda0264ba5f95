"""The project's pipelines: every package under ``orders_demo.pipelines``."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline


def register_pipelines() -> dict[str, Pipeline]:
    """Name each pipeline Kedro finds; ``__default__`` runs all of them.

    Returns:
        Pipeline name to ``Pipeline``.
    """
    found = find_pipelines(raise_errors=True)
    return {**found, "__default__": sum(found.values(), Pipeline([]))}
