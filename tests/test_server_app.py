"""The server app in-process, through FastAPI's TestClient, on copies of examples/orders.

These pin the details of ``kedro_runtime.server.create_app``: request fields
(Kedro's and the new ones), decoding and encoding, status codes, the runner
allowlist, untrusted parameters, the API key, the size limit, the OpenAPI
schema and ``/snapshot``. ``test_server_http.py`` runs the real server process.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _example import EXAMPLE_PROJECT, copy_example
from _example import ORDER_RECORDS as ORDERS
from _server import post_run
from fastapi import FastAPI
from fastapi.testclient import TestClient
from kedro.server.models import RunRequest as KedroRunRequest

from kedro_runtime.server import create_app, served_project


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app on a copy of examples/orders, started (session warm)."""
    app = create_app(
        copy_example(tmp_path_factory.mktemp("server") / "orders"), api_key=""
    )
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app with an API key and a 4 KiB request size limit."""
    app = create_app(
        copy_example(tmp_path_factory.mktemp("guarded") / "orders"),
        pipelines=["__default__"],
        api_key="s3cret-key",
        max_request_bytes=4096,
    )
    with TestClient(app) as test_client:
        yield test_client


def _discounted(orders: pd.DataFrame, factor: float) -> list[dict[str, Any]]:
    """What the pipeline's `discounted` should be, computed with pandas directly."""
    prices = pd.read_csv(EXAMPLE_PROJECT / "data" / "01_raw" / "prices.csv")
    frame = orders.dropna(subset=["product", "quantity"]).merge(prices, on="product")
    frame["revenue"] = (frame["quantity"] * frame["unit_price"] * 1.2 * factor).round(2)
    large = frame["revenue"] >= 100
    frame.loc[large, "revenue"] = (frame.loc[large, "revenue"] * 0.9).round(2)
    return frame.to_dict(orient="records")


# --- health, Kedro's request fields ------------------------------------------------


