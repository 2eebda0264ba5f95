"""Nodes of the numbers pipeline."""

from __future__ import annotations

import pandas as pd


def scale(numbers: pd.DataFrame, factor: float) -> pd.DataFrame:
    """Multiply every value by ``factor``."""
    return numbers.assign(value=numbers["value"] * factor)


def summarise(scaled: pd.DataFrame, offset: float) -> pd.DataFrame:
    """The total of the values plus ``offset``, and how many there were."""
    return pd.DataFrame(
        {"total": [scaled["value"].sum() + offset], "rows": [len(scaled)]}
    )
