"""Kedro's `kedro server start` against kedro-runtime's, on the same project.

Run it with ``python benchmarks/server_bench.py [--quick]`` (about two minutes;
``--quick``, about one).

The script copies ``examples/orders`` twice into a temporary folder and starts
both servers on free loopback ports, each as its own process with the same
environment and the same quiet logging:

- ``kedro``: Kedro's own ``server start`` command (the click command from
  ``kedro.framework.cli.server``, run with the project's metadata: kedro-runtime's
  plugin replaces ``kedro server start`` on the command line);
- ``kedro-runtime``: ``kedro server start`` from kedro-runtime (one worker).

Both serve the environment the script adds to each copy, ``conf/server_bench``
(the ``summary`` output in memory, as ``docs/web-servers.md`` advises for
services, so concurrent requests share no output file; a ``conf/service`` of your
own is copied as it is and not used, so every run measures the same thing) and
get the same request,
``POST /run`` with ``{"params": {"factor": f}}`` (``f`` differs per request):
the whole pipeline, reading its two CSV inputs, as Kedro's server can run it. A last row measures
kedro-runtime alone with data in and a table back (``runtime_data`` with 20
orders, ``outputs: ["discounted"]``), which Kedro's server cannot do.

For 1, 4 and 16 concurrent clients (threads, each with its own keep-alive
httpx client), the requests of a level are sent in two rounds per server,
alternating the servers (kedro, kedro-runtime, kedro-runtime, kedro), so that
machine noise hits both alike. Every level is bounded in count and time. Only
127.0.0.1 is ever contacted. Prints p50/p99 latency and throughput per server
and level, and the ratios; writes ``benchmarks/results/server_latest.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "orders"
RESULTS = ROOT / "benchmarks" / "results" / "server_latest.json"
KEDRO = Path(sys.executable).with_name("kedro")
LEVELS = (1, 4, 16)
START_TIMEOUT = 120.0
REQUEST_TIMEOUT = 60.0
ENV = "server_bench"  # the configuration environment the script writes and serves

QUIET_LOGGING = """\
version: 1
disable_existing_loggers: false
handlers:
  console:
    class: logging.StreamHandler
loggers:
  kedro:
    level: WARNING
  kedro_runtime:
    level: WARNING
root:
  level: WARNING
  handlers: [console]
"""

SERVICE_CATALOG = """\
# Serving: the summary stays in memory, one per request (no shared file).
summary:
  type: MemoryDataset
"""

KEDRO_SERVER = """\
import sys
from kedro.framework.cli.server import server_start
from kedro.framework.startup import bootstrap_project

metadata = bootstrap_project(sys.argv[1])
server_start.main(
    ["--port", sys.argv[2], "--env", sys.argv[3]], obj=metadata, standalone_mode=True
)
"""


@dataclass
class Level:
    """What one server did at one number of concurrent clients."""

    server: str
    scenario: str
    clients: int
    requests: int = 0
    failures: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    first_failure: str = ""

    @property
    def p50(self) -> float:
        """Median latency, ms."""
        return _percentile(self.latencies_ms, 50)

    @property
    def p99(self) -> float:
        """99th percentile latency, ms."""
        return _percentile(self.latencies_ms, 99)

    @property
    def throughput(self) -> float:
        """Successful requests per second."""
        ok = self.requests - self.failures
        return ok / self.seconds if self.seconds else 0.0


def _percentile(values: list[float], percent: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """A server process on a loopback port."""

    def __init__(self, name: str, project: Path, command: list[str]) -> None:
        self.name = name
        self.url = ""
        self.log = project / "server.log"
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "KEDRO_DISABLE_TELEMETRY": "true",
            "KEDRO_LOGGING_CONFIG": str(project / "conf" / "logging.yml"),
        }
        env.pop("KEDRO_RUNTIME_API_KEY", None)
        env.pop("KEDRO_RUNTIME_SERVER_API_KEY", None)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [part.replace("{port}", str(port)) for part in command],
                cwd=project,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self) -> None:
        """Until the server answers a run, or exit with its log."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        sys.exit(f"{self.name} server did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        """Stop the server."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def _copy_project(folder: Path) -> Path:
    """Copy the example to ``folder`` and add the benchmark's environment to the copy.

    The example is only read: its own environments, ``conf/service`` included,
    are copied as they are; the copy's ``conf/server_bench`` is replaced.
    """
    shutil.copytree(
        EXAMPLE,
        folder,
        ignore=shutil.ignore_patterns("__pycache__", "sessions", "*.egg-info"),
    )
    (folder / "conf" / "logging.yml").write_text(QUIET_LOGGING)
    env = folder / "conf" / ENV
    shutil.rmtree(env, ignore_errors=True)
    env.mkdir()
    (env / "catalog.yml").write_text(SERVICE_CATALOG)
    return folder


def params_request(number: int) -> dict[str, Any]:
    """What both servers can run: the whole pipeline with this request's factor."""
    return {"params": {"factor": 1 + number / 10_000}}


def data_request(number: int) -> dict[str, Any]:
    """kedro-runtime only: 20 orders in, the priced orders back."""
    products = ("widget", "gadget", "gizmo")
    orders = [
        {
            "order_id": number * 100 + row,
            "region": f"region-{row % 4}",
            "product": products[row % 3],
            "quantity": 1 + (number + row) % 9,
        }
        for row in range(20)
    ]
    return {
        "runtime_data": {"orders": orders},
        "params": {"factor": 1 + number / 10_000},
        "to_outputs": ["discounted"],
        "outputs": ["discounted"],
    }