def test_health_reports_versions(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["kedro_version"].startswith("1.")
    assert body["kedro_runtime_version"]


def test_every_field_of_kedros_run_request_is_accepted(client: TestClient) -> None:
    """A body using every field Kedro's server takes runs here too."""
    values: dict[str, Any] = {
        "from_inputs": ["orders"],
        "to_outputs": ["headline"],
        "from_nodes": ["clean_orders"],
        "to_nodes": ["headline"],
        "node_names": [
            "clean_orders",
            "price",
            "revenue",
            "discount",
            "summarise",
            "headline",
        ],
        "runner": "SequentialRunner",
        "is_async": False,
        "tags": None,
        "load_versions": {},
        "pipeline_names": ["__default__"],
        "namespaces": None,
        "params": {"factor": 2},
        "only_missing_outputs": False,
    }
    assert set(values) == set(KedroRunRequest.model_fields)
    status, body = post_run(client, values)
    assert status == 200, body
    assert body["status"] == "success"
    assert set(body) == {"status", "run_id", "duration_ms", "outputs"}
    assert body["outputs"] == {}


def test_unknown_fields_are_refused_as_by_kedro(client: TestClient) -> None:
    status, body = post_run(client, {"env": "prod"})
    assert status == 422
    assert body["detail"][0]["loc"] == ["body", "env"]


# --- data in, outputs back -----------------------------------------------------------


def test_records_in_headline_out(client: TestClient) -> None:
    status, body = post_run(
        client,
        {
            "runtime_data": {"orders": ORDERS},
            "params": {"factor": 2},
            "outputs": ["headline"],
        },
    )
    assert status == 200, body
    # north: 10 widgets (12.5 * 1.2 * 2 = 300 -> 270 after discount) + 4 gizmos
    # (7.25 * 4 * 1.2 * 2 = 69.6); south: 1 gadget (96).
    assert body["outputs"] == {"headline": "Top region north: 339.60 EUR (factor 2)"}


def test_columns_give_the_same_table_as_records(client: TestClient) -> None:
    columns = {key: [row[key] for row in ORDERS] for key in ORDERS[0]}
    answers = [
        post_run(
            client,
            {
                "runtime_data": {"orders": data},
                "to_outputs": ["discounted"],
                "outputs": ["discounted"],
            },
        )
        for data in (ORDERS, columns)
    ]
    assert [status for status, _ in answers] == [200, 200]
    records, by_columns = (body["outputs"]["discounted"] for _, body in answers)
    assert records == by_columns == _discounted(pd.DataFrame(ORDERS), 1.0)


def test_a_table_output_comes_back_as_records(client: TestClient) -> None:
    status, body = post_run(
        client,
        {
            "runtime_data": {"orders": ORDERS},
            "params": {"factor": 0.5},
            "to_outputs": ["discounted"],
            "outputs": ["discounted"],
        },
    )
    assert status == 200, body
    assert body["outputs"]["discounted"] == _discounted(pd.DataFrame(ORDERS), 0.5)


def test_without_runtime_data_the_catalog_is_read(client: TestClient) -> None:
    status, body = post_run(client, {"outputs": ["headline"]})
    assert status == 200, body
    assert body["outputs"]["headline"].startswith("Top region east: ")


def test_an_intermediate_dataset_can_be_injected(client: TestClient) -> None:
    """A produced dataset sent as data skips its node; `summary` is a pandas
    dataset in the catalog, so its records become a DataFrame."""
    summary = [{"region": "west", "revenue": 12.5}]
    status, body = post_run(
        client,
        {"runtime_data": {"summary": summary}, "outputs": ["headline"]},
    )
    assert status == 200, body
    assert body["outputs"]["headline"] == "Top region west: 12.50 EUR (factor 1.0)"


def test_runs_do_not_leak_into_each_other(client: TestClient) -> None:
    first = [{"order_id": 9, "region": "alpha", "product": "widget", "quantity": 1}]
    second = [{"order_id": 9, "region": "beta", "product": "widget", "quantity": 2}]
    _, one = post_run(
        client, {"runtime_data": {"orders": first}, "outputs": ["headline"]}
    )
    _, two = post_run(
        client, {"runtime_data": {"orders": second}, "outputs": ["headline"]}
    )
    _, plain = post_run(client, {"outputs": ["headline"]})
    assert "alpha" in one["outputs"]["headline"]
    assert "beta" in two["outputs"]["headline"]
    assert "east" in plain["outputs"]["headline"]


# --- refused requests (422) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (5, "sent a number 5"),
        ("orders.csv", "sent a string"),
        ([1, 2], "where an object (one row) was expected"),
        ({"order_id": 1}, "column 'order_id' is a number"),
        ({"order_id": [1, 2], "region": ["north"]}, "different lengths"),
    ],
)
def test_data_that_does_not_decode_is_refused(
    client: TestClient, data: object, fragment: str
) -> None:
    status, body = post_run(client, {"runtime_data": {"orders": data}})
    assert status == 422
    problem = body["detail"][0]
    assert problem["loc"] == ["body", "runtime_data", "orders"]
    assert fragment in problem["msg"]
    assert "records" in problem["msg"] or "lengths" in problem["msg"]


def test_data_for_an_unknown_dataset_is_refused_naming_the_inputs(
    client: TestClient,
) -> None:
    status, body = post_run(client, {"runtime_data": {"order": ORDERS}})
    assert status == 422
    message = body["detail"][0]["msg"]
    assert "'order'" in message
    assert "orders" in message and "prices" in message


def test_parameters_in_runtime_data_point_to_params(client: TestClient) -> None:
    status, body = post_run(client, {"runtime_data": {"params:factor": 3}})
    assert status == 422
    assert "runtime_params" in body["detail"][0]["msg"]


def test_an_output_that_is_not_a_dataset_is_refused_before_running(
    client: TestClient,
) -> None:
    status, body = post_run(client, {"outputs": ["headlines"]})
    assert status == 422
    problem = body["detail"][0]
    assert problem["loc"] == ["body", "outputs", "headlines"]
    assert "headline" in problem["msg"]


