"""``load_outputs``: a run's file outputs are read while the run holds its files
(issue 18, finding 7: the server read them after, when another run could have
overwritten them)."""

from __future__ import annotations

import pandas as pd
import pytest
from kedro.io import MemoryDataset

from kedro_runtime import KedroSession, RunRequest


def _orders(region: str) -> pd.DataFrame:
    return pd.DataFrame(
        {"order_id": [1], "region": [region], "product": ["widget"], "quantity": [3]}
    )


def test_a_loaded_output_keeps_the_runs_data_when_the_file_changes(
    session: KedroSession,
) -> None:
    first = session.run(
        to_outputs=["summary"],
        runtime_data={"orders": _orders("north")},
        load_outputs=["summary"],
    )
    # Another run saves the same file afterwards.
    session.run(to_outputs=["summary"], runtime_data={"orders": _orders("south")})
    assert isinstance(first["summary"], MemoryDataset)
    assert list(first["summary"].load()["region"]) == ["north"]


def test_without_it_an_output_is_the_catalogs_dataset(session: KedroSession) -> None:
    result = session.run(to_outputs=["summary"], runtime_data={"orders": _orders("x")})
    assert not isinstance(result["summary"], MemoryDataset)


def test_names_that_are_not_outputs_of_the_run_are_left_out(
    session: KedroSession,
) -> None:
    request = RunRequest(
        to_outputs=["summary"],
        runtime_data={"orders": _orders("east")},
        load_outputs=["headline", "summary"],
    )
    result = session.run(request=request)
    assert "headline" not in result
    assert list(result["summary"].load()["region"]) == ["east"]


def test_load_outputs_must_be_names() -> None:
    with pytest.raises(TypeError, match="load_outputs"):
        RunRequest(load_outputs="summary")
