"""A bounded schemathesis run against the served OpenAPI document.

Two real servers (uvicorn, one process, 127.0.0.1) on copies of examples/orders:
one without an API key and one with (the generated requests then carry it, or
not). Requests are generated in both of schemathesis' modes: valid for the
document (positive) and breaking it (negative). Every one must get a response
the document describes, never a 500; afterwards each server is healthy and still
answers a run correctly. schemathesis' stateful mode follows the OpenAPI links
between operations; this API has none (each request is independent), so it
would generate nothing more.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
import uvicorn
from _example import copy_example
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from kedro_runtime.server import create_app

API_KEY = "schemathesis-key"
MAX_EXAMPLES = 60
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
SERVICE_CATALOG = "summary:\n  type: MemoryDataset\n"


class _Server:
    def __init__(self, project: Path, api_key: str) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        app = create_app(project, env="service", api_key=api_key)
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail("the server did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


@pytest.fixture(scope="module", params=["", API_KEY], ids=["no-key", "key"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[_Server, str]]:
    project = copy_example(tmp_path_factory.mktemp("schemathesis") / "orders")
    (project / "conf" / "service").mkdir()
    (project / "conf" / "service" / "catalog.yml").write_text(SERVICE_CATALOG)
    server = _Server(project, request.param)
    try:
        yield server, request.param
    finally:
        _assert_healthy_and_correct(server, request.param)
        server.stop()


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode))
def test_no_500_and_every_response_is_in_the_schema(
    served: tuple[_Server, str], mode: schemathesis.GenerationMode
) -> None:
    """Valid requests (positive mode) and requests that break the schema
    (negative mode) alike get a documented answer, never a 500."""
    server, key = served
    headers = {"X-API-Key": key} if key else {}
    api = schemathesis.openapi.from_url(f"{server.url}/openapi.json", headers=headers)
    operations = [result.ok() for result in api.get_all_operations()]
    assert {op.path for op in operations} == {"/health", "/run", "/snapshot"}
    negative = mode is schemathesis.GenerationMode.NEGATIVE
    for operation in operations:
        if negative and not (len(operation.body) or len(operation.query)):
            continue  # GET /health takes nothing that could be made invalid

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=server.url, checks=CHECKS, headers=headers)

        call()


def _assert_healthy_and_correct(server: _Server, key: str) -> None:
    headers = {"X-API-Key": key} if key else {}
    health = httpx.get(f"{server.url}/health", timeout=10)
    assert health.json()["status"] == "healthy"
    answer = httpx.post(
        f"{server.url}/run",
        json={"params": {"factor": 2}, "outputs": ["headline"]},
        headers=headers,
        timeout=60,
    ).json()
    assert answer["status"] == "success", answer
    assert answer["outputs"]["headline"].endswith("(factor 2)")
