"""What the server sends back: outputs of every kind, failed runs, OpenAPI.

In-process, through FastAPI's TestClient, on a variant of examples/orders under
its own package name, with the ``extras`` test pipeline and a ``checks``
pipeline whose nodes return values of many kinds. In its own module because
Kedro's pipeline registry is process-global: one project per server process.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _example import ORDER_RECORDS as ORDERS
from _server import post_run
from fastapi.testclient import TestClient

from kedro_runtime.server import create_app

CHECKS_NODES = '''
"""Nodes whose outputs test the JSON encoding of the server."""

import datetime

import numpy as np
import pandas as pd


class Opaque:
    """Has no JSON form."""


def opaque(orders: pd.DataFrame) -> Opaque:
    return Opaque()


def stats(orders: pd.DataFrame) -> dict:
    return {
        "rows": np.int64(len(orders)),
        "mean_quantity": np.float64(orders["quantity"].mean()),
        "day": datetime.date(2026, 1, 2),
        "tags": ("a", "b"),
    }


def echo(payload: object) -> object:
    return payload


def gappy(orders: pd.DataFrame) -> pd.DataFrame:
    frame = orders[["order_id", "quantity"]].astype(float)
    frame.loc[0, "quantity"] = float("nan")
    return frame


def not_a_number(orders: pd.DataFrame) -> float:
    return float("nan")
'''

DECODE_AS_TABLE = """
clean_orders:
  type: MemoryDataset
  metadata:
    kedro_runtime:
      decode: pandas
"""

CHECKS_PIPELINE = """
from kedro.pipeline import Pipeline, node

from .nodes import echo, gappy, not_a_number, opaque, stats


def create_pipeline(**kwargs):
    return Pipeline(
        [
            node(opaque, "orders", "opaque_output", name="opaque"),
            node(stats, "orders", "order_stats", name="stats"),
            node(echo, "payload", "echoed", name="echo"),
            node(gappy, "orders", "gappy_table", name="gappy"),
            node(not_a_number, "orders", "nan_value", name="nan"),
        ]
    )
"""


def _checks_project(root: Path) -> Path:
    """A variant of the example under its own package, with a `checks` pipeline."""
    from conftest import ProjectFactory  # noqa: PLC0415

    factory = ProjectFactory(root)
    path = factory(extras=True)
    checks = path / "src" / path.name / "pipelines" / "checks"
    checks.mkdir()
    (checks / "__init__.py").write_text("from .pipeline import create_pipeline\n")
    (checks / "nodes.py").write_text(CHECKS_NODES)
    (checks / "pipeline.py").write_text(CHECKS_PIPELINE)
    with (path / "conf" / "base" / "catalog.yml").open("a") as catalog:
        catalog.write(DECODE_AS_TABLE)
    return path


@pytest.fixture(scope="module")
def checks_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app on a variant with the extras and checks pipelines."""
    path = _checks_project(tmp_path_factory.mktemp("checks"))
    app = create_app(path, pipelines=["checks", "extras", "orders"], api_key="")
    with TestClient(app) as test_client:
        yield test_client


# --- encoding, failures (a project with odd outputs) -------------------------------------


def test_json_values_go_in_and_come_back_unchanged(checks_client: TestClient) -> None:
    payload = {"a": [1, 2.5, None, True], "b": {"c": "d"}}
    status, body = post_run(
        checks_client,
        {
            "pipeline_names": ["checks"],
            "node_names": ["echo"],
            "runtime_data": {"payload": payload},
            "outputs": ["echoed"],
        },
    )
    assert status == 200, body
    assert body["outputs"] == {"echoed": payload}


def test_catalog_metadata_makes_an_in_memory_dataset_a_table(
    checks_client: TestClient,
) -> None:
    status, body = post_run(
        checks_client,
        {
            "pipeline_names": ["extras"],
            "node_names": ["split", "count"],
            "runtime_data": {"clean_orders": ORDERS},
            "outputs": ["order_counts"],
        },
    )
    assert status == 200, body
    assert body["outputs"] == {"order_counts": {"small": 2, "large": 1}}