def test_an_intermediate_output_points_to_to_outputs(client: TestClient) -> None:
    status, body = post_run(client, {"outputs": ["discounted"]})
    assert status == 422
    message = body["detail"][0]["msg"]
    assert "to_outputs" in message
    assert "['headline']" in message


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"region": "north"}, "ALLOWED_CATALOG_RUNTIME_PARAMS"),
        ({"factor": "${oc.env:HOME}"}, "interpolation"),
    ],
)
def test_untrusted_parameters_are_refused(
    client: TestClient, params: dict[str, Any], fragment: str
) -> None:
    status, body = post_run(client, {"params": params})
    assert status == 422
    assert body["detail"][0]["loc"] == ["body", "params"]
    assert fragment in body["detail"][0]["msg"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"outputs": ["\\ud800"]}',
        b'{"runtime_data": {"\\ud800": 1}}',
        b'{"params": {"\\ud800": "${x}"}}',
        b'{"\\ud800": 1}',
        b'{"runner": "\\ud800"}',
        b'{"runner": "a.\\udfff"}',
    ],
)
def test_a_lone_surrogate_in_the_body_is_refused_not_a_500(
    client: TestClient, body: bytes
) -> None:
    """JSON may escape a surrogate that has no UTF-8 form; the 422 still answers."""
    response = client.post(
        "/run", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["msg"]


def test_a_runner_that_is_not_a_dotted_name_is_refused(client: TestClient) -> None:
    status, body = post_run(client, {"runner": "os.system('true')"})
    assert status == 422
    assert body["detail"][0]["loc"] == ["body", "runner"]


# --- runners ------------------------------------------------------------------------------


@pytest.mark.parametrize("runner", ["ThreadRunner", "kedro.runner.SequentialRunner"])
def test_allowed_runners_run(client: TestClient, runner: str) -> None:
    status, body = post_run(
        client,
        {"runner": runner, "runtime_data": {"orders": ORDERS}, "outputs": ["headline"]},
    )
    assert status == 200, body
    assert body["status"] == "success"
    assert body["outputs"]["headline"].startswith("Top region north")


@pytest.mark.parametrize(
    ("runner", "kedro_type", "fragment"),
    [
        ("os.system", "ValueError", "Runner module 'os' is not allowed"),
        ("kedro.io.MemoryDataset", "ValueError", "Runner module 'kedro.io' is not"),
        ("kedro.runner.AbstractRunnerish", "AttributeError", "not found"),
        ("kedro.runner.nomod.Runner", "ModuleNotFoundError", "not found"),
        ("kedro.runner.Task", "ValueError", "is not a runner"),
    ],
)
def test_other_runners_fail_the_run_as_in_kedro(
    client: TestClient, runner: str, kedro_type: str, fragment: str
) -> None:
    """``error.type`` is the type Kedro's server reports; the message is ours."""
    status, body = post_run(client, {"runner": runner})
    assert status == 200
    assert body["status"] == "failure"
    assert body["error"]["type"] == kedro_type
    assert fragment in body["error"]["message"]


def test_an_unknown_pipeline_fails_the_run(client: TestClient) -> None:
    status, body = post_run(client, {"pipeline_names": ["nope"]})
    assert status == 200
    assert body["status"] == "failure"
    assert "nope" in body["error"]["message"]


# --- OpenAPI, snapshot -----------------------------------------------------------------


def test_openapi_lists_kedros_request_fields(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    fields = set(schema["components"]["schemas"]["RunBody"]["properties"])
    assert fields == {*KedroRunRequest.model_fields, "runtime_data", "outputs"}
    assert "securitySchemes" not in schema.get("components", {})


def _statuses(schema: dict[str, Any]) -> dict[str, set[str]]:
    return {
        f"{method.upper()} {path}": set(operation["responses"])
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }


def test_openapi_documents_every_status_the_server_returns(
    client: TestClient, guarded: TestClient
) -> None:
    assert _statuses(client.get("/openapi.json").json()) == {
        "GET /health": {"200", "413", "503"},
        "POST /run": {"200", "400", "409", "413", "422", "503"},
        "GET /snapshot": {"200", "413", "422", "503"},
    }
    schema = guarded.get("/openapi.json", headers={"X-API-Key": "s3cret-key"}).json()
    assert _statuses(schema) == {
        "GET /health": {"200", "413", "503"},
        "POST /run": {"200", "400", "401", "409", "413", "422", "503"},
        "GET /snapshot": {"200", "401", "413", "422", "503"},
    }
    not_utf8 = client.post(
        "/run",
        content=b'{"params": "\xff"}',
        headers={"Content-Type": "application/json"},
    )
    too_deep = client.post(
        "/run", content=b"[" * 100_000, headers={"Content-Type": "application/json"}
    )
    for response in (not_utf8, too_deep):
        assert response.status_code == 400
        assert isinstance(response.json()["detail"], str)


@pytest.mark.parametrize(
    "runner",
    [
        "os.system",
        "kedro.runner.Nope",
        "_R1",
        "a..b",
        ".a",
        "a.",
        "1a",
        "a b",
        "a-b",
        "",
    ],
)
def test_the_runner_pattern_in_the_schema_is_what_the_server_accepts(
    client: TestClient, runner: str
) -> None:
    schema = client.get("/openapi.json").json()
    choices = schema["components"]["schemas"]["RunBody"]["properties"]["runner"]
    [pattern] = [c["pattern"] for c in choices["anyOf"] if c.get("type") == "string"]
    status, body = post_run(client, {"runner": runner})
    assert (re.fullmatch(pattern, runner) is not None) == (status == 200), body


def test_snapshot_describes_the_project(client: TestClient) -> None:
    body = client.get("/snapshot").json()
    assert body["status"] == "success"
    assert body["metadata"]["package_name"] == "orders_demo"
    assert {p["name"] for p in body["pipelines"]} == {"__default__", "orders"}
    assert "orders" in body["datasets"]
    assert "factor" in body["parameters"]


def test_snapshot_params_are_checked_as_a_runs_are(client: TestClient) -> None:
    # The example project allows no catalog runtime param to callers.
    snapshot = client.get("/snapshot", params={"params": "region=east"})
    run = client.post("/run", json={"params": {"region": "east"}})
    assert (snapshot.status_code, run.status_code) == (422, 422), snapshot.text
    assert "'region'" in snapshot.json()["detail"][0]["msg"]
    body = client.get("/snapshot", params={"params": "factor=3"}).json()
    assert body["status"] == "success"


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ("region", "Invalid 'params'"),
        ("a=${x}", "interpolation"),
        ("a={", "cannot be parsed"),
        ("a=[", "cannot be parsed"),
        ("a=${x", "cannot be parsed"),
    ],
)
def test_bad_snapshot_params_are_refused_with_422(
    client: TestClient, params: str, fragment: str
) -> None:
    response = client.get("/snapshot", params={"params": params})
    assert response.status_code == 422, response.text
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["query", "params"]
    assert fragment in problem["msg"]
    assert client.get("/snapshot").json()["status"] == "success"


