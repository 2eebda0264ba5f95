"""Large request bodies are decoded a chunk at a time, handing the event loop back."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from _example import copy_example
from fastapi.testclient import TestClient

from kedro_runtime.server import create_app
from kedro_runtime.server.body import INCREMENTAL_BYTES, decode_json


def _large_body(rows: int) -> dict[str, Any]:
    return {
        "params": {"factor": 1.5, "nested": {"a": [1, 2.25, None, True, "é\u2603"]}},
        "runtime_data": {
            "orders": [
                {
                    "order_id": i,
                    "region": f"r{i % 7}",
                    "product": "widget",
                    "quantity": i % 13 + 0.5,
                }
                for i in range(rows)
            ]
        },
    }


def test_a_large_body_decodes_as_json_loads_does() -> None:
    value = _large_body(30_000)
    body = json.dumps(value).encode()
    assert len(body) > INCREMENTAL_BYTES
    assert asyncio.run(decode_json(body)) == json.loads(body)


@pytest.mark.parametrize("tail", [b"", b"{", b" 1", b"]"])
def test_a_large_body_that_is_not_one_json_value_is_a_decode_error(tail: bytes) -> None:
    body = json.dumps(_large_body(30_000)).encode()[:-1] + tail
    with pytest.raises(json.JSONDecodeError):
        asyncio.run(decode_json(body))


def test_decoding_a_large_body_hands_the_event_loop_back() -> None:
    """Another task runs many times during one decode (json.loads: never)."""
    body = json.dumps(_large_body(300_000)).encode()  # about 20 MiB
    turns = 0

    async def ticker(stop: asyncio.Event) -> None:
        nonlocal turns
        while not stop.is_set():
            turns += 1
            await asyncio.sleep(0)

    async def main() -> Any:
        stop = asyncio.Event()
        task = asyncio.create_task(ticker(stop))
        await asyncio.sleep(0)
        start = turns
        value = await decode_json(body)
        stop.set()
        await task
        return value, turns - start

    value, during = asyncio.run(main())
    assert len(value["runtime_data"]["orders"]) == 300_000
    assert during >= len(body) // (1 << 20), "the loop did not run between chunks"


def test_the_server_refuses_a_large_invalid_body_with_422_and_runs_a_large_one(
    tmp_path: Path,
) -> None:
    app = create_app(
        copy_example(tmp_path / "orders"), api_key="", max_request_bytes=64 << 20
    )
    body = json.dumps(
        {"runtime_data": _large_body(30_000)["runtime_data"], "outputs": ["headline"]}
    ).encode()
    assert len(body) > INCREMENTAL_BYTES
    headers = {"Content-Type": "application/json"}
    with TestClient(app) as client:
        bad = client.post("/run", content=body[:-1], headers=headers)
        assert bad.status_code == 422, bad.text
        assert bad.json()["detail"][0]["type"] == "json_invalid"
        good = client.post("/run", content=body, headers=headers)
        assert good.status_code == 200, good.text
        assert good.json()["outputs"]["headline"].startswith("Top region")
