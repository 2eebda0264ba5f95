"""A custom dataset that, like many, does not implement ``_exists``."""

from __future__ import annotations

from typing import Any

import pandas as pd
from kedro.io import AbstractDataset


class NoExistsDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """A CSV file; Kedro's ``exists()`` answers False for it (no ``_exists``)."""

    def __init__(self, filepath: str) -> None:
        """Read and write ``filepath``.

        Args:
            filepath: The CSV file.
        """
        self._filepath = filepath

    def _load(self) -> pd.DataFrame:
        return pd.read_csv(self._filepath)

    def _save(self, data: pd.DataFrame) -> None:
        data.to_csv(self._filepath, index=False)

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath}
