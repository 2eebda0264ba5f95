"""The size of ``params``, ``runtime_data`` and ``outputs`` is bounded before any
work, and no refusal echoes the request (issue 18, finding 5)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _example import copy_example
from fastapi.testclient import TestClient

from kedro_runtime.server import RequestLimitError, create_app
from kedro_runtime.server.settings import (
    MAX_JSON_DEPTH_ENV,
    MAX_OUTPUTS_ENV,
    MAX_PARAMS_DEPTH_ENV,
    MAX_PARAMS_LEAVES_ENV,
    MAX_RUNTIME_DATA_ENV,
    RequestLimits,
    ServerSettingsError,
)


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv(MAX_JSON_DEPTH_ENV, "500")  # params are checked on their own
    app = create_app(copy_example(tmp_path / "orders"), api_key="")
    with TestClient(app) as test_client:
        yield test_client


def _refusal(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/run", json=body)
    assert response.status_code == 422, response.text[:500]
    assert len(response.content) < 5_000, "the refusal echoes the request"
    (error,) = response.json()["detail"]
    assert client.get("/health").json()["status"] == "healthy"
    return dict(error)


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth):
        value = {"k": value}
    return value


@pytest.mark.parametrize(
    ("body", "variable"),
    [
        ({"params": {"top_n": 2, "tiers": list(range(10_001))}}, MAX_PARAMS_LEAVES_ENV),
        ({"params": {f"k{i}": i for i in range(10_001)}}, MAX_PARAMS_LEAVES_ENV),
        ({"params": {f"k{i}": {} for i in range(10_001)}}, MAX_PARAMS_LEAVES_ENV),
        ({"params": _nested(40)}, MAX_PARAMS_DEPTH_ENV),
        ({"params": _nested(450)}, MAX_PARAMS_DEPTH_ENV),
        ({"params": {".".join(["k"] * 40): 1}}, MAX_PARAMS_DEPTH_ENV),
        ({"runtime_data": {f"d{i}": 1 for i in range(1_001)}}, MAX_RUNTIME_DATA_ENV),
        ({"outputs": [f"d{i}" for i in range(1_001)]}, MAX_OUTPUTS_ENV),
    ],
    ids=[
        "long-list",
        "many-keys",
        "empty-mappings",
        "deep",
        "very-deep",
        "dotted",
        "data",
        "outputs",
    ],
)
def test_a_request_over_a_limit_is_refused_naming_it(
    client: TestClient, body: dict[str, Any], variable: str
) -> None:
    error = _refusal(client, body)
    assert variable in error["msg"]
    assert error["type"] == "limit"
    assert error["loc"] == ["body", next(iter(body))]


def test_within_the_limits_a_request_runs(client: TestClient) -> None:
    body = {"params": {"top_n": 2, "currency": list(range(9_000))}}
    response = client.post("/run", json={**body, "outputs": ["headline"]})
    assert response.json()["status"] == "success", response.text[:500]
    assert "8999]" in response.json()["outputs"]["headline"]


def test_runtime_data_names_are_checked_before_any_value_is_decoded(
    client: TestClient,
) -> None:
    """``orders`` does not decode, but the unknown names are refused first."""
    data: dict[str, Any] = {"orders": "not a table"}
    data.update({f"nope_{i}": [1, 2, 3] for i in range(900)})
    error = _refusal(client, {"runtime_data": data})
    assert error["loc"] == ["body", "runtime_data", "nope_0"]
    assert "and 895 more" in error["msg"]


def test_unknown_outputs_are_named_a_few_at_a_time(client: TestClient) -> None:
    outputs = ["headline", *(f"unknown_{i}" for i in range(900))]
    error = _refusal(client, {"outputs": outputs})
    assert error["loc"] == ["body", "outputs", "unknown_0"]
    assert "and 895 more" in error["msg"]
    assert "unknown_899" not in error["msg"]


def test_unread_params_are_not_echoed_whole(client: TestClient) -> None:
    error = _refusal(client, {"params": {f"typo_{i}": i for i in range(9_000)}})
    assert error["loc"] == ["body", "params"]


def test_the_limits_are_settings() -> None:
    environ = {MAX_PARAMS_LEAVES_ENV: "5", MAX_OUTPUTS_ENV: "7"}
    limits = RequestLimits.from_environ(environ)
    assert (limits.max_params_leaves, limits.max_outputs) == (5, 7)
    defaults = RequestLimits()
    assert (defaults.max_params_leaves, defaults.max_params_depth) == (10_000, 32)
    assert (defaults.max_runtime_data, defaults.max_outputs) == (1_000, 1_000)
    with pytest.raises(ServerSettingsError, match=MAX_RUNTIME_DATA_ENV):
        RequestLimits.from_environ({MAX_RUNTIME_DATA_ENV: "lots"})
    assert issubclass(RequestLimitError, ValueError)