def load(
    level: Level,
    url: str,
    make_body: Callable[[int], dict[str, Any]],
    count: int,
    time_limit: float,
) -> None:
    """Send `count` requests from `level.clients` threads; add to `level`."""
    lock = threading.Lock()
    next_number = [0]
    deadline = time.monotonic() + time_limit

    def take() -> int | None:
        with lock:
            if next_number[0] >= count or time.monotonic() > deadline:
                return None
            next_number[0] += 1
            return next_number[0]

    def client() -> None:
        with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT) as http:
            while (number := take()) is not None:
                body = make_body(number)
                started = time.perf_counter()
                try:
                    response = http.post("/run", json=body)
                    ok = response.status_code == 200 and (
                        response.json().get("status") == "success"
                    )
                    problem = "" if ok else response.text[:300]
                except httpx.HTTPError as exc:
                    ok, problem = False, repr(exc)
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    level.requests += 1
                    if ok:
                        level.latencies_ms.append(elapsed)
                    else:
                        level.failures += 1
                        level.first_failure = level.first_failure or problem

    threads = [threading.Thread(target=client) for _ in range(level.clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    level.seconds += time.perf_counter() - started


def main() -> None:
    """Start both servers, measure every level, print and save the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests")
    args = parser.parse_args()
    per_client = 10 if args.quick else 40
    level_limit = 15.0 if args.quick else 40.0
    os.environ["KEDRO_DISABLE_TELEMETRY"] = "true"

    with tempfile.TemporaryDirectory(prefix="server-bench-") as tmp:
        kedro_project = _copy_project(Path(tmp) / "kedro" / "orders")
        runtime_project = _copy_project(Path(tmp) / "runtime" / "orders")
        kedro_server = Server(
            "kedro",
            kedro_project,
            [sys.executable, "-c", KEDRO_SERVER, str(kedro_project), "{port}", ENV],
        )
        runtime_server = Server(
            "kedro-runtime",
            runtime_project,
            [str(KEDRO), "server", "start", "--port", "{port}", "--env", ENV],
        )
        try:
            kedro_server.wait_ready()
            runtime_server.wait_ready()
            results = _measure(kedro_server, runtime_server, per_client, level_limit)
        finally:
            kedro_server.stop()
            runtime_server.stop()
    _report(results, quick=args.quick)


def _measure(
    kedro_server: Server, runtime_server: Server, per_client: int, level_limit: float
) -> list[Level]:
    for server in (kedro_server, runtime_server):  # first runs build what is lazy
        load(Level(server.name, "warm-up", 1), server.url, params_request, 5, 30)
    load(Level("kedro-runtime", "warm-up", 1), runtime_server.url, data_request, 5, 30)
    results = []
    for clients in LEVELS:
        count = max(per_client * clients, 60)
        by_server = {
            name: Level(name, "params", clients) for name in ("kedro", "kedro-runtime")
        }
        rounds = [(kedro_server, runtime_server), (runtime_server, kedro_server)]
        for order in rounds:
            for server in order:
                load(
                    by_server[server.name],
                    server.url,
                    params_request,
                    count // 2,
                    level_limit / 2,
                )
        data = Level("kedro-runtime", "data in, table out", clients)
        load(data, runtime_server.url, data_request, count, level_limit)
        results += [*by_server.values(), data]
        print(f"  {clients:>2} clients done", file=sys.stderr)
    return results


def _report(results: list[Level], quick: bool) -> None:
    print()
    print(
        f"{'server':<14} {'request':<19} {'clients':>7} {'requests':>8} "
        f"{'failed':>6} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>7}"
    )
    for level in results:
        print(
            f"{level.server:<14} {level.scenario:<19} {level.clients:>7} "
            f"{level.requests:>8} {level.failures:>6} {level.p50:>8.1f} "
            f"{level.p99:>8.1f} {level.throughput:>7.1f}"
        )
    print()
    print("kedro-runtime vs Kedro's server, same request (POST /run with params):")
    print(
        f"{'clients':>7} {'p50 (x faster)':>15} {'p99 (x faster)':>15} {'req/s (x)':>10}"
    )
    ratios = []
    for clients in LEVELS:
        kedro, runtime = (
            next(
                r
                for r in results
                if r.server == name and r.scenario == "params" and r.clients == clients
            )
            for name in ("kedro", "kedro-runtime")
        )
        ratio = {
            "clients": clients,
            "p50": kedro.p50 / runtime.p50,
            "p99": kedro.p99 / runtime.p99,
            "throughput": runtime.throughput / kedro.throughput
            if kedro.throughput
            else float("inf"),
        }
        ratios.append(ratio)
        print(
            f"{clients:>7} {ratio['p50']:>15.1f} {ratio['p99']:>15.1f} "
            f"{ratio['throughput']:>10.1f}"
        )
    for level in results:
        if level.failures:
            print(
                f"\n{level.server} ({level.clients} clients) failed: {level.first_failure}"
            )
    _save(results, ratios, quick)


def _save(results: list[Level], ratios: list[dict[str, Any]], quick: bool) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "date": datetime.now(tz=timezone.utc).isoformat(timespec="seconds"),
                "quick": quick,
                "machine": {
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "platform": platform.platform(),
                },
                "levels": [
                    {
                        **{
                            k: v
                            for k, v in asdict(level).items()
                            if k != "latencies_ms"
                        },
                        "p50_ms": level.p50,
                        "p99_ms": level.p99,
                        "requests_per_s": level.throughput,
                    }
                    for level in results
                ],
                "ratios": ratios,
            },
            indent=2,
        )
    )
    print(f"\nSaved {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
