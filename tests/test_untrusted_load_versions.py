"""Untrusted callers may not pick versions to load unless the project allows it
(issue 18, finding 8: with ``load_versions`` a caller read another caller's result)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from kedro.framework.startup import bootstrap_project
from kedro.io.core import DatasetNotFoundError

from kedro_runtime import KedroSession, SessionOptions, UntrustedLoadVersionsError
from kedro_runtime.server import create_app

VERSIONS = {"nope": "2026-01-01T00.00.00.000Z"}


def _project(make_project: Callable[..., Path], *, allow: bool = False) -> Path:
    """A project of its own package, whose settings.py is read afresh."""
    path = make_project()
    if allow:
        settings = path / "src" / path.name / "settings.py"
        with settings.open("a") as file:
            file.write("\nALLOW_UNTRUSTED_LOAD_VERSIONS = True\n")
    sys.modules.pop(f"{path.name}.settings", None)  # read the edited file
    bootstrap_project(path)
    return path


def _run(path: Path, *, untrusted: bool) -> None:
    options = SessionOptions(untrusted_runtime_params=untrusted)
    with KedroSession.create(path, options=options) as session:
        session.run(load_versions=VERSIONS)


def test_an_untrusted_session_refuses_load_versions(
    make_project: Callable[..., Path],
) -> None:
    path = _project(make_project)
    with pytest.raises(UntrustedLoadVersionsError, match="ALLOW_UNTRUSTED_LOAD"):
        _run(path, untrusted=True)
    # A trusted session checks them as before.
    with pytest.raises(DatasetNotFoundError, match="nope"):
        _run(path, untrusted=False)


def test_a_setting_allows_them(make_project: Callable[..., Path]) -> None:
    path = _project(make_project, allow=True)
    with pytest.raises(DatasetNotFoundError, match="nope"):
        _run(path, untrusted=True)


def test_the_server_refuses_them_with_422(make_project: Callable[..., Path]) -> None:
    app = create_app(_project(make_project), api_key="")
    with TestClient(app) as client:
        body = {"load_versions": {"summary": VERSIONS["nope"]}}
        response = client.post("/run", json=body)
        assert response.status_code == 422, response.text
        (error,) = response.json()["detail"]
        assert error["loc"] == ["body", "load_versions"]
        assert client.post("/run", json={"load_versions": {}}).status_code == 200