def test_numpy_dates_and_tuples_are_encoded(checks_client: TestClient) -> None:
    status, body = post_run(
        checks_client,
        {
            "pipeline_names": ["checks"],
            "node_names": ["stats"],
            "runtime_data": {"orders": ORDERS},
            "outputs": ["order_stats"],
        },
    )
    assert status == 200, body
    assert body["outputs"]["order_stats"] == {
        "rows": 3,
        "mean_quantity": 5.0,
        "day": "2026-01-02",
        "tags": ["a", "b"],
    }


def test_nan_in_a_table_becomes_null(checks_client: TestClient) -> None:
    status, body = post_run(
        checks_client,
        {
            "pipeline_names": ["checks"],
            "node_names": ["gappy"],
            "runtime_data": {"orders": ORDERS},
            "outputs": ["gappy_table"],
        },
    )
    assert status == 200, body
    assert body["outputs"]["gappy_table"] == [
        {"order_id": 1.0, "quantity": None},
        {"order_id": 2.0, "quantity": 1.0},
        {"order_id": 3.0, "quantity": 4.0},
    ]


@pytest.mark.parametrize(
    ("node", "output", "fragment"),
    [
        ("opaque", "opaque_output", "Opaque, which has no JSON form"),
        ("nan", "nan_value", "NaN and infinite numbers have no JSON form"),
    ],
)
def test_an_output_with_no_json_form_is_refused(
    checks_client: TestClient, node: str, output: str, fragment: str
) -> None:
    status, body = post_run(
        checks_client,
        {
            "pipeline_names": ["checks"],
            "node_names": [node],
            "runtime_data": {"orders": ORDERS},
            "outputs": [output],
        },
    )
    assert status == 422
    problem = body["detail"][0]
    assert problem["loc"] == ["body", "outputs", output]
    assert f"Output '{output}'" in problem["msg"]
    assert fragment in problem["msg"]


def test_a_failing_node_fails_the_run_and_the_next_run_works(
    checks_client: TestClient,
) -> None:
    request = {
        "pipeline_names": ["orders", "extras"],
        "runtime_data": {"orders": ORDERS},
        "outputs": ["order_counts", "checked"],
    }
    status, body = post_run(checks_client, {**request, "params": {"fail": True}})
    assert status == 200
    assert body["status"] == "failure"
    assert body["error"] == {
        "type": "RuntimeError",
        "message": "checkpoint failed on purpose",
    }
    status, body = post_run(checks_client, request)
    assert status == 200, body
    assert body["outputs"] == {"order_counts": {"small": 2, "large": 1}, "checked": 2}


def test_only_the_served_pipelines_run(checks_client: TestClient) -> None:
    status, body = post_run(checks_client, {"pipeline_names": ["__default__"]})
    assert status == 200
    assert body["status"] == "failure"
    assert "['checks', 'extras', 'orders']" in body["error"]["message"]


def test_openapi_names_each_pipelines_inputs_and_outputs(
    checks_client: TestClient,
) -> None:
    schema = checks_client.get("/openapi.json").json()
    pipelines = schema["x-kedro-pipelines"]
    assert sorted(pipelines) == ["checks", "extras", "orders"]
    assert pipelines["checks"]["inputs"] == ["orders", "payload"]
    assert pipelines["checks"]["outputs"] == [
        "echoed",
        "gappy_table",
        "nan_value",
        "opaque_output",
        "order_stats",
    ]
    assert pipelines["extras"]["inputs"] == ["clean_orders", "summary"]
    assert pipelines["extras"]["parameters"] == ["fail"]
    description = schema["paths"]["/run"]["post"]["description"]
    assert "| `checks` | `orders`, `payload` |" in description
    runtime_data = schema["components"]["schemas"]["RunBody"]["properties"][
        "runtime_data"
    ]
    documented = runtime_data["anyOf"][0]["properties"]
    assert documented["orders"]["description"].startswith("A table")
    assert documented["payload"] == {"description": "Any JSON value."}
    assert documented["clean_orders"]["description"].startswith("A table")
