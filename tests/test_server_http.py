"""The real server: `kedro server start` in a copy of examples/orders, over HTTP.

Each server is a `kedro` process listening on a free loopback port, reached
with httpx. Every request loop here is bounded in count and time.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from _example import copy_example

KEDRO = Path(sys.executable).with_name("kedro")
API_KEY = "http-test-key"
AUTH = {"X-API-Key": API_KEY}
START_TIMEOUT = 90.0
REQUEST_TIMEOUT = 60.0

SERVICE_CATALOG = """\
# Outputs stay in memory when the project runs as a service.
summary:
  type: MemoryDataset
"""

QUIET_LOGGING = """\
version: 1
disable_existing_loggers: false
formatters:
  plain:
    format: "%(asctime)s %(levelname)s %(name)s: %(message)s"
handlers:
  console:
    class: logging.StreamHandler
    formatter: plain
loggers:
  kedro:
    level: WARNING
  kedro_runtime:
    level: WARNING
  uvicorn.access:
    level: WARNING
root:
  level: INFO
  handlers: [console]
"""

PRICES = {"widget": 12.5, "gadget": 40.0, "gizmo": 7.25}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RunningServer:
    """A `kedro server start` process and the loopback URL it serves."""

    def __init__(self, project: Path, *options: str, api_key: str | None) -> None:
        self.project = project
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = project / f"server-{self.port}.log"
        env = {
            **os.environ,
            "KEDRO_DISABLE_TELEMETRY": "true",
            "KEDRO_LOGGING_CONFIG": str(project / "conf" / "logging.yml"),
        }
        env.pop("KEDRO_RUNTIME_API_KEY", None)
        env.pop("KEDRO_RUNTIME_SERVER_API_KEY", None)
        if api_key:
            env["KEDRO_RUNTIME_SERVER_API_KEY"] = api_key
        command = [str(KEDRO), "server", "start", "--port", str(self.port), *options]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=project,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self) -> None:
        """Until `/health` answers `healthy`, or fail with the server's log."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the server exited early:\n{self.output()}")
            try:
                health = httpx.get(f"{self.url}/health", timeout=2)
                if health.status_code == 200 and health.json()["status"] == "healthy":
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        pytest.fail(f"the server did not start in {START_TIMEOUT} s:\n{self.output()}")

    def workers(self) -> set[int]:
        """The pids of the uvicorn worker processes (children of the server)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = {int(pid) for pid in children.read_text().split()}
        found = set()
        for pid in pids:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except FileNotFoundError:
                continue
            if b"spawn_main" in cmdline:
                found.add(pid)
        return found

    def output(self) -> str:
        """The last lines the server printed."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])

    def stop(self) -> None:
        """Stop the server and its workers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of examples/orders with a `service` environment and quiet logging."""
    path = copy_example(tmp_path_factory.mktemp("http") / "orders")
    (path / "conf" / "service").mkdir()
    (path / "conf" / "service" / "catalog.yml").write_text(SERVICE_CATALOG)
    (path / "conf" / "logging.yml").write_text(QUIET_LOGGING)
    return path


@pytest.fixture(scope="module")
def server(project: Path) -> Iterator[RunningServer]:
    """One worker, `service` environment, an API key and a 64 KiB size limit."""
    running = RunningServer(
        project,
        "--env",
        "service",
        "--max-request-bytes",
        "65536",
        api_key=API_KEY,
    )
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


def _orders(key: int, rows: int) -> list[dict[str, Any]]:
    products = list(PRICES)
    return [
        {
            "order_id": key * 10 + row,
            "region": f"region-{key}-{row % 2}",
            "product": products[(key + row) % 3],
            "quantity": 1 + (key * 7 + row * 3) % 13,
        }
        for row in range(rows)
    ]


def _expected_discounted(
    orders: list[dict[str, Any]], factor: float, rate: float
) -> list[dict[str, Any]]:
    """As the pipeline computes it, rounding as pandas does (half to even)."""
    expected = []
    for order in orders:
        price = PRICES[order["product"]]
        revenue = float(np.round(order["quantity"] * price * (1 + 0.2) * factor, 2))
        if revenue >= 100:
            revenue = float(np.round(revenue * (1 - rate), 2))
        expected.append({**order, "unit_price": price, "revenue": revenue})
    return expected


