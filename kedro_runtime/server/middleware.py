"""ASGI middleware of the server: the API key guard and the request body limits."""

from __future__ import annotations

import asyncio
import hmac
import logging

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/health"})
"""Paths that never need the API key."""


def _route_path(scope: Scope) -> str:
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path or "/"


class ApiKeyGuard:
    """Refuse (401) requests without the API key, except to ``OPEN_PATHS``."""

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        """Wrap an ASGI app.

        Args:
            app: The app to guard.
            api_key: The key clients must send.
        """
        self.app = app
        self._key = api_key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Let the request through if it carries the key or needs none.

        Args:
            scope: The ASGI scope.
            receive: The ASGI receive channel.
            send: The ASGI send channel.
        """
        if scope["type"] != "http" or _route_path(scope) in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        given = headers.get("x-api-key")
        if given is None:
            scheme, _, token = headers.get("authorization", "").partition(" ")
            given = token.strip() if scheme.lower() == "bearer" else None
        if given is not None and hmac.compare_digest(given.encode(), self._key):
            await self.app(scope, receive, send)
            return
        response = JSONResponse(
            {
                "detail": (
                    "Missing or wrong API key: send it in an X-API-Key header or as "
                    "'Authorization: Bearer <key>'."
                )
            },
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
        await response(scope, receive, send)


class BodyLimits:
    """Refuse request bodies that are too large (413) or too slow (408).

    The body is read whole before the app sees it. A declared
    ``Content-Length`` over the size limit is refused at once; a body without
    one (chunked) is read up to the limit and refused when it goes past it. A
    body that has not fully arrived ``timeout`` seconds after the request's
    headers is refused and its connection closed, so a client that sends its
    body slowly cannot hold a worker's connection. (The headers themselves
    arrive before any ASGI app runs: bound them at a reverse proxy, see
    ``docs/serving.md``.)
    """

    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float) -> None:
        """Wrap an ASGI app.

        Args:
            app: The app to protect.
            max_bytes: The largest body accepted.
            timeout: Seconds the body may take to arrive.
        """
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the body within the limits, then hand it to the app.

        Args:
            scope: The ASGI scope.
            receive: The ASGI receive channel.
            send: The ASGI send channel.
        """
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if (
            declared is not None
            and declared.isdigit()
            and int(declared) > self.max_bytes
        ):
            await self._refuse(scope, receive, send, 413, self._too_large())
            return
        try:
            messages = await asyncio.wait_for(self._read(receive), self.timeout)
        except asyncio.TimeoutError:
            logger.info(
                "Refused a request from %s: its body did not arrive in %s s.",
                scope.get("client"),
                self.timeout,
            )
            await self._refuse(scope, receive, send, 408, self._too_slow())
            return
        if messages is None:
            await self._refuse(scope, receive, send, 413, self._too_large())
            return
        await self.app(scope, _replay(messages, receive), send)

    async def _read(self, receive: Receive) -> list[Message] | None:
        """The body as one message (or the disconnect); ``None`` if too large."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away: let the app see it as it would.
                return [message]
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        return [{"type": "http.request", "body": body, "more_body": False}]

    def _too_large(self) -> str:
        return (
            f"The request body is larger than this server's limit of "
            f"{self.max_bytes} bytes. Send less data per request, or raise "
            f"the limit (--max-request-bytes)."
        )

    def _too_slow(self) -> str:
        return (
            f"The request body did not arrive within {self.timeout:g} s of its "
            f"headers. Send it at once, or raise the limit (--request-timeout)."
        )

    @staticmethod
    async def _refuse(
        scope: Scope, receive: Receive, send: Send, status: int, detail: str
    ) -> None:
        response = JSONResponse(
            {"detail": detail}, status_code=status, headers={"Connection": "close"}
        )
        await response(scope, receive, send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