def test_a_refused_param_is_422_on_run_and_snapshot(client: TestClient) -> None:
    run = client.post("/run", json={"params": {"a": "${x}"}})
    snapshot = client.get("/snapshot", params={"params": "a=${x}"})
    assert (run.status_code, snapshot.status_code) == (422, 422)
    assert run.json()["detail"][0]["type"] == snapshot.json()["detail"][0]["type"]


# --- API key, size limit -------------------------------------------------------------------


def test_health_needs_no_key(guarded: TestClient) -> None:
    assert guarded.get("/health").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/run"),
        ("get", "/snapshot"),
        ("get", "/openapi.json"),
        ("get", "/docs"),
    ],
)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-API-Key": "wrong"},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "s3cret-key"},
    ],
)
def test_every_other_endpoint_needs_the_key(
    guarded: TestClient, method: str, path: str, headers: dict[str, str]
) -> None:
    response = guarded.request(method, path, headers=headers, json={})
    assert response.status_code == 401
    assert "API key" in response.json()["detail"]
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "headers", [{"X-API-Key": "s3cret-key"}, {"Authorization": "Bearer s3cret-key"}]
)
def test_the_key_opens_every_endpoint(
    guarded: TestClient, headers: dict[str, str]
) -> None:
    run = guarded.post("/run", headers=headers, json={"outputs": ["headline"]})
    assert run.status_code == 200
    assert run.json()["status"] == "success"
    assert guarded.get("/snapshot", headers=headers).json()["status"] == "success"
    schema = guarded.get("/openapi.json", headers=headers).json()
    assert schema["components"]["securitySchemes"]["apiKey"]["name"] == "X-API-Key"
    assert schema["paths"]["/run"]["post"]["security"] == [{"apiKey": []}]
    assert "security" not in schema["paths"]["/health"]["get"]


def test_a_body_over_the_limit_gets_413(guarded: TestClient) -> None:
    headers = {"X-API-Key": "s3cret-key"}
    rows = [dict(ORDERS[0], order_id=i) for i in range(80)]  # about 5 KB of JSON
    response = guarded.post(
        "/run", headers=headers, json={"runtime_data": {"orders": rows}}
    )
    assert response.status_code == 413
    assert "4096 bytes" in response.json()["detail"]
    small = guarded.post(
        "/run", headers=headers, json={"runtime_data": {"orders": rows[:20]}}
    )
    assert small.status_code == 200


def test_a_chunked_body_over_the_limit_gets_413(guarded: TestClient) -> None:
    """Without a Content-Length the body is counted as it arrives."""

    def chunks() -> Iterator[bytes]:
        yield b'{"params": {"factor": 1}, "runtime_data": {"payload": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}}'

    response = guarded.post(
        "/run",
        headers={"X-API-Key": "s3cret-key", "Content-Type": "application/json"},
        content=chunks(),
    )
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert response.status_code == 413


