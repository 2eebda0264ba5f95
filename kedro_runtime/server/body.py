"""Request bodies: one JSON decoder for every size, bounded and cooperative.

``json.loads`` holds the GIL for the whole document: decoding a body of tens of
MiB on the event loop (where FastAPI decodes it), or in a thread, stalls every
other request, ``/health`` included, for as long. Every body is decoded instead
by ijson's C parser (yajl2_c) :data:`CHUNK_BYTES` at a time, handing the event
loop back between chunks, and built into Python values here, so that the
nesting limit is applied while the body streams, before memory grows.

The rules, the same for every size (``docs/serving.md``, Limits):

- the body is UTF-8 (anything else: :class:`UnicodeDecodeError`, answered 400);
  a leading UTF-8 byte order mark is ignored;
- arrays and objects nest at most ``max_depth`` deep (:class:`TooDeepError`,
  answered 400, checked as the body streams);
- one JSON value (anything else is answered 422 ``json_invalid``, as are the
  refusals below);
- numbers as JSON has them: no ``NaN`` or ``Infinity``; integers from
  -(2**63 - 1) to 2**63 - 1 are ``int``, other numbers ``float``; an integer
  outside that range or a number too large for a float is refused;
- strings hold Unicode text: a lone surrogate escape (``"\\ud800"``) is refused;
- a repeated key keeps its last value (as ``json.loads``).

:class:`IncrementalJSONRoute` is a FastAPI route class (FastAPI's documented way
to customise how a route reads its request): its requests decode JSON so, and a
body that is not UTF-8 is answered 400 whatever its content type.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import re
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

import ijson
from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from kedro_runtime import KedroRuntimeError

from .settings import MAX_JSON_DEPTH_ENV, RequestLimits

CHUNK_BYTES = 64 << 10
"""How much the parser reads between two turns of the event loop (64 KiB)."""

_BACKEND = ijson.get_backend("yajl2_c")
_BOM = codecs.BOM_UTF8
# A JSON string's escapes, read from the start of the body, up to the first lone
# surrogate escape: a high one without a low one after it, or a low one alone.
# (Outside strings a valid body has no backslash.)
_ESCAPES_WITHOUT_LONE_SURROGATE = re.compile(
    rb"(?:[^\\]+|\\(?:u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"
    rb"|u(?![dD][89a-fA-F])[0-9a-fA-F]{4}|[^u]))*"
)
_PAIR_BYTES = 12
_STARTS: dict[str, Callable[[], Any]] = {"start_map": dict, "start_array": list}
_ENDS = frozenset({"end_map", "end_array"})
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class _Refused(KedroRuntimeError, json.JSONDecodeError):
    """A body refused by a rule; FastAPI answers 422 ``json_invalid``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, "", 0)


class TooDeepError(KedroRuntimeError, ValueError):
    """A body nested deeper than the server's limit (answered 400)."""


async def decode_json(
    body: bytes, max_depth: int = RequestLimits.max_json_depth
) -> Any:
    """The JSON value of ``body``, decoded a chunk at a time by the rules above.

    Args:
        body: The request body.
        max_depth: How deep arrays and objects may nest.

    Returns:
        The value (objects as ``dict``, arrays as ``list``).

    Raises:
        json.JSONDecodeError: If the body is not one JSON value or breaks a rule
            (FastAPI answers 422 ``json_invalid`` with the reason).
        TooDeepError: If the body nests deeper than ``max_depth`` (400).
        UnicodeDecodeError: If the body is not UTF-8 (400).
    """
    view = memoryview(body)[len(_BOM) :] if body.startswith(_BOM) else memoryview(body)
    text = codecs.getincrementaldecoder("utf-8")()
    events = ijson.sendable_list()
    parser = _BACKEND.basic_parse_coro(events, use_float=True)
    builder = _Builder(max_depth)
    checked = 0
    try:
        for start in range(0, len(view), CHUNK_BYTES):
            chunk = view[start : start + CHUNK_BYTES]
            text.decode(chunk)  # raises UnicodeDecodeError
            checked = _check_escapes(view, checked, start + len(chunk))
            parser.send(bytes(chunk))
            builder.feed(events)
            del events[:]
            await asyncio.sleep(0)
        text.decode(b"", final=True)
        parser.close()
        builder.feed(events)
    except ijson.JSONError as exc:
        raise _Refused(f"invalid JSON ({_first_line(exc)})") from exc
    return builder.value()