def _expected_headline(orders: list[dict[str, Any]], factor: float, rate: float) -> str:
    frame = pd.DataFrame(_expected_discounted(orders, factor, rate))
    totals = frame.groupby("region", as_index=False)["revenue"].sum()
    totals["revenue"] = totals["revenue"].round(2)
    top = totals.sort_values(["revenue", "region"], ascending=[False, True]).iloc[0]
    return f"Top region {top['region']}: {top['revenue']:.2f} EUR (factor {factor})"


# --- data in, outputs back ---------------------------------------------------------


def test_data_in_outputs_back(server: RunningServer) -> None:
    orders = _orders(1, 4)
    body = {
        "runtime_data": {"orders": orders},
        "params": {"factor": 1.5, "discount": {"rate": 0.25}},
    }
    response = httpx.post(
        f"{server.url}/run",
        headers=AUTH,
        json={**body, "outputs": ["headline"]},
        timeout=REQUEST_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "success"
    assert answer["run_id"]
    assert answer["duration_ms"] > 0
    assert answer["outputs"] == {"headline": _expected_headline(orders, 1.5, 0.25)}
    summary = httpx.post(
        f"{server.url}/run",
        headers=AUTH,
        json={**body, "to_outputs": ["summary"], "outputs": ["summary"]},
        timeout=REQUEST_TIMEOUT,
    ).json()["outputs"]["summary"]
    assert {row["region"] for row in summary} == {o["region"] for o in orders}


def test_columns_in_table_out(server: RunningServer) -> None:
    orders = _orders(2, 3)
    columns = {key: [order[key] for order in orders] for key in orders[0]}
    response = httpx.post(
        f"{server.url}/run",
        headers={"Authorization": f"Bearer {API_KEY}"},
        json={
            "runtime_data": {"orders": columns},
            "to_outputs": ["discounted"],
            "outputs": ["discounted"],
        },
        timeout=REQUEST_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    assert response.json()["outputs"]["discounted"] == _expected_discounted(
        orders, 1.0, 0.1
    )


def test_a_kedro_client_request_still_works(server: RunningServer) -> None:
    """The body a client of Kedro's server sends: no data, no outputs."""
    response = httpx.post(
        f"{server.url}/run",
        headers=AUTH,
        json={"pipeline_names": ["__default__"], "params": {"top_n": 2}},
        timeout=REQUEST_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success"
    assert body["outputs"] == {}


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"runtime_data": {"orders": "not a table"}}, 422, "records"),
        ({"runtime_data": {"ordres": []}}, 422, "Closest matches: ['orders']"),
        ({"outputs": ["headlines"]}, 422, "not datasets of the served pipelines"),
        ({"params": {"factor": "${oc.env:HOME}"}}, 422, "interpolation"),
        ({"tags": "pricing"}, 422, "list"),
    ],
)
def test_refused_requests(
    server: RunningServer, body: dict[str, Any], status: int, fragment: str
) -> None:
    response = httpx.post(
        f"{server.url}/run", headers=AUTH, json=body, timeout=REQUEST_TIMEOUT
    )
    assert response.status_code == status, response.text
    assert fragment in response.text


