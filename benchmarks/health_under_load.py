"""How long ``/health`` takes while the server decodes a body of tens of MiB.

Run it with ``python benchmarks/health_under_load.py [--mib 40]`` (under a
minute; ``--plain`` decodes every body with ``json.loads``, for comparison). It
copies ``examples/orders`` into a temporary folder, serves it with ``create_app``
under uvicorn on a free 127.0.0.1 port, in a process of its own (one worker, as a
deployed server: the clients do not share its GIL), sends one
``POST /run`` whose body is ``--mib`` MiB of JSON (a list of records for a
dataset the pipeline does not have, refused once decoded: no pipeline runs), and
meanwhile asks ``/health`` every 10 ms. It prints the decode's duration and the
largest and median ``/health`` latency seen while the body was being handled.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_SERVER = """
import sys
import uvicorn
from kedro_runtime.server import body, create_app
project, port, mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if sys.argv[4:] == ["plain"]:
    body.INCREMENTAL_BYTES = sys.maxsize
app = create_app(project, api_key="", max_request_bytes=mib << 20)
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=40, help="body size in MiB")
    parser.add_argument(
        "--plain", action="store_true", help="decode with json.loads (the baseline)"
    )
    args = parser.parse_args()
    mib = args.mib
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder) / "orders"
        shutil.copytree(ROOT / "examples" / "orders", project)
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-c", _SERVER, str(project), str(port), str(mib + 8)]
            + (["plain"] if args.plain else []),
            env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"},
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        row = {"order_id": 1, "region": "north", "product": "widget", "quantity": 2}
        rows = (mib << 20) // len(json.dumps(row))
        body = json.dumps({"runtime_data": {"not_a_dataset": [row] * rows}}).encode()
        done = threading.Event()
        took: list[float] = []

        def post() -> None:
            start = time.perf_counter()
            httpx.post(
                f"{url}/run",
                content=body,
                headers={"Content-Type": "application/json"},
                timeout=120,
            )
            took.append(time.perf_counter() - start)
            done.set()

        poster = threading.Thread(target=post)
        poster.start()
        latencies = []
        with httpx.Client(base_url=url, timeout=30) as client:
            while not done.is_set():
                start = time.perf_counter()
                client.get("/health")
                latencies.append(time.perf_counter() - start)
                time.sleep(0.01)
        poster.join()
        server.terminate()
        server.wait(timeout=30)
    print(f"body: {len(body) / (1 << 20):.1f} MiB, POST /run took {took[0]:.2f} s")
    print(
        f"/health while it was handled: {len(latencies)} requests, max "
        f"{max(latencies) * 1000:.1f} ms, median {statistics.median(latencies) * 1000:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
