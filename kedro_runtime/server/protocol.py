"""uvicorn's HTTP/1.1 protocol with a deadline for slow clients.

uvicorn closes a connection that stays idle after a response
(``timeout_keep_alive``), but not one that sends its request slowly: a client
that sends one header byte a second holds a connection forever.
:class:`RequestTimeoutProtocol` gives every request a deadline: a client must
send a complete request (headers and body) within the request timeout of
connecting, or of the previous response on the connection, or the connection
is closed. ``kedro server start --request-timeout`` sets it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from .settings import (
    DEFAULT_REQUEST_TIMEOUT,
    REQUEST_TIMEOUT_ENV,
    ServerSettingsError,
)

logger = logging.getLogger(__name__)

_SENDING = (h11.IDLE, h11.SEND_BODY)
"""The client's states while its request is not complete."""


def request_timeout() -> float:
    """The request timeout of this process, in seconds.

    Returns:
        ``$KEDRO_RUNTIME_SERVER_REQUEST_TIMEOUT``, or the default (60).

    Raises:
        ServerSettingsError: If the variable is not a positive number of seconds.
    """
    raw = os.environ.get(REQUEST_TIMEOUT_ENV) or str(DEFAULT_REQUEST_TIMEOUT)
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise ServerSettingsError(
            f"{REQUEST_TIMEOUT_ENV} must be a positive number of seconds, got {raw!r}."
        )
    return seconds


class RequestTimeoutProtocol(H11Protocol):
    """HTTP/1.1 (h11) that closes a connection whose request is not complete in time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Create the protocol for one connection, as uvicorn does.

        Args:
            *args: uvicorn's arguments for ``H11Protocol``.
            **kwargs: uvicorn's keyword arguments for ``H11Protocol``.
        """
        super().__init__(*args, **kwargs)
        self._request_timeout = request_timeout()
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start the first request's deadline.

        Args:
            transport: The connection.
        """
        super().connection_made(transport)  # type: ignore[arg-type]
        self._start_deadline()

    def on_response_complete(self) -> None:
        """Start the next request's deadline."""
        super().on_response_complete()
        self._start_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        """Drop the deadline with the connection.

        Args:
            exc: Why the connection was lost, if not closed normally.
        """
        self._cancel_deadline()
        super().connection_lost(exc)

    def _start_deadline(self) -> None:
        self._cancel_deadline()
        self._deadline = self.loop.call_later(self._request_timeout, self._expire)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if self.transport.is_closing() or self.conn.their_state not in _SENDING:
            return
        logger.info(
            "Closed a connection from %s: no complete request in %s s.",
            self.client,
            self._request_timeout,
        )
        self.transport.close()
