"""The MLflow integration: on by default only with kedro-mlflow installed.

``mlflow`` is not installed in the main test environment (``make plugins``
tests the real one): a stand-in module with MLflow's active-run stack, put in
``sys.modules`` by the test, shows what the run scope ends and logs.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from kedro_runtime import hook_safety
from kedro_runtime.integrations import DEFAULT_RUN_SCOPES
from kedro_runtime.integrations.mlflow import mlflow_run_scope

LOGGER = "kedro_runtime.integrations.mlflow"


class FakeMlflow(ModuleType):
    """MLflow's per-thread stack of active runs, as far as the scope uses it."""

    def __init__(self, *active: str) -> None:
        super().__init__("mlflow")
        self.stack = list(active)
        self.ended: list[tuple[str, str]] = []

    def active_run(self) -> Any:
        if not self.stack:
            return None
        return SimpleNamespace(info=SimpleNamespace(run_id=self.stack[-1]))

    def start_run(self, run_id: str) -> None:
        self.stack.append(run_id)

    def end_run(self, status: str = "FINISHED") -> None:
        self.ended.append((self.stack.pop(), status))


@pytest.fixture
def mlflow(monkeypatch: pytest.MonkeyPatch) -> FakeMlflow:
    fake = FakeMlflow("callers-own")
    monkeypatch.setitem(sys.modules, "mlflow", fake)
    return fake


def test_the_default_run_scopes_hold_it_only_with_kedro_mlflow_installed() -> None:
    installed = importlib.util.find_spec("kedro_mlflow") is not None
    assert (mlflow_run_scope in DEFAULT_RUN_SCOPES) is installed
    assert hook_safety.DEFAULT_RUN_SCOPES is DEFAULT_RUN_SCOPES
    assert not any("mlflow" in name.lower() for name in vars(hook_safety))


def test_kedro_mlflows_one_run_left_active_is_ended_with_a_debug_line(
    mlflow: FakeMlflow, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger=LOGGER), mlflow_run_scope("kedro-1"):
        for _ in range(3):  # re-activated at every node, as kedro-mlflow does
            mlflow.start_run("tracked")
        mlflow.end_run()  # ended once, in after_pipeline_run
    assert mlflow.stack == ["callers-own"]  # the caller's run is kept
    assert mlflow.ended[1:] == [("tracked", "FINISHED")] * 2
    [record] = [r for r in caplog.records if r.name == LOGGER]
    assert record.levelno == logging.DEBUG
    assert "Run kedro-1 left MLflow run(s) tracked active" in record.getMessage()


def test_runs_the_projects_code_left_active_are_an_info_line(
    mlflow: FakeMlflow, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger=LOGGER), pytest.raises(KeyError):
        with mlflow_run_scope("kedro-2"):
            mlflow.start_run("tracked")
            mlflow.start_run("a-nodes-own")
            raise KeyError("node failed")
    assert mlflow.stack == ["callers-own"]
    assert sorted(mlflow.ended) == [("a-nodes-own", "FAILED"), ("tracked", "FAILED")]
    [record] = [r for r in caplog.records if r.name == LOGGER]
    assert record.levelno == logging.INFO
    assert "a-nodes-own, tracked" in record.getMessage()


def test_without_mlflow_imported_it_does_nothing(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delitem(sys.modules, "mlflow", raising=False)
    with caplog.at_level(logging.DEBUG, logger=LOGGER), mlflow_run_scope("kedro-3"):
        pass
    assert [r for r in caplog.records if r.name == LOGGER] == []
    assert "mlflow" not in sys.modules