def _check_escapes(view: memoryview, start: int, end: int) -> int:
    """Refuse a lone surrogate escape in ``view[start:end]``; where to go on from."""
    at = _ESCAPES_WITHOUT_LONE_SURROGATE.match(view, start, end)
    stop = at.end() if at else start
    if stop == end or (end < len(view) and stop + _PAIR_BYTES > end):
        return stop  # done, or an escape the next chunk completes
    escape = bytes(view[stop : stop + 6]).decode("ascii", "replace")
    if _SURROGATE_ESCAPE.fullmatch(escape):
        raise _Refused(
            f"the string escape '{escape}' is half of a UTF-16 surrogate pair "
            f"with no other half, which is not Unicode text"
        )
    return stop + 2  # an escape that is not JSON: the parser refuses it


def _first_line(exc: Exception) -> str:
    message = exc.args[0] if exc.args else exc
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return str(message).strip().splitlines()[0][:200]


class _Builder:
    """Python values from ijson's events; refuses nesting deeper than a limit."""

    def __init__(self, max_depth: int) -> None:
        self._max_depth = max_depth
        self._open: list[Any] = []
        self._key: str = ""
        self._done: list[Any] = []

    def feed(self, events: Iterable[tuple[str, Any]]) -> None:
        """Add the events of one chunk (one loop: this is the hot path)."""
        open_, done = self._open, self._done
        for event, scalar in events:
            if event == "map_key":
                self._key = scalar
                continue
            if event in _ENDS:
                open_.pop()
                continue
            value = _STARTS[event]() if event in _STARTS else scalar
            if not open_:
                done.append(value)
            elif type(open_[-1]) is list:
                open_[-1].append(value)
            else:
                open_[-1][self._key] = value
            if event in _STARTS:
                open_.append(value)
                if len(open_) > self._max_depth:
                    raise TooDeepError(
                        f"There was an error parsing the body: it nests arrays "
                        f"and objects deeper than this server's limit of "
                        f"{self._max_depth} levels ({MAX_JSON_DEPTH_ENV})."
                    )

    def value(self) -> Any:
        """The one value decoded."""
        if len(self._done) != 1 or self._open:
            raise _Refused("expected one JSON value")
        return self._done[0]


class _IncrementalJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            settings = getattr(self.app.state, "server_settings", None)
            limits = getattr(settings, "limits", None) or RequestLimits()
            self._json = await decode_json(await self.body(), limits.max_json_depth)
        return self._json


def _bad_body(detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=400)


class IncrementalJSONRoute(APIRoute):
    """A route whose request body is decoded by :func:`decode_json`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, given requests that decode JSON cooperatively.

        A body that is not UTF-8 is answered 400 here whatever its content
        type (FastAPI would hand the bytes of a non-JSON one to validation), and
        one nested too deep 400 naming the limit.

        Returns:
            The handler.
        """
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            wrapped = _IncrementalJSONRequest(request.scope, request.receive)
            body = await wrapped.body()
            try:
                codecs.decode(body, "utf-8")
            except UnicodeDecodeError:
                return _bad_body(
                    "There was an error parsing the body: it is not UTF-8 text. "
                    "Send JSON in UTF-8 with 'Content-Type: application/json'."
                )
            try:
                return await handler(wrapped)
            except HTTPException as exc:  # FastAPI's 400 for a body it cannot read
                if isinstance(exc.__cause__, TooDeepError):
                    return _bad_body(str(exc.__cause__))
                raise

        return handle
