"""Request bodies decoded without blocking the event loop.

``json.loads`` holds the GIL for the whole document: decoding a body of tens of
MiB on the event loop (where FastAPI decodes it), or in a thread, stalls every
other request, ``/health`` included, for as long. A body above
:data:`INCREMENTAL_BYTES` is decoded instead by ijson's C parser (yajl2_c),
a chunk at a time, handing the event loop back between chunks.

:class:`IncrementalJSONRoute` is a FastAPI route class (FastAPI's documented way
to customise how a route reads its request): its requests decode JSON so.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from typing import Any

import ijson
from fastapi import Request, Response
from fastapi.routing import APIRoute

INCREMENTAL_BYTES = 1 << 20
"""Bodies from this size on are decoded a chunk at a time (1 MiB)."""

CHUNK_BYTES = 64 << 10
"""How much the parser reads between two turns of the event loop (64 KiB)."""

_BACKEND = ijson.get_backend("yajl2_c")


class _Chunks:
    """An async file over bytes that yields to the event loop before each read."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self._at = 0

    async def read(self, size: int = -1) -> bytes:
        await asyncio.sleep(0)
        size = CHUNK_BYTES if size is None or size < 0 else min(size, CHUNK_BYTES)
        chunk = self._data[self._at : self._at + size]
        self._at += len(chunk)
        return bytes(chunk)


async def decode_json(body: bytes) -> Any:
    """The JSON value of ``body``; large bodies are decoded cooperatively.

    Args:
        body: The request body.

    Returns:
        The value, as ``json.loads`` gives it (floats as ``float``).

    Raises:
        json.JSONDecodeError: If the body is not one JSON value (FastAPI
            answers it with 422 ``json_invalid``, as for a small body).
    """
    if len(body) < INCREMENTAL_BYTES:
        return json.loads(body)
    values = []
    try:
        async for value in _BACKEND.items_async(
            _Chunks(body), "", use_float=True, buf_size=CHUNK_BYTES
        ):
            values.append(value)
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        raise json.JSONDecodeError(f"invalid JSON ({exc})", "", 0) from exc
    if len(values) != 1:
        raise json.JSONDecodeError("expected one JSON value", "", 0)
    return values[0]


class _IncrementalJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = await decode_json(await self.body())
        return self._json


class IncrementalJSONRoute(APIRoute):
    """A route whose request body is decoded by :func:`decode_json`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, given requests that decode JSON cooperatively.

        Returns:
            The handler.
        """
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            return await handler(
                _IncrementalJSONRequest(request.scope, request.receive)
            )

        return handle
