"""The FastAPI app: one warm kedro-runtime session per worker process.

Endpoints (the same paths and request fields as Kedro's ``kedro server start``):

- ``GET /health``: ``healthy`` once the worker's session is warm. Never needs
  the API key.
- ``POST /run``: run pipelines with Kedro's request fields, plus
  ``runtime_data`` (data in, by dataset name) and ``outputs`` (the outputs to
  send back, as JSON).
- ``GET /snapshot``: Kedro's read-only description of the project.

See ``docs/serving.md``.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
import traceback
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import click
from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse, Response
from kedro import __version__ as kedro_version
from kedro.framework.project import pipelines as registered_pipelines
from kedro.inspection import get_project_snapshot
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__ as kedro_runtime_version
from .. import _kedro_private as private
from ..errors import RuntimeDataError, RuntimeParamsError
from ..run_id import generate_run_id
from ..session import CONFIG_LOCK
from ..untrusted import check_untrusted_params
from .codec import DecodeError, EncodeError, encode_outputs
from .models import (
    ErrorDetail,
    HealthResponse,
    Problem,
    RunFailure,
    RunRequest,
    RunResponse,
    SnapshotFailure,
    SnapshotResponse,
    SnapshotSuccess,
)
from .project import ServedProject
from .settings import API_KEY_ENV, ServerSettings

logger = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/health"})
"""Paths that never need the API key."""

_PANDAS_DATA_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {
            "type": "array",
            "items": {"type": "object"},
            "title": "records",
            "description": "One object per row.",
        },
        {
            "type": "object",
            "additionalProperties": {"type": "array"},
            "title": "columns",
            "description": "One equal-length list per column.",
        },
    ],
    "description": "A table (pandas dataset): records or columns.",
}
_CREDENTIALS_IN_URL = re.compile(r"(?P<scheme>[A-Za-z][\w+.-]*://)[^/\s@]+@")


class KedroRuntimeApp(FastAPI):
    """A FastAPI app whose OpenAPI schema describes the served pipelines.

    Until the app's lifespan has started the session, the schema describes the
    endpoints only; from then on it also names each served pipeline's free
    inputs, outputs and parameters (``x-kedro-pipelines``, the ``/run``
    description, and the properties of ``runtime_data``).
    """

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI schema, with the served pipelines once they are known.

        Returns:
            The schema as a dictionary.
        """
        served: ServedProject | None = getattr(self.state, "served", None)
        if (
            self.openapi_schema is not None
            and getattr(self.state, "openapi_served", None) is served
        ):
            return self.openapi_schema
        self.openapi_schema = None
        schema = super().openapi()
        settings: ServerSettings = self.state.server_settings
        if settings.api_key:
            _describe_api_key(schema)
        if served is not None:
            _describe_pipelines(schema, served)
        self.state.openapi_served = served
        return schema


def create_app(
    project_path: str | Path | None = None,
    env: str | None = None,
    conf_source: str | None = None,
    pipelines: Sequence[str] | None = None,
    api_key: str | None = None,
    max_request_bytes: int | None = None,
) -> FastAPI:
    """Create the FastAPI app that serves a Kedro project from one warm session.

    The app's lifespan bootstraps the project, creates a kedro-runtime session
    (with ``untrusted_runtime_params=True``) and warms up every served
    pipeline before the app takes requests, and closes the session at
    shutdown. Each process that serves the app (each uvicorn worker) gets its
    own session. When you mount the app in another FastAPI app, enter its
    lifespan from yours (see ``docs/serving.md``): Starlette does not run the
    lifespan of mounted apps.

    Every argument left out is read from an environment variable (see
    :mod:`kedro_runtime.server.settings`), so that ``uvicorn --factory`` and
    ``kedro server start`` workers can build the app.

    Args:
        project_path: The project's root folder (``$KEDRO_PROJECT_PATH``, then
            the current directory).
        env: The configuration environment (``$KEDRO_SERVER_ENV``).
        conf_source: The configuration source (``$KEDRO_SERVER_CONF_SOURCE``).
        pipelines: The pipelines requests may run
            (``$KEDRO_RUNTIME_SERVER_PIPELINES``, comma-separated; default every
            registered pipeline). Each is warmed up at start-up.
        api_key: The key every request but ``GET /health`` must send, in an
            ``X-API-Key`` header or as ``Authorization: Bearer <key>``
            (``$KEDRO_RUNTIME_API_KEY``; empty for none).
        max_request_bytes: The largest request body accepted; larger ones get
            413 (``$KEDRO_RUNTIME_SERVER_MAX_REQUEST_BYTES``, then 10 MiB).

    Returns:
        The app.
    """
    settings = ServerSettings.resolve(
        project_path=project_path,
        env=env,
        conf_source=conf_source,
        pipelines=pipelines,
        api_key=api_key,
        max_request_bytes=max_request_bytes,
    )
    app = KedroRuntimeApp(
        title="Kedro project server (kedro-runtime)",
        description=(
            "Runs the project's pipelines on one warm kedro-runtime session per "
            "worker: send data with `runtime_data`, get outputs back with `outputs`."
        ),
        version=kedro_runtime_version,
        lifespan=_lifespan,
    )
    app.state.server_settings = settings
    app.state.served = None
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    if settings.api_key:
        app.add_middleware(ApiKeyGuard, api_key=settings.api_key)
    _add_routes(app)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: ServerSettings = app.state.server_settings
    served = ServedProject.start(
        settings.project_path,
        env=settings.env,
        conf_source=settings.conf_source,
        pipelines=settings.pipelines,
    )
    app.state.served = served
    try:
        yield
    finally:
        app.state.served = None
        served.close()