def test_the_key_is_checked_before_the_size(guarded: TestClient) -> None:
    response = guarded.post("/run", content=b"x" * 10_000)
    assert response.status_code == 401


# --- lifespan -----------------------------------------------------------------------------------


def test_a_mounted_app_whose_lifespan_did_not_run_says_so(
    tmp_path: Path,
) -> None:
    kedro_app = create_app(copy_example(tmp_path / "orders"), api_key="")
    parent = FastAPI()
    parent.mount("/kedro", kedro_app)
    with TestClient(parent) as test_client:
        health = test_client.get("/kedro/health")
        run = test_client.post("/kedro/run", json={})
    assert served_project(kedro_app) is None
    assert health.status_code == 503
    assert health.json()["status"] == "unhealthy"
    assert run.status_code == 503
    assert "lifespan" in run.json()["detail"]


def test_the_session_is_closed_and_dropped_at_shutdown(tmp_path: Path) -> None:
    app = create_app(
        copy_example(tmp_path / "orders"), pipelines=["__default__"], api_key=""
    )
    with TestClient(app):
        project = served_project(app)
        assert project is not None
        assert project.session.session_id
    assert served_project(app) is None


def test_a_mounted_app_checks_the_key_under_its_own_paths(tmp_path: Path) -> None:
    kedro_app = create_app(
        copy_example(tmp_path / "orders"), pipelines=["__default__"], api_key="k"
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with kedro_app.router.lifespan_context(kedro_app):
            yield

    parent = FastAPI(lifespan=lifespan)
    parent.mount("/kedro", kedro_app)

    @parent.get("/health")
    def own_health() -> dict[str, str]:
        return {"own": "yes"}

    with TestClient(parent) as test_client:
        assert test_client.get("/kedro/health").json()["status"] == "healthy"
        assert test_client.post("/kedro/run", json={}).status_code == 401
        run = test_client.post("/kedro/run", json={}, headers={"X-API-Key": "k"})
        assert run.json()["status"] == "success"
        assert test_client.get("/health").json() == {"own": "yes"}


def test_a_pipeline_that_is_not_registered_stops_the_start(tmp_path: Path) -> None:
    app = create_app(copy_example(tmp_path / "orders"), pipelines=["nope"], api_key="")
    with pytest.raises(ValueError, match="Failed to find the pipeline named 'nope'"):
        with TestClient(app):
            pass
    assert served_project(app) is None


# --- node cache --------------------------------------------------------------------


class _Lines(logging.Handler):
    """Keeps the messages of one logger (Kedro's logging setup replaces the root's
    handlers when the session starts, so pytest's ``caplog`` misses them)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_node_cache_reuses_the_nodes_of_an_identical_request(tmp_path: Path) -> None:
    app = create_app(copy_example(tmp_path / "orders"), api_key="", node_cache=True)
    body = {
        "runtime_data": {"orders": ORDERS},
        "params": {"factor": 2},
        "outputs": ["headline"],
    }
    lines = _Lines()
    summary = logging.getLogger("kedro_runtime.node_cache")
    with TestClient(app) as test_client:
        served = served_project(app)
        assert served is not None and served.session.options.node_cache
        level = summary.level
        summary.addHandler(lines)
        summary.setLevel(logging.INFO)
        try:
            first = post_run(test_client, body)
            second = post_run(test_client, body)
        finally:
            summary.removeHandler(lines)
            summary.setLevel(level)
    assert first[0] == second[0] == 200, (first, second)
    assert first[1]["outputs"] == second[1]["outputs"]
    assert first[1]["outputs"] == {
        "headline": "Top region north: 339.60 EUR (factor 2)"
    }
    # The one summary line per run: every node ran, then none did (the
    # default server preloads the catalog's inputs; they count by their file).
    assert lines.lines[0] == "Node cache: 6 ran, 0 reused, 0 skipped"
    assert lines.lines[1].startswith("Node cache: 0 ran, ")
    assert " 0 reused" not in lines.lines[1]
    assert len(lines.lines) == 2


def test_no_node_cache_unless_asked(client: TestClient) -> None:
    served = served_project(client.app)  # type: ignore[arg-type]
    assert served is not None
    assert served.session.options.node_cache is False
    assert served.session.last_report() is None
