"""Request bodies: one decoder for every size, a chunk at a time, within limits."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from _example import copy_example
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kedro_runtime.server import create_app
from kedro_runtime.server.body import TooDeepError, decode_json
from kedro_runtime.server.settings import MAX_JSON_DEPTH_ENV

INCREMENTAL_BYTES = 1 << 20
"""Bodies from this size on went through another decoder (issue 18)."""


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


def _sizes(document: bytes) -> list[bytes]:
    """The document as sent, and padded with spaces to more than 1 MiB."""
    padded = document + b" " * (INCREMENTAL_BYTES + 1 - len(document))
    return [document, padded]


def _decode(body: bytes) -> Any:
    try:
        return ("value", asyncio.run(decode_json(body)))
    except json.JSONDecodeError as exc:
        return ("refused", exc.msg)
    except UnicodeDecodeError:
        return ("not utf-8", None)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (b'{"x": NaN}', "refused"),
        (b'{"x": -Infinity}', "refused"),
        (b'{"x": 1e400}', "refused"),
        (b'{"x": 9223372036854775808}', "refused"),
        (b'{"x": 9223372036854775807}', {"x": 2**63 - 1}),
        (b'{"x": -9223372036854775807}', {"x": 1 - 2**63}),
        (b'\xef\xbb\xbf{"x": 1}', {"x": 1}),
        (b'{"x": "\\ud800"}', "refused"),
        (b'{"\\udc00": 1}', "refused"),
        (b'{"x": "\\ud83d\\ude00 \\\\ud800"}', {"x": "\U0001f600 \\ud800"}),
        (b'{"x": "\xed\xa0\x80"}', "not utf-8"),
        (b'{"x": 1, "x": 2}', {"x": 2}),
    ],
    ids=[
        "nan",
        "infinity",
        "float-overflow",
        "int-2**63",
        "int-2**63-1",
        "int-minus-2**63-plus-1",
        "bom",
        "lone-high-surrogate",
        "lone-low-surrogate-key",
        "surrogate-pair-and-escaped-backslash",
        "utf8-encoded-surrogate",
        "repeated-key",
    ],
)
def test_every_body_size_follows_the_same_rules(document: bytes, expected: Any) -> None:
    small, large = (_decode(body) for body in _sizes(document))
    assert small == large
    if isinstance(expected, str):
        assert small[0] == expected
    else:
        assert small == ("value", expected)


def test_nesting_is_limited_while_decoding_at_every_size() -> None:
    for body in _sizes(b"[" * 2_000 + b"]" * 2_000):
        with pytest.raises(TooDeepError) as info:
            asyncio.run(decode_json(body))
        assert "64 levels" in str(info.value)
        assert MAX_JSON_DEPTH_ENV in str(info.value)
    # A document far deeper than the limit stops at the limit: this one would
    # take ijson's item builder gigabytes (issue 18).
    hostile = b"[" * 120_000 + b" " * (1 << 20) + b"]" * 120_000
    with pytest.raises(TooDeepError, match="64 levels"):
        asyncio.run(decode_json(hostile))
    assert asyncio.run(decode_json(b"[" * 64 + b"]" * 64)) == _nested(64)


def _nested(depth: int) -> Any:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = copy_example(tmp_path_factory.mktemp("body") / "orders")
    with TestClient(create_app(path, api_key="key")) as client:
        client.headers["X-API-Key"] = "key"
        yield client


@pytest.mark.parametrize(
    "content_type",
    [
        "application/octet-stream",
        "text/plain",
        "application/x-www-form-urlencoded",
        None,
        "application/json",
    ],
)
def test_a_body_that_is_not_utf8_is_400_whatever_its_content_type(
    client: TestClient, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    for body in (b"\xff", b'{"params": {"x": "\xff"}}'):
        response = client.post("/run", content=body, headers=headers)
        assert response.status_code == 400, response.text
        assert "UTF-8" in response.json()["detail"]


def test_a_deep_field_in_a_large_body_is_400_naming_the_limit(
    client: TestClient,
) -> None:
    """Issue 18: a field nested ~1000 levels deep crashed the 422 handler (500)."""
    document = b'{"params": ' + b"[" * 1_000 + b"]" * 1_000 + b"}"
    headers = {"Content-Type": "application/json"}
    for body in _sizes(document):
        response = client.post("/run", content=body, headers=headers)
        assert response.status_code == 400, response.text
        assert MAX_JSON_DEPTH_ENV in response.json()["detail"]
    assert client.get("/health").json()["status"] == "healthy"


def test_the_nesting_limit_is_a_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MAX_JSON_DEPTH_ENV, "3")
    app = create_app(copy_example(tmp_path / "orders"), api_key="")
    with TestClient(app) as client:
        deep = client.post("/run", json={"params": {"a": {"b": {"c": 1}}}})
        assert deep.status_code == 400
        assert "limit of 3 levels" in deep.json()["detail"]
        assert client.post("/run", json={"params": {"factor": 2}}).status_code == 200


_CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/octet-stream",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "",
    ]
)
_BODY_BYTES = st.one_of(
    st.binary(max_size=64),
    st.builds(
        lambda head, middle, tail: head + middle + tail,
        st.sampled_from([b'{"params": ', b'{"runtime_data": {"orders": ', b"["]),
        st.binary(max_size=32),
        st.sampled_from([b"}", b"}}", b"]", b""]),
    ),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=_BODY_BYTES, content_type=_CONTENT_TYPES)
def test_no_body_bytes_make_a_500(
    client: TestClient, body: bytes, content_type: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/run", content=body, headers=headers)
    assert response.status_code < 500, (body, content_type, response.text)


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (b'{"params": {"factor": NaN}}', "invalid JSON"),
        (b'{"params": {"factor": "\\ud800"}}', "surrogate"),
    ],
)
def test_a_rule_refusal_is_422_json_invalid_saying_why(
    client: TestClient, document: bytes, reason: str
) -> None:
    headers = {"Content-Type": "application/json"}
    for body in _sizes(document):
        response = client.post("/run", content=body, headers=headers)
        assert response.status_code == 422, response.text
        (error,) = response.json()["detail"]
        assert error["type"] == "json_invalid"
        assert reason in error["ctx"]["error"]
