"""No response carries another request's data, on one worker or several (issue 18,
findings 6 and 7): the example's default environment saves ``summary`` as a plain
CSV that every run writes and reads.

Each server is a real `kedro server start` on a free loopback port; every request
loop is bounded in count and time.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
from _example import copy_example
from test_server_http import (
    QUIET_LOGGING,
    REQUEST_TIMEOUT,
    RunningServer,
    _expected_headline,
    _orders,
)

CLIENTS = 8
REQUESTS_PER_CLIENT = 10
RETRIES = 200


def _request(key: int) -> tuple[dict[str, Any], str]:
    """Request ``key``: its own orders; the summary (a file output) or headline."""
    body: dict[str, Any] = {"runtime_data": {"orders": _orders(key, 2)}}
    if key % 2:
        body.update(to_outputs=["summary"], outputs=["summary"])
        return body, "summary"
    body["outputs"] = ["headline"]
    return body, "headline"


def _is_own(key: int, output: str, answer: dict[str, Any]) -> bool:
    value = answer["outputs"][output]
    if output == "headline":
        return bool(value == _expected_headline(_orders(key, 2), 1.0, 0.1))
    regions = {row["region"] for row in value}
    return bool(regions) and all(r.startswith(f"region-{key}-") for r in regions)


def _hammer(url: str) -> tuple[list[str], int, int]:
    """Concurrent clients, each request different, each sent again on 409 (a
    clash with a run in flight) until it runs: (wrong answers, successes, 409s)."""
    wrong: list[str] = []
    counts = {"success": 0, "refused": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + 180

    def client(index: int) -> None:
        with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT) as http:
            for number in range(REQUESTS_PER_CLIENT):
                if time.monotonic() > deadline:
                    return
                key = index * REQUESTS_PER_CLIENT + number
                body, output = _request(key)
                for _attempt in range(RETRIES):  # a 409 is sent again, bounded
                    response = http.post("/run", json=body)
                    if response.status_code != 409:
                        break
                    with lock:
                        counts["refused"] += 1
                    time.sleep(0.01)
                answer = response.json()
                with lock:
                    if answer.get("status") != "success":
                        wrong.append(f"request {key}: {response.status_code} {answer}")
                    elif not _is_own(key, output, answer):
                        wrong.append(f"request {key}: got {answer['outputs']}")
                    else:
                        counts["success"] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return wrong, counts["success"], counts["refused"]


def _project(tmp_path: Path) -> Path:
    path = copy_example(tmp_path / "orders")
    (path / "conf" / "logging.yml").write_text(QUIET_LOGGING)
    return path


def _served(path: Path, *options: str) -> tuple[list[str], int, int]:
    running = RunningServer(path, *options, api_key=None)
    try:
        running.wait_ready()
        return _hammer(running.url)
    finally:
        running.stop()


def test_one_worker_sends_back_each_requests_own_file_output(tmp_path: Path) -> None:
    """Finding 7: the summary is read while the run still holds its file."""
    wrong, successes, refused = _served(_project(tmp_path))
    assert wrong == [], f"{len(wrong)} wrong answers, first: {wrong[:3]}"
    assert successes == CLIENTS * REQUESTS_PER_CLIENT
    assert refused > 0, "no two runs overlapped: the test proves nothing"


def test_two_workers_never_share_a_file_between_requests(tmp_path: Path) -> None:
    """Finding 6: the shared-files guard holds across the worker processes."""
    wrong, successes, refused = _served(_project(tmp_path), "--workers", "2")
    assert wrong == [], f"{len(wrong)} wrong answers, first: {wrong[:3]}"
    assert successes == CLIENTS * REQUESTS_PER_CLIENT
    assert refused > 0, "no two runs overlapped: the test proves nothing"
