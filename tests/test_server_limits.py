"""Request limits: tables sent in ``runtime_data`` are bounded before pandas
builds them, and every limit is a setting with a default (issue 18)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _example import ORDER_RECORDS, copy_example
from fastapi.testclient import TestClient

from kedro_runtime.server import create_app
from kedro_runtime.server.codec import DecodeError, decode_value
from kedro_runtime.server.settings import (
    MAX_JSON_DEPTH_ENV,
    MAX_TABLE_CELLS_ENV,
    MAX_TABLE_COLUMNS_ENV,
    RequestLimits,
    ServerSettings,
    ServerSettingsError,
)


def _sparse(rows: int) -> list[dict[str, Any]]:
    """Records that each carry a column of their own: a rows x rows table."""
    return [{f"column_{i}": i} for i in range(rows)]


def test_records_with_too_many_distinct_columns_are_refused() -> None:
    with pytest.raises(DecodeError) as info:
        decode_value("orders", "pandas", _sparse(1_001))
    message = str(info.value)
    assert "1000 distinct columns" in message
    assert MAX_TABLE_COLUMNS_ENV in message
    assert "column_" not in message, "the refusal must not echo the request"
    assert decode_value("orders", "pandas", _sparse(1_000)).shape == (1_000, 1_000)


@pytest.mark.parametrize(
    "value",
    [
        [{"a": 1, "b": 2, "c": 3}] * 4,
        {"a": [1] * 4, "b": [2] * 4, "c": [3] * 4},
    ],
    ids=["records", "columns"],
)
def test_a_table_with_too_many_cells_is_refused(value: Any) -> None:
    limits = RequestLimits(max_table_cells=11)
    with pytest.raises(DecodeError) as info:
        decode_value("orders", "pandas", value, limits)
    assert "4 rows x 3 columns = 12 cells" in str(info.value)
    assert MAX_TABLE_CELLS_ENV in str(info.value)
    roomy = RequestLimits(max_table_cells=12)
    assert decode_value("orders", "pandas", value, roomy).shape == (4, 3)


def test_the_columns_form_is_bounded_too() -> None:
    value = {f"c{i}": [] for i in range(1_001)}
    with pytest.raises(DecodeError, match=MAX_TABLE_COLUMNS_ENV):
        decode_value("orders", "pandas", value)


def test_the_server_refuses_a_sparse_table_with_422_naming_the_limit(
    tmp_path: Path,
) -> None:
    """Issue 18: 159 KB of such records took 1.7 GB and 12.5 s."""
    app = create_app(copy_example(tmp_path / "orders"), api_key="")
    with TestClient(app) as client:
        response = client.post(
            "/run", json={"runtime_data": {"orders": _sparse(1_500)}}
        )
        assert response.status_code == 422, response.text[:500]
        (error,) = response.json()["detail"]
        assert error["loc"] == ["body", "runtime_data", "orders"]
        assert MAX_TABLE_COLUMNS_ENV in error["msg"]
        assert len(response.content) < 1_000
        assert client.get("/health").json()["status"] == "healthy"


def test_the_table_limits_are_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cells = len(ORDER_RECORDS) * len(ORDER_RECORDS[0])
    monkeypatch.setenv(MAX_TABLE_CELLS_ENV, str(cells - 1))
    app = create_app(copy_example(tmp_path / "orders"), api_key="")
    body = {"runtime_data": {"orders": ORDER_RECORDS}, "outputs": ["headline"]}
    with TestClient(app) as client:
        refused = client.post("/run", json=body)
        assert refused.status_code == 422
        assert f"limit of {cells - 1} ({MAX_TABLE_CELLS_ENV})" in refused.text
    monkeypatch.setenv(MAX_TABLE_CELLS_ENV, str(cells))
    app = create_app(copy_example(tmp_path / "orders2"), api_key="")
    with TestClient(app) as client:
        assert client.post("/run", json=body).json()["status"] == "success"


def test_limits_have_defaults_and_come_from_the_environment(tmp_path: Path) -> None:
    assert ServerSettings.resolve(tmp_path, environ={}).limits == RequestLimits(
        max_json_depth=64, max_table_cells=2_000_000, max_table_columns=1_000
    )
    environ = {MAX_JSON_DEPTH_ENV: "10", MAX_TABLE_CELLS_ENV: " 5 "}
    assert ServerSettings.resolve(tmp_path, environ=environ).limits == RequestLimits(
        max_json_depth=10, max_table_cells=5
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        (MAX_JSON_DEPTH_ENV, "0"),
        (MAX_JSON_DEPTH_ENV, "501"),
        (MAX_TABLE_CELLS_ENV, "-1"),
        (MAX_TABLE_COLUMNS_ENV, "many"),
    ],
)
def test_an_unusable_limit_is_refused_at_start(
    tmp_path: Path, variable: str, value: str
) -> None:
    with pytest.raises(ServerSettingsError, match=variable):
        ServerSettings.resolve(tmp_path, environ={variable: value})