def served_project(app: FastAPI) -> ServedProject | None:
    """The started project of an app made by :func:`create_app`.

    Args:
        app: The app.

    Returns:
        The project (whose ``session`` is the warm session) while the app's
        lifespan runs, ``None`` before and after.
    """
    served: ServedProject | None = getattr(app.state, "served", None)
    return served


def _not_started() -> JSONResponse:
    return JSONResponse(
        {
            "detail": (
                "The Kedro session is not started: the app's lifespan has not run. "
                "When you mount the app in another app, enter its lifespan from "
                "yours (see the kedro-runtime serving guide)."
            )
        },
        status_code=503,
    )


def _problem(kind: str, loc: list[str | int], message: str) -> JSONResponse:
    body = Problem.model_validate(
        {"detail": [{"type": kind, "loc": loc, "msg": message}]}
    )
    return JSONResponse(body.model_dump(), status_code=422)


def _add_routes(app: FastAPI) -> None:
    @app.get(
        "/health",
        response_model=HealthResponse,
        tags=["health"],
        responses={503: {"model": HealthResponse}},
    )
    async def health() -> JSONResponse:
        """Whether this worker's session is warm and it takes requests."""
        ready = served_project(app) is not None
        body = HealthResponse(
            status="healthy" if ready else "unhealthy",
            kedro_version=kedro_version,
            kedro_runtime_version=kedro_runtime_version,
        )
        return JSONResponse(body.model_dump(), status_code=200 if ready else 503)

    @app.post(
        "/run",
        response_model=RunResponse,
        tags=["pipeline"],
        responses={422: {"model": Problem}},
    )
    def run(body: RunRequest) -> Response:
        """Run pipelines on the warm session, with the request's data and parameters.

        Answers `success` with the outputs asked for, or `failure` (still 200,
        as Kedro's server) when the run fails. A request that cannot be used
        (data that does not decode to its dataset's type, a name that is not a
        dataset or output of the pipeline, parameters the server refuses, an
        output with no JSON form) gets 422.
        """
        served = served_project(app)
        if served is None:
            return _not_started()
        return _execute(served, body)

    @app.get("/snapshot", response_model=SnapshotResponse, tags=["inspection"])
    def snapshot(
        params: str | None = Query(
            default=None,
            description=(
                "Parameters for this snapshot, as `kedro run --params` takes them: "
                "`key=value` items separated by commas (values without commas)."
            ),
        ),
    ) -> Response:
        """A read-only description of the project: pipelines, datasets, parameters."""
        served = served_project(app)
        if served is None:
            return _not_started()
        return _snapshot(served, params)


