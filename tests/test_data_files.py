"""A ``pathlib.Path`` in ``runtime_data`` reads the entry from that file (kedro_runtime.data_files)."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from kedro_runtime import KedroSession, RuntimeDataError
from kedro_runtime.cli import cli

MARCH = pd.DataFrame(
    {
        "order_id": [10, 11],
        "region": ["west", "west"],
        "product": ["widget", "gadget"],
        "quantity": [1, 2],
    }
)


@pytest.fixture
def semicolons(project_path: Path) -> Path:
    """The project's ``orders`` entry reads ``;``-separated files; one to read."""
    catalog = project_path / "conf" / "base" / "catalog.yml"
    catalog.write_text(
        catalog.read_text().replace(
            "  filepath: data/01_raw/orders.csv\n",
            "  filepath: data/01_raw/orders.csv\n  load_args:\n    sep: ';'\n",
        )
    )
    path = project_path.parent / "march.csv"
    MARCH.to_csv(path, index=False, sep=";")
    return path


def test_a_path_is_read_with_the_entrys_own_dataset_type_and_options(
    project_path: Path, semicolons: Path
) -> None:
    with KedroSession.create(project_path) as session:
        from_path = session.run(runtime_data={"orders": semicolons})
        from_frame = session.run(runtime_data={"orders": MARCH})
    assert from_path["headline"].load() == from_frame["headline"].load()
    assert "west" in from_path["headline"].load()


def test_a_path_reads_what_runtime_data_on_the_command_line_reads(
    project_path: Path, semicolons: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = project_path / "data" / "08_reporting" / "summary_all.csv"
    monkeypatch.chdir(project_path)
    result = CliRunner().invoke(cli, ["run", "--runtime-data", f"orders={semicolons}"])
    assert result.exit_code == 0, result.output
    from_cli = summary.read_text()
    summary.unlink()
    relative = Path("..") / semicolons.name  # relative to the current directory
    with KedroSession.create(project_path) as session:
        session.run(runtime_data={"orders": relative})
    assert summary.read_text() == from_cli


def test_a_path_to_nothing_is_refused_before_the_run(project_path: Path) -> None:
    with KedroSession.create(project_path) as session:
        with pytest.raises(RuntimeDataError, match="nothing to read for 'orders'"):
            session.run(runtime_data={"orders": project_path / "missing.csv"})
        assert session.run()  # the session stays usable


def test_a_string_naming_a_file_warns_and_suggests_path(
    project_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = str(project_path / "data" / "01_raw" / "orders.csv")
    with (
        KedroSession.create(project_path) as session,
        caplog.at_level(logging.WARNING, logger="kedro_runtime"),
        pytest.raises(AttributeError, match="'str' object"),  # the node gets it
    ):
        session.run(runtime_data={"orders": path})
    [record] = [r for r in caplog.records if r.name == "kedro_runtime.inject"]
    message = record.getMessage()
    assert "names an existing file" in message
    assert f"pathlib.Path({path!r})" in message
    assert "pandas.CSVDataset" in message


@pytest.mark.parametrize("value", ["data/01_raw", "x" * 5000, "a\x00b"])
def test_a_string_that_names_no_file_gives_no_warning(
    session: KedroSession, caplog: pytest.LogCaptureFixture, value: str
) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="kedro_runtime"),
        pytest.raises(AttributeError, match="'str' object"),
    ):
        session.run(runtime_data={"orders": value})
    assert not [r for r in caplog.records if r.name == "kedro_runtime.inject"]
