"""What a caller may learn or pick (issue 18, finding 9): credentials and server
paths stay out of responses, the Host header can be checked, and requests pick
runners that work in a service."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import uvicorn
from _example import copy_example
from click.testing import CliRunner
from fastapi.testclient import TestClient

from kedro_runtime.server import create_app
from kedro_runtime.server.cli import commands
from kedro_runtime.server.redact import redact
from kedro_runtime.server.settings import (
    ALLOWED_HOSTS_ENV,
    ENV_VARIABLES,
    ServerSettings,
    ServerSettingsError,
)

AWS_KEY = "AKIAABCDEFGHIJKLMNOP"
AWS_SECRET = "wJalr/XUtnFEMI/K7MDENG+bPxRfiCY"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"cannot read s3://{AWS_KEY}:{AWS_SECRET}@bucket/x.csv", AWS_SECRET),
        ("postgresql://admin:p@ss w/rd@db.example.com:5432/app failed", "w/rd"),
        ("connect admin:s3cr3t@db.internal:5432 refused", "s3cr3t"),
        ("connect admin:p@ss@db.internal:5432 refused", "p@ss"),
        ("https://a.blob.core.windows.net/c/x.csv?sv=1&sig=abc%2Fdef&se=1", "abc%2F"),
        ("{'password': 'hunter2', 'user': 'bob'}", "hunter2"),
        ("password=hunter2 token=abc.def", "hunter2"),
        ("api_key: 'k-123' refused", "k-123"),
        ("Authorization: Bearer eyJhbGciOi.payload.sig", "eyJhbGciOi"),
        (f"the key {AWS_KEY} is not allowed", AWS_KEY),
    ],
)
def test_redact_hides_common_credential_shapes(text: str, secret: str) -> None:
    hidden = redact(text)
    assert secret not in hidden
    assert "***" in hidden


@pytest.mark.parametrize(
    "text",
    [
        "http://host/y?a=b@c",
        "email me at bob@example.com",
        "at 12:30 the run failed: kedro.io.core.DatasetError: x",
        "Node clean_orders failed: KeyError 'region'",
    ],
)
def test_redact_leaves_other_text_alone(text: str) -> None:
    assert redact(text) == text


def test_redact_keeps_the_rest_of_a_url() -> None:
    text = f"at s3://{AWS_KEY}:{AWS_SECRET}@bucket/x.csv and gcs://k:s@b/y"
    assert redact(text) == "at s3://***@bucket/x.csv and gcs://***@b/y"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_example(tmp_path / "orders")


def test_a_failure_names_the_project_folder_not_its_path(project: Path) -> None:
    app = create_app(project, api_key="", preload=False)
    with TestClient(app) as client:
        (project / "data" / "01_raw" / "prices.csv").unlink()
        answer = client.post("/run", json={}).json()
    assert answer["status"] == "failure"
    message = answer["error"]["message"]
    assert "<project>/data/01_raw/prices.csv" in message
    assert str(project) not in message


def test_allowed_hosts_refuse_other_host_headers(project: Path) -> None:
    app = create_app(project, api_key="", allowed_hosts=["api.example.com"])
    with TestClient(app) as client:
        assert client.get("/health").status_code == 400  # Host: testserver
        response = client.get("/health", headers={"host": "api.example.com"})
        assert response.json()["status"] == "healthy"
        evil = client.post("/run", json={}, headers={"host": "rebound.evil.test"})
        assert evil.status_code == 400


def test_allowed_hosts_are_a_setting(project: Path) -> None:
    environ = {ALLOWED_HOSTS_ENV: "api.example.com, *.internal"}
    settings = ServerSettings.resolve(project, environ=environ)
    assert settings.allowed_hosts == ("api.example.com", "*.internal")
    assert ServerSettings.resolve(project, environ={}).allowed_hosts is None
    with pytest.raises(ServerSettingsError, match=ALLOWED_HOSTS_ENV):
        ServerSettings.resolve(project, environ={}, allowed_hosts=[" "])


@pytest.fixture
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The command sets its workers' variables: restore them afterwards."""
    for name in ENV_VARIABLES:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    yield


@pytest.mark.usefixtures("clean_environ")
def test_the_command_passes_allowed_hosts_to_its_workers(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: seen.update(os.environ))
    metadata = SimpleNamespace(project_path=project)
    arguments = ["server", "start", "--allowed-hosts", "a.example.com,b.example.com"]
    result = CliRunner().invoke(commands, arguments, obj=metadata)
    assert result.exit_code == 0, result.output
    assert seen[ALLOWED_HOSTS_ENV] == "a.example.com,b.example.com"


@pytest.mark.parametrize(
    "runner", ["ParallelRunner", "kedro.runner.ParallelRunner"], ids=["name", "path"]
)
def test_parallel_runner_is_refused_with_422(project: Path, runner: str) -> None:
    app = create_app(project, api_key="")
    with TestClient(app) as client:
        response = client.post("/run", json={"runner": runner})
        assert response.status_code == 422, response.text
        (error,) = response.json()["detail"]
        assert error["loc"] == ["body", "runner"]
        assert "ALLOW_PARALLEL_RUNNER" in error["msg"]
        for allowed in ("SequentialRunner", "ThreadRunner"):
            answer = client.post("/run", json={"runner": allowed}).json()
            assert answer["status"] == "success", answer
