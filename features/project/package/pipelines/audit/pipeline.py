"""The audit pipeline: one node, ``audit.count_node``."""

from __future__ import annotations

import pandas as pd
from kedro.pipeline import Pipeline, node


def count_rows(scaled: pd.DataFrame) -> pd.DataFrame:
    """How many scaled rows there are."""
    return pd.DataFrame({"rows": [len(scaled)]})


def create_pipeline(**kwargs: object) -> Pipeline:
    """``scaled`` -> ``audit.row_count``, in the ``audit`` namespace."""
    return Pipeline(
        [node(count_rows, "scaled", "row_count", name="count_node")],
        namespace="audit",
        inputs={"scaled"},
    )
