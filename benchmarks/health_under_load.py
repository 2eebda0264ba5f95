"""How long ``/health`` takes while the server handles a large or hostile body.

Run it with ``python benchmarks/health_under_load.py [--body records] [--mib 40]``
(under a minute; ``--plain`` decodes every body with ``json.loads``, for
comparison). It copies ``examples/orders`` into a temporary folder, serves it
with ``create_app`` under uvicorn on a free 127.0.0.1 port, in a process of its
own (one worker, as a deployed server: the clients do not share its GIL), sends
``--repeat`` ``POST /run`` requests one after the other, and meanwhile asks
``/health`` every 10 ms. The body is one of:

- ``records``: ``--mib`` MiB of JSON, a list of records for a dataset the
  pipeline does not have (refused once decoded: no pipeline runs);
- ``deep``: 60,000 nested arrays padded with spaces to just over 1 MiB (issue
  18: 12.5 s of stalled ``/health``, gigabytes of memory);
- ``sparse``: 12,000 records for the ``orders`` table that each carry a column
  of their own (issue 18: a 12,000 x 12,000 table);
- ``params``: a parameter holding a list of 100,000 numbers, about 600 KB
  (issue 18: 18 s merged by OmegaConf under the process-wide config lock).

It prints each request's status and duration, and the largest and median
``/health`` latency seen while the bodies were being handled.
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
    import json

    async def plain(data, max_depth=0):
        return json.loads(data)

    body.decode_json = plain
app = create_app(project, api_key="", max_request_bytes=mib << 20)
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
"""


def _records(mib: int) -> bytes:
    row = {"order_id": 1, "region": "north", "product": "widget", "quantity": 2}
    rows = (mib << 20) // len(json.dumps(row))
    return json.dumps({"runtime_data": {"not_a_dataset": [row] * rows}}).encode()


def _deep(_mib: int) -> bytes:
    depth = 60_000
    document = b'{"params": ' + b"[" * depth + b"]" * depth + b"}"
    return document + b" " * ((1 << 20) + 1 - len(document))


def _sparse(_mib: int) -> bytes:
    rows = [{f"column_{i}": i} for i in range(12_000)]
    return json.dumps({"runtime_data": {"orders": rows}}).encode()


def _params(_mib: int) -> bytes:
    return json.dumps({"params": {"factor": list(range(100_000))}}).encode()


_BODIES = {"records": _records, "deep": _deep, "sparse": _sparse, "params": _params}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=40, help="body size in MiB")
    parser.add_argument(
        "--plain", action="store_true", help="decode with json.loads (the baseline)"
    )
    parser.add_argument("--body", choices=sorted(_BODIES), default="records")
    parser.add_argument("--repeat", type=int, default=1, help="requests to send")
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
        body = _BODIES[args.body](mib)
        done = threading.Event()
        took: list[tuple[int, float]] = []

        def post() -> None:
            for _ in range(args.repeat):
                start = time.perf_counter()
                response = httpx.post(
                    f"{url}/run",
                    content=body,
                    headers={"Content-Type": "application/json"},
                    timeout=120,
                )
                took.append((response.status_code, time.perf_counter() - start))
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
    answers = ", ".join(f"{status} in {seconds:.2f} s" for status, seconds in took)
    print(f"body ({args.body}): {len(body) / (1 << 20):.2f} MiB; POST /run: {answers}")
    print(
        f"/health while it was handled: {len(latencies)} requests, max "
        f"{max(latencies) * 1000:.1f} ms, median {statistics.median(latencies) * 1000:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
