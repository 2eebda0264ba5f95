"""Node functions of the test-only ``extras`` pipeline."""

from __future__ import annotations

import pandas as pd


def split_orders(orders: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Orders of fewer than five items, and the others."""
    small = orders["quantity"] < 5
    return orders[small].reset_index(drop=True), orders[~small].reset_index(drop=True)


def count_orders(small: pd.DataFrame, large: pd.DataFrame) -> dict[str, int]:
    """How many small and large orders there are."""
    return {"small": len(small), "large": len(large)}


def checkpoint(summary: pd.DataFrame, fail: bool) -> int:
    """Number of summary rows; raises when ``fail`` is set, to test failing runs."""
    if fail:
        raise RuntimeError("checkpoint failed on purpose")
    return len(summary)