class _Refused(Exception):
    """A request that cannot be used: answered with 422."""

    def __init__(self, kind: str, loc: list[str | int], message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.loc = loc


def _execute(served: ServedProject, body: RunRequest) -> Response:
    run_id = generate_run_id()
    started = time.perf_counter()
    try:
        encoded = _run_and_encode(served, body, run_id)
    except _Refused as refused:
        return _problem(refused.kind, refused.loc, str(refused))
    except Exception as exc:
        return _failure(run_id, started, exc)
    duration = round((time.perf_counter() - started) * 1000, 2)
    content = (
        f'{{"status":"success","run_id":{json.dumps(run_id)},'
        f'"duration_ms":{duration},"outputs":{encoded}}}'
    )
    return Response(content, media_type="application/json")


def _run_and_encode(served: ServedProject, body: RunRequest, run_id: str) -> str:
    """Run the request; the JSON text of the outputs it asks for.

    Args:
        served: The started project.
        body: The request.
        run_id: The id of this run.

    Returns:
        The JSON text of ``{output name: value}``.

    Raises:
        _Refused: If the request cannot be used (422).
        Exception: Whatever the run raised (a failed run).
    """
    try:
        data = served.decode(body.runtime_data or {})
    except DecodeError as exc:
        raise _Refused(
            "runtime_data", ["body", "runtime_data", exc.name], str(exc)
        ) from exc
    wanted = body.outputs or []
    known = set().union(*(info.datasets for info in served.pipelines.values()))
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise _Refused(
            "outputs",
            ["body", "outputs", unknown[0]],
            f"{unknown} are not datasets of the served pipelines. Their outputs: "
            f"{_outputs_by_pipeline(served)}.",
        )
    names = served.check_pipelines(body.pipeline_names)
    runner = served.runner(body.runner, body.is_async)
    try:
        result = served.session.run(
            pipeline_names=names,
            tags=body.tags or None,
            runner=runner,
            node_names=body.node_names or None,
            from_nodes=body.from_nodes,
            to_nodes=body.to_nodes,
            from_inputs=body.from_inputs,
            to_outputs=body.to_outputs,
            load_versions=body.load_versions,
            namespaces=body.namespaces,
            only_missing_outputs=body.only_missing_outputs,
            runtime_data=data or None,
            runtime_params=body.params,
            run_id=run_id,
        )
    except RuntimeDataError as exc:
        raise _Refused("runtime_data", ["body", "runtime_data"], str(exc)) from exc
    except RuntimeParamsError as exc:
        raise _Refused("params", ["body", "params"], str(exc)) from exc
    missing = [name for name in wanted if name not in result]
    if missing:
        raise _Refused(
            "outputs",
            ["body", "outputs", missing[0]],
            f"{missing} are not outputs of this run (datasets that no node of the "
            f"run reads), so they are not kept; this run's outputs are "
            f"{sorted(result)}. Stop the run at a dataset with `to_outputs` to get "
            f"it back.",
        )
    values = {name: result[name].load() for name in wanted}
    try:
        return encode_outputs(values)
    except EncodeError as exc:
        raise _Refused("outputs", ["body", "outputs", exc.name], str(exc)) from exc


def _failure(run_id: str, started: float, exc: Exception) -> JSONResponse:
    duration = round((time.perf_counter() - started) * 1000, 2)
    message = redact(str(exc))
    logger.error(
        "Run %s failed: %s\n%s",
        run_id,
        message,
        redact("".join(traceback.format_exception(exc))),
    )
    body = RunFailure(
        status="failure",
        run_id=run_id,
        duration_ms=duration,
        error=ErrorDetail(type=type(exc).__qualname__, message=message),
    )
    return JSONResponse(body.model_dump())


def _snapshot(served: ServedProject, params: str | None) -> JSONResponse:
    try:
        runtime_params = parse_params(params) if params else None
        if runtime_params:
            check_untrusted_params(runtime_params, {}, ())
    except (ValueError, RuntimeParamsError) as exc:
        failure = SnapshotFailure(
            status="failure",
            error=ErrorDetail(type=type(exc).__qualname__, message=str(exc)),
        )
        return JSONResponse(failure.model_dump())
    try:
        with CONFIG_LOCK:
            registered_pipelines.set_requested(None)
            snap = get_project_snapshot(
                metadata=served.metadata,
                env=served.env,
                conf_source=served.conf_source,
                runtime_params=runtime_params,
            )
    except Exception as exc:
        message = redact(str(exc))
        logger.error("Snapshot failed: %s", message)
        failure = SnapshotFailure(
            status="failure",
            error=ErrorDetail(type=type(exc).__qualname__, message=message),
        )
        return JSONResponse(failure.model_dump())
    success = SnapshotSuccess(
        status="success",
        metadata=snap.metadata,
        pipelines=snap.pipelines,
        datasets=snap.datasets,
        parameters=snap.parameters,
    )
    return JSONResponse(success.model_dump(mode="json"))


def parse_params(value: str) -> dict[str, Any]:
    """Parse ``key=value,a.b=2`` as ``kedro run --params`` does.

    Args:
        value: The items.

    Returns:
        The parameters, nested at dots, with typed values.

    Raises:
        ValueError: If an item is not ``key=value``.
    """
    option = click.Option(["--params"])
    context = click.Context(click.Command("snapshot", params=[option]))
    try:
        parsed = private.split_params(context, option, value)
    except click.ClickException as exc:
        raise ValueError(
            f"Invalid 'params' value '{value}': {exc.format_message()} Send "
            f"key=value items separated by commas, e.g. 'version=02,model.lr=0.01'."
        ) from exc
    return dict(parsed or {})


def redact(text: str) -> str:
    """Hide the user and password of URLs (``s3://key:secret@bucket``) in ``text``.

    Args:
        text: A message or traceback.

    Returns:
        The text with ``scheme://***@`` in place of URL credentials.
    """
    return _CREDENTIALS_IN_URL.sub(r"\g<scheme>***@", text)


# --- OpenAPI ---------------------------------------------------------------------


def _outputs_by_pipeline(served: ServedProject) -> dict[str, list[str]]:
    return {name: list(info.outputs) for name, info in served.pipelines.items()}


def _describe_pipelines(schema: dict[str, Any], served: ServedProject) -> None:
    schema["x-kedro-pipelines"] = {
        name: {
            "inputs": list(info.inputs),
            "outputs": list(info.outputs),
            "parameters": list(info.parameters),
        }
        for name, info in served.pipelines.items()
    }
    lines = [
        "",
        "",
        "Served pipelines (free inputs go in `runtime_data`, outputs in `outputs`):",
        "",
        "| pipeline | free inputs | outputs | parameters |",
        "| --- | --- | --- | --- |",
    ]
    for name, info in served.pipelines.items():
        lines.append(
            f"| `{name}` | {_names(info.inputs)} | {_names(info.outputs)} | "
            f"{_names(info.parameters)} |"
        )
    run_post = schema.get("paths", {}).get("/run", {}).get("post")
    if run_post is not None:
        run_post["description"] = run_post.get("description", "") + "\n".join(lines)
    request = schema.get("components", {}).get("schemas", {}).get("RunRequest")
    if request is None:
        return
    properties = request["properties"]
    inputs = sorted(set().union(*(info.inputs for info in served.pipelines.values())))
    data = properties["runtime_data"]
    data["anyOf"] = [
        {
            "type": "object",
            "properties": {
                name: (
                    _PANDAS_DATA_SCHEMA
                    if served.kinds.get(name) == "pandas"
                    else {"description": "Any JSON value."}
                )
                for name in inputs
            },
            "additionalProperties": True,
        },
        {"type": "null"},
    ]
    data["description"] = (
        data.get("description", "")
        + " Free inputs: "
        + "; ".join(
            f"`{name}`: {_names(info.inputs)}"
            for name, info in served.pipelines.items()
        )
        + "."
    )
    outputs = properties["outputs"]
    outputs["description"] = (
        outputs.get("description", "")
        + " Outputs: "
        + "; ".join(
            f"`{name}`: {_names(info.outputs)}"
            for name, info in served.pipelines.items()
        )
        + "."
    )
    properties["pipeline_names"]["description"] = (
        properties["pipeline_names"].get("description", "")
        + f" Served: {_names(sorted(served.pipelines))}."
    )


def _describe_api_key(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})["apiKey"] = {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": f"The server's key (${API_KEY_ENV}); or send "
        f"`Authorization: Bearer <key>`.",
    }
    for path, operations in schema.get("paths", {}).items():
        if path in OPEN_PATHS:
            continue
        for operation in operations.values():
            operation["security"] = [{"apiKey": []}]


def _names(names: Sequence[str]) -> str:
    return ", ".join(f"`{name}`" for name in names) or "none"


# --- middleware ------------------------------------------------------------------


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


class BodySizeLimit:
    """Refuse (413) request bodies larger than a limit, before the app reads them.

    A declared ``Content-Length`` over the limit is refused at once; a body
    without one (chunked) is read up to the limit and refused when it goes
    past it.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        """Wrap an ASGI app.

        Args:
            app: The app to protect.
            max_bytes: The largest body accepted.
        """
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the body within the limit, then hand it to the app.

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
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away: let the app see it as it would.
                await self.app(scope, _replay([message], receive), send)
                return
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body: Message = {
            "type": "http.request",
            "body": b"".join(chunks),
            "more_body": False,
        }
        await self.app(scope, _replay([body], receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(
            {
                "detail": (
                    f"The request body is larger than this server's limit of "
                    f"{self.max_bytes} bytes. Send less data per request, or raise "
                    f"the limit (--max-request-bytes)."
                )
            },
            status_code=413,
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
