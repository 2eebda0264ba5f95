"""``kedro sweep --output``: rows as runs complete, CSV and Parquet, and ``--resume``."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from conftest import quiet_kedro_logs
from distributed import Client, LocalCluster
from kedro.framework.startup import bootstrap_project

from kedro_runtime.dask import iter_run_many
from kedro_runtime.sweep_cli import commands

SWEEP_CATALOG = """\
summary:
  type: MemoryDataset
headline:
  type: text.TextDataset
  filepath: data/08_reporting/headline.txt
  versioned: true
"""


@pytest.fixture(scope="module")
def client() -> Any:
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as dask_client,
    ):
        yield dask_client


@pytest.fixture
def project(project_path: Path) -> Path:
    (project_path / "conf" / "sweep").mkdir()
    (project_path / "conf" / "sweep" / "catalog.yml").write_text(SWEEP_CATALOG)
    return project_path


def sweep(project: Path, client: Client, grid: str, *args: str) -> Any:
    file = project / "grid.yml"
    file.write_text(grid)
    metadata = bootstrap_project(project)
    quiet_kedro_logs()
    args = ("--grid", str(file), "--env", "sweep", "--no-progress", *args)
    return CliRunner().invoke(
        commands,
        ["sweep", "--scheduler", client.scheduler.address, *args],
        obj=metadata,
    )


def read(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".parquet":
        rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
        return rows
    return list(csv.DictReader(path.open()))


def grid_with(later: Path, factors: list[float]) -> str:
    """Points with ``factor``; the last one reads ``later`` as its orders."""
    points = "".join(f"  - params: {{factor: {f}}}\n" for f in factors)
    return (
        f"points:\n{points}"
        f"  - params: {{factor: 9.0}}\n    runtime_data: {{orders: {later}}}\n"
    )


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_resume_keeps_ok_rows_and_runs_failed_and_missing_points(
    project: Path, client: Client, suffix: str
) -> None:
    later = project / "later.csv"
    later.write_text("x\n1\n")  # not orders yet: that point fails
    out = project / f"results{suffix}"
    first = sweep(
        project, client, grid_with(later, [1.0, 2.0, 3.0]), "--output", str(out)
    )
    assert first.exit_code == 1, first.output
    assert "4 runs, 1 failed." in first.output
    rows = read(out)
    assert [row["status"] for row in rows] == ["ok", "ok", "ok", "failed"]
    # The sweep "stopped" before point 1's row was written.
    if suffix == ".csv":
        with out.open("w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows([rows[0], rows[2], rows[3]])
    else:
        pd.DataFrame([rows[0], rows[2], rows[3]]).to_parquet(out)
    pd.read_csv(project / "data" / "01_raw" / "orders.csv").to_csv(later, index=False)

    second = sweep(
        project,
        client,
        grid_with(later, [1.0, 2.0, 3.0]),
        "--output",
        str(out),
        "--resume",
    )
    assert second.exit_code == 0, second.output
    assert (
        "Resuming: 2 points done, 1 failed to run again, 1 not run yet; 0 rows of "
        "points no longer in the grid removed." in second.output
    )
    assert "2 runs, 0 failed." in second.output
    after = read(out)
    assert [str(row["factor"]) for row in after] == ["1.0", "2.0", "3.0", "9.0"]
    assert [row["status"] for row in after] == ["ok"] * 4
    assert after[0] == rows[0]  # kept as it was, run id included
    assert after[2] == rows[2]
    assert after[3]["run_id"] != rows[3]["run_id"]
    assert len({row["run_id"] for row in after}) == 4
    assert len({row["point"] for row in after}) == 4
    if suffix == ".parquet":
        assert isinstance(after[0]["factor"], float)


def test_resume_with_a_changed_grid_drops_removed_points_and_runs_new_ones(
    project: Path, client: Client
) -> None:
    later = project / "data" / "01_raw" / "orders.csv"
    out = project / "results.csv"
    first = sweep(project, client, grid_with(later, [1.0, 2.0]), "--output", str(out))
    assert first.exit_code == 0, first.output
    before = {row["factor"]: row for row in read(out)}

    second = sweep(
        project, client, grid_with(later, [2.0, 4.0]), "--output", str(out), "--resume"
    )
    assert second.exit_code == 0, second.output
    assert (
        "Resuming: 2 points done, 0 failed to run again, 1 not run yet; 1 rows of "
        "points no longer in the grid removed." in second.output
    )
    assert "1 runs, 0 failed." in second.output
    after = read(out)
    assert [row["factor"] for row in after] == ["2.0", "4.0", "9.0"]
    assert after[0] == before["2.0"]
    assert after[2] == before["9.0"]
    assert after[1]["headline"] == "Top region east: 1576.80 EUR (factor 4.0)"

    done = sweep(
        project, client, grid_with(later, [2.0, 4.0]), "--output", str(out), "--resume"
    )
    assert done.exit_code == 0, done.output
    assert (
        "Resuming: 3 points done, 0 failed to run again, 0 not run yet" in done.output
    )
    assert "0 runs, 0 failed." in done.output
    assert read(out) == after


def test_resume_needs_an_output_written_by_kedro_sweep(
    project: Path, client: Client
) -> None:
    grid = "product:\n  factor: [1.0]\n"
    result = sweep(project, client, grid, "--resume")
    assert result.exit_code == 2
    assert "--resume needs --output" in result.output
    foreign = project / "foreign.csv"
    foreign.write_text("factor,status\n1.0,ok\n")
    result = sweep(project, client, grid, "--resume", "--output", str(foreign))
    assert result.exit_code == 1
    assert "has no 'point' column" in result.output


def test_results_arrive_with_their_index_and_closing_the_iterator_stops_the_rest(
    project: Path, client: Client
) -> None:
    requests = [{"runtime_params": {"factor": 1 + i / 10}} for i in range(40)]
    results = iter_run_many(
        project, requests, client=client, env="sweep", progress=False, batch_size=1
    )
    first = [next(results) for _ in range(3)]
    results.close()  # type: ignore[attr-defined]
    assert all(result.ok for result in first)
    assert len({result.index for result in first}) == 3
    for result in first:
        factor = 1 + result.index / 10
        assert result.outputs["headline"].endswith(f"(factor {factor})")
    # The cluster is free again: a new call runs, and skips what it is told to.
    again = list(
        iter_run_many(
            project,
            requests[:4],
            client=client,
            env="sweep",
            skip={0, 2},
            progress=False,
        )
    )
    assert sorted(result.index for result in again) == [1, 3]