def test_a_run_that_fails_reports_the_error(server: RunningServer) -> None:
    response = httpx.post(
        f"{server.url}/run",
        headers=AUTH,
        json={"runtime_data": {"orders": [{"order_id": 1}]}, "outputs": ["headline"]},
        timeout=REQUEST_TIMEOUT,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "failure"
    assert body["error"]["type"] == "KeyError"
    follow_up = httpx.post(
        f"{server.url}/run",
        headers=AUTH,
        json={"runtime_data": {"orders": _orders(3, 2)}, "outputs": ["headline"]},
        timeout=REQUEST_TIMEOUT,
    )
    assert follow_up.json()["status"] == "success"


def test_runners_outside_the_allowlist_are_not_loaded(server: RunningServer) -> None:
    response = httpx.post(
        f"{server.url}/run",
        headers=AUTH,
        json={"runner": "subprocess.Popen"},
        timeout=REQUEST_TIMEOUT,
    )
    body = response.json()
    assert body["status"] == "failure"
    assert "Runner module 'subprocess' is not allowed" in body["error"]["message"]


# --- auth, size limit ------------------------------------------------------------------------


def test_the_api_key_is_required_except_for_health(server: RunningServer) -> None:
    assert httpx.get(f"{server.url}/health").status_code == 200
    for method, path in [("POST", "/run"), ("GET", "/snapshot"), ("GET", "/docs")]:
        refused = httpx.request(method, f"{server.url}{path}", json={})
        assert refused.status_code == 401, path
    wrong = httpx.post(f"{server.url}/run", headers={"X-API-Key": "nope"}, json={})
    assert wrong.status_code == 401
    snapshot = httpx.get(
        f"{server.url}/snapshot", headers=AUTH, timeout=REQUEST_TIMEOUT
    )
    assert snapshot.json()["status"] == "success"


def test_bodies_over_the_limit_are_refused(server: RunningServer) -> None:
    rows = _orders(4, 1200)  # about 100 KB of JSON, over the 64 KiB limit
    response = httpx.post(
        f"{server.url}/run",
        headers=AUTH,
        json={"runtime_data": {"orders": rows}},
        timeout=REQUEST_TIMEOUT,
    )
    assert response.status_code == 413
    assert "65536 bytes" in response.json()["detail"]
    fits = httpx.post(
        f"{server.url}/run",
        headers=AUTH,
        json={"runtime_data": {"orders": rows[:300]}, "outputs": ["headline"]},
        timeout=REQUEST_TIMEOUT,
    )
    assert fits.status_code == 200
    assert fits.json()["outputs"]["headline"] == _expected_headline(
        rows[:300], 1.0, 0.1
    )


# --- concurrency ----------------------------------------------------------------------------

CLIENTS = 16
REQUESTS_PER_CLIENT = 50


def _request(key: int) -> tuple[dict[str, Any], str, Any]:
    """Request number `key`: its own data and parameters, and its expected output."""
    orders = _orders(key, 1 + key % 4)
    factor = 1 + key / 1000
    rate = round((key % 9) / 20, 2)
    body: dict[str, Any] = {
        "runtime_data": {"orders": orders},
        "params": {"factor": factor, "discount.rate": rate},
    }
    if key % 2:
        body.update(to_outputs=["discounted"], outputs=["discounted"])
        return body, "discounted", _expected_discounted(orders, factor, rate)
    body["outputs"] = ["headline"]
    return body, "headline", _expected_headline(orders, factor, rate)


def test_concurrent_clients_each_get_their_own_answer(server: RunningServer) -> None:
    """16 clients x 50 requests, all different: every response is its own."""
    wrong: list[str] = []
    run_ids: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + 240

    def client(index: int) -> None:
        with httpx.Client(
            base_url=server.url, headers=AUTH, timeout=REQUEST_TIMEOUT
        ) as http:
            for number in range(REQUESTS_PER_CLIENT):
                if time.monotonic() > deadline:
                    with lock:
                        wrong.append(f"client {index}: out of time at {number}")
                    return
                key = index * REQUESTS_PER_CLIENT + number
                body, output, expected = _request(key)
                response = http.post("/run", json=body)
                answer = response.json()
                with lock:
                    if response.status_code != 200 or answer.get("status") != "success":
                        wrong.append(f"request {key}: {response.status_code} {answer}")
                    elif answer["outputs"] != {output: expected}:
                        wrong.append(f"request {key}: got {answer['outputs']}")
                    else:
                        run_ids.append(answer["run_id"])

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == [], f"{len(wrong)} wrong answers, first: {wrong[:3]}"
    assert len(run_ids) == CLIENTS * REQUESTS_PER_CLIENT
    assert len(set(run_ids)) == len(run_ids)


# --- workers -----------------------------------------------------------------------------------


def test_a_killed_worker_is_replaced_and_the_server_recovers(project: Path) -> None:
    running = RunningServer(project, "--workers", "2", api_key=None)
    try:
        running.wait_ready()
        deadline = time.monotonic() + START_TIMEOUT
        while len(running.workers()) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        first = running.workers()
        assert len(first) == 2, running.output()
        victim, survivor = sorted(first)
        os.kill(victim, signal.SIGKILL)
        orders = _orders(5, 2)
        body = {"runtime_data": {"orders": orders}, "outputs": ["headline"]}
        expected = {"headline": _expected_headline(orders, 1.0, 0.1)}
        # The other worker answers while the dead one is replaced.
        for _ in range(5):
            answer = httpx.post(
                f"{running.url}/run", json=body, timeout=REQUEST_TIMEOUT
            )
            assert answer.json()["outputs"] == expected
        while time.monotonic() < deadline:
            replacements = running.workers() - first
            if replacements:
                break
            time.sleep(0.2)
        assert replacements, f"no replacement worker:\n{running.output()}"
        # Kill the other original: only the replacement (warming or warm) is left.
        os.kill(survivor, signal.SIGKILL)
        for _ in range(5):
            answer = httpx.post(
                f"{running.url}/run", json=body, timeout=REQUEST_TIMEOUT
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["outputs"] == expected
        assert victim not in running.workers()
        assert survivor not in running.workers()
        assert running.process.poll() is None
    finally:
        running.stop()


# --- slow clients ----------------------------------------------------------------------------


def test_a_client_that_sends_its_request_slowly_is_disconnected(project: Path) -> None:
    """One body byte every 0.2 s never completes a request: the server hangs up.

    The body, not the headers: the headers arrive before the app runs, and only
    uvicorn's internals could time them (a reverse proxy bounds them instead;
    see docs/serving.md).
    """
    running = RunningServer(project, "--request-timeout", "1", api_key=None)
    try:
        running.wait_ready()
        body = b"x" * 100
        head = (
            b"POST /run HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        request = head + body
        closed_after = None
        answer = b""
        with socket.create_connection(("127.0.0.1", running.port), timeout=5) as sock:
            sock.sendall(head)
            for sent, byte in enumerate(body, start=len(head) + 1):
                try:
                    sock.sendall(bytes([byte]))
                    readable, _, _ = select.select([sock], [], [], 0.2)
                    received = sock.recv(4096) if readable else None
                except OSError:  # the server closed the connection
                    closed_after = sent
                    break
                answer += received or b""
                if received == b"":
                    closed_after = sent
                    break
        assert closed_after is not None, "the slow connection was never closed"
        assert closed_after < len(request)
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        # Prompt clients are served as before.
        health = httpx.get(f"{running.url}/health", timeout=REQUEST_TIMEOUT)
        assert health.json()["status"] == "healthy"
    finally:
        running.stop()


VERSIONED_CATALOG = """\
# Every request keeps its headline on disk, under its run id.
summary:
  type: MemoryDataset
headline:
  type: text.TextDataset
  filepath: data/08_reporting/headline.txt
  versioned: true
"""


def test_two_workers_under_eight_clients_never_share_a_run_id(
    tmp_path: Path,
) -> None:
    """`--workers 2`, 8 clients x 25 requests: no duplicate id, no failed save."""
    path = copy_example(tmp_path / "orders")
    (path / "conf" / "versioned").mkdir()
    (path / "conf" / "versioned" / "catalog.yml").write_text(VERSIONED_CATALOG)
    (path / "conf" / "logging.yml").write_text(QUIET_LOGGING)
    running = RunningServer(path, "--workers", "2", "--env", "versioned", api_key=None)
    failures: list[str] = []
    run_ids: list[str] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        with httpx.Client(base_url=running.url, timeout=REQUEST_TIMEOUT) as http:
            for number in range(25):
                body = {"params": {"factor": 1 + index + number / 100}}
                response = http.post("/run", json=body)
                answer = response.json()
                with lock:
                    if response.status_code == 200 and answer["status"] == "success":
                        run_ids.append(answer["run_id"])
                    else:
                        failures.append(f"{response.status_code} {answer}")

    try:
        running.wait_ready()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        running.stop()
    assert failures == [], f"{len(failures)} failed, first: {failures[:3]}"
    assert len(run_ids) == 200
    assert len(set(run_ids)) == 200
    versions = path / "data" / "08_reporting" / "headline.txt"
    assert {p.name for p in versions.iterdir()} == set(run_ids)
