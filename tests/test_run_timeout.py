"""A run over its deadline is stopped between nodes; the server answers 504 and
stays healthy (issue 18: a per-run deadline)."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from _example import copy_example
from fastapi.testclient import TestClient

from kedro_runtime import KedroSession, RunRequest, RunTimeoutError
from kedro_runtime.server import create_app
from kedro_runtime.server.settings import (
    RUN_TIMEOUT_ENV,
    ServerSettings,
    ServerSettingsError,
)

PAST = 1e-9
"""A deadline that has passed before the first node starts."""


def test_a_run_past_its_deadline_stops_before_its_next_node(
    session: KedroSession, recorder: Any
) -> None:
    with pytest.raises(RunTimeoutError, match="stopped before node"):
        session.run(timeout=PAST)
    assert recorder.calls_of("after_node_run") == []
    assert len(recorder.calls_of("on_pipeline_error")) == 1
    assert "headline" in session.run(timeout=3600)  # the session serves on
    assert "headline" in session.run()


@pytest.mark.parametrize(
    ("timeout", "error"),
    [(0, ValueError), (float("inf"), ValueError), ("1", TypeError)],
)
def test_a_timeout_is_a_positive_number(timeout: Any, error: type) -> None:
    with pytest.raises(error, match="timeout"):
        RunRequest(timeout=timeout)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_example(tmp_path / "orders")


def test_the_server_answers_504_and_stays_healthy(project: Path) -> None:
    app = create_app(project, api_key="")
    with TestClient(app) as client:
        response = client.post(
            "/run", json={"outputs": ["headline"]}, headers={"X-Run-Timeout": "1e-9"}
        )
        assert response.status_code == 504, response.text
        assert response.json()["error"]["type"] == "RunTimeoutError"
        assert client.get("/health").json()["status"] == "healthy"
        answer = client.post("/run", json={"outputs": ["headline"]}).json()
        assert answer["status"] == "success"
        for bad in ("0", "soon", "nan", "inf"):
            response = client.post("/run", json={}, headers={"X-Run-Timeout": bad})
            assert response.status_code == 422, bad
        # Without a run timeout, the schema does not mention one.
        assert (
            "504"
            not in client.get("/openapi.json").json()["paths"]["/run"]["post"][
                "responses"
            ]
        )


def test_the_servers_run_timeout_bounds_every_request(project: Path) -> None:
    app = create_app(project, api_key="", run_timeout=PAST)
    with TestClient(app) as client:
        assert client.post("/run", json={}).status_code == 504
        response = client.post("/run", json={}, headers={"X-Run-Timeout": "10"})
        assert response.status_code == 422, response.text
        (error,) = response.json()["detail"]
        assert error["loc"] == ["header", "X-Run-Timeout"]
        assert RUN_TIMEOUT_ENV in error["msg"]
        operation = client.get("/openapi.json").json()["paths"]["/run"]["post"]
        assert "504" in operation["responses"]
        assert [p["name"] for p in operation["parameters"]] == ["X-Run-Timeout"]


def test_the_run_timeout_is_a_setting(project: Path) -> None:
    settings = ServerSettings.resolve(project, environ={RUN_TIMEOUT_ENV: "30"})
    assert settings.run_timeout == 30.0
    assert ServerSettings.resolve(project, environ={}).run_timeout is None
    with pytest.raises(ServerSettingsError, match=RUN_TIMEOUT_ENV):
        ServerSettings.resolve(project, environ={RUN_TIMEOUT_ENV: "soon"})


def test_the_command_passes_the_run_timeout_to_its_workers(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn  # noqa: PLC0415
    from click.testing import CliRunner  # noqa: PLC0415

    from kedro_runtime.server.cli import commands  # noqa: PLC0415
    from kedro_runtime.server.settings import ENV_VARIABLES  # noqa: PLC0415

    for name in ENV_VARIABLES:  # restored after the test
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    seen: dict[str, str] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: seen.update(os.environ))
    metadata = SimpleNamespace(project_path=project)
    arguments = ["server", "start", "--run-timeout", "2.5"]
    result = CliRunner().invoke(commands, arguments, obj=metadata)
    assert result.exit_code == 0, result.output
    assert seen[RUN_TIMEOUT_ENV] == "2.5"
