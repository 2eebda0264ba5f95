"""Kedro parity: ``kedro run`` without opt-in, run ids, notebook saves, odd datasets.

Each test runs on a copy of examples/orders whose ``headline`` output is a
versioned pickle, so that a run's id shows as its version folder.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import pytest
from _no_exists import NoExistsDataset
from click.testing import CliRunner, Result
from kedro.framework.cli.project import run as kedro_run
from kedro.framework.project import settings
from kedro.framework.session import KedroSession as KedroDefaultSession
from kedro.io import MemoryDataset

from kedro_runtime import KedroSession
from kedro_runtime import _kedro_private as private
from kedro_runtime.cli import cli

KEDRO_VERSION = re.compile(r"^\d{4}-\d\d-\d\dT\d\d\.\d\d\.\d\d\.\d{3}Z$")
"""A version folder as Kedro's own session names it: its bare timestamp."""

RUNTIME_VERSION = re.compile(r"^\d{4}-\d\d-\d\dT\d\d\.\d\d\.\d\d\.\d{3}Z-[0-9a-f]{16}$")
"""A version folder of a kedro-runtime session (see kedro_runtime/run_id.py)."""

HEADLINE = Path("data") / "08_reporting" / "headline.pkl"


@pytest.fixture
def project(project_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    catalog = project_path / "conf" / "base" / "catalog.yml"
    catalog.write_text(
        catalog.read_text()
        + f"\nheadline:\n  type: pickle.PickleDataset\n  filepath: {HEADLINE}\n"
        "  versioned: true\n"
    )
    monkeypatch.chdir(project_path)
    return project_path


def versions(project: Path) -> list[str]:
    folder = project / HEADLINE
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, ["run", *args], catch_exceptions=True)


class RecordingSession(KedroSession):
    """A project's kedro-runtime session that records its ids."""

    session_ids: ClassVar[list[str]] = []

    def run(self, *args: Any, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        RecordingSession.session_ids.append(self.session_id)
        return super().run(*args, **kwargs)


# --- item 1: kedro run without opt-in -------------------------------------------


def test_plain_run_without_opt_in_is_kedros_own(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "SESSION_CLASS", KedroDefaultSession)
    result = invoke()
    assert result.exit_code == 0, result.output
    [folder] = versions(project)
    assert KEDRO_VERSION.match(folder), folder


def test_new_options_without_opt_in_run_on_kedro_runtime(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "SESSION_CLASS", KedroDefaultSession)
    result = invoke("--runtime-params", "region=west")
    assert result.exit_code == 0, result.output
    [folder] = versions(project)
    assert RUNTIME_VERSION.match(folder), folder
    assert (project / "data" / "08_reporting" / "summary_west.csv").exists()


def test_opted_in_kedro_run_uses_the_session_id_as_run_id(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "SESSION_CLASS", RecordingSession)
    RecordingSession.session_ids = []
    result = invoke()
    assert result.exit_code == 0, result.output
    assert versions(project) == RecordingSession.session_ids
    assert RUNTIME_VERSION.match(versions(project)[0])


def test_opted_in_first_session_run_uses_the_session_id(project: Path) -> None:
    with KedroSession.create(project) as session:
        session.run()
        assert versions(project) == [session.session_id]
        session.run()
        assert len(versions(project)) == 2


def test_unknown_config_key_without_opt_in_is_kedros_error(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "SESSION_CLASS", KedroDefaultSession)
    config = project / "run.yml"
    config.write_text("run:\n  tagz: x\n")
    ours = invoke("--config", str(config))
    kedros = CliRunner().invoke(kedro_run, ["--config", str(config)])
    assert ours.exit_code == kedros.exit_code == 1, ours.output
    assert ours.output == kedros.output
    assert versions(project) == []


def test_unknown_config_key_with_opt_in_exits_1(project: Path) -> None:
    config = project / "run.yml"
    config.write_text("run:\n  tagz: x\n")
    result = invoke("--config", str(config))
    assert result.exit_code == 1, result.output
    assert "`tagz`" in result.output and "Did you mean tags" in result.output
    assert "Traceback" not in result.output
    assert versions(project) == []


def test_unknown_config_key_next_to_a_new_one_exits_1(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "SESSION_CLASS", KedroDefaultSession)
    config = project / "run.yml"
    config.write_text("run:\n  runtime_params: {factor: 2}\n  tagz: x\n")
    result = invoke("--config", str(config))
    assert result.exit_code == 1, result.output
    assert "`tagz`" in result.output and "Did you mean tags" in result.output


def test_config_file_with_a_new_key_runs_on_kedro_runtime(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "SESSION_CLASS", KedroDefaultSession)
    config = project / "run.yml"
    config.write_text("run:\n  runtime_params: {region: cfg}\n")
    result = invoke("--config", str(config))
    assert result.exit_code == 0, result.output
    assert (project / "data" / "08_reporting" / "summary_cfg.csv").exists()
    assert RUNTIME_VERSION.match(versions(project)[0])


# --- item 2: notebook saves ------------------------------------------------------


def test_a_catalog_save_then_a_run_of_the_same_output_do_not_collide(
    project: Path,
) -> None:
    with KedroSession.create(project) as session:
        catalog = session.load_context().catalog
        catalog.save("headline", "from the notebook")
        outputs = session.run(to_outputs=["headline"])
        folders = versions(project)
        assert len(folders) == 2 and session.session_id in folders
        [saved] = [f for f in folders if f != session.session_id]
        ran = pd.read_pickle(project / HEADLINE / session.session_id / "headline.pkl")
        assert ran.startswith("Top region")
        assert outputs["headline"].load() == ran
        assert pd.read_pickle(project / HEADLINE / saved / "headline.pkl") == (
            "from the notebook"
        )
        # As a Kedro dataset does, the base catalog's loads the version it saved.
        assert catalog.load("headline") == "from the notebook"
        session.run(to_outputs=["headline"])
        assert len(versions(project)) == 3


# --- item 6: --runtime-data and datasets without _exists -----------------------


@pytest.fixture
def no_exists_project(project: Path) -> Path:
    catalog = project / "conf" / "base" / "catalog.yml"
    catalog.write_text(
        catalog.read_text().replace(
            "orders:\n  type: pandas.CSVDataset",
            "orders:\n  type: _no_exists.NoExistsDataset",
        )
    )
    return project


def test_runtime_data_trusts_a_dataset_that_cannot_tell_it_exists(
    no_exists_project: Path,
) -> None:
    march = no_exists_project / "data" / "01_raw" / "orders_march.csv"
    result = invoke("--runtime-data", f"orders={march}")
    assert result.exit_code == 0, result.output
    summary = pd.read_csv(
        no_exists_project / "data" / "08_reporting" / "summary_all.csv"
    )
    assert set(summary["region"]) <= set(pd.read_csv(march)["region"])


def test_runtime_data_missing_file_fails_at_load_with_the_dataset_error(
    no_exists_project: Path,
) -> None:
    result = invoke("--runtime-data", "orders=nowhere.csv")
    assert result.exit_code == 1, result.output
    assert "nowhere.csv" in str(result.exception)
    assert versions(no_exists_project) == []


def test_implements_exists_tells_the_classes_apart() -> None:
    assert not private.implements_exists(NoExistsDataset(filepath="x.csv"))
    assert private.implements_exists(MemoryDataset())
