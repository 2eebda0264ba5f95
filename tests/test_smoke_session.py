"""The example project runs through a kedro-runtime session, twice, with data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from _example import expected_run, node_functions

from kedro_runtime import KedroSession


def test_two_runs_with_different_data_then_project_defaults(
    session: KedroSession, project_path: Path, orders: pd.DataFrame
) -> None:
    raw = project_path / "data" / "01_raw"
    prices = pd.read_csv(raw / "prices.csv")

    baseline = session.run()["headline"].load()
    injected = session.run(
        runtime_data={"orders": orders}, runtime_params={"factor": 2}
    )
    again = session.run()["headline"].load()

    nodes = node_functions(project_path)
    assert (
        baseline
        == expected_run(
            nodes, pd.read_csv(raw / "orders.csv"), prices, factor=1.0, derived=1.0
        ).headline
    )
    assert (
        injected["headline"].load()
        == expected_run(nodes, orders, prices, factor=2, derived=2).headline
    )
    assert again == baseline
