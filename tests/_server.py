"""Calls to the server app that several server test modules make."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def post_run(client: TestClient, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """``POST /run`` with ``body``; the status code and the decoded JSON answer."""
    response = client.post("/run", json=body)
    return response.status_code, response.json()
